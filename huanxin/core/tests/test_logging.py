import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from huanxin.core.errors import ConflictError, ForbiddenError, NotFoundError
from huanxin.core.logging import RequestIdFilter, scrub


def test_scrub_masks_resident_ids_and_mobile_numbers():
    text = "id 11010519491231002X phone 13800138000 order 20240101123456789012"
    assert scrub(text) == "id 110105********002X phone 138****8000 order 20240101123456789012"


def test_the_log_filter_masks_identifiers_in_formatted_messages():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s failed", ("11010519491231002X",), None)
    RequestIdFilter().filter(record)
    assert record.getMessage() == "user 110105********002X failed"
    assert record.request_id == "-"


# Ordinary refusals are one-line warnings; only server errors carry a traceback.


def _denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise ForbiddenError("只有财政人员可以办理支付", code="finance_required")


def _missing(request: HttpRequest) -> HttpResponse:
    raise NotFoundError("支付批次不存在", code="batch_not_found")


def _conflict(request: HttpRequest) -> HttpResponse:
    raise ConflictError("该批次不是待复核状态", code="batch_not_prepared")


def _broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("denied/", _denied),
    path("forbidden/", _forbidden),
    path("missing/", _missing),
    path("conflict/", _conflict),
    path("broken/", _broken),
    path("", include("huanxin.urls")),
]


def _request_records(caplog):
    return [r for r in caplog.records if r.name.startswith("django.")]


@pytest.mark.urls("huanxin.core.tests.test_logging")
@pytest.mark.parametrize(
    ("url", "status"), [("/denied/", 403), ("/forbidden/", 403), ("/missing/", 404), ("/conflict/", 409)]
)
def test_a_refusal_is_logged_as_one_warning_line_without_a_traceback(db, caplog, url, status):
    caplog.set_level(logging.WARNING)
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == status
    records = _request_records(caplog)
    assert [(r.levelname, r.status_code) for r in records] == [("WARNING", status)]
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text


@pytest.mark.urls("huanxin.core.tests.test_logging")
def test_a_refusal_raised_by_a_page_shows_its_message_with_its_status(db):
    page = Client().get("/conflict/")
    assert page.status_code == 409
    assert "该批次不是待复核状态" in page.content.decode()


@pytest.mark.urls("huanxin.core.tests.test_logging")
def test_a_server_error_keeps_its_traceback(db, caplog):
    caplog.set_level(logging.WARNING)
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    [record] = _request_records(caplog)
    assert record.levelname == "ERROR"
    assert record.exc_info is not None
    assert "RuntimeError: boom" in caplog.text


def test_a_real_forbidden_page_logs_no_traceback(personas, caplog):
    from huanxin.conftest import client_for

    caplog.set_level(logging.WARNING)
    assert client_for(personas.consumer).get("/finance/").status_code == 403
    assert [r.exc_info for r in _request_records(caplog)] == [None]
