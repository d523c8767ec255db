import shutil

import pytest

from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy import services
from huanxin.policy.domain import CATALOGUE_DIR
from huanxin.policy.models import Programme, RuleSetVersion, StoredDecision

pytestmark = pytest.mark.django_db

FRIDGE = {"category": "fridge", "price_fen": 400000, "energy_grade": 1, "water_grade": None}


@pytest.fixture
def catalogue(tmp_path):
    directory = tmp_path / "catalogue"
    directory.mkdir()
    shutil.copy(CATALOGUE_DIR / "cn-appliance-2024.toml", directory)
    services.load_catalogue(directory=directory)
    return directory


def _changed_text(version: int = 2) -> str:
    text = (CATALOGUE_DIR / "cn-appliance-2024.toml").read_text(encoding="utf-8")
    text = text.replace("version = 1", f"version = {version}", 1)
    return text.replace("cap_fen = 200000", "cap_fen = 50000", 1)


def test_loading_twice_changes_nothing(catalogue):
    assert [r.outcome for r in services.load_catalogue(directory=catalogue)] == ["unchanged"]
    assert RuleSetVersion.objects.count() == 1
    version = RuleSetVersion.objects.get()
    assert version.status == "published"
    assert Programme.objects.get().measure.number == 16


def test_a_changed_file_becomes_a_pending_version_that_decides_nothing(catalogue):
    (catalogue / "cn-appliance-2024.toml").write_text(_changed_text(), encoding="utf-8")
    [result] = services.load_catalogue(directory=catalogue)
    assert result.outcome == "pending"
    assert services.quote(programme_code="cn-appliance-2024", payload=FRIDGE)["amount_fen"] == 80000


def test_a_changed_file_without_a_higher_version_is_refused(catalogue):
    (catalogue / "cn-appliance-2024.toml").write_text(_changed_text(version=1), encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        services.load_catalogue(directory=catalogue)
    assert caught.value.errors[0].code == "version_not_increased"
    assert RuleSetVersion.objects.count() == 1


def test_publishing_needs_a_second_person_and_decisions_keep_their_version(catalogue, personas):
    programme = Programme.objects.get()
    before = services.quote(programme_code=programme.code, payload=FRIDGE)
    version = services.prepare_rule_set(actor=personas.reviewer, programme=programme, content=_changed_text())
    audit_rows = AuditEntry.objects.count()
    with pytest.raises(ForbiddenError) as caught:
        services.decide_rule_set(actor=personas.reviewer, version=version, approve=True)
    assert caught.value.code == "four_eyes"
    version.refresh_from_db()
    assert version.status == "pending"
    assert AuditEntry.objects.count() == audit_rows
    services.decide_rule_set(actor=personas.admin, version=version, approve=True, note="上限调整")
    after = services.quote(programme_code=programme.code, payload=FRIDGE)
    assert (before["rule_version"], before["amount_fen"]) == ("cn-appliance-2024@1", 80000)
    assert (after["rule_version"], after["amount_fen"]) == ("cn-appliance-2024@2", 50000)
    stored = list(StoredDecision.objects.order_by("pk").values_list("rule_version", "amount_fen"))
    assert stored == [("cn-appliance-2024@1", 80000), ("cn-appliance-2024@2", 50000)]
    with pytest.raises(ConflictError):
        services.decide_rule_set(
            actor=personas.auditor.__class__.objects.get(pk=personas.admin.pk), version=version, approve=False
        )


def test_the_database_refuses_a_self_approval_even_without_the_service(catalogue, personas):
    from django.db import IntegrityError, transaction

    version = services.prepare_rule_set(
        actor=personas.reviewer, programme=Programme.objects.get(), content=_changed_text()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleSetVersion.objects.filter(pk=version.pk).update(approved_by=personas.reviewer, status="published")


def test_preview_shows_past_inputs_under_both_versions(catalogue, personas):
    programme = Programme.objects.get()
    services.quote(programme_code=programme.code, payload=FRIDGE)
    services.quote(programme_code=programme.code, payload={**FRIDGE, "price_fen": 100000})
    version = services.prepare_rule_set(actor=personas.reviewer, programme=programme, content=_changed_text())
    rows = {row.input["price_fen"]: row for row in services.preview(version)}
    assert rows[400000].old["amount_fen"] == 80000
    assert rows[400000].new["amount_fen"] == 50000
    assert rows[400000].changed
    assert rows[100000].old["amount_fen"] == rows[100000].new["amount_fen"] == 20000
    assert not rows[100000].changed


def test_an_invalid_catalogue_text_is_refused(catalogue, personas):
    with pytest.raises(ValidationFailed) as caught:
        services.prepare_rule_set(actor=personas.reviewer, programme=Programme.objects.get(), content="code = [")
    assert caught.value.errors[0].code == "invalid_catalogue"
    assert RuleSetVersion.objects.count() == 1


def test_only_reviewers_and_administrators_prepare_rules(catalogue, personas):
    with pytest.raises(ForbiddenError):
        services.prepare_rule_set(actor=personas.finance, programme=Programme.objects.get(), content=_changed_text())


def test_the_whole_shipped_catalogue_loads():
    results = services.load_catalogue()
    assert {r.outcome for r in results} == {"created"}
    assert len(results) == len(list(CATALOGUE_DIR.glob("*.toml"))) == 15
    assert Programme.objects.filter(measure__isnull=True).count() == 0


@pytest.mark.parametrize("day", ["2020-01-01", "2024-06-01", "2025-06-01", "2030-01-01"])
def test_published_versions_choose_as_published_version_does(day):
    import datetime

    services.load_catalogue()
    programme = Programme.objects.get(code="cn-appliance-2024")
    # Two published versions: before the first takes effect the earliest decides, after that the latest in force.
    first = RuleSetVersion.objects.get(programme=programme)
    RuleSetVersion.objects.filter(pk=first.pk).update(effective_from=datetime.date(2024, 1, 1))
    RuleSetVersion.objects.create(
        programme=programme,
        version=2,
        digest="second",
        content=_changed_text(),
        source="测试",
        effective_from=datetime.date(2025, 1, 1),
        status=RuleSetVersion.Status.PUBLISHED,
    )
    on = datetime.date.fromisoformat(day)
    programmes = list(Programme.objects.all())
    chosen = services.published_versions(programmes, on)
    for each in programmes:
        single = services.published_version(each.code, on)
        assert (chosen[each.pk].pk if each.pk in chosen else None) == (single.pk if single else None)
    assert chosen[programme.pk].version == (1 if day < "2025-01-01" else 2)


def test_a_rule_set_nested_thousands_deep_is_refused_on_content(catalogue, personas):
    versions = RuleSetVersion.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.prepare_rule_set(
            actor=personas.reviewer, programme=Programme.objects.get(), content="x = " + "[" * 5000 + "]" * 5000
        )
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("content", "invalid_catalogue")
    assert RuleSetVersion.objects.count() == versions
