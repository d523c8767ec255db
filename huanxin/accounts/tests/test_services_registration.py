import pytest

from huanxin.accounts import services
from huanxin.accounts.models import Membership, Person, PhoneChallenge, User
from huanxin.conftest import valid_resident_id
from huanxin.core.errors import ConflictError, RateLimitedError, ValidationFailed
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db
PASSWORD = "Str0ng-test-password"


@pytest.fixture
def register(send_code):
    def run(phone):
        return services.register_resident(phone=phone, code=send_code(phone), password=PASSWORD, district="110105")

    return run


def test_registration_with_the_right_code_creates_account_profile_role_and_audit_row(register):
    user = register("13912345678")
    person = Person.objects.get(user=user)
    assert person.phone_masked == "139****5678"
    assert person.reveal_phone() == "13912345678"
    assert Membership.objects.filter(user=user, role="consumer").count() == 1
    entry = AuditEntry.objects.get(action="accounts.resident.register")
    assert entry.after == {"phone_masked": "139****5678", "district": "110105"}


def test_a_wrong_code_is_refused_and_counted_and_five_wrong_codes_burn_it(send_code):
    right = send_code("13912345678")
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationFailed) as caught:
            services.register_resident(phone="13912345678", code=wrong, password=PASSWORD)
        assert caught.value.errors[0].code == "code_mismatch"
    assert PhoneChallenge.objects.get().attempts == 5
    with pytest.raises(ValidationFailed) as caught:
        services.register_resident(phone="13912345678", code=right, password=PASSWORD)
    assert caught.value.errors[0].code == "code_expired"
    assert User.objects.count() == 0
    assert Person.objects.count() == 0


def test_a_code_is_used_once(register, sms_outbox):
    register("13912345678")
    with pytest.raises(ValidationFailed) as caught:
        services.register_resident(phone="13912345678", code=sms_outbox[-1][1], password=PASSWORD)
    assert caught.value.errors[0].code == "phone_taken"


def test_a_new_code_supersedes_the_old_one(send_code, settings):
    settings.HUANXIN_OTP_RESEND_SECONDS = 0  # the one-a-minute cooldown is tested on its own
    first = send_code("13912345678")
    second = send_code("13912345678")
    with pytest.raises(ValidationFailed) as caught:
        services.register_resident(phone="13912345678", code=first, password=PASSWORD)
    assert caught.value.errors[0].code == ("code_mismatch" if first != second else "phone_taken")
    assert PhoneChallenge.objects.filter(consumed_at__isnull=True).count() == 1


def test_codes_per_number_are_rate_limited(send_code, sms_outbox, settings):
    settings.HUANXIN_OTP_RESEND_SECONDS = 0  # the one-a-minute cooldown is tested on its own
    for _ in range(services.OTP_PER_PHONE_PER_HOUR):
        send_code("13912345678")
    with pytest.raises(RateLimitedError) as caught:
        send_code("+86 139 1234 5678")
    assert caught.value.code == "otp_rate_limited"
    assert "分钟后再试" in caught.value.errors[0].message
    assert len(sms_outbox) == services.OTP_PER_PHONE_PER_HOUR
    assert PhoneChallenge.objects.count() == services.OTP_PER_PHONE_PER_HOUR


def test_a_second_code_inside_the_cooldown_is_refused_with_the_seconds_left(send_code, sms_outbox, settings):
    send_code("13912345678")
    with pytest.raises(RateLimitedError) as caught:
        send_code("139-1234-5678")
    assert caught.value.code == "otp_resend_cooldown"
    assert caught.value.errors[0].field == "phone"
    assert 0 < caught.value.retry_after <= settings.HUANXIN_OTP_RESEND_SECONDS
    assert len(sms_outbox) == 1
    assert PhoneChallenge.objects.count() == 1


def test_a_weak_password_is_refused_before_the_code_is_used(send_code):
    code = send_code("13912345678")
    with pytest.raises(ValidationFailed) as caught:
        services.register_resident(phone="13912345678", code=code, password="12345678")
    assert caught.value.errors[0].field == "password"
    assert PhoneChallenge.objects.get().consumed_at is None


def test_a_password_close_to_the_mobile_number_is_refused_as_the_help_text_says(send_code):
    code = send_code("13912345678")
    with pytest.raises(ValidationFailed) as caught:
        services.register_resident(phone="13912345678", code=code, password="13912345678ab")
    assert caught.value.errors[0].code == "weak_password"
    assert "相似" in caught.value.errors[0].message
    assert not User.objects.filter(person__isnull=False).exists()


def test_identity_verification_seals_the_id_and_is_audited_with_masks_only(register):
    user = register("13912345678")
    resident_id = valid_resident_id()
    person = services.verify_identity(actor=user, name="王小明", resident_id=resident_id)
    person.refresh_from_db()
    assert person.is_verified
    assert person.reveal_resident_id() == resident_id
    assert resident_id not in person.resident_id_cipher
    entry = AuditEntry.objects.get(action="accounts.resident.verify_identity")
    assert entry.after["resident_id_masked"] == resident_id[:6] + "********" + resident_id[-4:]
    assert resident_id not in str(entry.before) + str(entry.after)


def test_second_account_with_the_same_resident_id_is_refused_and_nothing_changes(register):
    first = register("13912345678")
    second = register("13912345679")
    resident_id = valid_resident_id()
    services.verify_identity(actor=first, name="王小明", resident_id=resident_id)
    audit_rows = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.verify_identity(actor=second, name="王小明", resident_id=resident_id)
    assert caught.value.errors[0].code == "resident_id_taken"
    assert "只能注册一个账户" in caught.value.errors[0].message
    assert not Person.objects.get(user=second).is_verified
    assert Person.objects.get(user=second).resident_id_digest is None
    assert AuditEntry.objects.count() == audit_rows


def test_invalid_name_and_id_are_both_reported(register):
    user = register("13912345678")
    with pytest.raises(ValidationFailed) as caught:
        services.verify_identity(actor=user, name="x", resident_id="110105194912310021")
    assert {e.field for e in caught.value.errors} == {"name", "resident_id"}
    assert not Person.objects.get(user=user).is_verified


def test_verifying_twice_is_a_conflict(register):
    user = register("13912345678")
    services.verify_identity(actor=user, name="王小明", resident_id=valid_resident_id())
    with pytest.raises(ConflictError):
        services.verify_identity(actor=user, name="王小明", resident_id=valid_resident_id())


def test_identity_rejected_by_the_verifier_changes_nothing(register, settings):
    user = register("13912345678")
    settings.HUANXIN_IDENTITY_VERIFIER = "huanxin.accounts.tests.test_services_registration.RejectingVerifier"
    from huanxin.accounts import identity

    identity._verifier.cache_clear()
    try:
        with pytest.raises(ValidationFailed) as caught:
            services.verify_identity(actor=user, name="王小明", resident_id=valid_resident_id())
    finally:
        identity._verifier.cache_clear()
    assert caught.value.errors[0].code == "identity_rejected"
    assert not Person.objects.get(user=user).is_verified


class RejectingVerifier:
    def verify(self, *, name, resident_id):
        from huanxin.accounts.identity import VerificationResult

        return VerificationResult(verified=False, method="test", message="姓名与身份证号不匹配")
