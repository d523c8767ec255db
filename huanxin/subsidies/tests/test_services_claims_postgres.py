"""The claim's PostgreSQL path: its reads in one statement, the hold, qualification and audit row in one
statement of their own, and the same answers as the portable path (which SQLite runs)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huanxin.accounts.models import Person
from huanxin.conftest import Personas
from huanxin.core.errors import DomainError
from huanxin.core.models import AuditEntry
from huanxin.policy.models import BudgetPool
from huanxin.subsidies import services
from huanxin.subsidies.models import ClaimRefusal, ExternalSubsidy, Qualification
from huanxin.subsidies.services import claims
from huanxin.subsidies.tests.conftest import FRIDGE_CAP, build_scene
from huanxin.subsidies.tests.test_concurrency import assert_pools_balanced, race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
PROGRAMME = "cn-appliance-2026"


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement claim is PostgreSQL's; SQLite runs the portable path")


def claim(user: Any, category: str = "fridge") -> Qualification:
    return services.claim_qualification(actor=user, programme_code=PROGRAMME, category=category)


def test_a_claim_is_two_statements_and_writes_its_audit_row_with_it(personas: Personas) -> None:
    scene = build_scene(personas, slices=1)
    user = scene.resident()
    claim(scene.resident())  # the rule set, slice ids and rounds are cached, as in a running server

    with CaptureQueriesContext(connection) as queries:
        qualification = claim(user)

    assert [q["sql"].split(" ", 1)[0] for q in queries.captured_queries] == ["SELECT", "WITH"]
    stored = Qualification.objects.get(pk=qualification.pk)
    assert (stored.code, stored.held_fen, stored.pool_id, stored.status) == (
        qualification.code,
        FRIDGE_CAP,
        BudgetPool.objects.get(programme=scene.programme).pk,
        "issued",
    )
    entry = AuditEntry.objects.get(action="subsidies.qualification.claim", object_id=str(qualification.pk))
    assert entry.actor_id == user.pk
    assert entry.object_type == "subsidies.qualification"
    assert entry.object_label == qualification.code
    assert entry.after == {
        "programme": PROGRAMME,
        "category": "fridge",
        "held_fen": FRIDGE_CAP,
        "pool": stored.pool_id,
        "slot": 0,
    }
    assert entry.district_code == "110105"
    assert assert_pools_balanced(scene.programme)["held"] == 2 * FRIDGE_CAP


def test_the_facts_read_in_one_statement_are_the_portable_reads(personas: Personas) -> None:
    scene = build_scene(personas)
    user = scene.resident()
    person = Person.objects.get(user=user)
    tv = claim(user, "tv")
    Qualification.objects.filter(pk=tv.pk).update(status="redeemed")
    claim(user)
    ExternalSubsidy.objects.create(person=person, year=timezone.localdate().year, category="ac", province="河北")
    ExternalSubsidy.objects.create(person=person, year=2000, category="washer", province="河北")

    one = claims._claim_facts_in_one_statement(user, PROGRAMME, timezone.localdate().year)
    consuming, history = claims.history_of(person)

    assert one.person == person
    assert one.programme == scene.programme
    assert sorted(one.consuming) == sorted(consuming)
    assert one.history == [(entry["programme"], entry["category"]) for entry in history] == [(PROGRAMME, "tv")]
    assert one.other_region_categories == ["ac"]
    assert one.free_fen == 10 * FRIDGE_CAP - 2 * FRIDGE_CAP


def test_the_facts_of_someone_without_a_profile_or_of_an_unknown_programme(personas: Personas) -> None:
    scene = build_scene(personas)

    assert claims._claim_facts_in_one_statement(personas.outsider, PROGRAMME, 2026).person is None
    facts = claims._claim_facts_in_one_statement(scene.resident(), "no-such-programme", 2026)
    assert facts.person is not None
    assert facts.programme is None


def test_twenty_claims_on_a_nearly_empty_slice_let_exactly_those_it_holds_win(personas: Personas) -> None:
    scene = build_scene(personas, budget_fen=3 * FRIDGE_CAP, slices=1)
    residents = [scene.resident() for _ in range(20)]

    results = race([functools.partial(claim, user) for user in residents])

    winners = [r for r in results if isinstance(r, Qualification)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert [r for r in results if not isinstance(r, Qualification | DomainError)] == []
    assert len(winners) == 3
    assert {r.code for r in refusals} == {"budget_exhausted"}
    assert len(refusals) == 17
    assert assert_pools_balanced(scene.programme) == {"held": 3 * FRIDGE_CAP, "spent": 0, "available": 0}
    assert Qualification.objects.count() == 3
    assert AuditEntry.objects.filter(action="subsidies.qualification.claim").count() == 3
    assert ClaimRefusal.objects.filter(code="budget_exhausted").count() == 17


def test_claims_racing_over_several_nearly_empty_slices_fall_through_and_balance(personas: Personas) -> None:
    scene = build_scene(personas, budget_fen=5 * FRIDGE_CAP + FRIDGE_CAP // 2, slices=4)
    residents = [scene.resident() for _ in range(20)]

    results = race([functools.partial(claim, user) for user in residents])

    winners = [r for r in results if isinstance(r, Qualification)]
    assert [r for r in results if not isinstance(r, Qualification | DomainError)] == []
    assert len(winners) == 5
    assert {r.code for r in results if isinstance(r, DomainError)} == {"budget_exhausted"}
    assert assert_pools_balanced(scene.programme) == {
        "held": 5 * FRIDGE_CAP,
        "spent": 0,
        "available": FRIDGE_CAP // 2,
    }
    assert AuditEntry.objects.filter(action="subsidies.qualification.claim").count() == 5


def test_a_district_without_the_free_money_is_refused_without_a_transaction(personas: Personas) -> None:
    scene = build_scene(personas, budget_fen=FRIDGE_CAP, slices=2)
    claim(scene.resident())
    user = scene.resident()

    with CaptureQueriesContext(connection) as queries, pytest.raises(DomainError) as refused:
        claim(user)

    assert refused.value.code == "budget_exhausted"
    assert [q["sql"].split(" ", 1)[0] for q in queries.captured_queries] == ["SELECT", "INSERT"]
    assert ClaimRefusal.objects.get(person__user=user).code == "budget_exhausted"


def test_the_one_statement_claim_refuses_to_run_inside_a_callers_transaction(personas: Personas) -> None:
    from django.db import transaction

    scene = build_scene(personas, slices=1)
    user = scene.resident()
    claim(scene.resident())

    with pytest.raises(RuntimeError), transaction.atomic():
        claim(user)
    assert not Qualification.objects.filter(person__user=user).exists()


def test_a_person_claiming_twice_at_once_on_one_slice_gets_one(personas: Personas) -> None:
    scene = build_scene(personas, slices=1)
    user = scene.resident()

    results = race([lambda: claim(user) for _ in range(6)])

    assert sum(isinstance(r, Qualification) for r in results) == 1
    assert {r.code for r in results if isinstance(r, DomainError)} <= {"already_holding"}
    assert assert_pools_balanced(scene.programme)["held"] == FRIDGE_CAP
