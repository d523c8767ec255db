"""Who may change a programme's rules, budget and settings: only staff whose scope covers the whole programme.

A programme is city-wide (one rule set decides in every district, its budget is split across all of them),
so a reviewer or finance officer limited to one district may read it but never change it. Each refusal is
checked together with the absence of any side effect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from huanxin.accounts.models import Role
from huanxin.accounts.roles import RULE_EDITORS
from huanxin.conftest import api_client_for, client_for, make_member
from huanxin.core.errors import ForbiddenError
from huanxin.core.models import AuditEntry
from huanxin.policy import queries, services
from huanxin.policy.domain import CATALOGUE_DIR
from huanxin.policy.models import BudgetPool, Programme, RuleSetVersion

pytestmark = pytest.mark.django_db

CODE = "cn-appliance-2026"


def _changed_text(version: int = 2) -> str:
    text = (CATALOGUE_DIR / f"{CODE}.toml").read_text(encoding="utf-8")
    return text.replace("version = 1", f"version = {version}", 1).replace("cap_fen = 150000", "cap_fen = 100000", 1)


class World:
    """A loaded programme with a pending version prepared by the city reviewer (the maker)."""

    def __init__(self, personas: Any) -> None:
        services.load_catalogue()
        self.programme = Programme.objects.get(code=CODE)
        self.personas = personas
        self.maker = personas.reviewer
        self.checker = make_member(Role.REVIEWER, personas.government, username="checker")
        self.district_finance = make_member(Role.FINANCE_OFFICER, personas.chaoyang_bureau, district="110105")
        self.version = services.prepare_rule_set(actor=self.maker, programme=self.programme, content=_changed_text())
        services.set_budget(
            actor=personas.finance,
            programme=self.programme,
            total_fen=1000,
            allocations={"110105": 600, "110108": 400},
        )
        Programme.objects.filter(pk=self.programme.pk).update(status="draft")
        self.programme.refresh_from_db()

    def actor(self, name: str) -> Any:
        return {
            "city_reviewer": self.checker,
            "district_reviewer": self.personas.district_reviewer,
            "maker": self.maker,
            "merchant": self.personas.manager,
            "resident": self.personas.consumer,
            "anonymous": AnonymousUser(),
            "city_finance": self.personas.finance,
            "district_finance": self.district_finance,
            "administrator": self.personas.admin,
        }[name]

    def state(self) -> tuple[Any, ...]:
        """Everything a refused verb must leave as it was."""
        return (
            list(RuleSetVersion.objects.order_by("pk").values_list("pk", "status", "approved_by_id", "decided_at")),
            list(BudgetPool.objects.order_by("pk").values_list("pk", "allocated_fen", "available_fen")),
            list(Programme.objects.filter(pk=self.programme.pk).values_list("status", "total_budget_fen")),
            AuditEntry.objects.count(),
        )


@pytest.fixture
def world(personas: Any) -> World:
    return World(personas)


VERBS: dict[str, Callable[[World, Any], Any]] = {
    "prepare_version": lambda w, actor: services.prepare_rule_set(
        actor=actor, programme=w.programme, content=_changed_text(3)
    ),
    "approve_version": lambda w, actor: services.decide_rule_set(actor=actor, version=w.version, approve=True),
    "reject_version": lambda w, actor: services.decide_rule_set(actor=actor, version=w.version, approve=False),
    "budget_allocate": lambda w, actor: services.set_budget(
        actor=actor, programme=w.programme, total_fen=2000, allocations={"110105": 1000, "110108": 1000}
    ),
    "budget_rebalance": lambda w, actor: services.set_budget(
        actor=actor, programme=w.programme, total_fen=1000, allocations={"110105": 100, "110108": 900}
    ),
    "programme_status": lambda w, actor: services.set_programme_status(
        actor=actor, programme=w.programme, status="open"
    ),
}

# Who may do what; every other (actor, verb) pair is refused. The maker is a city reviewer: only the version
# they prepared is closed to them.
ALLOWED = {
    "prepare_version": {"city_reviewer", "maker", "administrator"},
    "approve_version": {"city_reviewer", "administrator"},
    "reject_version": {"city_reviewer", "administrator"},
    "budget_allocate": {"city_finance", "administrator"},
    "budget_rebalance": {"city_finance", "administrator"},
    "programme_status": {"city_reviewer", "maker", "administrator"},
}
ACTORS = (
    "city_reviewer",
    "district_reviewer",
    "maker",
    "merchant",
    "resident",
    "anonymous",
    "city_finance",
    "district_finance",
    "administrator",
)


@pytest.mark.parametrize("verb", list(VERBS))
@pytest.mark.parametrize("actor", ACTORS)
def test_authorisation_matrix_of_the_programme_verbs(world: World, verb: str, actor: str) -> None:
    user = world.actor(actor)
    if actor in ALLOWED[verb]:
        VERBS[verb](world, user)
        return
    before = world.state()
    with pytest.raises(ForbiddenError):
        VERBS[verb](world, user)
    assert world.state() == before


def test_a_district_reviewer_cannot_publish_a_city_rule(world: World) -> None:
    with pytest.raises(ForbiddenError) as caught:
        services.decide_rule_set(actor=world.personas.district_reviewer, version=world.version, approve=True)
    assert caught.value.code == "programme_out_of_scope"
    assert services.published_version(CODE).version == 1


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("city_reviewer", True),
        ("administrator", True),
        ("district_reviewer", False),
        ("city_finance", False),
        ("merchant", False),
        ("resident", False),
        ("anonymous", False),
    ],
)
def test_one_function_decides_whether_a_scope_covers_the_programme(world: World, actor: str, expected: bool) -> None:
    assert queries.covers_programme(world.actor(actor), world.programme, *RULE_EDITORS) is expected


# ---------------------------------------------------------------- the same rule through the API and the pages


def test_the_api_refuses_a_district_reviewers_approval_and_changes_nothing(world: World) -> None:
    before = world.state()
    response = api_client_for(world.personas.district_reviewer).post(
        f"/api/v1/programmes/{CODE}/rule-sets/2/approve", data="{}", content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "programme_out_of_scope"
    assert world.state() == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "rule-sets", {"content": _changed_text(3)}),
        ("post", "rule-sets/2/reject", {}),
        ("put", "budget", {"total_fen": 1000, "allocations": {"110105": 500, "110108": 500}}),
        ("post", "status", {"status": "open"}),
    ],
)
def test_the_api_refuses_every_programme_verb_to_a_district_reviewer(
    world: World, method: str, path: str, body: dict[str, Any]
) -> None:
    before = world.state()
    client = api_client_for(world.personas.district_reviewer)
    response = getattr(client, method)(
        f"/api/v1/programmes/{CODE}/{path}", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 403
    assert world.state() == before


def test_pages_offer_no_programme_action_to_a_district_reviewer(world: World) -> None:
    client = client_for(world.personas.district_reviewer)
    staff_page = client.get(f"/policy/programmes/{CODE}/").content.decode()
    version_page = client.get(f"/policy/programmes/{CODE}/versions/2/").content.decode()
    assert "开启项目" not in staff_page
    assert "调整预算" not in staff_page
    assert "提交规则修改" not in staff_page
    assert "审批发布" not in version_page
    assert "驳回" not in version_page
    assert "只能由权限覆盖全市的审核、财政人员或系统管理员办理" in staff_page
    # The city reviewer who did not prepare the version is offered all of them.
    city_page = client_for(world.checker).get(f"/policy/programmes/{CODE}/").content.decode()
    city_version = client_for(world.checker).get(f"/policy/programmes/{CODE}/versions/2/").content.decode()
    assert "开启项目" in city_page
    assert "提交规则修改" in city_page
    assert "审批发布" in city_version


def test_pages_refuse_a_district_reviewers_posts_and_change_nothing(world: World) -> None:
    client = client_for(world.personas.district_reviewer)
    before = world.state()
    approve = client.post(f"/policy/programmes/{CODE}/versions/2/", {"decision": "approve"})
    status = client.post(f"/policy/programmes/{CODE}/status/", {"status": "open"})
    budget = client.post(f"/policy/programmes/{CODE}/budget/", {"total": "10", "d_110105": "5", "d_110108": "5"})
    new_version = client.get(f"/policy/programmes/{CODE}/versions/new/")
    assert approve.status_code == 403
    assert status.status_code == 403
    assert budget.status_code == 403
    assert new_version.status_code == 403
    assert world.state() == before


def test_a_district_finance_officer_is_not_offered_the_budget_form(world: World) -> None:
    page = client_for(world.district_finance).get(f"/policy/programmes/{CODE}/").content.decode()
    assert "调整预算" not in page
    assert "调整预算" in client_for(world.personas.finance).get(f"/policy/programmes/{CODE}/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(world: World) -> None:
    before = world.state()
    response = Client().post(f"/policy/programmes/{CODE}/versions/2/", {"decision": "approve"})
    assert response.status_code == 302
    assert world.state() == before


@pytest.mark.parametrize("actor", ["district_reviewer", "city_finance", "merchant", "resident"])
def test_loading_a_changed_catalogue_in_someones_name_needs_their_authority(world: World, actor: str, tmp_path) -> None:
    directory = tmp_path / "catalogue"
    directory.mkdir()
    (directory / f"{CODE}.toml").write_text(_changed_text(3), encoding="utf-8")
    before = world.state()
    with pytest.raises(ForbiddenError):
        services.load_catalogue(actor=world.actor(actor), directory=directory)
    assert world.state() == before


def test_a_city_reviewer_loads_a_changed_catalogue_as_a_pending_version(world: World, tmp_path) -> None:
    directory = tmp_path / "catalogue"
    directory.mkdir()
    (directory / f"{CODE}.toml").write_text(_changed_text(3), encoding="utf-8")
    [result] = services.load_catalogue(actor=world.checker, directory=directory)
    assert (result.outcome, result.version) == ("pending", 3)


def test_the_catalogue_command_refuses_a_district_reviewer(world: World, tmp_path) -> None:
    from django.core.management import CommandError, call_command

    directory = tmp_path / "catalogue"
    directory.mkdir()
    (directory / f"{CODE}.toml").write_text(_changed_text(3), encoding="utf-8")
    before = world.state()
    with pytest.raises(CommandError, match="权限范围仅限所在区"):
        call_command("catalogue", "load", "--dir", str(directory), "--actor", world.personas.district_reviewer.username)
    assert world.state() == before
