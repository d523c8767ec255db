"""The read side of consumer trade-in: who sees which qualifications and sales, and the staff boards."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import Case, Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from huanxin.accounts.models import Person
from huanxin.accounts.roles import MERCHANT_STAFF, OVERSIGHT_STAFF, REVIEWERS
from huanxin.core import crypto
from huanxin.core.domain.identifiers import IdentifierError, validate_resident_id
from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import district_scope, has_role
from huanxin.subsidies.domain import codes
from huanxin.subsidies.models import (
    Clawback,
    Enrolment,
    Qualification,
    Redemption,
    RedemptionHold,
    Return,
    Store,
    TakeBack,
)


def is_staff(user: Any) -> bool:
    """The staff pages (budget burn, search, enrolments, held sales) are for those who oversee residents."""
    return has_role(user, *OVERSIGHT_STAFF)


def qualifications_visible_to(user: Any) -> QuerySet[Qualification]:
    """Residents see their own; government staff see their districts (or the whole city)."""
    return district_scope(
        Qualification.objects.select_related("programme", "district"),
        user,
        staff_roles=OVERSIGHT_STAFF,
        district_field="district_id",
        own=Q(person__user=user),
    )


def redemptions_visible_to(user: Any) -> QuerySet[Redemption]:
    """Merchants see their own sales; residents theirs; government staff sales in stores of their districts."""
    return district_scope(
        Redemption.objects.select_related("store", "merchant", "product", "qualification", "programme"),
        user,
        staff_roles=OVERSIGHT_STAFF,
        district_field="store__district_id",
        member_roles=MERCHANT_STAFF,
        organisation_field="merchant_id",
        own=Q(qualification__person__user=user),
    )


def enrolments_visible_to(user: Any) -> QuerySet[Enrolment]:
    """A merchant's members see its enrolments; government staff those of merchants in their districts."""
    return district_scope(
        Enrolment.objects.select_related("organisation", "programme", "organisation__district"),
        user,
        staff_roles=OVERSIGHT_STAFF,
        district_field="organisation__district_id",
        member_roles=MERCHANT_STAFF,
        organisation_field="organisation_id",
    )


def get_qualification_for_user(user: Any, pk: int) -> Qualification:
    qualification = qualifications_visible_to(user).filter(pk=pk).first()
    if qualification is None:
        raise NotFoundError("资格不存在或无权查看", code="qualification_not_found")
    return qualification


def get_enrolment_for_user(user: Any, pk: int) -> Enrolment:
    enrolment = enrolments_visible_to(user).filter(pk=pk).first()
    if enrolment is None:
        raise NotFoundError("报名不存在或无权查看", code="enrolment_not_found")
    return enrolment


def get_redemption_for_user(user: Any, pk: int) -> Redemption:
    redemption = redemptions_visible_to(user).filter(pk=pk).first()
    if redemption is None:
        raise NotFoundError("核销记录不存在或无权查看", code="redemption_not_found")
    return redemption


def holds_visible_to(user: Any) -> QuerySet[RedemptionHold]:
    """Held sales: government staff see those of stores in their districts (or the whole city); a merchant's
    members see their own."""
    return district_scope(
        RedemptionHold.objects.select_related(
            "redemption", "redemption__product", "redemption__store", "merchant", "district", "decided_by"
        ),
        user,
        staff_roles=OVERSIGHT_STAFF,
        district_field="district_id",
        member_roles=MERCHANT_STAFF,
        organisation_field="merchant_id",
    )


def get_hold_for_user(user: Any, pk: int) -> RedemptionHold:
    hold = holds_visible_to(user).filter(pk=pk).first()
    if hold is None:
        raise NotFoundError("暂扣记录不存在或无权查看", code="hold_not_found")
    return hold


def can_decide_holds(user: Any) -> bool:
    """Reviewers clear or reject held sales (the service also checks the district and the merchant)."""
    return has_role(user, *REVIEWERS)


def merchant_stores(merchant_id: int) -> QuerySet[Store]:
    return Store.objects.filter(organisation_id=merchant_id).select_related("district").order_by("name")


def beijing_day(day: datetime.date | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """The start of a Beijing day (today by default) and of the next one. Filter on this range rather than
    with ``__date``, which wraps the column in a time-zone conversion that its index cannot serve."""
    start = datetime.datetime.combine(day or timezone.localdate(), datetime.time(), timezone.get_default_timezone())
    return start, start + datetime.timedelta(days=1)


def merchant_sales(
    merchant_id: int, start: datetime.date, end: datetime.date, status: str = ""
) -> QuerySet[Redemption]:
    """A merchant's sales between two Beijing days (both included), newest first, each with what its returns
    gave back to the customer (``refunded_fen``). Callers authorise the merchant first (membership)."""
    refunded = (
        Return.objects.filter(redemption=OuterRef("pk"))
        .values("redemption")
        .annotate(total=Sum("refund_fen"))
        .values("total")
    )
    queryset = (
        Redemption.objects.filter(
            merchant_id=merchant_id, redeemed_at__gte=beijing_day(start)[0], redeemed_at__lt=beijing_day(end)[1]
        )
        .select_related("store", "product", "qualification")
        .annotate(refunded_fen=Coalesce(Subquery(refunded), 0))
        .order_by("-redeemed_at", "-pk")
    )
    return queryset.filter(status=status) if status else queryset


def today_redemptions(merchant_id: int, today: datetime.date | None = None) -> QuerySet[Redemption]:
    """A merchant's sales of one Beijing day, newest first."""
    start, end = beijing_day(today)
    return (
        Redemption.objects.filter(merchant_id=merchant_id, redeemed_at__gte=start, redeemed_at__lt=end)
        .select_related("store", "product", "qualification")
        .order_by("-redeemed_at")
    )


@dataclass(frozen=True)
class CategoryBurn:
    programme: str
    category: str
    issued: int
    redeemed: int
    held_fen: int
    spent_fen: int


def burn_by_category(district_codes: set[str] | None) -> list[CategoryBurn]:
    """Live holds and spend per (programme, category): how fast each category uses its money."""
    qualifications = Qualification.objects.all()
    redemptions = Redemption.objects.exclude(status=Redemption.Status.RETURNED)
    if district_codes is not None:
        qualifications = qualifications.filter(district_id__in=district_codes)
        redemptions = redemptions.filter(qualification__district_id__in=district_codes)
    held = {
        (r["programme__code"], r["category"]): r
        for r in qualifications.values("programme__code", "category").annotate(
            issued=Count("pk", filter=Q(status="issued")),
            held=Sum("held_fen", filter=Q(status="issued")),
        )
    }
    spent = {
        (r["programme__code"], r["category"]): r
        for r in redemptions.values("programme__code", "category").annotate(
            redeemed=Count("pk"), spent=Sum("subsidy_fen") - Sum("returned_fen")
        )
    }
    rows = []
    for key in sorted(set(held) | set(spent)):
        h: dict[str, Any] = dict(held.get(key, {}))
        s: dict[str, Any] = dict(spent.get(key, {}))
        rows.append(
            CategoryBurn(
                key[0], key[1], h.get("issued") or 0, s.get("redeemed") or 0, h.get("held") or 0, s.get("spent") or 0
            )
        )
    return rows


@dataclass(frozen=True)
class SearchResult:
    qualifications: list[Qualification]
    redemptions: list[Redemption]
    matched: str


def staff_search(user: Any, text: str) -> SearchResult:
    """Find by qualification code, serial/IMEI, or a resident ID (matched by keyed hash, shown masked)."""
    text = (text or "").strip()
    visible_q = qualifications_visible_to(user)
    visible_r = redemptions_visible_to(user)
    if not text:
        return SearchResult([], [], "")
    code = codes.normalise(text)
    if codes.is_valid(code):
        found = list(visible_q.filter(code=code).select_related("person"))
        return SearchResult(found, list(visible_r.filter(qualification__code=code)), "资格码")
    try:
        resident_id = validate_resident_id(text)
    except IdentifierError:
        resident_id = ""
    if resident_id:
        digest = crypto.blind_index(resident_id, purpose="resident_id")
        person = Person.objects.filter(resident_id_digest=digest).first()
        if person is None:
            return SearchResult([], [], "身份证号")
        return SearchResult(
            list(visible_q.filter(person=person).select_related("person")[:100]),
            list(visible_r.filter(qualification__person=person)[:100]),
            "身份证号",
        )
    serial = "".join(text.split()).upper()
    return SearchResult([], list(visible_r.filter(serial=serial)[:100]), "序列号/IMEI")


# ---------------------------------------------------------------- what settlement reads
# Settlement pays merchants for sales and nets their clawbacks; it reads this app's tables only through the
# functions below, so the columns and the rules about them ("when is a held sale settled", "what is still
# owed on a sale") stay here. A condition that needs settlement's own tables (a closed period, a paid
# payable) is passed in as a ``SaleCondition``: settlement builds it from references to the sale's merchant,
# programme and settlement time, and this module says which columns those are.

# (merchant, programme, settled at) → an ``Exists`` over the caller's tables.
SaleCondition = Callable[[Any, Any, Any], Exists]


class MerchantSales(NamedTuple):
    """A merchant's sales in a time window: those settled there (count, subsidy, highest id) and those held.
    (Tuples, not dataclasses: a city's day gives one per merchant, thousands, built straight from the rows.)"""

    merchant_id: int
    row_count: int
    total_fen: int
    top_id: int
    held_count: int
    held_fen: int


class MerchantTally(NamedTuple):
    """How many rows of a merchant and their sum (released holds, clawbacks), with the highest id if asked."""

    merchant_id: int
    row_count: int
    total_fen: int
    top_id: int = 0


def first_sale_at(programme_id: int) -> datetime.datetime | None:
    """When the programme's first sale was made (None before any): its settlement periods start that day."""
    first: datetime.datetime | None = Redemption.objects.filter(programme_id=programme_id).aggregate(
        first=Min("redeemed_at")
    )["first"]
    return first


def sales_by_merchant(programme_id: int, start: datetime.datetime, end: datetime.datetime) -> list[MerchantSales]:
    """Per merchant, the programme's sales made in [start, end): those not held, and apart those held at
    checkout (settled when their hold is decided). One pass over the window: filtered aggregates, not a
    second scan."""
    paid, held = Q(withheld=False), Q(withheld=True)
    rows = (
        Redemption.objects.filter(programme_id=programme_id, redeemed_at__gte=start, redeemed_at__lt=end)
        .values("merchant_id")
        .annotate(
            count=Count("pk", filter=paid),
            total=Coalesce(Sum("subsidy_fen", filter=paid), 0),
            top=Coalesce(Max("pk", filter=paid), 0),
            held_count=Count("pk", filter=held),
            held_total=Coalesce(Sum("subsidy_fen", filter=held), 0),
        )
        .values_list("merchant_id", "count", "total", "top", "held_count", "held_total")
    )
    return list(map(MerchantSales._make, rows))


def released_by_merchant(programme_id: int, start: datetime.datetime, end: datetime.datetime) -> list[MerchantTally]:
    """Per merchant, the held sales of the programme decided in [start, end) that release money to pay (a
    cleared hold's standing subsidy; a rejected one releases nothing and is left out)."""
    rows = (
        RedemptionHold.objects.filter(
            programme_id=programme_id, decided_at__gte=start, decided_at__lt=end, released_fen__gt=0
        )
        .values("merchant_id")
        .annotate(count=Count("pk"), total=Sum("released_fen"))
    )
    return [
        MerchantTally(merchant, count, total)
        for merchant, count, total in rows.values_list("merchant_id", "count", "total")
    ]


def enrolment_exists(organisation: Any, programme_id: int) -> Exists:
    """Condition: the organisation (a reference to the caller's column) is enrolled in the programme."""
    return Exists(Enrolment.objects.filter(organisation_id=organisation, programme_id=programme_id))


def payee_accounts_sql(programme_id: int) -> tuple[str, list[Any]]:
    """SQL (and its parameters) of a relation ``(organisation_id, account_name, bank_name, account_cipher,
    account_digest, account_masked)``: the bank account of every organisation enrolled in the programme, as
    sealed at enrolment. For a caller's set-based statement to read (settlement keeps the merchants' payees in
    step with it in the database, not one model instance per merchant)."""
    return (
        "SELECT organisation_id, account_name, bank_name, bank_account_cipher AS account_cipher, "
        "bank_account_digest AS account_digest, bank_account_masked AS account_masked "
        "FROM subsidies_enrolment WHERE programme_id = %s",
        [programme_id],
    )


@dataclass(frozen=True)
class MerchantUnsettled:
    """A merchant's sales and clawbacks that no settlement has dealt with yet."""

    sales_count: int
    sales_fen: int
    held_count: int
    held_fen: int
    open_clawbacks_fen: int


def merchant_unsettled(merchant_id: int, *, settled: SaleCondition) -> MerchantUnsettled:
    """A merchant's sales not held and not yet ``settled``; its held sales waiting for a reviewer, at what a
    clearing would pay now (the subsidy less what returns reversed); its clawbacks not yet netted."""
    unsettled = Redemption.objects.filter(merchant_id=merchant_id, withheld=False).exclude(
        settled(OuterRef("merchant_id"), OuterRef("programme_id"), OuterRef("redeemed_at"))
    )
    sales = unsettled.aggregate(total=Sum("subsidy_fen"), count=Count("pk"))
    held = Redemption.objects.filter(
        merchant_id=merchant_id, withheld=True, hold__status=RedemptionHold.Status.HELD
    ).aggregate(total=Sum(F("subsidy_fen") - F("returned_fen")), count=Count("pk"))
    clawbacks = Clawback.objects.filter(merchant_id=merchant_id, status=Clawback.Status.OPEN).aggregate(
        total=Sum("amount_fen")
    )
    return MerchantUnsettled(
        sales["count"] or 0, sales["total"] or 0, held["count"] or 0, held["total"] or 0, clawbacks["total"] or 0
    )


def sales_in_window(programme_id: int, start: datetime.datetime, end: datetime.datetime) -> QuerySet[Redemption]:
    """Every sale of the programme made in [start, end), held or not, in id order, with its merchant and hold."""
    return (
        Redemption.objects.filter(programme_id=programme_id, redeemed_at__gte=start, redeemed_at__lt=end)
        .select_related("merchant", "hold")
        .order_by("pk")
    )


def settled_sales_total(programme_id: int, start: datetime.datetime, end: datetime.datetime) -> tuple[int, int]:
    """Count and subsidy of the programme's sales made in [start, end) that are settled there (not held)."""
    totals = Redemption.objects.filter(
        programme_id=programme_id, redeemed_at__gte=start, redeemed_at__lt=end, withheld=False
    ).aggregate(n=Count("pk"), s=Sum("subsidy_fen"))
    return totals["n"], totals["s"] or 0


def settled_sales_after(
    programme_id: int, start: datetime.datetime, end: datetime.datetime, after_id: int, limit: int
) -> list[int]:
    """Ids of the programme's sales in [start, end), not held, with an id above ``after_id`` (at most
    ``limit``): sales written into a window after it was settled."""
    return list(
        Redemption.objects.filter(
            programme_id=programme_id,
            redeemed_at__gte=start,
            redeemed_at__lt=end,
            pk__gt=after_id,
            withheld=False,
        ).values_list("pk", flat=True)[:limit]
    )


def _settled_at() -> Any:
    """When a sale falls into a settlement period: its own time, or for a sale held at checkout the time its
    hold was decided (NULL while it is still held: no period pays it yet)."""
    return Case(When(withheld=True, then=F("hold__decided_at")), default=F("redeemed_at"))


@dataclass(frozen=True)
class MerchantOutstanding:
    merchant_id: int
    merchant: str
    outstanding_fen: int
    oldest_sale: datetime.datetime | None


def outstanding_by_merchant(*, paid: SaleCondition, limit: int) -> list[MerchantOutstanding]:
    """Subsidy each merchant gave at the till and has not been ``paid`` for, largest first, with its oldest
    such sale. Nothing is owed on a returned sale, nor on one whose whole subsidy went back to the budget (a
    rejected hold); a held sale counts from when its hold is decided."""
    unpaid = (
        Redemption.objects.exclude(status=Redemption.Status.RETURNED)
        .exclude(returned_fen=F("subsidy_fen"))
        .annotate(settled_at=_settled_at())
        .filter(~paid(OuterRef("merchant_id"), OuterRef("programme_id"), OuterRef("settled_at")))
    )
    rows = (
        unpaid.values("merchant_id", "merchant__name")
        .annotate(outstanding=Sum(F("subsidy_fen") - F("returned_fen")), oldest=Min("redeemed_at"))
        .order_by("-outstanding")[:limit]
    )
    return [
        MerchantOutstanding(row["merchant_id"], row["merchant__name"], row["outstanding"] or 0, row["oldest"])
        for row in rows
    ]


# ---------------------------------------------------------------- take-backs, for traceability


def take_backs_waiting_for_codes(merchant: Any) -> QuerySet[TakeBack]:
    """Old items a merchant took back at checkout for a recycler that have no trace code yet, newest first."""
    return (
        TakeBack.objects.filter(redemption__merchant=merchant, to_recycler=True, trace_item__isnull=True)
        .select_related("redemption")
        .order_by("-recorded_at")
    )


def take_backs_of_merchant(merchant: Any, pks: Iterable[Any]) -> QuerySet[TakeBack]:
    """The merchant's own take-backs among ``pks`` (others' are left out)."""
    return TakeBack.objects.filter(pk__in=list(pks), redemption__merchant=merchant).select_related(
        "redemption__merchant"
    )


def take_back_or_none(pk: int) -> TakeBack | None:
    """A take-back with its sale's merchant, or None."""
    return TakeBack.objects.select_related("redemption__merchant").filter(pk=pk).first()
