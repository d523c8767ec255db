"""The read side of consumer trade-in: who sees which qualifications and sales, and the staff boards."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from huanxin.accounts.models import Person
from huanxin.accounts.roles import MERCHANT_STAFF, OVERSIGHT_STAFF, REVIEWERS
from huanxin.core import crypto
from huanxin.core.domain.identifiers import IdentifierError, validate_resident_id
from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import districts_for, has_role, organisations_for
from huanxin.subsidies.domain import codes
from huanxin.subsidies.models import Enrolment, Qualification, Redemption, RedemptionHold, Return, Store


def is_staff(user: Any) -> bool:
    """The staff pages (budget burn, search, enrolments, held sales) are for those who oversee residents."""
    return has_role(user, *OVERSIGHT_STAFF)


def qualifications_visible_to(user: Any) -> QuerySet[Qualification]:
    """Residents see their own; government staff see their districts (or the whole city)."""
    queryset = Qualification.objects.select_related("programme", "district")
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, *OVERSIGHT_STAFF)
    if districts is None:
        return queryset
    own = Q(person__user=user)
    return queryset.filter(own | Q(district_id__in=districts)) if districts else queryset.filter(own)


def redemptions_visible_to(user: Any) -> QuerySet[Redemption]:
    """Merchants see their own sales; government staff see sales in stores of their districts."""
    queryset = Redemption.objects.select_related("store", "merchant", "product", "qualification", "programme")
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, *OVERSIGHT_STAFF)
    if districts is None:
        return queryset
    condition = Q(merchant_id__in=organisations_for(user, *MERCHANT_STAFF))
    condition |= Q(qualification__person__user=user)
    if districts:
        condition |= Q(store__district_id__in=districts)
    return queryset.filter(condition)


def enrolments_visible_to(user: Any) -> QuerySet[Enrolment]:
    queryset = Enrolment.objects.select_related("organisation", "programme", "organisation__district")
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, *OVERSIGHT_STAFF)
    if districts is None:
        return queryset
    condition = Q(organisation_id__in=organisations_for(user, *MERCHANT_STAFF))
    if districts:
        condition |= Q(organisation__district_id__in=districts)
    return queryset.filter(condition)


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
    queryset = RedemptionHold.objects.select_related(
        "redemption", "redemption__product", "redemption__store", "merchant", "district", "decided_by"
    )
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, *OVERSIGHT_STAFF)
    if districts is None:
        return queryset
    condition = Q(merchant_id__in=organisations_for(user, *MERCHANT_STAFF))
    if districts:
        condition |= Q(district_id__in=districts)
    return queryset.filter(condition)


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
