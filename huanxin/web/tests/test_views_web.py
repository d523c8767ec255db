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
