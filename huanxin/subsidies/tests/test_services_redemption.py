import datetime

import pytest
from django.utils import timezone

from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy.models import BudgetPool
from huanxin.subsidies import services
from huanxin.subsidies.models import Clawback, Enrolment, Qualification, Redemption, Return, TakeBack
from huanxin.subsidies.tests.conftest import FRIDGE_CAP

pytestmark = pytest.mark.django_db
IMEI = "490154203237518"


def totals(scene):
    pools = BudgetPool.objects.filter(programme=scene.programme)
    return (sum(p.held_fen for p in pools), sum(p.spent_fen for p in pools), sum(p.available_fen for p in pools))


def claim(scene, category="fridge"):
    return services.claim_qualification(actor=scene.resident(), programme_code="cn-appliance-2026", category=category)


def redeem(scene, qualification, *, product=None, price_fen=499_900, serial="SN-0001", clerk=None, **kwargs):
    return services.redeem(
        actor=clerk or scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=(product or scene.fridge).pk,
        serial=serial,
        price_fen=price_fen,
        **kwargs,
    ).redemption


def test_redemption_spends_the_exact_subsidy_and_releases_the_rest(scene):
    q = claim(scene)
    redemption = redeem(
        scene, q, price_fen=499_900, take_back=services.TakeBackInput(category="fridge", condition="working")
    )
    assert redemption.subsidy_fen == 74_985  # 15 % of 4,999.00 元
    assert Qualification.objects.get(pk=q.pk).status == "redeemed"
    assert totals(scene) == (0, 74_985, 10 * FRIDGE_CAP - 74_985)
    assert TakeBack.objects.get(redemption=redemption).condition == "working"
    assert redemption.decision["reasons"][0]["code"] == "category"
    assert AuditEntry.objects.filter(action="subsidies.redemption.create").count() == 1


def test_the_cap_applies(scene):
    redemption = redeem(scene, claim(scene), price_fen=1_500_000)
    assert redemption.subsidy_fen == FRIDGE_CAP


def test_a_product_below_the_grade_rule_is_refused_and_nothing_changes(scene):
    q = claim(scene)
    before = totals(scene)
    with pytest.raises(ValidationFailed) as caught:
        redeem(scene, q, product=scene.fridge_grade2)
    assert caught.value.code == "rule_grade"
    assert caught.value.errors[0].field == "product_id"
    assert Qualification.objects.get(pk=q.pk).status == "issued"
    assert totals(scene) == before
    assert Redemption.objects.count() == 0


def test_a_product_of_another_category_is_refused(scene):
    with pytest.raises(ValidationFailed) as caught:
        redeem(scene, claim(scene), product=scene.tv)
    assert caught.value.errors[0].code == "wrong_category"


def test_the_same_serial_is_subsidised_once(scene):
    redeem(scene, claim(scene), serial="SN-SAME")
    second = claim(scene)
    with pytest.raises(ValidationFailed) as caught:
        redeem(scene, second, serial="sn-same")
    assert caught.value.errors[0].code == "serial_used"
    assert Qualification.objects.get(pk=second.pk).status == "issued"


def test_a_phone_needs_a_valid_imei():
    from huanxin.subsidies.domain.serials import SerialError, normalise_serial

    assert normalise_serial("49015420 3237518", category="phone") == IMEI
    with pytest.raises(SerialError):
        normalise_serial("490154203237519", category="phone")


def test_a_suspended_merchant_cannot_redeem(scene):
    Enrolment.objects.filter(pk=scene.enrolment.pk).update(status="suspended")
    q = claim(scene)
    with pytest.raises(ForbiddenError) as caught:
        redeem(scene, q)
    assert caught.value.code == "merchant_not_enrolled"
    assert Qualification.objects.get(pk=q.pk).status == "issued"


def test_a_clerk_of_another_merchant_cannot_redeem(scene):
    from huanxin.accounts.models import Role
    from huanxin.conftest import make_member

    outsider = make_member(Role.MERCHANT_CLERK, scene.personas.other_merchant)
    with pytest.raises(ForbiddenError):
        redeem(scene, claim(scene), clerk=outsider)


def test_an_expired_or_unknown_code_is_refused(scene):
    q = claim(scene)
    Qualification.objects.filter(pk=q.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ConflictError) as caught:
        redeem(scene, q)
    assert caught.value.code == "qualification_expired"
    with pytest.raises(ValidationFailed) as caught_code:
        services.redeem(
            actor=scene.personas.clerk,
            merchant=scene.personas.merchant,
            store_id=scene.store.pk,
            code="0000-0000-0000",
            product_id=scene.fridge.pk,
            serial="X1234",
            price_fen=100,
        )
    assert caught_code.value.errors[0].field == "code"


def test_resubmitting_the_same_sale_returns_it_and_another_sale_conflicts(scene):
    q = claim(scene)
    first = redeem(scene, q)
    assert redeem(scene, q).pk == first.pk
    with pytest.raises(ConflictError):
        redeem(scene, q, price_fen=100_000)
    assert Redemption.objects.count() == 1


def test_full_return_reverses_the_subsidy_records_a_clawback_and_keeps_the_quota(scene):
    q = claim(scene)
    redemption = redeem(scene, q, price_fen=499_900, serial="SN-RET")
    record = services.record_return(
        actor=scene.personas.clerk, redemption=redemption, kind="full", reason="顾客七天无理由退货"
    )
    assert (record.kind, record.reversed_fen, record.refund_fen) == ("full", 74_985, 499_900 - 74_985)
    assert Clawback.objects.get().amount_fen == 74_985
    assert totals(scene) == (0, 0, 10 * FRIDGE_CAP)
    q.refresh_from_db()
    assert (q.status, q.quota_released) == ("returned", False)
    with pytest.raises(ValidationFailed) as caught:
        services.claim_qualification(actor=q.person.user, programme_code="cn-appliance-2026", category="fridge")
    assert caught.value.code == "rule_quota"
    # The returned unit's serial may be subsidised again when it is sold to someone else.
    assert redeem(scene, claim(scene), serial="SN-RET").subsidy_fen == 74_985


def test_partial_return_recomputes_the_subsidy_on_the_new_final_price(scene):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    assert redemption.subsidy_fen == 60_000  # the customer paid 3,400 元
    record = services.record_return(
        actor=scene.personas.clerk, redemption=redemption, kind="partial", new_price_fen=300_000, reason="差价补偿"
    )
    # 15 % of 3,000 元 = 450 元 kept; the customer now pays 2,550 元, so 850 元 comes back to them.
    assert (record.kind, record.new_price_fen, record.new_subsidy_fen) == ("partial", 300_000, 45_000)
    assert (record.refund_fen, record.reversed_fen, record.quota_released) == (85_000, 15_000, False)
    redemption.refresh_from_db()
    assert (redemption.status, redemption.returned_fen) == ("partial", 15_000)
    assert Qualification.objects.get(pk=redemption.qualification_id).status == "redeemed"
    final = services.record_return(actor=scene.personas.clerk, redemption=redemption, kind="full", reason="整单退货")
    # The whole-order return after it gives back what the customer still pays (3,000 − 450 元).
    assert (final.kind, final.refund_fen, final.reversed_fen) == ("full", 255_000, 45_000)
    assert record.refund_fen + final.refund_fen == redemption.paid_fen
    assert sum(c.amount_fen for c in Clawback.objects.all()) == 60_000
    assert totals(scene)[1] == 0


def nothing_moved(scene, redemption, before):
    assert Return.objects.count() == 0
    assert Clawback.objects.count() == 0
    fresh = Redemption.objects.get(pk=redemption.pk)
    assert (fresh.status, fresh.returned_fen) == ("completed", 0)
    assert Qualification.objects.get(pk=redemption.qualification_id).status == "redeemed"
    assert totals(scene) == before
    assert AuditEntry.objects.filter(action="subsidies.redemption.return").count() == 0


@pytest.mark.parametrize(
    ("new_price_fen", "code"),
    [
        (None, "required"),
        (0, "invalid_price"),
        (-1, "invalid_price"),
        (True, "invalid_price"),
        ("300000", "invalid_price"),
        (400_000, "price_not_lower"),
        (400_001, "price_not_lower"),
    ],
)
def test_a_bad_new_final_price_is_refused_on_its_field_and_nothing_changes(scene, new_price_fen, code):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    before = totals(scene)
    with pytest.raises(ValidationFailed) as caught:
        services.record_return(
            actor=scene.personas.clerk,
            redemption=redemption,
            kind="partial",
            new_price_fen=new_price_fen,
            reason="退货",
        )
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("new_price_fen", code)
    nothing_moved(scene, redemption, before)


def test_an_unknown_kind_or_a_missing_reason_is_refused_and_nothing_changes(scene):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    before = totals(scene)
    with pytest.raises(ValidationFailed) as caught:
        services.record_return(actor=scene.personas.clerk, redemption=redemption, kind="refund", reason="退货")
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("kind", "invalid_choice")
    with pytest.raises(ValidationFailed) as caught:
        services.record_return(actor=scene.personas.clerk, redemption=redemption, kind="full", reason=" ")
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("reason", "required")
    nothing_moved(scene, redemption, before)


def test_someone_outside_the_merchant_cannot_return_or_preview_and_nothing_changes(scene):
    from huanxin.accounts.models import Role
    from huanxin.conftest import make_member, make_organisation

    redemption = redeem(scene, claim(scene), price_fen=400_000)
    before = totals(scene)
    outsider = make_member(Role.MERCHANT_CLERK, make_organisation())
    with pytest.raises(ForbiddenError):
        services.quote_return(actor=outsider, redemption=redemption, kind="full")
    with pytest.raises(ForbiddenError):
        services.record_return(actor=outsider, redemption=redemption, kind="full", reason="退货")
    nothing_moved(scene, redemption, before)


def test_the_preview_shows_the_figures_the_return_then_records_and_writes_nothing(scene):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    before = totals(scene)
    quote = services.quote_return(
        actor=scene.personas.clerk, redemption=redemption, kind="partial", new_price_fen=300_000
    )
    assert (quote.new_subsidy_fen, quote.refund_fen, quote.clawback_fen, quote.quota_released) == (
        45_000,
        85_000,
        15_000,
        False,
    )
    nothing_moved(scene, redemption, before)
    record = services.record_return(
        actor=scene.personas.clerk, redemption=redemption, kind="partial", new_price_fen=300_000, reason="差价补偿"
    )
    assert (record.new_subsidy_fen, record.refund_fen, record.reversed_fen) == (
        quote.new_subsidy_fen,
        quote.refund_fen,
        quote.clawback_fen,
    )


def test_the_recomputed_subsidy_never_exceeds_the_original(scene):
    # 15 000 元 hits the 1,500 元 cap; at 12 000 元 the rule still gives the cap, so nothing is clawed back.
    redemption = redeem(scene, claim(scene), price_fen=1_500_000)
    quote = services.quote_return(
        actor=scene.personas.clerk, redemption=redemption, kind="partial", new_price_fen=1_200_000
    )
    assert (quote.new_subsidy_fen, quote.clawback_fen, quote.refund_fen) == (FRIDGE_CAP, 0, 300_000)
    record = services.record_return(
        actor=scene.personas.clerk, redemption=redemption, kind="partial", new_price_fen=1_200_000, reason="降价"
    )
    assert record.reversed_fen == 0
    assert Clawback.objects.count() == 0


def test_a_returned_sale_cannot_be_returned_again_and_nothing_changes(scene):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    services.record_return(actor=scene.personas.clerk, redemption=redemption, kind="full", reason="退货")
    state = (totals(scene), Return.objects.count(), Clawback.objects.count())
    for kind, price in (("full", None), ("partial", 300_000)):
        with pytest.raises(ConflictError) as caught:
            services.record_return(
                actor=scene.personas.clerk, redemption=redemption, kind=kind, new_price_fen=price, reason="再退"
            )
        assert caught.value.code == "already_returned"
    assert (totals(scene), Return.objects.count(), Clawback.objects.count()) == state
    assert AuditEntry.objects.filter(action="subsidies.redemption.return").count() == 1


def test_a_stale_copy_cannot_return_the_same_sale_twice(scene):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    stale = Redemption.objects.get(pk=redemption.pk)
    services.record_return(actor=scene.personas.clerk, redemption=redemption, kind="full", reason="退货")
    spent = totals(scene)
    with pytest.raises(ConflictError) as caught:
        services.record_return(actor=scene.personas.clerk, redemption=stale, kind="full", reason="退货")
    assert caught.value.code == "return_conflict"
    assert (totals(scene), Return.objects.count(), Clawback.objects.count()) == (spent, 1, 1)


def test_a_partially_returned_sale_takes_only_a_whole_order_return(scene):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    services.record_return(
        actor=scene.personas.clerk, redemption=redemption, kind="partial", new_price_fen=300_000, reason="差价"
    )
    state = (totals(scene), Return.objects.count(), Clawback.objects.count())
    with pytest.raises(ConflictError) as caught:
        services.record_return(
            actor=scene.personas.clerk, redemption=redemption, kind="partial", new_price_fen=200_000, reason="再退"
        )
    assert caught.value.code == "already_partially_returned"
    assert (totals(scene), Return.objects.count(), Clawback.objects.count()) == state


def test_when_the_programme_restores_quota_a_return_frees_it(scene):
    from huanxin.policy.models import Programme

    Programme.objects.filter(pk=scene.programme.pk).update(quota_restored_on_return=True)
    q = claim(scene)
    redemption = redeem(scene, q)
    record = services.record_return(actor=scene.personas.clerk, redemption=redemption, kind="full", reason="退货")
    assert record.quota_released is True
    again = services.claim_qualification(actor=q.person.user, programme_code="cn-appliance-2026", category="fridge")
    assert again.status == "issued"


def test_redeem_says_whether_it_made_the_sale(scene):
    q = claim(scene)
    sale = {
        "actor": scene.personas.clerk,
        "merchant": scene.personas.merchant,
        "store_id": scene.store.pk,
        "code": q.code,
        "product_id": scene.fridge.pk,
        "serial": "SN-OUTCOME-1",
        "price_fen": 499_900,
    }
    first = services.redeem(**sale)
    again = services.redeem(**sale)
    assert (first.created, again.created) == (True, False)
    assert again.redemption.pk == first.redemption.pk
    assert Redemption.objects.count() == 1
    assert AuditEntry.objects.filter(action="subsidies.redemption.create").count() == 1


def test_a_whole_order_return_refunds_what_the_customer_paid_and_claws_back_the_whole_subsidy(scene):
    # The sale: 3,299 元 with a 494.85 元 subsidy, so the customer paid 2,804.15 元. Refunding what
    # they paid used to be taken as a partial refund that clawed back only 420.62 元.
    redemption = redeem(scene, claim(scene), price_fen=329_900)
    assert (redemption.subsidy_fen, redemption.paid_fen) == (49_485, 280_415)
    record = services.record_return(actor=scene.personas.clerk, redemption=redemption, kind="full", reason="整单退货")
    assert (record.kind, record.refund_fen, record.reversed_fen) == ("full", 280_415, 49_485)
    assert Clawback.objects.get(return_record=record).amount_fen == 49_485
    assert totals(scene) == (0, 0, 10 * FRIDGE_CAP)
    assert Redemption.objects.get(pk=redemption.pk).status == "returned"
    entry = AuditEntry.objects.get(action="subsidies.redemption.return")
    assert (entry.after["kind"], entry.after["refund_fen"], entry.after["reversed_fen"]) == ("full", 280_415, 49_485)
