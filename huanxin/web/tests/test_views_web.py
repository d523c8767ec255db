import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_explains_the_programme_in_chinese_and_fits_a_phone():
    html = Client().get("/").content.decode()
    assert '<html lang="zh-CN">' in html
    assert 'name="viewport"' in html
    assert "以旧换新" in html
    assert "注册" in html


def test_htmx_is_served_from_our_own_static_files():
    html = Client().get("/").content.decode()
    assert "/static/django_htmx/htmx" in html
    # No asset from another host (a CSRF token may contain any letters, so look at the URLs themselves).
    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", html)
    assert "https://" not in html


def test_not_found_page_is_chinese():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_an_api_address_no_route_matches_is_problem_details():
    # A text where the path takes a number matches no route: the API still answers in its own format.
    response = Client().get("/api/v1/catalogue/products/null,null")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_a_server_error_under_the_api_is_problem_details():
    from django.test import RequestFactory

    from huanxin.web.views import server_error

    response = server_error(RequestFactory().get("/api/v1/programmes"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    page = server_error(RequestFactory().get("/"))
    assert page["Content-Type"].startswith("text/html")


def test_only_chinese_is_offered_until_there_are_translations():
    from django.conf import settings

    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans"]
    html = Client().get("/").content.decode()
    assert 'name="language"' not in html
    assert "English" not in html


@pytest.mark.parametrize(
    "asks_for_english",
    [{"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}, {"cookies": "django_language=en"}],
    ids=["accept-language", "cookie"],
)
def test_a_visitor_asking_for_english_gets_a_wholly_chinese_page(asks_for_english):
    # Django's own messages ("This field is required.") would otherwise come out in English on a Chinese page.
    from django.utils import translation

    client = Client()
    if "cookies" in asks_for_english:
        client.cookies.load(asks_for_english["cookies"])
    headers = {k: v for k, v in asks_for_english.items() if k != "cookies"}
    response = client.post("/accounts/login/", {"username": "", "password": ""}, **headers)
    html = response.content.decode()
    with translation.override("zh-hans"):
        required = translation.gettext("This field is required.")
    assert required != "This field is required."
    assert required in html
    assert "This field is required." not in html
    assert '<html lang="zh-CN">' in html


def test_health_check():
    assert Client().get("/healthz").content == b"ok"


def test_navigation_depends_on_role(personas):
    from huanxin.conftest import client_for

    auditor_html = client_for(personas.auditor).get("/").content.decode()
    consumer_html = client_for(personas.consumer).get("/").content.decode()
    assert "审计日志" in auditor_html
    assert "审计日志" not in consumer_html


def test_server_error_page_is_chinese_and_needs_no_database():
    from django.test import RequestFactory

    from huanxin.web.views import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "服务暂时不可用" in response.content.decode()
    assert "没有生效" in response.content.decode()


def test_the_admin_is_read_only_for_huanxin_tables(personas):
    from huanxin.conftest import client_for

    personas.admin.is_staff = True
    personas.admin.is_superuser = True
    personas.admin.save()
    client = client_for(personas.admin)
    assert client.get(f"/admin/accounts/organisation/{personas.merchant.pk}/change/").status_code == 200
    response = client.post(f"/admin/accounts/organisation/{personas.merchant.pk}/change/", {"name": "改名"})
    assert response.status_code == 403
    assert client.get("/admin/accounts/organisation/add/").status_code == 403
    personas.merchant.refresh_from_db()
    assert personas.merchant.name == "朝阳家电"
