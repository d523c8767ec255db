"""Pages: residents claim and show their codes; merchants redeem, take returns and enrol; staff watch."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Organisation, OrganisationKind, Person
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import BUDGET_WATCHERS, MERCHANT_MANAGERS, MERCHANT_STAFF, REVIEWERS, Roles
from huanxin.catalogue.models import ProductModel
from huanxin.core.domain.money import format_yuan
from huanxin.core.errors import DomainError, ForbiddenError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.core.permissions import districts_for, has_role
from huanxin.core.spreadsheets import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from huanxin.policy import queries as policy_queries
from huanxin.policy.models import Programme
from huanxin.policy.services import compiled, published_version
from huanxin.subsidies import exports, queries, services
from huanxin.subsidies.domain import codes
from huanxin.subsidies.domain.returns import ReturnQuote
from huanxin.subsidies.forms import (
    ClaimForm,
    DecisionForm,
    EnrolmentForm,
    HoldDecisionForm,
    RedeemForm,
    ReturnForm,
    SalesFilterForm,
    StoreForm,
    merged_categories,
)
from huanxin.subsidies.models import ClaimRefusal, Enrolment, Redemption, RedemptionHold, Return

# ---------------------------------------------------------------- residents


def _open_programmes() -> list[tuple[str, str, dict[str, str]]]:
    """Open consumer-goods programmes with their categories (code → Chinese name)."""
    result = []
    for programme in Programme.objects.filter(status=Programme.Status.OPEN, family="consumer_goods").order_by("code"):
        version = published_version(programme.code)
        if version is not None:
            result.append((programme.code, programme.name, dict(compiled(version.content).category_names)))
    return result


def _person(request: AuthenticatedRequest) -> Person:
    person = Person.objects.filter(user=request.user).select_related("district").first()
    if person is None:
        raise PermissionDenied
    return person


@login_required
def my_subsidies(request: AuthenticatedRequest) -> HttpResponse:
    """The resident's qualifications (codes, countdowns, status) and every refused claim with its reasons."""
    person = _person(request)
    qualifications = list(
        person.qualifications.select_related("programme", "redemption", "redemption__store", "redemption__product")
        .prefetch_related("redemption__returns")
        .order_by("-issued_at")[:50]
    )
    refusals = ClaimRefusal.objects.filter(person=person).select_related("programme").order_by("-created_at")[:20]
    return render(
        request,
        "subsidies/my_subsidies.html",
        {
            "person": person,
            "qualifications": qualifications,
            "refusals": refusals,
            "now": timezone.now(),
        },
    )


@login_required
def claim(request: AuthenticatedRequest) -> HttpResponse:
    """The claim form: programme, then one of its categories; charged to the registered district."""
    person = _person(request)
    programmes = _open_programmes()
    form = ClaimForm(request.POST or None, programmes=programmes, initial={"programme": request.GET.get("programme")})
    refused: services.ClaimRefused | None = None
    if request.method == "POST" and form.is_valid():
        try:
            qualification = services.claim_qualification(
                actor=request.user,
                programme_code=form.cleaned_data["programme"],
                category=form.cleaned_data["category"],
            )
        except services.ClaimRefused as error:
            refused = error
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "申领成功！到店结账时出示资格码即可立减。")
            return redirect("subsidies:qualification", pk=qualification.pk)
    return render(
        request,
        "subsidies/claim.html",
        {
            "form": form,
            "person": person,
            "programmes": programmes,
            "refused": refused,
            "minimum_age": settings.HUANXIN_MIN_CLAIM_AGE,
        },
        status=422 if refused or form.errors else 200,
    )


@login_required
def claim_categories(request: AuthenticatedRequest) -> HttpResponse:
    """htmx: the category field of the claim form for the programme just chosen."""
    _person(request)
    form = ClaimForm(programmes=_open_programmes(), initial={"programme": request.GET.get("programme")})
    return render(request, "subsidies/partials/claim_category.html", {"form": form})


@login_required
def qualification_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        qualification = queries.get_qualification_for_user(request.user, pk)
    except NotFoundError:
        raise Http404 from None
    qr_svg = segno.make(codes.display(qualification.code), error="m").svg_inline(scale=6, dark="#1f2328", omitsize=True)
    redemption = (
        Redemption.objects.filter(qualification=qualification).select_related("store", "product", "merchant").first()
    )
    return render(
        request,
        "subsidies/qualification.html",
        {
            "q": qualification,
            "code_display": codes.display(qualification.code),
            "qr_svg": qr_svg,
            "redemption": redemption,
            "returns": redemption.returns.all() if redemption else [],
            "is_owner": qualification.person.user_id == request.user.pk,
        },
    )


@login_required
@require_POST
def cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        qualification = queries.get_qualification_for_user(request.user, pk)
        services.cancel_qualification(actor=request.user, qualification=qualification)
    except NotFoundError:
        raise Http404 from None
    except ForbiddenError:
        # Staff who may read the qualification may not cancel it: refused as the API refuses them.
        raise PermissionDenied from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "资格已取消，名额已释放。")
    return redirect("subsidies:qualification", pk=pk)


# ---------------------------------------------------------------- merchants


def _merchant(request: AuthenticatedRequest, roles: Roles = MERCHANT_STAFF) -> Organisation:
    """The merchant the page works for: the one chosen (``merchant``), else the first of the user's."""
    return acting_organisation(
        request,
        roles=roles,
        kinds=(OrganisationKind.MERCHANT,),
        requested=request.GET.get("merchant") or request.POST.get("merchant"),
        first_by_default=True,
    )


@login_required
def merchant_home(request: AuthenticatedRequest) -> HttpResponse:
    """Today's sales of the merchant, with totals, and what it may do next."""
    merchant = _merchant(request)
    today = list(queries.today_redemptions(merchant.pk))
    enrolments = Enrolment.objects.filter(organisation=merchant).select_related("programme")
    return render(
        request,
        "subsidies/merchant_home.html",
        {
            "merchant": merchant,
            "today": today,
            "enrolments": enrolments,
            "total_price": sum(r.price_fen for r in today),
            "total_subsidy": sum(r.subsidy_fen - r.returned_fen for r in today),
            "is_manager": has_role(request.user, *MERCHANT_MANAGERS),
        },
    )


def _sales_filter(request: AuthenticatedRequest) -> SalesFilterForm:
    today = timezone.localdate()
    params = request.GET.copy()
    if not params.get("start") and not params.get("end"):
        # The date boxes show the default range the page lists (the last 30 days), not two empty boxes.
        params["start"] = (today - datetime.timedelta(days=SalesFilterForm.DEFAULT_DAYS - 1)).isoformat()
        params["end"] = today.isoformat()
    return SalesFilterForm(params, today=today)


SALES_PAGE_SIZE = 50


@login_required
def merchant_sales(request: AuthenticatedRequest) -> HttpResponse:
    """The merchant's sales history between two dates (the last 30 days by default), with totals over the
    whole filter, a page of rows at a time, and the same rows as a file."""
    merchant = _merchant(request)
    form = _sales_filter(request)
    context: dict[str, Any] = {"merchant": merchant, "form": form}
    if not form.is_valid():
        return render(request, "subsidies/merchant_sales.html", context, status=422)
    data = form.cleaned_data
    sales = queries.merchant_sales(merchant.pk, data["start"], data["end"], data["status"])
    totals = sales.aggregate(
        count=Count("pk"), price=Sum("price_fen"), subsidy=Sum("subsidy_fen"), returned=Sum("returned_fen")
    )
    page = Paginator(sales, SALES_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query["merchant"] = str(merchant.pk)
    query["start"], query["end"] = data["start"].isoformat(), data["end"].isoformat()
    context.update(
        {
            "page": page,
            "count": totals["count"] or 0,
            "total_price": totals["price"] or 0,
            "total_subsidy": (totals["subsidy"] or 0) - (totals["returned"] or 0),
            "query": query.urlencode(),
        }
    )
    return render(request, "subsidies/merchant_sales.html", context)


@login_required
def merchant_sales_export(request: AuthenticatedRequest, file_format: str) -> HttpResponse:
    """The rows of the sales history filter, all of them, as XLSX or CSV."""
    merchant = _merchant(request)
    form = _sales_filter(request)
    if file_format not in ("xlsx", "csv"):
        raise Http404
    if not form.is_valid():
        return render(request, "subsidies/merchant_sales.html", {"merchant": merchant, "form": form}, status=422)
    data = form.cleaned_data
    sales = queries.merchant_sales(merchant.pk, data["start"], data["end"], data["status"]).iterator(chunk_size=2000)
    name = f"sales-{merchant.pk}-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.{file_format}"
    if file_format == "xlsx":
        content, content_type = exports.sales_xlsx(sales), XLSX_CONTENT_TYPE
    else:
        content, content_type = exports.sales_csv(sales), CSV_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _redeem_form(merchant: Organisation, data: Any = None) -> RedeemForm:
    enrolled = Enrolment.objects.filter(organisation=merchant, status=Enrolment.Status.APPROVED).prefetch_related(
        "stores"
    )
    stores: dict[int, str] = {}
    categories: set[str] = set()
    for enrolment in enrolled:
        categories.update(enrolment.categories)
        stores.update({s.pk: s.name for s in enrolment.stores.all() if s.is_active})
    products = [
        (p.pk, f"{p.brand} {p.model_number}（{p.category_name}）")
        for p in ProductModel.objects.filter(category__in=categories).order_by("category", "brand")[:500]
    ]
    from huanxin.catalogue.domain.categories import CATEGORIES

    return RedeemForm(
        data,
        stores=sorted(stores.items(), key=lambda item: item[1]),
        products=products,
        categories=[(code, CATEGORIES[code]) for code in sorted(categories) if code in CATEGORIES],
    )


@login_required
def redeem(request: AuthenticatedRequest) -> HttpResponse:
    """The checkout page: scan or type the code, pick the model, serial and final price, the old item; the
    till then shows the subsidy and what the customer pays, and only the clerk's confirmation commits."""
    merchant = _merchant(request)
    form = _redeem_form(merchant, request.POST or None)
    quote = None
    editing = request.method == "POST" and bool(request.POST.get("edit"))
    if request.method == "POST" and not editing and form.is_valid():
        data = form.cleaned_data
        take_back = (
            services.TakeBackInput(
                category=data["take_back_category"],
                condition=data["take_back_condition"],
                to_recycler=data["take_back_to_recycler"],
            )
            if data["take_back_condition"]
            else None
        )
        sale: dict[str, Any] = {
            "actor": request.user,
            "merchant": merchant,
            "store_id": int(data["store"]),
            "code": data["code"],
            "product_id": int(data["product"]),
            "serial": data["serial"],
            "price_fen": data["price"],
            "take_back": take_back,
        }
        try:
            if data["confirmed_subsidy"] is None:
                quote = services.quote_redemption(**sale)
            else:
                redemption = services.redeem(**sale, confirmed_subsidy_fen=data["confirmed_subsidy"]).redemption
        except DomainError as error:
            quote = None
            names = {"store_id": "store", "product_id": "product", "price_fen": "price"}
            apply_domain_error(form, error, rename=lambda name: names.get(name, name))
        else:
            if quote is None:
                text = f"核销成功：立减 {format_yuan(redemption.subsidy_fen, symbol=False)} 元"
                if redemption.withheld:
                    text += "（本笔清算款暂扣，待审核人员复核）"
                messages.success(request, text)
                return redirect("subsidies:merchant_redemption", pk=redemption.pk)
            # The confirmation step carries every field unchanged, plus the subsidy the customer was shown.
            confirmation = request.POST.copy()
            confirmation["confirmed_subsidy"] = str(quote.subsidy_fen)
            form = _redeem_form(merchant, confirmation)
            form.is_valid()
    return render(
        request,
        "subsidies/redeem.html",
        {"form": form, "merchant": merchant, "quote": quote},
        status=422 if form.errors and not editing else 200,
    )


@login_required
def lookup_code(request: AuthenticatedRequest) -> HttpResponse:
    """htmx: what a typed code is (programme, category, status, maximum, masked holder)."""
    _merchant(request)
    context: dict[str, Any] = {}
    try:
        context["q"] = services.find_qualification(request.GET.get("code", ""))
    except DomainError as error:
        context["error"] = error.first_message
    return render(request, "subsidies/partials/code_lookup.html", context)


def _quoted(quote: ReturnQuote) -> str:
    return f"{quote.kind}:{quote.new_price_fen}:{quote.refund_fen}:{quote.clawback_fen}:{int(quote.quota_released)}"


@login_required
def merchant_redemption(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A sale of the merchant, its returns, and the return form: the clerk picks whole-order or partial
    (with the new final price), sees the platform's figures, then confirms them."""
    merchant = _merchant(request)
    redemption = (
        Redemption.objects.filter(pk=pk, merchant=merchant)
        .select_related("store", "product", "qualification", "programme", "merchant")
        .first()
    )
    if redemption is None:
        raise Http404
    kinds = [
        (value, label)
        for value, label in Return.Kind.choices
        if value == Return.Kind.FULL or redemption.status == Redemption.Status.COMPLETED
    ]
    form = ReturnForm(
        request.POST or None,
        kinds=kinds,
        quota_restored_on_return=redemption.programme.quota_restored_on_return,
    )
    quote: ReturnQuote | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        rename = {"new_price_fen": "new_price"}
        committing = request.POST.get("action") == "commit"
        try:
            quote = services.quote_return(
                actor=request.user, redemption=redemption, kind=data["kind"], new_price_fen=data["new_price"]
            )
            if committing and data["quoted"] == _quoted(quote):
                services.record_return(
                    actor=request.user,
                    redemption=redemption,
                    kind=data["kind"],
                    new_price_fen=data["new_price"],
                    reason=data["reason"],
                )
                messages.success(request, "退货已登记：退还顾客金额与冲回补贴见退货记录")
                return redirect(f"{reverse('subsidies:merchant_redemption', args=[pk])}?merchant={merchant.pk}")
        except DomainError as error:
            quote = None
            apply_domain_error(form, error, rename=lambda name: rename.get(name, name))
        else:
            if committing:
                messages.warning(request, "退货金额与确认时不一致，请核对下列金额后重新确认")
            # Show the figures and carry them, so that what is confirmed is what was shown.
            form = ReturnForm(
                {**request.POST.dict(), "quoted": _quoted(quote)},
                kinds=kinds,
                quota_restored_on_return=redemption.programme.quota_restored_on_return,
            )
            form.is_valid()
    returns = list(redemption.returns.all())
    return render(
        request,
        "subsidies/merchant_redemption.html",
        {
            "r": redemption,
            "form": form,
            "quote": quote,
            "returns": returns,
            "refunded_fen": sum(r.refund_fen for r in returns),
            "take_back": getattr(redemption, "take_back", None),
            "code_display": codes.display(redemption.qualification.code),
            "merchant": merchant,
        },
        status=422 if form.errors else 200,
    )


@login_required
def enrolment(request: AuthenticatedRequest) -> HttpResponse:
    """The manager's stores and enrolments, with forms to add a store and apply to a programme."""
    merchant = _merchant(request, MERCHANT_MANAGERS)
    stores = list(queries.merchant_stores(merchant.pk))
    open_programmes = _open_programmes()
    store_form = StoreForm(request.POST if request.POST.get("form") == "store" else None)
    enrol_form = EnrolmentForm(
        request.POST if request.POST.get("form") == "enrol" else None,
        programmes=[(code, name) for code, name, _ in open_programmes],
        categories=merged_categories(open_programmes),
        stores=[(s.pk, s.name) for s in stores],
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "store" and store_form.is_valid():
                services.create_store(actor=request.user, merchant=merchant, **store_form.cleaned_data)
                messages.success(request, "门店已登记")
                return redirect("subsidies:enrolment")
            if request.POST.get("form") == "enrol" and enrol_form.is_valid():
                data = enrol_form.cleaned_data
                services.apply_enrolment(
                    actor=request.user,
                    merchant=merchant,
                    programme=Programme.objects.get(code=data["programme"]),
                    data=services.EnrolmentInput(
                        categories=data["categories"],
                        store_ids=[int(s) for s in data["stores"]],
                        bank_name=data["bank_name"],
                        account_name=data["account_name"],
                        bank_account=data["bank_account"],
                        contact_name=data["contact_name"],
                        contact_phone=data["contact_phone"],
                    ),
                )
                messages.success(request, "报名已提交，等待所在区商务部门审核")
                return redirect("subsidies:enrolment")
        except DomainError as error:
            target_form = store_form if request.POST.get("form") == "store" else enrol_form
            apply_domain_error(target_form, error, rename=lambda name: "stores" if name == "store_ids" else name)
    return render(
        request,
        "subsidies/enrolment.html",
        {
            "merchant": merchant,
            "stores": stores,
            "store_form": store_form,
            "enrol_form": enrol_form,
            "enrolments": Enrolment.objects.filter(organisation=merchant)
            .select_related("programme")
            .prefetch_related("stores"),
        },
    )


# ---------------------------------------------------------------- staff


def _require_staff(request: AuthenticatedRequest) -> None:
    if not queries.is_staff(request.user):
        raise PermissionDenied


@login_required
def board(request: AuthenticatedRequest) -> HttpResponse:
    """Budgets and burn: each open programme's pools by district, and holds and spend by category."""
    if not has_role(request.user, *BUDGET_WATCHERS):
        raise PermissionDenied
    programmes = Programme.objects.filter(status=Programme.Status.OPEN).order_by("code")
    rows = [(p, policy_queries.pools_of(p)) for p in programmes]
    return render(
        request,
        "subsidies/board.html",
        {
            "rows": rows,
            "burn": queries.burn_by_category(districts_for(request.user, *BUDGET_WATCHERS)),
            # Search and enrolment review are for those who oversee residents and merchants, not finance.
            "oversees": queries.is_staff(request.user),
        },
    )


def _terms_by_post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page whose search term may be a resident ID reads it from a POST body only: a GET with a query
    string is sent to the bare page before anything else (sign-in included) sees it, so the term never
    reaches the sign-in page's ``next`` field, a redirect or the browser history."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST" and request.GET:
            return HttpResponseRedirect(request.path)
        return view(request, *args, **kwargs)

    return wrapper


@_terms_by_post_only
@login_required
def search(request: AuthenticatedRequest) -> HttpResponse:
    """Search by code, serial or resident ID. The term is read from the POST body only (a GET shows the empty
    form), so an ID never lands in a URL or access log, and the page never echoes what was typed when it
    was an ID."""
    _require_staff(request)
    text = request.POST.get("q", "") if request.method == "POST" else ""
    result = queries.staff_search(request.user, text)
    shown = "" if result.matched == "身份证号" else text
    return render(request, "subsidies/search.html", {"result": result, "q": shown, "searched": bool(text)})


@login_required
def enrolments_review(request: AuthenticatedRequest) -> HttpResponse:
    """Enrolments for the reviewer's districts, with approve / refuse / suspend / resume."""
    _require_staff(request)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wanted = request.POST.get("enrolment", "")
        try:
            target = queries.get_enrolment_for_user(request.user, int(wanted) if wanted.isdigit() else 0)
        except NotFoundError:
            raise Http404 from None
        try:
            services.decide_enrolment(
                actor=request.user,
                enrolment=target,
                action=request.POST.get("action", ""),
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            messages.error(request, error.first_message)
        else:
            messages.success(request, f"已处理：{target.organisation.name}")
        return redirect("subsidies:enrolments_review")
    status = request.GET.get("status", "")
    enrolments = (
        queries.enrolments_visible_to(request.user).prefetch_related("stores").order_by("status", "-submitted_at")
    )
    if status in Enrolment.Status.values:
        enrolments = enrolments.filter(status=status)
    return render(
        request,
        "subsidies/enrolments_review.html",
        {
            "enrolments": enrolments[:200],
            "statuses": Enrolment.Status.choices,
            "status": status,
            "can_decide": has_role(request.user, *REVIEWERS),
        },
    )


@login_required
def holds(request: AuthenticatedRequest) -> HttpResponse:
    """The queue of held sales (暂扣待复核) of the reviewer's districts, oldest first, with clear / reject."""
    _require_staff(request)
    form = HoldDecisionForm(request.POST or None)
    if request.method == "POST":
        if not queries.can_decide_holds(request.user):
            # Supervisors, auditors and administrators read the queue; only reviewers decide.
            raise PermissionDenied
        wanted = request.POST.get("hold", "")
        try:
            hold = queries.get_hold_for_user(request.user, int(wanted) if wanted.isdigit() else 0)
        except NotFoundError:
            raise Http404 from None
        if form.is_valid():
            decide = services.clear_hold if form.cleaned_data["action"] == "clear" else services.reject_hold
            try:
                decide(actor=request.user, hold=hold, note=form.cleaned_data["note"])
            except DomainError as error:
                messages.error(request, error.first_message)
            else:
                done = (
                    "已放行，尚存补贴在复核当日所在的结算周期支付"
                    if form.cleaned_data["action"] == "clear"
                    else "已驳回，补贴已退回预算，商户不获支付"
                )
                messages.success(request, f"{hold.merchant.name} · {hold.redemption.serial}：{done}")
        else:
            messages.error(request, "请选择放行或驳回")
        kept = request.GET.get("status", "")
        return redirect(f"{request.path}?status={kept if kept in RedemptionHold.Status.values else 'held'}")
    status = request.GET.get("status", RedemptionHold.Status.HELD)
    rows = queries.holds_visible_to(request.user).order_by("placed_at", "pk")
    if status in RedemptionHold.Status.values:
        rows = rows.filter(status=status)
    return render(
        request,
        "subsidies/holds.html",
        {
            "holds": rows[:200],
            "statuses": RedemptionHold.Status.choices,
            "status": status,
            "can_decide": queries.can_decide_holds(request.user),
        },
    )
