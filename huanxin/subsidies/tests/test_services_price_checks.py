"""Checkout price checks (the city's ceiling per category, the merchant's filed price), held sales and their
review, and the till's confirmation of the subsidy."""

import datetime

import pytest

from huanxin.accounts.models import Membership
from huanxin.catalogue import services as catalogue
from huanxin.catalogue.models import CategoryPriceRule, PriceFiling, ProductModel
from huanxin.conftest import make_member
from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.subsidies import services
from huanxin.subsidies.domain import pricing
from huanxin.subsidies.models import Clawback, Qualification, Redemption, RedemptionHold
from huanxin.subsidies.tests.test_services_redemption import claim, redeem, totals

pytestmark = pytest.mark.django_db


def file(scene, product, yuan):
    return PriceFiling.objects.create(
        merchant=scene.personas.merchant,
        product=product,
        price_fen=yuan * 100,
        effective_from=datetime.date(2025, 6, 1),
        filed_by=scene.personas.manager,
    )


def hold_mode(scene, category="fridge"):
    rule = CategoryPriceRule.objects.get(category=category)
    catalogue.set_price_rule(
        actor=scene.personas.admin, category=category, ceiling_fen=rule.ceiling_fen, above_filed_price="hold"
    )


def unfiled_fridge():
    return ProductModel.objects.create(brand="美的", model_number="BCD-NEW-1", category="fridge", energy_grade=1)


def assert_refused_without_effect(scene, qualification, before, call, *, code):
    """The refusal is on price_fen with the stable code, and nothing was written or moved."""
    rows = (Redemption.objects.count(), RedemptionHold.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert caught.value.code == code
    assert [(e.field, e.code) for e in caught.value.errors] == [("price_fen", code)]
    assert (Redemption.objects.count(), RedemptionHold.objects.count(), AuditEntry.objects.count()) == rows
    assert totals(scene) == before
    assert Qualification.objects.get(pk=qualification.pk).status == "issued"
    return caught.value


# ---------------------------------------------------------------- the domain rule


def check(price_fen, filed_price_fen, *, ceiling_fen=8_000_000, above_filed_price="refuse"):
    return pricing.check_price(
        price_fen=price_fen,
        category_label="冰箱",
        ceiling_fen=ceiling_fen,
        filed_price_fen=filed_price_fen,
        above_filed_price=above_filed_price,
    )


def test_the_price_checks_in_order_ceiling_then_filed_price():
    assert check(8_000_001, 10_000_000).code == "price_above_ceiling"
    assert check(8_000_000, 10_000_000).outcome == "accept"
    assert check(600_000, 599_900).code == "price_above_filed"
    assert check(599_900, 599_900).outcome == "accept"
    held = check(600_000, 599_900, above_filed_price="hold")
    assert (held.outcome, held.code) == ("hold", "above_filed_price")
    assert check(600_000, None).code == "no_filed_price"
    assert check(1, None, ceiling_fen=None).code == "price_limit_missing"


@pytest.mark.parametrize(
    ("value", "code"),
    [(True, "invalid_price"), (0, "invalid_price"), (-1, "invalid_price"), (1.5, "invalid_price"),
     ("100", "invalid_price"), (2**63, "price_out_of_range")],
)  # fmt: skip
def test_a_price_must_be_a_positive_64_bit_integer_of_fen(value, code):
    assert pricing.price_problem(value)[0] == code
    assert pricing.price_problem(2**63 - 1) is None


# ---------------------------------------------------------------- refusals at checkout


def test_an_absurd_price_is_refused_with_no_side_effects(scene):
    q = claim(scene)
    before = totals(scene)
    error = assert_refused_without_effect(
        scene, q, before, lambda: redeem(scene, q, price_fen=9_999_999_999_900), code="price_above_ceiling"
    )
    assert "成交价超过本市冰箱成交价上限 ¥80,000.00" in error.errors[0].message


@pytest.mark.parametrize(
    ("price", "code"), [(2**63, "price_out_of_range"), (True, "invalid_price"), (0, "invalid_price")]
)
def test_a_price_that_is_no_amount_of_fen_is_refused_with_no_side_effects(scene, price, code):
    q = claim(scene)
    before = totals(scene)
    assert_refused_without_effect(scene, q, before, lambda: redeem(scene, q, price_fen=price), code=code)


def test_the_ceiling_is_the_citys_setting_not_a_constant(scene):
    catalogue.set_price_rule(
        actor=scene.personas.admin, category="fridge", ceiling_fen=300_000, above_filed_price="refuse"
    )
    q = claim(scene)
    before = totals(scene)
    assert_refused_without_effect(
        scene, q, before, lambda: redeem(scene, q, price_fen=300_001), code="price_above_ceiling"
    )
    assert redeem(scene, q, price_fen=300_000).price_fen == 300_000


def test_a_category_without_a_rule_is_refused(scene):
    CategoryPriceRule.objects.filter(category="fridge").delete()
    q = claim(scene)
    assert_refused_without_effect(
        scene, q, totals(scene), lambda: redeem(scene, q, price_fen=400_000), code="price_limit_missing"
    )


def test_a_price_above_the_filed_price_is_refused_by_default(scene):
    product = unfiled_fridge()
    file(scene, product, 5_999)
    q = claim(scene)
    before = totals(scene)
    error = assert_refused_without_effect(
        scene, q, before, lambda: redeem(scene, q, product=product, price_fen=5_999_900), code="price_above_filed"
    )
    assert "备案价 ¥5,999.00" in error.errors[0].message
    assert redeem(scene, q, product=product, price_fen=599_900).withheld is False


def test_the_latest_filing_is_the_one_checked(scene):
    product = unfiled_fridge()
    file(scene, product, 59_999)
    file(scene, product, 5_999)  # the price was corrected down; the old filing no longer counts
    q = claim(scene)
    assert_refused_without_effect(
        scene,
        q,
        totals(scene),
        lambda: redeem(scene, q, product=product, price_fen=5_999_900),
        code="price_above_filed",
    )


# ---------------------------------------------------------------- held sales


def test_a_price_above_the_filed_price_is_held_where_the_city_says_hold(scene):
    hold_mode(scene)
    product = unfiled_fridge()
    file(scene, product, 3_999)
    q = claim(scene)
    redemption = redeem(scene, q, product=product, price_fen=499_900)
    # The customer gets the discount and the subsidy counts as spent.
    assert (redemption.subsidy_fen, redemption.withheld) == (74_985, True)
    assert totals(scene)[1] == 74_985
    hold = RedemptionHold.objects.get(redemption=redemption)
    assert (hold.status, hold.reason, hold.district_id, hold.placed_by) == (
        "held",
        "above_filed_price",
        "110105",
        scene.personas.clerk,
    )
    assert hold.reasons[0]["filed_price_fen"] == 399_900
    assert AuditEntry.objects.filter(action="subsidies.redemption.hold", object_id=str(hold.pk)).count() == 1


def test_a_model_with_no_filed_price_is_allowed_up_to_the_ceiling_and_held(scene):
    product = unfiled_fridge()
    q = claim(scene)
    redemption = redeem(scene, q, product=product, price_fen=7_999_900)
    assert redemption.withheld is True
    assert redemption.hold.reason == "no_filed_price"
    second = claim(scene)
    assert_refused_without_effect(
        scene,
        second,
        totals(scene),
        lambda: redeem(scene, second, product=product, price_fen=8_000_001, serial="SN-0002"),
        code="price_above_ceiling",
    )


def test_a_sale_within_the_filed_price_is_not_held(scene):
    redemption = redeem(scene, claim(scene), price_fen=499_900)
    assert redemption.withheld is False
    assert not RedemptionHold.objects.exists()


# ---------------------------------------------------------------- the till's confirmation


def test_a_quote_shows_subsidy_and_payment_and_writes_nothing(scene):
    q = claim(scene)
    before = totals(scene)
    quote = services.quote_redemption(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=q.code,
        product_id=scene.fridge.pk,
        serial="SN-Q",
        price_fen=499_900,
    )
    assert (quote.subsidy_fen, quote.paid_fen, quote.hold_reason) == (74_985, 424_915, "")
    assert Redemption.objects.count() == 0
    assert totals(scene) == before
    assert not AuditEntry.objects.filter(action__startswith="subsidies.redemption").exists()


def test_a_quote_says_when_the_sale_will_be_held(scene):
    q = claim(scene)
    quote = services.quote_redemption(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=q.code,
        product_id=unfiled_fridge().pk,
        serial="SN-Q",
        price_fen=499_900,
    )
    assert quote.hold_reason == "no_filed_price"
    assert "暂扣" in quote.hold_message


def test_a_commit_with_a_different_confirmed_subsidy_is_refused_and_changes_nothing(scene):
    q = claim(scene)
    before = totals(scene)
    with pytest.raises(ConflictError) as caught:
        redeem(scene, q, price_fen=499_900, confirmed_subsidy_fen=70_000)
    assert caught.value.code == "quote_changed"
    assert Redemption.objects.count() == 0
    assert totals(scene) == before
    assert redeem(scene, q, price_fen=499_900, confirmed_subsidy_fen=74_985).subsidy_fen == 74_985


# ---------------------------------------------------------------- review of held sales


@pytest.fixture
def held(scene):
    return redeem(scene, claim(scene), product=unfiled_fridge(), price_fen=499_900).hold


def test_a_reviewer_clears_a_held_sale_with_an_audit_row(scene, held):
    cleared = services.clear_hold(actor=scene.personas.district_reviewer, hold=held, note="价格合理")
    assert (cleared.status, cleared.decided_by, cleared.note) == (
        "cleared",
        scene.personas.district_reviewer,
        "价格合理",
    )
    assert cleared.decided_at is not None
    assert not Clawback.objects.exists()
    assert totals(scene)[1] == 74_985
    entry = AuditEntry.objects.get(action="subsidies.hold.clear")
    assert (entry.object_id, entry.after["status"]) == (str(held.pk), "cleared")


def test_a_rejected_sale_returns_its_subsidy_to_the_budget_and_owes_nothing(scene, held):
    before = totals(scene)
    rejected = services.reject_hold(actor=scene.personas.reviewer, hold=held, note="备案缺失，价格虚高")
    assert (rejected.status, rejected.released_fen) == ("rejected", 0)
    # Withheld from settlement, the subsidy was never paid to the merchant: nothing to claw back.
    assert not Clawback.objects.exists()
    assert totals(scene) == (before[0], before[1] - 74_985, before[2] + 74_985)
    redemption = Redemption.objects.get(pk=held.redemption_id)
    assert redemption.returned_fen == redemption.subsidy_fen
    after = AuditEntry.objects.get(action="subsidies.hold.reject").after
    assert (after["released_fen"], after["returned_to_budget_fen"]) == (0, 74_985)


def test_a_rejection_needs_a_note(scene, held):
    with pytest.raises(ValidationFailed) as caught:
        services.reject_hold(actor=scene.personas.reviewer, hold=held, note=" ")
    assert caught.value.errors[0].field == "note"
    assert RedemptionHold.objects.get(pk=held.pk).status == "held"


def test_a_hold_is_decided_once(scene, held):
    services.clear_hold(actor=scene.personas.reviewer, hold=held)
    with pytest.raises(ConflictError) as caught:
        services.reject_hold(
            actor=scene.personas.district_reviewer, hold=RedemptionHold.objects.get(pk=held.pk), note="迟到"
        )
    assert caught.value.code == "hold_decided"
    assert not Clawback.objects.exists()


@pytest.mark.parametrize(
    "who", ["clerk", "manager", "finance", "auditor", "outsider", "other_district", "own_reviewer"]
)
def test_only_a_reviewer_of_the_district_who_is_not_of_the_merchant_decides(scene, held, who):
    from huanxin.accounts.models import Role

    personas = scene.personas
    actor = {
        "clerk": personas.clerk,
        "manager": personas.manager,
        "finance": personas.finance,
        "auditor": personas.auditor,
        "outsider": personas.outsider,
        "other_district": make_member(Role.REVIEWER, personas.chaoyang_bureau, district="110108"),
        "own_reviewer": personas.manager,
    }[who]
    if who == "own_reviewer":
        # A merchant's manager who also reviews for the city still may not decide on the merchant's sales.
        Membership.objects.create(user=personas.manager, role=Role.REVIEWER, organisation=personas.government)
    with pytest.raises(ForbiddenError):
        services.clear_hold(actor=actor, hold=held)
    with pytest.raises(ForbiddenError):
        services.reject_hold(actor=actor, hold=held, note="不通过")
    assert RedemptionHold.objects.get(pk=held.pk).status == "held"
    assert not AuditEntry.objects.filter(action__startswith="subsidies.hold").exists()


def test_the_held_sale_and_the_decider_may_not_be_the_same_person_in_the_database(scene, held):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        RedemptionHold.objects.filter(pk=held.pk).update(
            status="cleared", decided_by=held.placed_by, decided_at=held.placed_at
        )


# ---------------------------------------------------------------- the city's settings


def test_only_an_administrator_sets_the_price_rules_and_it_is_audited(scene):
    with pytest.raises(ForbiddenError):
        catalogue.set_price_rule(
            actor=scene.personas.reviewer, category="tv", ceiling_fen=100, above_filed_price="hold"
        )
    with pytest.raises(ValidationFailed) as caught:
        catalogue.set_price_rule(actor=scene.personas.admin, category="tv", ceiling_fen=True, above_filed_price="maybe")
    assert {e.field for e in caught.value.errors} == {"ceiling_fen", "above_filed_price"}
    assert CategoryPriceRule.objects.get(category="tv").ceiling_fen == 20_000_000
    catalogue.set_price_rule(actor=scene.personas.admin, category="tv", ceiling_fen=5_000_000, above_filed_price="hold")
    rule = CategoryPriceRule.objects.get(category="tv")
    assert (rule.ceiling_fen, rule.above_filed_price, rule.updated_by) == (5_000_000, "hold", scene.personas.admin)
    entry = AuditEntry.objects.get(action="catalogue.price_rule.set")
    assert (entry.before, entry.after["ceiling_fen"]) == (
        {"ceiling_fen": 20_000_000, "above_filed_price": "refuse"},
        5_000_000,
    )


def test_every_category_has_a_seeded_rule(db):
    from huanxin.catalogue.domain.categories import CATEGORIES

    assert set(CategoryPriceRule.objects.values_list("category", flat=True)) == set(CATEGORIES)
    assert CategoryPriceRule.objects.get(category="fridge").ceiling_fen == 8_000_000
    assert set(CategoryPriceRule.objects.values_list("above_filed_price", flat=True)) == {"refuse"}
