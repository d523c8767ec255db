"""The demo gives the public finder a site to show, once however often it runs."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from huanxin.recycling.network_models import NetworkSite
from huanxin.recycling.network_queries import find_sites

# The demo registers its residents with real one-time codes, sent on commit: a transactional test.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_registers_one_collection_point_that_the_finder_lists():
    call_command("catalogue", "load", verbosity=0)
    call_command("demo", stdout=io.StringIO())
    call_command("demo", stdout=io.StringIO())
    [site] = NetworkSite.objects.all()
    assert site.kind == "collection_point"
    assert site in list(find_sites(district_code="110112", category="fridge"))
