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
    assert "cdn" not in html.lower()
    assert "https://" not in html


def test_not_found_page_is_chinese():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_english_is_selectable():
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").content.decode()


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
