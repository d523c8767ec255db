"""Races with real threads on PostgreSQL: exactly one winner, and the pool equation holds throughout."""

from __future__ import annotations

import datetime
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from huanxin.conftest import Personas
from huanxin.core.errors import DomainError
from huanxin.policy.models import BudgetPool
from huanxin.subsidies import services
from huanxin.subsidies.models import Qualification, Redemption
from huanxin.subsidies.tests.conftest import FRIDGE_CAP, build_scene

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent writers need PostgreSQL")


def race(workers: list[Callable[[], Any]]) -> list[Any]:
    """Start every worker at the same moment; collect each result or the domain error it raised."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except DomainError as exc:
            results[index] = exc
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


def assert_pools_balanced(programme: Any) -> dict[str, int]:
    totals = Counter[str]()
    for pool in BudgetPool.objects.filter(programme=programme):
        assert pool.allocated_fen == pool.held_fen + pool.spent_fen + pool.available_fen
        assert min(pool.held_fen, pool.spent_fen, pool.available_fen) >= 0
        totals.update({"held": pool.held_fen, "spent": pool.spent_fen, "available": pool.available_fen})
    return dict(totals)


def test_many_more_claimants_than_the_pool_holds(personas: Personas) -> None:
    scene = build_scene(personas, budget_fen=7 * FRIDGE_CAP, slices=3)
    residents = [scene.resident() for _ in range(24)]

    def claimant(user: Any) -> Callable[[], Any]:
        return lambda: services.claim_qualification(actor=user, programme_code="cn-appliance-2026", category="fridge")

    results = race([claimant(user) for user in residents])
    winners = [r for r in results if isinstance(r, Qualification)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert [r for r in results if not isinstance(r, Qualification | DomainError)] == []
    assert len(winners) == 7
    assert len(refusals) == 17
    assert {r.code for r in refusals} == {"budget_exhausted"}
    assert assert_pools_balanced(scene.programme) == {"held": 7 * FRIDGE_CAP, "spent": 0, "available": 0}
    assert Qualification.objects.count() == 7
    assert len(set(Qualification.objects.values_list("person_id", flat=True))) == 7


def test_one_person_claiming_many_times_at_once_gets_one(personas: Personas) -> None:
    scene = build_scene(personas)
    user = scene.resident()
    results = race(
        [
            (lambda: services.claim_qualification(actor=user, programme_code="cn-appliance-2026", category="fridge"))
            for _ in range(8)
        ]
    )
    assert sum(isinstance(r, Qualification) for r in results) == 1
    assert all(isinstance(r, Qualification | DomainError) for r in results)
    assert assert_pools_balanced(scene.programme)["held"] == FRIDGE_CAP


def test_two_clerks_redeem_the_same_qualification(personas: Personas) -> None:
    from huanxin.accounts.models import Role
    from huanxin.conftest import make_member

    scene = build_scene(personas)
    second_clerk = make_member(Role.MERCHANT_CLERK, personas.merchant)
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )

    def sale(clerk: Any, serial: str, price: int) -> Any:
        return services.redeem(
            actor=clerk,
            merchant=personas.merchant,
            store_id=scene.store.pk,
            code=qualification.code,
            product_id=scene.fridge.pk,
            serial=serial,
            price_fen=price,
        ).redemption

    results = race([lambda: sale(personas.clerk, "SN-A", 400_000), lambda: sale(second_clerk, "SN-B", 300_000)])
    assert sum(isinstance(r, Redemption) for r in results) == 1
    assert Redemption.objects.count() == 1
    spent = Redemption.objects.get().subsidy_fen
    assert assert_pools_balanced(scene.programme) == {"held": 0, "spent": spent, "available": 10 * FRIDGE_CAP - spent}


def test_two_clerks_return_the_same_sale_at_once_and_one_wins(personas: Personas) -> None:
    from huanxin.accounts.models import Role
    from huanxin.conftest import make_member
    from huanxin.subsidies.models import Clawback, Return

    scene = build_scene(personas)
    second_clerk = make_member(Role.MERCHANT_CLERK, personas.merchant)
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    sold = services.redeem(
        actor=personas.clerk,
        merchant=personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial="SN-RACE",
        price_fen=400_000,
    ).redemption

    def whole(clerk: Any) -> Any:
        return services.record_return(
            actor=clerk, redemption=Redemption.objects.get(pk=sold.pk), kind="full", reason="整单退货"
        )

    def partial(clerk: Any) -> Any:
        return services.record_return(
            actor=clerk,
            redemption=Redemption.objects.get(pk=sold.pk),
            kind="partial",
            new_price_fen=300_000,
            reason="差价",
        )

    results = race([lambda: whole(personas.clerk), lambda: partial(second_clerk)])
    winners = [r for r in results if isinstance(r, Return)]
    assert [r for r in results if not isinstance(r, Return | DomainError)] == []
    assert len(winners) == 1
    assert Return.objects.count() == Clawback.objects.count() == 1
    clawed = Clawback.objects.get().amount_fen
    assert Redemption.objects.get(pk=sold.pk).returned_fen == clawed
    spent = 60_000 - clawed
    assert assert_pools_balanced(scene.programme) == {"held": 0, "spent": spent, "available": 10 * FRIDGE_CAP - spent}


def test_expiry_racing_a_cancel_and_a_redemption_releases_the_hold_exactly_once(personas: Personas) -> None:
    scene = build_scene(personas)
    owners = [scene.resident() for _ in range(6)]
    qualifications = [
        services.claim_qualification(actor=user, programme_code="cn-appliance-2026", category="fridge")
        for user in owners
    ]
    # Make every qualification due just now, so the expiry job and the owners' actions race for it.
    Qualification.objects.update(expires_at=timezone.now() + datetime.timedelta(seconds=2))
    later = timezone.now() + datetime.timedelta(seconds=3)

    def cancel(user: Any, q: Qualification) -> Any:
        return services.cancel_qualification(actor=user, qualification=Qualification.objects.get(pk=q.pk))

    workers: list[Callable[[], Any]] = [lambda: services.expire_due(now=later) for _ in range(3)]

    def canceller(user: Any, q: Qualification) -> Callable[[], Any]:
        return lambda: cancel(user, q)

    workers += [canceller(u, q) for u, q in zip(owners, qualifications, strict=True)]
    race(workers)
    closed = Counter(Qualification.objects.values_list("status", flat=True))
    assert closed["issued"] == 0
    assert closed["expired"] + closed["cancelled"] == 6
    assert assert_pools_balanced(scene.programme) == {"held": 0, "spent": 0, "available": 10 * FRIDGE_CAP}


def test_a_return_racing_the_clearing_of_a_held_sale_pays_the_merchant_exactly_what_the_budget_spends(
    personas: Personas,
) -> None:
    """Whichever of the two lands first, the merchant's net for the sale (released by the decision less any
    clawback) equals the subsidy the budget still spends on it."""
    from huanxin.catalogue.models import ProductModel
    from huanxin.subsidies.models import Clawback, RedemptionHold

    scene = build_scene(personas)
    unfiled = ProductModel.objects.create(brand="美的", model_number="BCD-RACE", category="fridge", energy_grade=1)
    for round_number in range(4):
        qualification = services.claim_qualification(
            actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
        )
        sold = services.redeem(
            actor=personas.clerk,
            merchant=personas.merchant,
            store_id=scene.store.pk,
            code=qualification.code,
            product_id=unfiled.pk,
            serial=f"SN-HELD-RACE-{round_number}",
            price_fen=499_900,
        ).redemption
        assert sold.withheld
        hold_id = RedemptionHold.objects.get(redemption=sold).pk

        def clear(hold_id: int = hold_id) -> Any:
            return services.clear_hold(actor=personas.reviewer, hold=RedemptionHold.objects.get(pk=hold_id))

        def give_back(sold: Redemption = sold) -> Any:
            return services.record_return(
                actor=personas.clerk,
                redemption=Redemption.objects.get(pk=sold.pk),
                kind="partial",
                new_price_fen=400_000,
                reason="退配件",
            )

        results = race([clear, give_back])
        assert [r for r in results if isinstance(r, Exception)] == []
        redemption = Redemption.objects.get(pk=sold.pk)
        released = RedemptionHold.objects.get(pk=hold_id).released_fen
        clawed = sum(Clawback.objects.filter(return_record__redemption=redemption).values_list("amount_fen", flat=True))
        assert (redemption.returned_fen, released - clawed) == (14_985, 60_000)
    spent = 4 * 60_000
    assert assert_pools_balanced(scene.programme) == {"held": 0, "spent": spent, "available": 10 * FRIDGE_CAP - spent}
