import logging

import pytest
from django.test import Client

from huanxin.accounts.models import Person, User
from huanxin.conftest import PASSWORD, client_for, make_user, valid_resident_id

pytestmark = pytest.mark.django_db


def test_staff_sign_in_with_user_name():
    make_user(username="clerk1")
    client = Client()
    response = client.post("/accounts/login/", {"username": "clerk1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200


def test_resident_signs_in_with_mobile_number(personas):
    personas.consumer.set_password(PASSWORD)
    personas.consumer.save()
    phone = personas.consumer_person.reveal_phone()
    client = Client()
    assert client.post("/accounts/login/", {"username": phone, "password": PASSWORD}).status_code == 302


def test_repeated_failures_lock_the_account_even_for_the_right_password(settings):
    make_user(username="clerk2")
    client = Client()
    for _ in range(settings.HUANXIN_LOGIN_MAX_FAILURES):
        response = client.post("/accounts/login/", {"username": "clerk2", "password": "wrong-password"})
        assert response.status_code == 200
        assert "不正确" in response.content.decode()
    locked = client.post("/accounts/login/", {"username": "clerk2", "password": PASSWORD})
    assert locked.status_code == 429
    assert 'data-code="login_locked"' in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_registration_page_flow_with_htmx_code_and_identity(sms_outbox, django_capture_on_commit_callbacks):
    client = Client()
    page = client.get("/accounts/register/")
    assert page.status_code == 200
    assert "获取验证码" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/accounts/register/code/", {"phone": "13912345678"}, HTTP_HX_REQUEST="true")
    assert sent.status_code == 200
    assert "139****5678" in sent.content.decode()
    code = sms_outbox[-1][1]
    response = client.post(
        "/accounts/register/", {"phone": "13912345678", "code": code, "password": PASSWORD, "district": "110105"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/identity/"
    resident_id = valid_resident_id()
    identity_page = client.get("/accounts/identity/").content.decode()
    assert '<option value="110105" selected>' in identity_page  # the district given at registration, to confirm
    response = client.post("/accounts/identity/", {"name": "王小明", "resident_id": resident_id, "district": "110105"})
    assert response.status_code == 302
    profile = client.get("/accounts/profile/").content.decode()
    assert resident_id[:6] + "********" + resident_id[-4:] in profile
    assert resident_id not in profile
    assert "13912345678" not in profile


def test_invalid_fields_show_chinese_messages_with_codes_next_to_the_fields(personas):
    Person.objects.filter(pk=personas.consumer_person.pk).update(verified_at=None, resident_id_digest=None)
    response = client_for(personas.consumer).post(
        "/accounts/identity/", {"name": "王小明", "resident_id": "110105194912310021"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="invalid_checksum"' in html
    assert "居民身份证号码校验位不正确" in html
    assert "110105194912310021" not in html.replace('value="110105194912310021"', "")


def test_bad_phone_for_a_code_is_refused_inline():
    response = Client().post("/accounts/register/code/", {"phone": "12345"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert 'data-code="invalid_length"' in response.content.decode()


def test_no_plaintext_identifier_reaches_the_logs_or_the_database(
    caplog, django_capture_on_commit_callbacks, settings, tmp_path
):
    import os
    import stat

    from django.db import connection

    from huanxin.accounts import services

    settings.VAR_DIR = tmp_path
    caplog.set_level(logging.DEBUG)
    phone = "13912345678"
    resident_id = valid_resident_id()
    with django_capture_on_commit_callbacks(execute=True):  # the embedded backend keeps the code in var/
        services.request_phone_code(phone=phone)
    codes_file = tmp_path / "sms-codes.txt"
    code = codes_file.read_text(encoding="utf-8").split()[-1]
    assert stat.S_IMODE(os.stat(codes_file).st_mode) == 0o600
    assert "短信验证码 ****** → 139****5678" in caplog.text
    assert code not in caplog.text
    assert str(codes_file) in caplog.text
    user = services.register_resident(phone=phone, code=code, password=PASSWORD)
    services.verify_identity(actor=user, name="王小明", resident_id=resident_id, district="110105")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert phone not in logged
    assert resident_id not in logged
    assert "139****5678" in logged
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            dump = repr(cursor.fetchall())
            assert resident_id not in dump, table
            assert phone not in dump, table
    assert User.objects.filter(pk=user.pk).exists()


def test_passwords_are_hashed_with_argon2_in_the_real_configuration():
    from django.conf import settings as django_settings
    from django.test import override_settings

    from huanxin import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        user = make_user(username="hashed")
        assert user.password.startswith("argon2")
        assert django_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
