"""SMS sign-in, password reset by SMS code, and the code-request partial (errors shown, cooldown enforced)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from huanxin.accounts import services
from huanxin.accounts.models import Person, PhoneChallenge, Role, User
from huanxin.conftest import PASSWORD, make_member
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db
PHONE = "13800138003"
NEW_PASSWORD = "Another-str0ng-pass"


@pytest.fixture
def resident():
    """A registered resident whose number has had no code sent yet (no resend cooldown running)."""
    user = make_member(Role.CONSUMER)
    person = Person(user=user, district_id="110105")
    person.set_phone(PHONE)
    person.save()
    return user


@pytest.fixture
def request_code(sms_outbox, django_capture_on_commit_callbacks):
    def run(client, phone, purpose):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/accounts/code/", {"phone": phone, "purpose": purpose}, HTTP_HX_REQUEST="true")
        return response

    return run


def test_a_bad_number_is_refused_with_a_field_error_and_never_says_sent(request_code, sms_outbox):
    response = request_code(Client(), "12345", "register")
    html = response.content.decode()
    assert response.status_code == 422
    assert 'data-code="invalid_length"' in html
    assert "手机号码应为11位" in html
    assert "已发送" not in html
    assert sms_outbox == []
    assert PhoneChallenge.objects.count() == 0


def test_the_code_partial_is_swapped_in_on_refusals_by_the_page_script():
    page = Client().get("/accounts/register/").content.decode()
    assert "accounts/phone-code.js" in page
    from pathlib import Path

    from django.contrib.staticfiles import finders

    found = finders.find("accounts/phone-code.js")
    assert isinstance(found, str)
    script = Path(found).read_text(encoding="utf-8")
    assert "htmx:beforeSwap" in script
    assert "data-cooldown" in script


def test_a_resend_inside_the_cooldown_is_refused_with_the_seconds_to_wait(request_code, sms_outbox, settings):
    client = Client()
    first = request_code(client, PHONE, "register")
    assert first.status_code == 200
    assert "验证码已发送" in first.content.decode()
    assert f'data-cooldown="{settings.HUANXIN_OTP_RESEND_SECONDS}"' in first.content.decode()
    second = request_code(client, "+86 138 0013 8003", "register")
    html = second.content.decode()
    assert second.status_code == 429
    assert 'data-code="otp_resend_cooldown"' in html
    wait = int(re.search(r"请在 (\d+) 秒后重新获取验证码", html).group(1))
    assert 0 < wait <= settings.HUANXIN_OTP_RESEND_SECONDS
    assert f'data-cooldown="{wait}"' in html
    assert "已发送" not in html
    assert len(sms_outbox) == 1
    assert PhoneChallenge.objects.count() == 1


def test_codes_for_sign_in_go_only_to_registered_numbers(request_code, sms_outbox):
    response = request_code(Client(), "13900139000", "login")
    assert response.status_code == 422
    assert 'data-code="phone_not_registered"' in response.content.decode()
    assert sms_outbox == []


def test_a_registration_code_is_not_sent_to_a_number_already_registered(resident, request_code, sms_outbox):
    sms_outbox.clear()
    response = request_code(Client(), PHONE, "register")
    assert response.status_code == 422
    assert 'data-code="phone_taken"' in response.content.decode()
    assert sms_outbox == []


def test_an_unknown_purpose_is_a_field_error(request_code, sms_outbox):
    response = request_code(Client(), PHONE, "anything")
    assert response.status_code == 422
    assert 'data-code="invalid_choice"' in response.content.decode()
    assert sms_outbox == []


# ---------------------------------------------------------------- SMS sign-in


def test_sms_sign_in_with_the_right_code_once(resident, request_code, sms_outbox):
    client = Client()
    page = client.get("/accounts/login/sms/")
    assert page.status_code == 200
    assert "获取验证码" in page.content.decode()
    request_code(client, PHONE, "login")
    code = sms_outbox[-1][1]
    response = client.post("/accounts/login/sms/?next=/accounts/profile/", {"phone": PHONE, "code": code})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert int(client.session["_auth_user_id"]) == resident.pk
    replay = Client().post("/accounts/login/sms/", {"phone": PHONE, "code": code})
    assert replay.status_code == 200
    assert 'data-code="code_expired"' in replay.content.decode()


def test_a_registration_code_does_not_sign_in(resident, request_code, sms_outbox, settings):
    settings.HUANXIN_OTP_RESEND_SECONDS = 0
    client = Client()
    services.request_phone_code(phone="13900139000")  # another number's register code: irrelevant
    request_code(client, PHONE, "reset")
    response = client.post("/accounts/login/sms/", {"phone": PHONE, "code": sms_outbox[-1][1]})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_wrong_sms_codes_burn_the_code(resident, request_code, sms_outbox):
    client = Client()
    request_code(client, PHONE, "login")
    right = sms_outbox[-1][1]
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        response = client.post("/accounts/login/sms/", {"phone": PHONE, "code": wrong})
        assert 'data-code="code_mismatch"' in response.content.decode()
    response = client.post("/accounts/login/sms/", {"phone": PHONE, "code": right})
    assert 'data-code="code_expired"' in response.content.decode()
    assert "_auth_user_id" not in client.session


# ---------------------------------------------------------------- password reset


def test_password_reset_by_sms_code_end_to_end(resident, request_code, sms_outbox):
    elsewhere = Client()
    assert elsewhere.post("/accounts/login/", {"username": PHONE, "password": PASSWORD}).status_code == 302
    assert elsewhere.get("/accounts/profile/").status_code == 200
    client = Client()
    assert "忘记密码" in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/password/reset/new/")["Location"] == "/accounts/password/reset/"
    request_code(client, "138 0013 8003", "reset")
    assert sms_outbox[-1][2] == "reset"
    code = sms_outbox[-1][1]
    verified = client.post("/accounts/password/reset/", {"phone": PHONE, "code": code})
    assert verified.status_code == 302
    assert verified["Location"] == "/accounts/password/reset/new/"
    # Django's password validators apply, and a refusal changes nothing.
    weak = client.post("/accounts/password/reset/new/", {"password": "12345678", "password_confirm": "12345678"})
    assert weak.status_code == 200
    assert 'data-code="weak_password"' in weak.content.decode()
    assert "密码只包含数字。" in weak.content.decode()
    assert "。；" not in weak.content.decode()
    mismatch = client.post("/accounts/password/reset/new/", {"password": NEW_PASSWORD, "password_confirm": "x"})
    assert 'data-code="password_mismatch"' in mismatch.content.decode()
    resident.refresh_from_db()
    assert resident.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action="accounts.user.password_reset").exists()
    done = client.post("/accounts/password/reset/new/", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 302
    resident.refresh_from_db()
    assert resident.check_password(NEW_PASSWORD)
    assert not resident.check_password(PASSWORD)
    assert client.get("/accounts/profile/").status_code == 200
    # Every other session of the account ends with the old password.
    assert elsewhere.get("/accounts/profile/").status_code == 302
    entry = AuditEntry.objects.get(action="accounts.user.password_reset")
    assert entry.actor_id == resident.pk
    assert PHONE not in str(entry.after)
    # The grant is single-use: a second new password needs a new code.
    again = client.post(
        "/accounts/password/reset/new/", {"password": "Third-str0ng-pass", "password_confirm": "Third-str0ng-pass"}
    )
    assert again.status_code == 302
    assert again["Location"] == "/accounts/password/reset/"
    resident.refresh_from_db()
    assert resident.check_password(NEW_PASSWORD)
    assert Client().post("/accounts/login/", {"username": PHONE, "password": NEW_PASSWORD}).status_code == 302


def test_a_reset_with_a_wrong_code_changes_nothing(resident, request_code, sms_outbox):
    client = Client()
    request_code(client, PHONE, "reset")
    right = sms_outbox[-1][1]
    wrong = "000000" if right != "000000" else "111111"
    response = client.post("/accounts/password/reset/", {"phone": PHONE, "code": wrong})
    assert response.status_code == 200
    assert 'data-code="code_mismatch"' in response.content.decode()
    assert client.get("/accounts/password/reset/new/").status_code == 302
    assert User.objects.get(pk=resident.pk).password == resident.password


def test_a_reset_clears_the_password_pause_for_the_owner(resident, request_code, sms_outbox):
    for _ in range(5):
        Client().post("/accounts/login/", {"username": PHONE, "password": "wrong-password"})
    client = Client()
    request_code(client, PHONE, "reset")
    client.post("/accounts/password/reset/", {"phone": PHONE, "code": sms_outbox[-1][1]})
    client.post("/accounts/password/reset/new/", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert Client().post("/accounts/login/", {"username": PHONE, "password": NEW_PASSWORD}).status_code == 302
