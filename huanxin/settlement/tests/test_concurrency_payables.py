"""Races with real threads on PostgreSQL: a source asked to be paid many times at once is paid once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from huanxin.conftest import Personas
from huanxin.core.models import AuditEntry
from huanxin.settlement import sources
from huanxin.settlement.models import Payable, Payee
from huanxin.settlement.services.payables import request_payment
from huanxin.settlement.services.payees import register_payee
from huanxin.subsidies.tests.conftest import build_scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

RACE_SOURCE = "test-race-grant"
sources.register(RACE_SOURCE, label="并发测试补贴", purpose="并发测试补贴款")


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent writers need PostgreSQL")


def race(workers: list[Callable[[], Any]]) -> list[Any]:
    """Start every worker at the same moment; collect each result or the error it raised."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_the_same_source_requested_concurrently_creates_one_payable(personas: Personas) -> None:
    scene = build_scene(personas, budget_fen=1_000_000)

    def payee() -> Payee:
        return register_payee(
            reference="person:race",
            kind=Payee.Kind.PERSON,
            name="李明",
            account_name="李明",
            bank_name="建设银行北京分行",
            account_number="6217000011112222333",
            actor=personas.finance,
        )

    # Registering the payee races too: one payee, whoever wins.
    payees = race([payee for _ in range(6)])
    assert [p for p in payees if not isinstance(p, Payee)] == []
    assert len({p.pk for p in payees}) == 1
    winner = payees[0]

    def worker() -> int:
        # A source asks inside its own transaction, as a decision and its payment order commit together.
        with transaction.atomic(durable=True):
            return request_payment(
                payee=winner,
                programme=scene.programme,
                source_kind=RACE_SOURCE,
                source_ref="application-42",
                amount_fen=2_000_000,
                actor=personas.finance,
            ).pk

    results = race([worker for _ in range(8)])
    assert [r for r in results if not isinstance(r, int)] == []
    assert len(set(results)) == 1
    assert Payable.objects.filter(source_kind=RACE_SOURCE).count() == 1
    assert AuditEntry.objects.filter(action="settlement.payable.request").count() == 1
    assert Payee.objects.filter(reference="person:race").count() == 1
