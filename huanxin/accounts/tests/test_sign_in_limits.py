"""One limiter for every way of signing in: number formats, the admin login, SMS left open, the source address."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from huanxin.accounts.models import Person, Role, User
from huanxin.conftest import PASSWORD, make_member, make_user
from huanxin.core import ratelimit
from huanxin.core.models import RateLimitCounter

pytestmark = pytest.mark.django_db
PHONE = "13800138003"


@pytest.fixture
def resident():
    """A registered resident whose number has had no code sent yet (no resend cooldown running)."""
    user = make_member(Role.CONSUMER)
    person = Person(user=user, district_id="110105")
    person.set_phone(PHONE)
    person.save()
    return user


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was really checked (the work a guesser wants done)."""
    calls: list[str] = []
    original = User.check_password

    def counting(self, raw_password):
        calls.append(self.username)
        return original(self, raw_password)

    monkeypatch.setattr(User, "check_password", counting)
    return calls


def test_every_way_of_writing_the_number_counts_against_one_account(resident, password_checks, settings):
    client = Client()
    formats = ["138 00138003", "+8613800138003", "0086 138 0013 8003", "86-138-0013-8003", "１３８００１３８００３"]
    for written in formats:
        response = client.post("/accounts/login/", {"username": written, "password": "wrong-password"})
        assert response.status_code == 200
        assert 'data-code="invalid_login"' in response.content.decode()
    for written in (PHONE, "+86 138 0013 8003"):
        locked = client.post("/accounts/login/", {"username": written, "password": PASSWORD})
        assert locked.status_code == 429
        assert 'data-code="login_locked"' in locked.content.decode()
        assert "请 15 分钟后再试，或使用短信验证码登录" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Once paused, no password is checked at all, however the number is written.
    assert len(password_checks) == settings.HUANXIN_LOGIN_MAX_FAILURES


def test_unknown_numbers_are_counted_under_their_normalised_form(password_checks, settings):
    client = Client()
    for written in ["13900139000", "139 0013 9000", "+86 13900139000", "008613900139000", "86 139-0013-9000"]:
        client.post("/accounts/login/", {"username": written, "password": "wrong-password"})
    refused = client.post("/accounts/login/", {"username": "13900139000", "password": "wrong-password"})
    assert refused.status_code == 429
    assert RateLimitCounter.objects.filter(key__startswith="signin:account:phone:").count() == 1


def test_the_admin_login_shares_the_sign_in_limit():
    make_user(username="boss", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": "boss", "password": "wrong-password"})
    for _ in range(2):
        response = client.post("/admin/login/", {"username": "boss", "password": "wrong-password"})
        assert response.status_code == 200
    locked = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": PASSWORD, "next": "/admin/"})
    assert locked.status_code == 200
    assert "登录失败次数过多" in locked.content.decode()
    assert "短信" not in locked.content.decode()  # staff have no SMS sign-in to be pointed to
    assert "_auth_user_id" not in client.session


def test_the_admin_login_alone_is_limited():
    make_user(username="boss", is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": "wrong-password"})
    client.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert Client().post("/accounts/login/", {"username": "boss", "password": PASSWORD}).status_code == 429


def test_a_paused_password_leaves_sms_sign_in_open_to_the_owner(
    resident, sms_outbox, django_capture_on_commit_callbacks
):
    attacker = Client()
    for _ in range(5):
        attacker.post("/accounts/login/", {"username": PHONE, "password": "wrong-password"})
    assert attacker.post("/accounts/login/", {"username": PHONE, "password": PASSWORD}).status_code == 429
    owner = Client()
    with django_capture_on_commit_callbacks(execute=True):
        sent = owner.post("/accounts/code/", {"phone": "138-0013-8003", "purpose": "login"}, HTTP_HX_REQUEST="true")
    assert sent.status_code == 200
    assert sms_outbox[-1][0] == PHONE
    assert sms_outbox[-1][2] == "login"
    response = owner.post("/accounts/login/sms/", {"phone": PHONE, "code": sms_outbox[-1][1]})
    assert response.status_code == 302
    assert int(owner.session["_auth_user_id"]) == resident.pk
    # The pause on password sign-in is unchanged by the owner's SMS sign-in.
    assert Client().post("/accounts/login/", {"username": PHONE, "password": PASSWORD}).status_code == 429


def test_a_successful_sign_in_clears_the_account_count(resident):
    client = Client()
    for _ in range(4):
        client.post("/accounts/login/", {"username": PHONE, "password": "wrong-password"})
    assert client.post("/accounts/login/", {"username": PHONE, "password": PASSWORD}).status_code == 302
    other = Client()
    for _ in range(4):
        other.post("/accounts/login/", {"username": PHONE, "password": "wrong-password"})
    assert Client().post("/accounts/login/", {"username": PHONE, "password": PASSWORD}).status_code == 302


# ---------------------------------------------------------------- the source address


def test_the_client_address_comes_from_the_proxy_header_only_when_one_is_configured(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7", HTTP_X_REAL_IP="192.0.2.1"
    )
    settings.HUANXIN_CLIENT_IP_HEADER = ""
    assert ratelimit.client_ip(request) == "10.0.0.5"
    settings.HUANXIN_CLIENT_IP_HEADER = "X-Forwarded-For"
    # The right-most address is the one the trusted proxy added; the ones before it came from the client.
    assert ratelimit.client_ip(request) == "198.51.100.7"
    settings.HUANXIN_CLIENT_IP_HEADER = "X-Real-IP"
    assert ratelimit.client_ip(request) == "192.0.2.1"
    settings.HUANXIN_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"  # written the way Django's request.META names it
    assert ratelimit.client_ip(request) == "192.0.2.1"
    settings.HUANXIN_CLIENT_IP_HEADER = "X-Client-Address"  # configured but absent: the socket's address
    assert ratelimit.client_ip(request) == "10.0.0.5"
    forged = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_REAL_IP="not-an-address")
    settings.HUANXIN_CLIENT_IP_HEADER = "X-Real-IP"
    assert ratelimit.client_ip(forged) == "10.0.0.5"


def test_ipv6_clients_are_counted_per_64_network(settings):
    settings.HUANXIN_CLIENT_IP_HEADER = ""
    one = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::1")
    two = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert ratelimit.client_ip(one) == ratelimit.client_ip(two) == "2001:db8:1:2::/64"


def _spray(count, header_value=None, **extra):
    """Wrong passwords against ``count`` different user names from one client."""
    client = Client()
    last = None
    for index in range(count):
        headers = {"HTTP_X_FORWARDED_FOR": header_value(index)} if header_value else {}
        last = client.post(
            "/accounts/login/", {"username": f"nobody{index}", "password": "wrong-password"}, **headers, **extra
        )
    return last


def test_a_forged_forwarding_header_is_ignored_when_no_proxy_is_configured(settings):
    settings.HUANXIN_CLIENT_IP_HEADER = ""
    source_limit = settings.HUANXIN_LOGIN_MAX_FAILURES * 10
    assert _spray(source_limit, lambda i: f"198.51.100.{i % 250}").status_code == 200
    refused = _spray(1, lambda i: "203.0.113.77")
    assert refused.status_code == 429
    assert 'data-code="signin_source_limited"' in refused.content.decode()


def test_the_configured_proxy_header_separates_clients_behind_the_proxy(settings):
    settings.HUANXIN_CLIENT_IP_HEADER = "X-Forwarded-For"
    source_limit = settings.HUANXIN_LOGIN_MAX_FAILURES * 10
    assert _spray(source_limit, lambda i: "198.51.100.1").status_code == 200
    assert _spray(1, lambda i: "198.51.100.1").status_code == 429
    assert _spray(1, lambda i: "198.51.100.2").status_code == 200


@pytest.mark.parametrize("typed", ["138 0013 8003", "zhang san 13800138003", "clerk one"])
def test_no_identifier_typed_at_sign_in_reaches_a_limiter_key_or_a_warning(resident, typed, recwarn):
    """Limiter keys are keyed hashes or row ids: a phone number or user name (spaces and all) typed at
    sign-in is neither stored in a key nor printed by a key warning."""
    make_user(username="clerk one")
    Client().post("/accounts/login/", {"username": typed, "password": "wrong-password"})
    keys = list(RateLimitCounter.objects.values_list("key", flat=True))
    assert keys
    for key in keys:
        assert " " not in key
        for part in (typed, "13800138003", "00138003", "clerk"):
            assert part not in key
    assert [str(w.message) for w in recwarn] == []
