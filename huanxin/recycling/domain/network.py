"""Pure rules of the recycling network: which sites an organisation of each kind runs, under which licences, which
categories a site may accept, and whether a licence lets a site receive on a day."""

from __future__ import annotations

import datetime

from huanxin.catalogue.domain.categories import CATEGORIES
from huanxin.trace.domain.rules import EXTRA_CATEGORIES

# Site kind -> organisation kinds that may run it, and the licence kinds (accounts.Licence.Kind) it receives under.
SITE_ORGANISATION_KINDS: dict[str, frozenset[str]] = {
    "collection_point": frozenset({"recycler"}),
    "sorting_centre": frozenset({"recycler", "dismantler"}),
    "dismantling_plant": frozenset({"dismantler"}),
}
SITE_LICENCE_KINDS: dict[str, frozenset[str]] = {
    "collection_point": frozenset({"renewable_recycling", "hazardous_waste"}),
    "sorting_centre": frozenset({"renewable_recycling", "hazardous_waste"}),
    "dismantling_plant": frozenset({"weee_dismantling"}),
}
MAX_CAPACITY = 10_000_000
# Trace event kinds by which an organisation takes an item into its custody.
RECEIVING_KINDS = ("collect", "receive", "unload")


def accepted_categories() -> dict[str, str]:
    """The categories a site may accept: trace's old-item categories (the subsidy categories and its extras)."""
    return {**CATEGORIES, **{code: extra.name for code, extra in EXTRA_CATEGORIES.items()}}


def licence_valid_on(valid_from: datetime.date, valid_until: datetime.date | None, day: datetime.date) -> bool:
    return valid_from <= day and (valid_until is None or day <= valid_until)


def month_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of ``day``'s month and the first day of the next."""
    first = day.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following
