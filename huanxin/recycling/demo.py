"""Demo recycling network: the demo recycler's collection point, so that the public finder has a site to show."""

from __future__ import annotations

from huanxin.accounts.models import Licence, Organisation, User
from huanxin.recycling.network import register_site
from huanxin.recycling.network_models import NetworkSite


def load_demo() -> None:
    """Idempotent: registers the demo recycler's collection point once, under its recycling filing."""
    recycler = User.objects.filter(username="recycler").first()
    organisation = Organisation.objects.filter(uscc="91110112MA01HX0C07").first()
    if recycler is None or organisation is None or NetworkSite.objects.filter(organisation=organisation).exists():
        return
    licence = Licence.objects.filter(organisation=organisation, kind="renewable_recycling").first()
    register_site(
        actor=recycler,
        organisation=organisation,
        kind="collection_point",
        name="绿环回收通州梨园网点",
        district_code="110112",
        address="北京市通州区梨园镇九棵树东路88号",
        opening_hours="周一至周六 8:30-17:30",
        categories=["fridge", "washer", "tv", "ac", "computer", "phone"],
        capacity_per_month=2000,
        licence_id=licence.pk if licence else None,
    )
