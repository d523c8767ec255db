import pytest
from django.test import Client

from huanxin.conftest import client_for
from huanxin.subsidies import services
from huanxin.subsidies.domain import codes
from huanxin.subsidies.models import Qualification, Redemption

pytestmark = pytest.mark.django_db


def test_resident_claims_on_the_page_and_sees_the_qr_code_and_countdown(scene):
    user = scene.resident()
    client = client_for(user)
    page = client.get("/me/subsidies/claim/")
    assert page.status_code == 200
    assert "2026年家电以旧换新补贴" in page.content.decode()
    response = client.post(
        "/me/subsidies/claim/", {"programme": "cn-appliance-2026", "category": "fridge", "district": "110105"}
    )
    qualification = Qualification.objects.get()
    assert response["Location"] == f"/me/subsidies/{qualification.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert "<svg" in html
    assert codes.display(qualification.code) in html
    assert 'class="center countdown big"' in html
    assert "冰箱" in html


def test_a_refused_claim_shows_the_reasons_on_the_page(scene):
    user = scene.resident()
    services.claim_qualification(actor=user, programme_code="cn-appliance-2026", category="fridge")
    response = client_for(user).post(
        "/me/subsidies/claim/", {"programme": "cn-appliance-2026", "category": "fridge", "district": "110105"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'data-code="already_holding"' in html
    assert "您已持有该品类的未使用资格" in html
    listing = client_for(user).get("/me/subsidies/").content.decode()
    assert "申领未成功的记录" in listing


def test_another_resident_cannot_see_my_qualification(scene):
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    assert client_for(scene.resident()).get(f"/me/subsidies/{qualification.pk}/").status_code == 404


def test_clerk_redeems_on_the_checkout_page(scene):
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    client = client_for(scene.personas.clerk)
    assert "结账核销" in client.get("/merchant/redeem/").content.decode()
    lookup = client.get(f"/merchant/redeem/lookup/?code={qualification.code}").content.decode()
    assert "最高补贴 ¥1,500.00" in lookup
    sale = {
        "code": codes.display(qualification.code),
        "store": scene.store.pk,
        "product": scene.fridge.pk,
        "serial": "SN-PAGE-1",
        "price": "4,999",
        "take_back_category": "fridge",
        "take_back_condition": "working",
        "take_back_to_recycler": "on",
    }
    # The first step only shows the subsidy and what the customer pays; nothing is committed.
    confirmation = client.post("/merchant/redeem/", sale)
    html = confirmation.content.decode()
    assert confirmation.status_code == 200
    assert '<b id="quote-subsidy">¥749.85</b>' in html
    assert '<b id="quote-paid">¥4,249.15</b>' in html
    assert 'name="confirmed_subsidy" value="74985"' in html
    assert Redemption.objects.count() == 0
    response = client.post("/merchant/redeem/", {**sale, "confirmed_subsidy": "74985"})
    redemption = Redemption.objects.get()
    assert response.status_code == 302
    assert redemption.subsidy_fen == 74_985
    detail = client.get(response["Location"]).content.decode()
    assert "¥749.85" in detail
    assert "可正常使用" in detail
    today = client.get("/merchant/").content.decode()
    assert "SN-PAGE-1" in today


def test_checkout_errors_appear_next_to_the_fields(scene):
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    response = client_for(scene.personas.clerk).post(
        "/merchant/redeem/",
        {
            "code": qualification.code,
            "store": scene.store.pk,
            "product": scene.fridge_grade2.pk,
            "serial": "SN-2",
            "price": "12.345",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert 'data-code="invalid_amount"' in html
    assert Redemption.objects.count() == 0


def test_merchant_pages_are_for_merchant_staff_only(scene):
    assert client_for(scene.resident()).get("/merchant/redeem/").status_code == 403
    assert client_for(scene.personas.reviewer).get("/merchant/").status_code == 403


def test_staff_board_search_and_enrolment_review(scene):
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    reviewer = client_for(scene.personas.reviewer)
    assert "朝阳区" in reviewer.get("/subsidies/board/").content.decode()
    found = reviewer.post("/subsidies/search/", {"q": qualification.code}).content.decode()
    assert qualification.code in found
    resident_id = qualification.person.reveal_resident_id()
    # A resident ID is searched by POST: it must not end up in a URL, an access log or the browser history.
    by_id = reviewer.post("/subsidies/search/", {"q": resident_id}).content.decode()
    assert qualification.person.resident_id_masked in by_id
    assert resident_id not in by_id
    assert "朝阳家电" in reviewer.get("/subsidies/enrolments/").content.decode()
    assert client_for(scene.personas.clerk).get("/subsidies/board/").status_code == 403


def test_the_staff_search_does_not_answer_a_term_in_the_url(scene):
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    resident_id = qualification.person.reveal_resident_id()
    reviewer = client_for(scene.personas.reviewer)
    for term in (resident_id, qualification.code):
        response = reviewer.get(f"/subsidies/search/?q={term}")
        assert (response.status_code, response["Location"]) == (302, "/subsidies/search/")
    page = reviewer.get("/subsidies/search/").content.decode()
    assert qualification.code not in page
    assert resident_id not in page


def test_signing_in_from_a_search_url_does_not_carry_the_term_into_next(scene):
    resident_id = scene.resident().person.reveal_resident_id()
    anonymous = Client()
    first = anonymous.get(f"/subsidies/search/?q={resident_id}")
    assert (first.status_code, first["Location"]) == (302, "/subsidies/search/")
    login = anonymous.get(first["Location"], follow=True)
    assert resident_id not in login.redirect_chain[-1][0]
    assert resident_id not in login.content.decode()
    assert 'name="next" value="/subsidies/search/"' in login.content.decode()


def test_deciding_an_enrolment_the_reviewer_cannot_see_is_not_found(scene):
    reviewer = client_for(scene.personas.district_reviewer)
    for wanted in ("999999", "not-a-number"):
        response = reviewer.post("/subsidies/enrolments/", {"enrolment": wanted, "action": "suspend", "note": "抽查"})
        assert response.status_code == 404
    scene.enrolment.refresh_from_db()
    assert scene.enrolment.status == "approved"


def checkout(scene, **changes):
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    sale = {
        "code": qualification.code,
        "store": scene.store.pk,
        "product": scene.fridge.pk,
        "serial": "SN-CONFIRM-1",
        "price": "4,999",
        **changes,
    }
    return qualification, sale


def test_an_absurd_price_is_refused_next_to_the_price_field(scene):
    qualification, sale = checkout(scene, price="99,999,999,999")
    response = client_for(scene.personas.clerk).post("/merchant/redeem/", sale)
    html = response.content.decode()
    assert response.status_code == 422
    assert 'data-code="price_above_ceiling"' in html
    assert "成交价超过本市冰箱成交价上限 ¥80,000.00" in html
    assert Redemption.objects.count() == 0
    assert Qualification.objects.get(pk=qualification.pk).status == "issued"


def test_a_confirmation_for_another_subsidy_is_refused(scene):
    _, sale = checkout(scene)
    # The price was changed after the customer confirmed the subsidy of the earlier price.
    response = client_for(scene.personas.clerk).post(
        "/merchant/redeem/", {**sale, "price": "3,000", "confirmed_subsidy": "74985"}
    )
    assert response.status_code == 422
    assert 'data-code="quote_changed"' in response.content.decode()
    assert Redemption.objects.count() == 0


def test_the_till_warns_before_a_held_sale_and_says_so_after(scene):
    from huanxin.catalogue.models import ProductModel

    unfiled = ProductModel.objects.create(brand="美的", model_number="BCD-PAGE", category="fridge", energy_grade=1)
    _, sale = checkout(scene, product=unfiled.pk)
    client = client_for(scene.personas.clerk)
    html = client.post("/merchant/redeem/", sale).content.decode()
    assert 'id="quote-hold"' in html
    assert "该型号没有价格备案" in html
    response = client.post("/merchant/redeem/", {**sale, "confirmed_subsidy": "74985"})
    assert response.status_code == 302
    assert Redemption.objects.get().withheld is True


def test_going_back_from_the_confirmation_keeps_what_was_typed(scene):
    _, sale = checkout(scene)
    html = client_for(scene.personas.clerk).post("/merchant/redeem/", {**sale, "edit": "1"}).content.decode()
    assert 'value="SN-CONFIRM-1"' in html
    assert "quote-subsidy" not in html
    assert Redemption.objects.count() == 0


def test_the_hold_queue_lists_decides_and_is_for_staff_only(scene):
    from huanxin.catalogue.models import ProductModel
    from huanxin.subsidies.models import RedemptionHold

    unfiled = ProductModel.objects.create(brand="美的", model_number="BCD-Q", category="fridge", energy_grade=1)
    qualification, _ = checkout(scene)
    services.redeem(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=unfiled.pk,
        serial="SN-QUEUE-1",
        price_fen=499_900,
    )
    hold = RedemptionHold.objects.get()
    assert client_for(scene.resident()).get("/subsidies/holds/").status_code == 403
    assert client_for(scene.personas.clerk).get("/subsidies/holds/").status_code == 403
    auditor = client_for(scene.personas.auditor).get("/subsidies/holds/").content.decode()
    assert "SN-QUEUE-1" in auditor
    assert 'value="reject"' not in auditor  # auditors read, reviewers decide
    reviewer = client_for(scene.personas.district_reviewer)
    page = reviewer.get("/subsidies/holds/").content.decode()
    assert "SN-QUEUE-1" in page
    assert "该型号没有价格备案" in page
    refused = reviewer.post("/subsidies/holds/", {"hold": hold.pk, "action": "reject", "note": ""}, follow=True)
    assert "驳回时请填写复核意见" in refused.content.decode()
    assert RedemptionHold.objects.get().status == "held"
    reviewer.post("/subsidies/holds/", {"hold": hold.pk, "action": "clear", "note": "核实无误"})
    assert RedemptionHold.objects.get().status == "cleared"
    assert f'id="hold-{hold.pk}"' not in reviewer.get("/subsidies/holds/").content.decode()
    assert f'id="hold-{hold.pk}"' in reviewer.get("/subsidies/holds/?status=cleared").content.decode()
