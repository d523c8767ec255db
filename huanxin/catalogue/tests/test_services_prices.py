import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from huanxin.accounts.models import OrganisationKind, Role
from huanxin.catalogue import queries, services
from huanxin.catalogue.models import PriceFiling, PriceFilingImmutableError, ProductModel
from huanxin.conftest import make_member, make_organisation
from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def beijing_today():
    return timezone.localdate(timezone=services.BEIJING)


@pytest.fixture
def fridge(db):
    return ProductModel.objects.create(brand="海尔", model_number="BCD-500", category="fridge", energy_grade=1)


def file(actor, merchant, product, price_fen=399_900, days=0, note=""):
    return services.file_price(
        actor=actor,
        merchant=merchant,
        product=product,
        price_fen=price_fen,
        effective_from=beijing_today() + datetime.timedelta(days=days),
        note=note,
    )


def test_a_manager_or_clerk_files_a_price_and_it_is_audited(personas, fridge):
    filing = file(personas.manager, personas.merchant, fridge, 399_900, days=0, note=" 双十一  价格 ")
    clerk_filing = file(personas.clerk, personas.merchant, fridge, 389_900, days=3)
    stored = PriceFiling.objects.get(pk=filing.pk)
    assert (stored.merchant, stored.product, stored.price_fen, stored.effective_from, stored.filed_by, stored.note) == (
        personas.merchant,
        fridge,
        399_900,
        beijing_today(),
        personas.manager,
        "双十一 价格",
    )
    assert clerk_filing.filed_by == personas.clerk
    entry = AuditEntry.objects.get(object_id=str(filing.pk), action="catalogue.price.file")
    assert entry.after == {
        "merchant": personas.merchant.pk,
        "product": fridge.pk,
        "price_fen": 399_900,
        "effective_from": beijing_today().isoformat(),
        "note": "双十一 价格",
    }
    assert (entry.actor, entry.organisation_id, entry.district_code) == (
        personas.manager,
        personas.merchant.pk,
        "110105",
    )


def test_every_filing_is_kept_and_none_is_ever_changed(personas, fridge):
    first = file(personas.manager, personas.merchant, fridge, 399_900, days=1)
    second = file(personas.manager, personas.merchant, fridge, 379_900, days=5)
    third = file(personas.clerk, personas.merchant, fridge, 369_900, days=5)
    history = list(queries.price_history(personas.merchant, fridge))
    assert [(f.pk, f.price_fen) for f in history] == [(third.pk, 369_900), (second.pk, 379_900), (first.pk, 399_900)]
    first.price_fen = 1
    with pytest.raises(PriceFilingImmutableError):
        first.save()
    with pytest.raises(PriceFilingImmutableError):
        PriceFiling.objects.filter(pk=first.pk).update(price_fen=1)
    assert PriceFiling.objects.get(pk=first.pk).price_fen == 399_900


def test_filed_price_is_the_latest_effective_on_the_day_and_the_latest_filed_on_a_tie(
    personas, fridge, django_assert_num_queries
):
    day = datetime.date(2026, 3, 1)
    at = datetime.datetime(2026, 2, 20, 10, tzinfo=datetime.UTC)

    def filing(price, effective, filed_at, merchant=personas.merchant):
        return PriceFiling.objects.create(
            merchant=merchant,
            product=fridge,
            price_fen=price,
            effective_from=effective,
            filed_by=personas.manager,
            filed_at=filed_at,
        )

    march = filing(400_000, day, at)
    filing(390_000, day + datetime.timedelta(days=10), at)
    correction = filing(380_000, day + datetime.timedelta(days=10), at + datetime.timedelta(hours=1))
    filing(100, day, at, merchant=personas.other_merchant)
    with django_assert_num_queries(1):
        assert queries.filed_price(personas.merchant.pk, fridge.pk, day - datetime.timedelta(days=1)) is None
    assert queries.filed_price(personas.merchant.pk, fridge.pk, day) == march
    assert queries.filed_price(personas.merchant.pk, fridge.pk, day + datetime.timedelta(days=9)) == march
    assert queries.filed_price(personas.merchant.pk, fridge.pk, day + datetime.timedelta(days=10)) == correction
    assert queries.filed_price(personas.merchant.pk, fridge.pk, datetime.date(2027, 1, 1)) == correction
    assert queries.filed_price(personas.other_merchant.pk, fridge.pk, day).price_fen == 100


def test_a_clerk_of_another_merchant_is_refused_and_nothing_is_stored(personas, fridge):
    other_clerk = make_member(Role.MERCHANT_CLERK, personas.other_merchant)
    with pytest.raises(ForbiddenError) as caught:
        file(other_clerk, personas.merchant, fridge)
    assert (caught.value.code, caught.value.detail) == (
        "price_filing_forbidden",
        "只有该商户的负责人或店员可以为其备案价格",
    )
    assert PriceFiling.objects.count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("persona", ["admin", "reviewer", "consumer", "recycler", "outsider"])
def test_nobody_outside_the_merchant_files_its_prices(personas, fridge, persona):
    with pytest.raises(ForbiddenError):
        file(getattr(personas, persona), personas.merchant, fridge)
    assert PriceFiling.objects.count() == 0


def test_an_effective_date_in_the_past_is_refused_and_nothing_is_stored(personas, fridge):
    with pytest.raises(ValidationFailed) as caught:
        file(personas.manager, personas.merchant, fridge, days=-1)
    error = caught.value.errors[0]
    assert (error.field, error.code) == ("effective_from", "effective_in_past")
    assert error.message == f"生效日期不能早于今天（{beijing_today():%Y-%m-%d}），已生效的价格不能追溯修改"
    assert PriceFiling.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_today_is_the_beijing_date_not_the_utc_one(personas, fridge, monkeypatch):
    # 17:30 UTC on 29 November is already 01:30 on 30 November in Beijing.
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2026, 11, 29, 17, 30, tzinfo=datetime.UTC))
    with pytest.raises(ValidationFailed) as caught:
        services.file_price(
            actor=personas.manager,
            merchant=personas.merchant,
            product=fridge,
            price_fen=100,
            effective_from=datetime.date(2026, 11, 29),
        )
    assert caught.value.errors[0].message.startswith("生效日期不能早于今天（2026-11-30）")
    filing = services.file_price(
        actor=personas.manager,
        merchant=personas.merchant,
        product=fridge,
        price_fen=100,
        effective_from=datetime.date(2026, 11, 30),
    )
    assert filing.effective_from == datetime.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("price_fen", "code"),
    [(0, "invalid_price"), (-100, "invalid_price"), (True, "invalid_price"), (100_000_000_001, "price_too_large")],
)
def test_a_price_must_be_a_positive_number_of_fen(personas, fridge, price_fen, code):
    with pytest.raises(ValidationFailed) as caught:
        file(personas.manager, personas.merchant, fridge, price_fen=price_fen)
    assert [(e.field, e.code) for e in caught.value.errors] == [("price_fen", code)]
    assert PriceFiling.objects.count() == 0


def test_a_long_note_is_refused(personas, fridge):
    with pytest.raises(ValidationFailed) as caught:
        file(personas.manager, personas.merchant, fridge, note="备" * 201)
    assert [(e.field, e.code) for e in caught.value.errors] == [("note", "too_long")]
    assert PriceFiling.objects.count() == 0


def test_only_merchants_file_prices_and_a_suspended_one_cannot(personas, fridge):
    recycler_org = make_organisation(OrganisationKind.RECYCLER)
    with pytest.raises(ValidationFailed) as caught:
        file(personas.manager, recycler_org, fridge)
    assert caught.value.code == "not_a_merchant"
    personas.merchant.status = "suspended"
    personas.merchant.save()
    with pytest.raises(ForbiddenError) as suspended:
        file(personas.manager, personas.merchant, fridge)
    assert suspended.value.code == "merchant_suspended"
    assert PriceFiling.objects.count() == 0


def test_the_database_refuses_a_non_positive_price(personas, fridge):
    with pytest.raises(IntegrityError), transaction.atomic():
        PriceFiling.objects.create(
            merchant=personas.merchant,
            product=fridge,
            price_fen=0,
            effective_from=beijing_today(),
            filed_by=personas.manager,
        )


def test_who_sees_which_filings(personas, fridge):
    other_clerk = make_member(Role.MERCHANT_CLERK, personas.other_merchant)
    own = file(personas.manager, personas.merchant, fridge)
    other = file(other_clerk, personas.other_merchant, fridge)
    both = {own.pk, other.pk}
    expected = {
        "clerk": {own.pk},
        "manager": {own.pk},
        "district_reviewer": {own.pk},  # 朝阳 only: 海淀数码 is outside their district
        "reviewer": both,
        "finance": both,
        "auditor": both,
        "admin": both,
        "consumer": set(),
        "recycler": set(),
        "outsider": set(),
    }
    seen = {
        name: set(PriceFiling.objects.visible_to(getattr(personas, name)).values_list("pk", flat=True))
        for name in expected
    }
    assert seen == expected
    assert set(PriceFiling.objects.visible_to(other_clerk).values_list("pk", flat=True)) == {other.pk}
    assert not PriceFiling.objects.visible_to(AnonymousUser()).exists()


def test_products_are_public(personas, fridge):
    assert list(ProductModel.objects.visible_to(AnonymousUser())) == [fridge]
