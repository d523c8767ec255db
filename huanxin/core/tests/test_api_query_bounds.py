"""Integers in query strings are bounded: a page never asks the database for an offset or a count no column or
calendar can hold, and a value out of range is a 422 naming the parameter."""

from __future__ import annotations

import pytest
from django.test import Client

from huanxin.conftest import api_client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/audit?offset=99999999999999999999", "offset"),
        ("/api/v1/audit?limit=99999999999999999999", "limit"),
        ("/api/v1/audit?limit=0", "limit"),
        ("/api/v1/audit?action=%00", "action"),
        ("/api/v1/catalogue/products?offset=99999999999999999999", "offset"),
        ("/api/v1/catalogue/prices?merchant=99999999999999999999", "merchant"),
    ],
)
def test_an_out_of_range_query_integer_is_a_422_naming_it(personas, path, field):
    response = api_client_for(personas.auditor).get(path)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("days", ["99999999999999999999", "100000", "-100000"])
def test_working_days_far_beyond_the_calendar_are_refused(days):
    response = Client().get(f"/api/v1/calendar/working-days?start=2026-01-05&days={days}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "days"


def test_a_page_within_bounds_still_answers(personas):
    assert api_client_for(personas.auditor).get("/api/v1/audit?limit=500&offset=10000000").status_code == 200
