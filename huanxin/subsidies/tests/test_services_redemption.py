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
    )


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
        actor=scene.personas.clerk, redemption=redemption, refund_fen=499_900, reason="顾客七天无理由退货"
    )
    assert (record.kind, record.reversed_fen) == ("full", 74_985)
    assert Clawback.objects.get().amount_fen == 74_985
    assert totals(scene) == (0, 0, 10 * FRIDGE_CAP)
    q.refresh_from_db()
    assert (q.status, q.quota_released) == ("returned", False)
    with pytest.raises(ValidationFailed) as caught:
        services.claim_qualification(actor=q.person.user, programme_code="cn-appliance-2026", category="fridge")
    assert caught.value.code == "rule_quota"
    # The returned unit's serial may be subsidised again when it is sold to someone else.
    assert redeem(scene, claim(scene), serial="SN-RET").subsidy_fen == 74_985


def test_partial_refund_recomputes_the_subsidy_on_the_lower_price(scene):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    assert redemption.subsidy_fen == 60_000
    record = services.record_return(
        actor=scene.personas.clerk, redemption=redemption, refund_fen=100_000, reason="差价补偿"
    )
    assert (record.kind, record.reversed_fen) == ("partial", 15_000)  # 15 % of 3,000 元 = 450 元 kept
    redemption.refresh_from_db()
    assert (redemption.status, redemption.returned_fen) == ("partial", 15_000)
    final = services.record_return(
        actor=scene.personas.clerk, redemption=redemption, refund_fen=300_000, reason="整单退货"
    )
    assert (final.kind, final.reversed_fen) == ("full", 45_000)
    assert sum(c.amount_fen for c in Clawback.objects.all()) == 60_000
    assert totals(scene)[1] == 0


def test_a_refund_larger_than_paid_is_refused_and_nothing_changes(scene):
    redemption = redeem(scene, claim(scene), price_fen=400_000)
    with pytest.raises(ValidationFailed) as caught:
        services.record_return(actor=scene.personas.clerk, redemption=redemption, refund_fen=400_001, reason="退货")
    assert caught.value.errors[0].code == "refund_too_large"
    assert Return.objects.count() == 0
    assert Clawback.objects.count() == 0
    assert Redemption.objects.get(pk=redemption.pk).returned_fen == 0


def test_when_the_programme_restores_quota_a_return_frees_it(scene):
    from huanxin.policy.models import Programme

    Programme.objects.filter(pk=scene.programme.pk).update(quota_restored_on_return=True)
    q = claim(scene)
    redemption = redeem(scene, q)
    services.record_return(
        actor=scene.personas.clerk, redemption=redemption, refund_fen=redemption.price_fen, reason="退货"
    )
    again = services.claim_qualification(actor=q.person.user, programme_code="cn-appliance-2026", category="fridge")
    assert again.status == "issued"


def test_redeem_or_replay_says_whether_it_made_the_sale(scene):
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
    first = services.redeem_or_replay(**sale)
    again = services.redeem_or_replay(**sale)
    assert (first.created, again.created) == (True, False)
    assert again.redemption.pk == first.redemption.pk
    assert Redemption.objects.count() == 1
    assert AuditEntry.objects.filter(action="subsidies.redemption.create").count() == 1
