import pytest

from huanxin.conftest import client_for
from huanxin.core.models import AuditEntry
from huanxin.policy.models import Programme
from huanxin.subsidies import services
from huanxin.subsidies.forms import return_kind_help
from huanxin.subsidies.models import Clawback, Redemption, Return

pytestmark = pytest.mark.django_db


def sell(scene, price_fen=329_900, serial="SN-RET-1"):
    resident = scene.resident()
    qualification = services.claim_qualification(actor=resident, programme_code="cn-appliance-2026", category="fridge")
    redemption = services.redeem(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial=serial,
        price_fen=price_fen,
    ).redemption
    return resident, redemption


def test_the_return_form_previews_the_figures_then_commits_exactly_them(scene):
    resident, redemption = sell(scene)
    client = client_for(scene.personas.clerk)
    url = f"/merchant/redemptions/{redemption.pk}/"
    preview = client.post(url, {"kind": "full", "reason": "整单退货", "action": "preview"})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-figure="refund">¥2,804.15' in html
    assert 'data-figure="clawback">¥494.85' in html
    assert "名额不恢复" in html
    assert Return.objects.count() == 0
    assert AuditEntry.objects.filter(action="subsidies.redemption.return").count() == 0
    quoted = preview.context["form"]["quoted"].value()
    committed = client.post(url, {"kind": "full", "reason": "整单退货", "action": "commit", "quoted": quoted})
    assert committed.status_code == 302
    record = Return.objects.get()
    assert (record.kind, record.refund_fen, record.reversed_fen) == ("full", 280_415, 49_485)
    # The resident sees what came back to them, and whether the quota did.
    mine = client_for(resident).get("/me/subsidies/").content.decode()
    assert "已退还您 ¥2,804.15" in mine
    assert "名额不恢复，仍视为已使用" in mine
    detail = client_for(resident).get(f"/me/subsidies/{redemption.qualification_id}/").content.decode()
    assert "已退还您 ¥2,804.15" in detail


def test_committing_without_the_shown_figures_shows_them_instead_and_records_nothing(scene):
    _, redemption = sell(scene)
    response = client_for(scene.personas.clerk).post(
        f"/merchant/redemptions/{redemption.pk}/",
        {"kind": "partial", "new_price": "3,000", "reason": "差价", "action": "commit", "quoted": "full:0:1:1:0"},
    )
    assert response.status_code == 200
    assert 'data-figure="refund">' in response.content.decode()
    assert Return.objects.count() == 0
    assert Clawback.objects.count() == 0


def test_a_partial_return_on_the_page_recomputes_on_the_new_final_price(scene):
    _, redemption = sell(scene, price_fen=400_000)
    client = client_for(scene.personas.clerk)
    url = f"/merchant/redemptions/{redemption.pk}/"
    form = {"kind": "partial", "new_price": "3,000", "reason": "差价补偿"}
    preview = client.post(url, {**form, "action": "preview"})
    html = preview.content.decode()
    assert 'data-figure="refund">¥850.00' in html
    assert 'data-figure="clawback">¥150.00' in html
    client.post(url, {**form, "action": "commit", "quoted": preview.context["form"]["quoted"].value()})
    record = Return.objects.get()
    assert (record.kind, record.new_price_fen, record.refund_fen, record.reversed_fen) == (
        "partial",
        300_000,
        85_000,
        15_000,
    )
    assert Redemption.objects.get(pk=redemption.pk).status == "partial"
    # Only a whole-order return is offered now.
    page = client.get(url).content.decode()
    assert 'value="partial"' not in page


@pytest.mark.parametrize(
    ("form", "field", "code"),
    [
        ({"kind": "partial", "new_price": ""}, "new_price", "required"),
        ({"kind": "partial", "new_price": "0"}, "new_price", "invalid_price"),
        ({"kind": "partial", "new_price": "3,299"}, "new_price", "price_not_lower"),
        ({"kind": "partial", "new_price": "3,000.005"}, "new_price", "invalid_amount"),
        ({"kind": "refund"}, "kind", "invalid_choice"),
    ],
)
def test_return_form_errors_sit_on_their_fields_and_change_nothing(scene, form, field, code):
    _, redemption = sell(scene)
    response = client_for(scene.personas.clerk).post(
        f"/merchant/redemptions/{redemption.pk}/", {**form, "reason": "差价", "action": "commit"}
    )
    assert response.status_code == 422
    assert code in [e.code for e in response.context["form"].errors.as_data()[field]]
    assert Return.objects.count() == 0
    assert Clawback.objects.count() == 0


@pytest.mark.parametrize("restored", [False, True])
def test_the_help_text_says_what_the_service_does_with_the_quota(scene, restored):
    Programme.objects.filter(pk=scene.programme.pk).update(quota_restored_on_return=restored)
    _, redemption = sell(scene)
    html = client_for(scene.personas.clerk).get(f"/merchant/redemptions/{redemption.pk}/").content.decode()
    assert return_kind_help(restored)["full"] in html
    record = services.record_return(
        actor=scene.personas.clerk, redemption=Redemption.objects.get(pk=redemption.pk), kind="full", reason="退货"
    )
    assert record.quota_released is restored
    assert ("名额恢复，顾客可重新申领" in return_kind_help(restored)["full"]) is restored
    # The whole-order help promises the customer's payment back and the whole subsidy clawed back.
    assert record.refund_fen == redemption.paid_fen
    assert record.reversed_fen == redemption.subsidy_fen


def test_another_merchants_sale_is_not_found(scene):
    from huanxin.accounts.models import Role
    from huanxin.conftest import make_member, make_organisation

    _, redemption = sell(scene)
    other_clerk = make_member(Role.MERCHANT_CLERK, make_organisation())
    response = client_for(other_clerk).post(
        f"/merchant/redemptions/{redemption.pk}/", {"kind": "full", "reason": "退货", "action": "commit"}
    )
    assert response.status_code == 404
    assert Return.objects.count() == 0
