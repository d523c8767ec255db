"""Reverse invoices under concurrency (PostgreSQL, real threads): two recyclers invoicing the same seller at once
cannot together pass the 12-month ceiling nor both take the monthly VAT exemption, and one issuer's invoices
issued at once are numbered without gaps or duplicates."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from huanxin.core.errors import ConflictError
from huanxin.recycling import services
from huanxin.recycling.models import ReverseInvoice
from huanxin.recycling.tests.factories import purchase, qualified_recycler, seller_id
from huanxin.subsidies.tests.test_concurrency import race

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

YUAN = 100


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")


def test_two_recyclers_at_once_cannot_together_pass_the_sellers_ceiling():
    first, first_staff = qualified_recycler()
    second, second_staff = qualified_recycler()
    id_number = seller_id()
    earlier = timezone.localdate() - datetime.timedelta(days=40)
    purchase(first_staff, first, id_number, 4_000_000 * YUAN, on=earlier)

    results = race(
        [
            lambda: purchase(first_staff, first, id_number, 600_000 * YUAN),
            lambda: purchase(second_staff, second, id_number, 600_000 * YUAN),
        ]
    )
    issued = [r for r in results if isinstance(r, ReverseInvoice)]
    refused = [r for r in results if isinstance(r, ConflictError)]
    assert (len(issued), len(refused)) == (1, 1), results
    assert refused[0].code == "reverse_invoice_cap"
    assert sum(ReverseInvoice.objects.values_list("sale_fen", flat=True)) == 4_600_000 * YUAN


def test_two_recyclers_at_once_cannot_both_take_the_monthly_vat_exemption():
    first, first_staff = qualified_recycler()
    second, second_staff = qualified_recycler()
    id_number = seller_id()

    results = race(
        [
            lambda: purchase(first_staff, first, id_number, 60_000 * YUAN),
            lambda: purchase(second_staff, second, id_number, 60_000 * YUAN),
        ]
    )
    assert all(isinstance(r, ReverseInvoice) for r in results), results
    assert sorted(r.vat_fen for r in results) == [0, 60_000]  # the second one's month is 120,000 元: 1 %


def test_invoices_issued_at_once_by_one_issuer_are_numbered_without_gaps_or_duplicates():
    issuer, staff = qualified_recycler()
    count = 6
    sellers = [seller_id() for _ in range(count)]

    def work(id_number: str) -> Callable[[], Any]:
        return lambda: purchase(staff, issuer, id_number, 100 * YUAN)

    results = race([work(s) for s in sellers])
    assert all(isinstance(r, ReverseInvoice) for r in results), results
    assert sorted(r.sequence for r in results) == list(range(1, count + 1))
    assert len({r.number for r in results}) == count
    # A void invoice keeps its number; the next one follows the last.
    voided = services.void_invoice(actor=staff, issuer=issuer, invoice_id=results[0].pk, reason="录入有误")
    assert ReverseInvoice.objects.get(pk=voided.pk).number == results[0].number
    assert purchase(staff, issuer, seller_id(), 100 * YUAN).sequence == count + 1
