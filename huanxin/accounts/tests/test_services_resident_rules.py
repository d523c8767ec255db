"""Real-name verification refuses children and implausible names and dates; the registered district."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest

from huanxin.accounts import services
from huanxin.accounts.models import DistrictChange, Person
from huanxin.conftest import api_client_for, client_for, valid_resident_id
from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db
PASSWORD = "Str0ng-test-password"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def resident(send_code):
    """A registered, not yet verified resident of Chaoyang."""
    phone = "13912345678"
    return services.register_resident(phone=phone, code=send_code(phone), password=PASSWORD, district="110105")


def assert_unverified_and_unaudited(user, audit_rows):
    person = Person.objects.get(user=user)
    assert person.verified_at is None
    assert person.resident_id_digest is None
    assert person.name == ""
    assert AuditEntry.objects.count() == audit_rows


def refused(user, **fields):
    with pytest.raises(ValidationFailed) as caught:
        services.verify_identity(actor=user, **{"name": "王小明", "now": NOW, **fields})
    return {(e.field, e.code) for e in caught.value.errors}, caught.value


def test_a_child_is_refused_verification_and_nothing_is_stored(resident):
    audit_rows = AuditEntry.objects.count()
    errors, error = refused(resident, resident_id=valid_resident_id(birth="20150601"))
    assert errors == {("resident_id", "under_minimum_age")}
    assert error.errors[0].message == "申领补贴须年满18周岁，按身份证上的出生日期您尚未满18周岁"
    assert_unverified_and_unaudited(resident, audit_rows)


def test_the_day_before_the_eighteenth_birthday_is_too_young_and_the_birthday_is_not(resident):
    errors, _ = refused(resident, resident_id=valid_resident_id(birth="20081204"))
    assert errors == {("resident_id", "under_minimum_age")}
    person = services.verify_identity(
        actor=resident, name="王小明", resident_id=valid_resident_id(birth="20081203"), now=NOW
    )
    assert person.is_verified


def test_the_minimum_age_at_verification_is_the_city_setting(resident, settings):
    settings.HUANXIN_MIN_CLAIM_AGE = 16
    person = services.verify_identity(
        actor=resident, name="王小明", resident_id=valid_resident_id(birth="20100101"), now=NOW
    )
    assert person.is_verified


@pytest.mark.parametrize("birth", ["20261204", "20300101", "18991231"])
def test_a_birth_date_in_the_future_or_before_1900_is_refused(resident, birth):
    audit_rows = AuditEntry.objects.count()
    errors, _ = refused(resident, resident_id=valid_resident_id(birth=birth))
    assert errors == {("resident_id", "invalid_birth_date")}
    assert_unverified_and_unaudited(resident, audit_rows)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("王" * 30, "invalid_name_length"),
        ("张三李四王五赵六钱七孙八周九吴十郑冯陈褚卫", "invalid_name_length"),
        ("王", "invalid_name_length"),
        ("Wang Xiaoming", "invalid_name_characters"),
        ("王小明123", "invalid_name_characters"),
    ],
)
def test_an_implausible_name_is_refused(resident, name, code):
    audit_rows = AuditEntry.objects.count()
    errors, _ = refused(resident, name=name, resident_id=valid_resident_id())
    assert errors == {("name", code)}
    assert_unverified_and_unaudited(resident, audit_rows)


def test_an_ethnic_minority_name_with_a_middle_dot_is_verified_in_its_standard_form(resident):
    person = services.verify_identity(actor=resident, name="买买提•艾力", resident_id=valid_resident_id(), now=NOW)
    assert Person.objects.get(pk=person.pk).name == "买买提·艾力"


def test_verification_registers_the_district_claims_are_charged_to(resident):
    person = services.verify_identity(
        actor=resident, name="王小明", resident_id=valid_resident_id(), district="110108", now=NOW
    )
    assert Person.objects.get(pk=person.pk).district_id == "110108"
    entry = AuditEntry.objects.get(action="accounts.resident.verify_identity")
    assert (entry.before["district"], entry.after["district"]) == ("110105", "110108")


def test_verification_needs_a_district_when_registration_gave_none(resident):
    Person.objects.filter(user=resident).update(district=None)
    audit_rows = AuditEntry.objects.count()
    errors, _ = refused(resident, resident_id=valid_resident_id())
    assert errors == {("district", "required")}
    errors, _ = refused(resident, resident_id=valid_resident_id(), district="999999")
    assert errors == {("district", "unknown_district")}
    assert_unverified_and_unaudited(resident, audit_rows)


def test_the_identity_page_asks_for_the_district_and_shows_the_age_refusal(resident):
    client = client_for(resident)
    response = client.post(
        "/accounts/identity/",
        {"name": "王小明", "resident_id": valid_resident_id(birth="20150601"), "district": "110105"},
    )
    html = response.content.decode()
    assert 'data-code="under_minimum_age"' in html
    assert 'name="district"' in html
    assert not Person.objects.get(user=resident).is_verified


# ---------------------------------------------------------------- changing the registered district


@pytest.fixture
def verified(resident):
    services.verify_identity(actor=resident, name="王小明", resident_id=valid_resident_id(), now=NOW)
    return resident


def test_a_resident_changes_the_registered_district_once_with_an_audit_row(verified):
    person = services.change_registered_district(actor=verified, district="110108", now=NOW)
    assert Person.objects.get(pk=person.pk).district_id == "110108"
    change = DistrictChange.objects.get()
    assert (change.from_district_id, change.to_district_id, change.year) == ("110105", "110108", 2026)
    entry = AuditEntry.objects.get(action="accounts.resident.change_district")
    assert entry.actor == verified
    assert entry.before == {"district": "110105"}
    assert entry.after == {"district": "110108", "year": 2026, "change": change.pk}


def test_a_second_change_in_the_same_programme_year_is_refused_and_nothing_changes(verified):
    services.change_registered_district(actor=verified, district="110108", now=NOW)
    audit_rows = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.change_registered_district(actor=verified, district="110119", now=NOW + datetime.timedelta(days=20))
    assert [(e.field, e.code) for e in caught.value.errors] == [("district", "district_change_limit")]
    assert "2027年1月1日起可再次变更" in caught.value.errors[0].message
    assert Person.objects.get(user=verified).district_id == "110108"
    assert DistrictChange.objects.count() == 1
    assert AuditEntry.objects.count() == audit_rows


def test_the_next_programme_year_allows_another_change(verified):
    services.change_registered_district(actor=verified, district="110108", now=NOW)
    new_year = datetime.datetime(2027, 1, 1, 0, 0, 1, tzinfo=SHANGHAI)
    services.change_registered_district(actor=verified, district="110119", now=new_year)
    assert Person.objects.get(user=verified).district_id == "110119"
    assert list(DistrictChange.objects.order_by("year").values_list("year", flat=True)) == [2026, 2027]


def test_a_change_to_the_same_or_an_unknown_district_is_refused(verified):
    for district, code in [("110105", "district_unchanged"), ("999999", "unknown_district")]:
        with pytest.raises(ValidationFailed) as caught:
            services.change_registered_district(actor=verified, district=district, now=NOW)
        assert caught.value.errors[0].code == code
    assert DistrictChange.objects.count() == 0


def test_an_unverified_resident_cannot_change_the_district(resident):
    with pytest.raises(ForbiddenError):
        services.change_registered_district(actor=resident, district="110108", now=NOW)
    assert Person.objects.get(user=resident).district_id == "110105"


def test_a_profile_verified_without_a_district_registers_one_without_using_up_the_change(verified):
    Person.objects.filter(user=verified).update(district=None)
    services.change_registered_district(actor=verified, district="110108", now=NOW)
    assert DistrictChange.objects.count() == 0
    assert AuditEntry.objects.filter(action="accounts.resident.register_district").count() == 1
    services.change_registered_district(actor=verified, district="110119", now=NOW)
    assert Person.objects.get(user=verified).district_id == "110119"


def test_the_district_page_shows_the_district_changes_it_and_then_says_when_the_next_change_is_allowed(verified):
    client = client_for(verified)
    page = client.get("/accounts/district/").content.decode()
    assert 'data-district="110105"' in page
    assert "朝阳区" in page
    response = client.post("/accounts/district/", {"district": "110108"})
    assert response.status_code == 302
    page = client.get("/accounts/district/").content.decode()
    assert 'data-district="110108"' in page
    assert 'data-code="district_change_limit"' in page
    assert "年1月1日起可再次变更" in page
    # A second change sent anyway changes nothing.
    client.post("/accounts/district/", {"district": "110119"})
    assert Person.objects.get(user=verified).district_id == "110108"
    assert DistrictChange.objects.count() == 1


def test_the_district_change_api_refuses_a_second_change_with_a_field_error(verified):
    client = api_client_for(verified)

    def change(district):
        return client.post(
            "/api/v1/accounts/me/district", data=json.dumps({"district": district}), content_type="application/json"
        )

    first = change("110108")
    assert first.status_code == 200
    assert first.json()["district"] == "110108"
    second = change("110119")
    assert second.status_code == 422
    assert second.json()["errors"][0]["field"] == "district"
    assert second.json()["errors"][0]["code"] == "district_change_limit"
    assert Person.objects.get(user=verified).district_id == "110108"


@pytest.mark.parametrize("persona", ["clerk", "reviewer", "admin", "outsider"])
def test_only_a_resident_has_a_registered_district_to_change(personas, persona):
    from django.test import Client

    user = getattr(personas, persona)
    assert client_for(user).get("/accounts/district/").status_code == 403
    response = api_client_for(user).post(
        "/api/v1/accounts/me/district", data=json.dumps({"district": "110108"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert DistrictChange.objects.count() == 0
    assert Client().get("/accounts/district/").status_code == 302
