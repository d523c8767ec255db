"""The authorisation matrix: every route of the project (pages and API) and what each persona gets from it.

One row per route and method. ``route`` is the route as the URL map spells it, path parameters in braces
(checked against ``get_resolver()`` and the NinjaAPI's operations: a route without a row fails, and so does a
row whose route is gone). ``url`` fills the parameters from the world's objects, all owned by the first
organisation of their kind (朝阳家电, a merchant in Chaoyang) or its resident (see ``authorisation_world.py``).

Expectations are given per persona or per group of personas, later entries overriding earlier ones:

- an HTTP status (200, 401, 403, 404, 405, ...) — exactly that status;
- ``LOGIN`` — a redirect to the sign-in page (a page that needs a signed-in user, asked by nobody);
- ``ALLOWED`` — let through: any status but 401, 403, a redirect to sign in, or a server error (a write whose
  minimal body is refused by validation or a conflict is still allowed through the guard);
- ``BACK`` — refused the way a page's form is: a redirect back to the page (not to sign in) that shows the
  refusal as a message.

Every refused cell (a 401, 403 or 404, ``LOGIN`` or ``BACK``) must leave the audit trail as it was. A persona
outside the first organisation (``FOREIGN``) that is answered 200 must not find any of the first
organisation's private texts in the answer, unless the row says the answer is public (``public=True``), or
names the persona in ``sees`` (a Haidian reviewer reads every trace item, as every oversight role does), or the
text is one the request itself sent (``echoes``).

Pages are asked by session personas only (a bearer token is not a way to sign in to a page); the API by every
persona. The Django admin's own pages (model lists and forms under /admin/) are left to Django's admin
permissions and are not rows: only its index and sign-in page are, in ``EXCLUDED`` terms below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOGIN = "login"
ALLOWED = "allowed"
BACK = "back"
Expected = int | str

# ---------------------------------------------------------------- personas and their groups

SESSION_PERSONAS = (
    "anonymous",
    "outsider",
    "consumer",
    "other_consumer",
    "clerk",
    "manager",
    "other_clerk",
    "other_manager",
    "recycler",
    "other_recycler",
    "dismantler",
    "other_dismantler",
    "scrapper",
    "car_dealer",
    "declarant",
    "second_hand_dealer",
    "inspection_staff",
    "bank_officer",
    "district_reviewer",
    "other_district_reviewer",
    "reviewer",
    "supervisor",
    "finance",
    "auditor",
    "admin",
)
# An API token of each role held in an organisation, named after the session persona holding it. "dual_token" is
# a token for the other merchant held by a user who also manages the first one: it must never reach the first.
TOKEN_HOLDERS = {
    "clerk_token": "clerk",
    "manager_token": "manager",
    "recycler_token": "recycler",
    "dismantler_token": "dismantler",
    "scrapper_token": "scrapper",
    "car_dealer_token": "car_dealer",
    "declarant_token": "declarant",
    "second_hand_dealer_token": "second_hand_dealer",
    "inspection_staff_token": "inspection_staff",
    "bank_officer_token": "bank_officer",
    "district_reviewer_token": "district_reviewer",
    "reviewer_token": "reviewer",
    "supervisor_token": "supervisor",
    "finance_token": "finance",
    "auditor_token": "auditor",
    "admin_token": "admin",
}
TOKEN_PERSONAS = (*TOKEN_HOLDERS, "dual_token")
API_PERSONAS = SESSION_PERSONAS + TOKEN_PERSONAS

# Those outside the first organisation and its district, who must never read its private data.
FOREIGN = (
    "anonymous",
    "outsider",
    "other_consumer",
    "other_clerk",
    "other_manager",
    "recycler",
    "other_recycler",
    "dismantler",
    "other_dismantler",
    "scrapper",
    "car_dealer",
    "declarant",
    "second_hand_dealer",
    "inspection_staff",
    "bank_officer",
    "other_district_reviewer",
    "recycler_token",
    "dismantler_token",
    "scrapper_token",
    "car_dealer_token",
    "declarant_token",
    "second_hand_dealer_token",
    "inspection_staff_token",
    "bank_officer_token",
    "dual_token",
)

_OVERSIGHT = ("district_reviewer", "other_district_reviewer", "reviewer", "supervisor", "auditor", "admin")
GROUPS: dict[str, tuple[str, ...]] = {
    "everyone": API_PERSONAS,
    "tokens": TOKEN_PERSONAS,
    "residents": ("consumer", "other_consumer"),
    "merchant_staff": ("clerk", "manager"),
    "merchant_tokens": ("clerk_token", "manager_token"),
    "other_merchant_staff": ("other_clerk", "other_manager"),
    "trace_recorders": (
        "clerk",
        "manager",
        "other_clerk",
        "other_manager",
        "recycler",
        "other_recycler",
        "dismantler",
        "other_dismantler",
        "scrapper",
    ),
    "trace_tokens": (
        "clerk_token",
        "manager_token",
        "recycler_token",
        "dismantler_token",
        "scrapper_token",
        "dual_token",
    ),
    # The staff of a vehicle-scrapping enterprise (a dismantler's role in an organisation of that kind), and its
    # token: the only ones let into the scrapping routes.
    "scrappers": ("scrapper", "scrapper_token"),
    # Staff of a recycler, a dismantler or a vehicle-scrapping enterprise, and their tokens: the reverse-invoicing
    # routes let them in (qualification is the service's check); the world's invoice is 通州回收's ("recycler").
    "reverse_invoicers": (
        "recycler",
        "other_recycler",
        "dismantler",
        "other_dismantler",
        "scrapper",
        "recycler_token",
        "dismantler_token",
        "scrapper_token",
    ),
    "invoice_issuer": ("recycler", "recycler_token"),
    # Staff of a recycler or a dismantler, and their tokens: they manage their own network sites (the world's
    # site is 通州回收's, "recycler").
    "network_staff": (
        "recycler",
        "other_recycler",
        "dismantler",
        "other_dismantler",
        "recycler_token",
        "dismantler_token",
    ),
    "site_operator": ("recycler", "recycler_token"),
    # Reviewers, supervisors, auditors and administrators (OVERSIGHT_STAFF), of either district or the city.
    "oversight": _OVERSIGHT,
    # Those who oversee the first organisation's district: all oversight but the Haidian reviewer.
    "chaoyang_oversight": tuple(p for p in _OVERSIGHT if p != "other_district_reviewer"),
    "government": (*_OVERSIGHT, "finance"),
    "reviewers": ("district_reviewer", "other_district_reviewer", "reviewer"),
    "finance_readers": ("finance", "auditor", "admin"),
}
# Pages the API mounts beside its operations.
API_PAGES = {"/api/v1/", "/api/v1/docs", "/api/v1/openapi.json"}


@dataclass(frozen=True)
class Row:
    """One route and method, how to call it, and what each persona gets."""

    method: str
    route: str
    expected: dict[str, Expected]
    url: str = ""
    body: Any = None
    content_type: str = "application/json"
    public: bool = False
    sees: tuple[str, ...] = ()
    echoes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"

    @property
    def is_api(self) -> bool:
        return self.route.startswith("/api/v1/") and self.route not in API_PAGES

    @property
    def personas(self) -> tuple[str, ...]:
        return API_PERSONAS if self.is_api else SESSION_PERSONAS

    def outcome(self, persona: str) -> Expected:
        """What ``persona`` expects: the last entry naming it or a group it is in. A token the row names only
        as one of ``everyone`` expects what its holder's session does (a token acts for its holder, in its
        organisation only)."""
        found: Expected | None = None
        named = False
        for name, expected in self.expected.items():
            if name == persona or persona in GROUPS.get(name, ()):
                found = expected
                named = named or name != "everyone"
        if not named and persona in TOKEN_HOLDERS:
            return self.outcome(TOKEN_HOLDERS[persona])
        if found is None:
            raise LookupError(f"{self.key}: no expectation for {persona}")
        return found


@dataclass
class _Builder:
    rows: list[Row] = field(default_factory=list)

    def __call__(
        self,
        key: str,
        url: str = "",
        body: Any = None,
        content_type: str = "application/json",
        public: bool = False,
        sees: tuple[str, ...] = (),
        echoes: tuple[str, ...] = (),
        **expected: Expected,
    ) -> None:
        method, route = key.split(" ", 1)
        self.rows.append(Row(method, route, dict(expected), url, body, content_type, public, sees, echoes))


row = _Builder()

# Routes left out, by prefix, with the reason.
EXCLUDED = {
    "/admin/": "Django admin internals (model lists and forms), guarded by Django's staff permissions; "
    "the admin index and sign-in are rows",
}
INCLUDED_DESPITE_EXCLUSION = {"/admin/", "/admin/login/"}

TODAY = "2026-12-01"
CSV_FILE = "__csv_file__"  # replaced by a small uploaded CSV

# ================================================================ pages

row("GET /", public=True, everyone=200)
row("GET /healthz", public=True, everyone=200)
row("GET /accounts/login/", public=True, everyone=302, anonymous=200)
row("POST /accounts/login/", body={"username": "nobody", "password": "wrong"}, public=True, everyone=302, anonymous=200)
row("POST /accounts/logout/", everyone=302)
row("GET /accounts/register/", public=True, everyone=302, anonymous=200)
row("POST /accounts/register/", body={}, public=True, everyone=302, anonymous=200)
row("GET /accounts/login/sms/", public=True, everyone=302, anonymous=200)
row("POST /accounts/login/sms/", body={}, public=True, everyone=302, anonymous=200)
row("POST /accounts/code/", body={"phone": "13900000001"}, public=True, everyone=200)
row("POST /accounts/register/code/", body={"phone": "13900000001"}, public=True, everyone=200)
row("GET /accounts/password/reset/", public=True, everyone=200)
row("POST /accounts/password/reset/", body={}, public=True, everyone=200)
row("GET /accounts/password/reset/new/", public=True, everyone=302)
row("POST /accounts/password/reset/new/", body={}, public=True, everyone=302)
row("GET /accounts/identity/", everyone=403, anonymous=LOGIN, residents=302)
row("POST /accounts/identity/", body={}, everyone=403, anonymous=LOGIN, residents=302)
row("GET /accounts/profile/", everyone=200, anonymous=LOGIN)
row("GET /accounts/district/", everyone=403, anonymous=LOGIN, residents=200)
row("POST /accounts/district/", body={"district": "110108"}, everyone=403, anonymous=LOGIN, residents=ALLOWED)
row("GET /accounts/organisations/", everyone=200, anonymous=LOGIN, outsider=403, residents=403)
row("GET /accounts/organisations/new/", everyone=403, anonymous=LOGIN, admin=200)
row("POST /accounts/organisations/new/", body={}, everyone=403, anonymous=LOGIN, admin=200)
row(
    "GET /accounts/organisations/{pk}/",
    url="/accounts/organisations/{merchant}/",
    everyone=404,
    anonymous=LOGIN,
    merchant_staff=200,
    government=200,
    other_district_reviewer=404,
)
row("GET /oversight/audit/", everyone=403, anonymous=LOGIN, oversight=200)
row("GET /programmes/", public=True, everyone=200)
row("GET /programmes/{code}/", url="/programmes/{programme}/", public=True, everyone=200)
row("POST /programmes/{code}/", url="/programmes/{programme}/", body={}, public=True, everyone=200)
row("GET /policy/programmes/", everyone=403, anonymous=LOGIN, government=200)
row(
    "GET /policy/programmes/{code}/",
    url="/policy/programmes/{programme}/",
    everyone=403,
    anonymous=LOGIN,
    government=200,
)
row(
    "POST /policy/programmes/{code}/budget/",
    url="/policy/programmes/{programme}/budget/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    finance=ALLOWED,
    admin=ALLOWED,
)
row(
    "POST /policy/programmes/{code}/status/",
    url="/policy/programmes/{programme}/status/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "GET /policy/programmes/{code}/versions/new/",
    url="/policy/programmes/{programme}/versions/new/",
    everyone=403,
    anonymous=LOGIN,
    reviewer=200,
    admin=200,
)
row(
    "POST /policy/programmes/{code}/versions/new/",
    url="/policy/programmes/{programme}/versions/new/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "GET /policy/programmes/{code}/versions/{number}/",
    url="/policy/programmes/{programme}/versions/{rule_set}/",
    everyone=403,
    anonymous=LOGIN,
    government=200,
)
row(
    "POST /policy/programmes/{code}/versions/{number}/",
    url="/policy/programmes/{programme}/versions/{rule_set}/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row("GET /measures/", public=True, everyone=200)
row("GET /measures/{number}/", url="/measures/{measure}/", public=True, everyone=200)
row(
    "POST /measures/{number}/",
    url="/measures/{measure}/",
    body={"unit": "{unit}", "period": "2026-11", "narrative": "进展顺利"},
    everyone=403,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row("GET /catalogue/", public=True, everyone=200)
row("GET /catalogue/products/{pk}/", url="/catalogue/products/{product}/", public=True, everyone=200)
row("GET /catalogue/imports/", everyone=403, anonymous=LOGIN, reviewers=200, admin=200)
row("POST /catalogue/imports/", body={}, everyone=403, anonymous=LOGIN, reviewers=ALLOWED, admin=ALLOWED)
row("GET /catalogue/imports/template.xlsx", everyone=403, anonymous=LOGIN, reviewers=200, admin=200)
row("GET /catalogue/imports/{pk}/", url="/catalogue/imports/{import}/", everyone=404, anonymous=LOGIN, government=200)
row(
    "GET /catalogue/imports/{pk}/report.xlsx",
    url="/catalogue/imports/{import}/report.xlsx",
    everyone=404,
    anonymous=LOGIN,
    government=200,
)
row("GET /catalogue/prices/", everyone=403, anonymous=LOGIN, merchant_staff=200, other_merchant_staff=200)
row(
    "POST /catalogue/prices/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    merchant_staff=ALLOWED,
    other_merchant_staff=ALLOWED,
)
row(
    "GET /catalogue/prices/products/",
    url="/catalogue/prices/products/?q=BCD",
    everyone=403,
    anonymous=LOGIN,
    merchant_staff=200,
    other_merchant_staff=200,
)
row("GET /catalogue/price-rules/", everyone=403, anonymous=LOGIN, government=200)
row("POST /catalogue/price-rules/", body={}, everyone=403, anonymous=LOGIN, admin=ALLOWED)
row("GET /me/subsidies/", everyone=403, anonymous=LOGIN, residents=200)
row("GET /me/subsidies/claim/", everyone=403, anonymous=LOGIN, residents=200)
row("POST /me/subsidies/claim/", body={}, everyone=403, anonymous=LOGIN, residents=ALLOWED)
row(
    "GET /me/subsidies/claim/categories/",
    url="/me/subsidies/claim/categories/?programme={programme}",
    everyone=403,
    anonymous=LOGIN,
    residents=200,
)
row(
    "GET /me/subsidies/{pk}/",
    url="/me/subsidies/{qualification}/",
    everyone=404,
    anonymous=LOGIN,
    consumer=200,
    chaoyang_oversight=200,
)
row(
    "POST /me/subsidies/{pk}/cancel/",
    url="/me/subsidies/{qualification}/cancel/",
    body={},
    everyone=404,
    anonymous=LOGIN,
    consumer=ALLOWED,
    chaoyang_oversight=403,
)
row("GET /merchant/", everyone=403, anonymous=LOGIN, merchant_staff=200, other_merchant_staff=200)
row("GET /merchant/redeem/", everyone=403, anonymous=LOGIN, merchant_staff=200, other_merchant_staff=200)
row(
    "POST /merchant/redeem/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    merchant_staff=ALLOWED,
    other_merchant_staff=ALLOWED,
)
row(
    "GET /merchant/redeem/lookup/",
    url="/merchant/redeem/lookup/?code={qualification_code}",
    everyone=403,
    anonymous=LOGIN,
    merchant_staff=200,
    other_merchant_staff=200,
)
row("GET /merchant/sales/", everyone=403, anonymous=LOGIN, merchant_staff=200, other_merchant_staff=200)
row(
    "GET /merchant/sales/export.{file_format}",
    url="/merchant/sales/export.csv",
    everyone=403,
    anonymous=LOGIN,
    merchant_staff=200,
    other_merchant_staff=200,
)
row(
    "GET /merchant/redemptions/{pk}/",
    url="/merchant/redemptions/{sale}/",
    everyone=403,
    anonymous=LOGIN,
    merchant_staff=200,
    other_merchant_staff=404,
)
row(
    "POST /merchant/redemptions/{pk}/",
    url="/merchant/redemptions/{sale}/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    merchant_staff=ALLOWED,
    other_merchant_staff=404,
)
row("GET /merchant/enrolment/", everyone=403, anonymous=LOGIN, manager=200, other_manager=200)
row("POST /merchant/enrolment/", body={}, everyone=403, anonymous=LOGIN, manager=ALLOWED, other_manager=ALLOWED)
row("GET /subsidies/board/", everyone=403, anonymous=LOGIN, government=200)
row("GET /subsidies/search/", everyone=403, anonymous=LOGIN, oversight=200)
row(
    "POST /subsidies/search/",
    body={"q": "{qualification_code}"},
    echoes=("qualification code",),
    everyone=403,
    anonymous=LOGIN,
    oversight=200,
)
row("GET /subsidies/enrolments/", everyone=403, anonymous=LOGIN, oversight=200)
row("POST /subsidies/enrolments/", body={}, everyone=403, anonymous=LOGIN, oversight=200)
row("GET /subsidies/holds/", everyone=403, anonymous=LOGIN, oversight=200)
row(
    "POST /subsidies/holds/",
    body={"hold": "{hold}", "action": "clear", "note": "核实"},
    everyone=403,
    anonymous=LOGIN,
    district_reviewer=ALLOWED,
    reviewer=ALLOWED,
    other_district_reviewer=404,
)
row("GET /merchant/statement/", everyone=403, anonymous=LOGIN, manager=200, other_manager=200)
row("GET /finance/", everyone=403, anonymous=LOGIN, finance_readers=200)
row("GET /finance/periods/", everyone=403, anonymous=LOGIN, finance_readers=200)
row(
    "POST /finance/periods/",
    body={"period": "{period}"},
    everyone=403,
    anonymous=LOGIN,
    finance_readers=BACK,
    finance=ALLOWED,
)
row(
    "GET /finance/periods/{pk}/reconciliation/",
    url="/finance/periods/{period}/reconciliation/",
    everyone=403,
    anonymous=LOGIN,
    finance_readers=200,
)
row("GET /finance/batches/", everyone=403, anonymous=LOGIN, finance_readers=200)
row("GET /finance/payables/", everyone=403, anonymous=LOGIN, finance_readers=200)
row(
    "POST /finance/batches/",
    body={"programme": "{programme}"},
    everyone=403,
    anonymous=LOGIN,
    finance_readers=BACK,
    finance=ALLOWED,
)
row(
    "GET /finance/batches/{number}/",
    url="/finance/batches/{batch}/",
    everyone=403,
    anonymous=LOGIN,
    finance_readers=200,
)
row(
    "POST /finance/batches/{number}/approve/",
    url="/finance/batches/{batch}/approve/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    finance_readers=BACK,
    finance=ALLOWED,
)
row(
    "POST /finance/batches/{number}/results/",
    url="/finance/batches/{batch}/results/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    finance_readers=BACK,
    finance=ALLOWED,
)
row(
    "GET /finance/batches/{number}/file.{file_format}",
    url="/finance/batches/{batch}/file.csv",
    everyone=403,
    anonymous=LOGIN,
    finance=404,
)
row("GET /verify/", url="/verify/?code={item}", public=True, everyone=302)
row("GET /verify/{code}/", url="/verify/{item}/", public=True, everyone=200)
row("GET /8004/{giai}", url="/8004/{item}", public=True, everyone=302)
row("GET /trace/public-key.pem", public=True, everyone=200)
row("GET /trace/workspace/", everyone=403, anonymous=LOGIN, trace_recorders=200)
row("POST /trace/workspace/", body={}, everyone=403, anonymous=LOGIN, trace_recorders=ALLOWED)
row("POST /trace/commission/", body={}, everyone=403, anonymous=LOGIN, trace_recorders=ALLOWED)
row("POST /trace/pickup/", body={}, everyone=403, anonymous=LOGIN, trace_recorders=ALLOWED)
row(
    "GET /trace/labels.pdf",
    url="/trace/labels.pdf?code={item}",
    public=True,
    everyone=403,
    anonymous=LOGIN,
    trace_recorders=200,
)
row("GET /trace/label/{code}.png", url="/trace/label/{item}.png", public=True, everyone=200)
row("GET /trace/staff/", everyone=403, anonymous=LOGIN, oversight=200)
row("GET /vehicles/", everyone=403, anonymous=LOGIN, oversight=200)
row(
    "POST /vehicles/",
    body={"vin": "{vin}"},
    echoes=("vin",),
    everyone=403,
    anonymous=LOGIN,
    chaoyang_oversight=200,
    other_district_reviewer=404,
)
row("GET /vehicles/imports/", everyone=403, anonymous=LOGIN, reviewer=200, admin=200)
row("POST /vehicles/imports/", body={}, everyone=403, anonymous=LOGIN, reviewer=ALLOWED, admin=ALLOWED)
row(
    "GET /vehicles/imports/{pk}/",
    url="/vehicles/imports/{vehicle_import}/",
    everyone=404,
    anonymous=LOGIN,
    reviewer=200,
    supervisor=200,
    auditor=200,
    admin=200,
)
row("GET /vehicles/scrapping/", everyone=403, anonymous=LOGIN, oversight=200)
row("GET /vehicles/certificates/", everyone=403, anonymous=LOGIN, scrappers=200)
row("POST /vehicles/certificates/", body={}, everyone=403, anonymous=LOGIN, scrappers=ALLOWED)
row(
    "GET /vehicles/certificates/{pk}/",
    url="/vehicles/certificates/{certificate}/",
    everyone=403,
    anonymous=LOGIN,
    scrappers=200,
)
row(
    "POST /vehicles/certificates/{pk}/assemblies/",
    url="/vehicles/certificates/{certificate}/assemblies/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    scrappers=ALLOWED,
)
row(
    "POST /vehicles/certificates/{pk}/batteries/",
    url="/vehicles/certificates/{certificate}/batteries/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    scrappers=ALLOWED,
)
# An empty body: the issuing enterprise reaches the service's refusal (422) and revokes nothing.
row(
    "POST /vehicles/certificates/{pk}/revoke/",
    url="/vehicles/certificates/{certificate}/revoke/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    scrappers=ALLOWED,
)
# Reverse invoicing (反向开票): the issuers' pages; 通州回收 ("recycler") issued the world's invoice.
INVOICE = "/recycling/invoices/{reverse_invoice}/"
row("GET /recycling/invoices/", everyone=403, anonymous=LOGIN, reverse_invoicers=200)
row("POST /recycling/invoices/", body={}, everyone=403, anonymous=LOGIN, reverse_invoicers=ALLOWED)
row("GET /recycling/invoices/{pk}/", url=INVOICE, everyone=403, anonymous=LOGIN, reverse_invoicers=404, recycler=200)
row(
    "POST /recycling/invoices/{pk}/void/",
    url=f"{INVOICE}void/",
    body={},
    everyone=403,
    anonymous=LOGIN,
    reverse_invoicers=404,
    recycler=ALLOWED,
)
row(
    "GET /recycling/invoices/{pk}/pdf/",
    url=f"{INVOICE}pdf/",
    everyone=403,
    anonymous=LOGIN,
    reverse_invoicers=404,
    recycler=200,
)
row(
    "GET /recycling/invoices/{pk}/export/",
    url=f"{INVOICE}export/",
    everyone=403,
    anonymous=LOGIN,
    reverse_invoicers=404,
    recycler=200,
)
row("GET /recycling/summary/", everyone=403, anonymous=LOGIN, reverse_invoicers=200)
row("GET /recycling/tax-numbers/", everyone=403, anonymous=LOGIN, reverse_invoicers=200)
row(
    "POST /recycling/tax-numbers/",
    body={"file": CSV_FILE},
    content_type="multipart/form-data",
    everyone=403,
    anonymous=LOGIN,
    reverse_invoicers=ALLOWED,
)
# A resident's own invoices and headroom.
row("GET /recycling/mine/", everyone=403, anonymous=LOGIN, residents=200)
row(
    "GET /recycling/mine/{pk}/pdf/",
    url="/recycling/mine/{reverse_invoice}/pdf/",
    everyone=403,
    anonymous=LOGIN,
    consumer=200,
    other_consumer=404,
)
# The recycling network: the finder is public; an operator manages its own sites only.
row("GET /recycling/network/", public=True, everyone=200)
row("GET /recycling/network/sites/", everyone=403, anonymous=LOGIN, network_staff=200)
row("POST /recycling/network/sites/", body={}, everyone=403, anonymous=LOGIN, network_staff=ALLOWED)
row(
    "POST /recycling/network/sites/{pk}/active/",
    url="/recycling/network/sites/{network_site}/active/",
    body={"active": "1"},
    everyone=403,
    anonymous=LOGIN,
    network_staff=404,
    recycler=ALLOWED,
)
# The certificate's QR code lands here: anyone, signed in or not; it shows no owner.
row("GET /vehicles/check/", public=True, everyone=200)
row("GET /vehicles/check/{number}/", url="/vehicles/check/{certificate_number}/", public=True, everyone=200)
# Car subsidy applications: the consumer's own (Chaoyang); reviewers of Chaoyang or the city act on it.
CAR = "/vehicles/applications/{car_application}/"
row("GET /vehicles/applications/", everyone=200, anonymous=LOGIN)
row("GET /vehicles/applications/new/", everyone=403, anonymous=LOGIN, residents=200)
row("POST /vehicles/applications/new/", body={}, everyone=403, anonymous=LOGIN, residents=ALLOWED)
row("GET /vehicles/applications/prepare/", everyone=403, anonymous=LOGIN, car_dealer=200, scrapper=200)
row(
    "POST /vehicles/applications/prepare/", body={}, everyone=403, anonymous=LOGIN, car_dealer=ALLOWED, scrapper=ALLOWED
)
row("GET /vehicles/applications/queue/", everyone=403, anonymous=LOGIN, reviewers=200)
# Operating-truck renewal (bj-truck-2024): a declaring enterprise's declarants apply for their own enterprise.
row("GET /vehicles/applications/trucks/", everyone=403, anonymous=LOGIN, declarant=200)
row("GET /vehicles/applications/trucks/new/", everyone=403, anonymous=LOGIN, declarant=200)
row("POST /vehicles/applications/trucks/new/", body={}, everyone=403, anonymous=LOGIN, declarant=ALLOWED)
# Legal-clock flags: reviewers (their districts; city-wide all) and finance officers (the pay stage only).
row("GET /vehicles/applications/clock-flags/", everyone=403, anonymous=LOGIN, reviewers=200, finance=200)
# Retroactive top-ups: city-wide reviewers (the municipal reviewer and the administrator) only.
row("GET /vehicles/top-ups/", everyone=403, anonymous=LOGIN, reviewer=200, admin=200)
row("POST /vehicles/top-ups/", body={}, everyone=403, anonymous=LOGIN, reviewer=ALLOWED, admin=ALLOWED)
row(
    "GET /vehicles/applications/{pk}/",
    url=CAR,
    everyone=404,
    anonymous=LOGIN,
    consumer=200,
    district_reviewer=200,
    reviewer=200,
)
row(
    "GET /vehicles/applications/{pk}/evidence/{evidence_id}/",
    url=CAR + "evidence/{car_evidence}/",
    everyone=404,
    anonymous=LOGIN,
    consumer=200,
    district_reviewer=200,
    reviewer=200,
)
for action in ("upload", "supplied", "reconsider", "confirm", "account"):
    # The applicant's own verbs: reviewers see the application but may not act as its applicant.
    row(
        f"POST /vehicles/applications/{{pk}}/{action}/",
        url=CAR + f"{action}/",
        body={},
        everyone=404,
        anonymous=LOGIN,
        consumer=ALLOWED,
        district_reviewer=403,
        reviewer=403,
    )
for action in ("accept", "supplement", "decide"):
    row(
        f"POST /vehicles/applications/{{pk}}/{action}/",
        url=CAR + f"{action}/",
        body={},
        everyone=404,
        anonymous=LOGIN,
        consumer=403,
        district_reviewer=ALLOWED,
        reviewer=ALLOWED,
    )
row("GET /admin/", everyone=302)
row("GET /admin/login/", public=True, everyone=200)
row("POST /admin/login/", body={"username": "nobody", "password": "wrong"}, public=True, everyone=200)
row("GET /api/v1/", public=True, everyone=404)
row("GET /api/v1/docs", public=True, everyone=200)
row("GET /api/v1/openapi.json", public=True, everyone=200)

# ================================================================ API

row("GET /api/v1/audit", everyone=200, anonymous=401)
row(
    "GET /api/v1/calendar/working-days",
    url="/api/v1/calendar/working-days?start=2026-12-01&days=3",
    public=True,
    everyone=200,
)
row("GET /api/v1/accounts/districts", public=True, everyone=200)
row("POST /api/v1/accounts/phone-codes", body={"phone": "13900000001"}, public=True, everyone=202)
row(
    "POST /api/v1/accounts/residents",
    body={"phone": "13900000001", "code": "123456", "password": "Str0ng-test-password"},
    public=True,
    everyone=422,
)
row(
    "POST /api/v1/accounts/me/identity",
    body={"name": "张三", "resident_id": "{resident_id}"},
    everyone=403,
    anonymous=401,
    residents=ALLOWED,
)
row("POST /api/v1/accounts/me/district", body={"district": "110108"}, everyone=403, anonymous=401, residents=ALLOWED)
row("GET /api/v1/accounts/me", everyone=200, anonymous=401)
row("GET /api/v1/accounts/organisations", everyone=200, anonymous=401)
row(
    "POST /api/v1/accounts/organisations",
    body={"name": "新设机构", "kind": "merchant", "uscc": "{uscc}", "district": "110105"},
    everyone=403,
    anonymous=401,
    admin=201,
)
row(
    "GET /api/v1/accounts/organisations/{organisation_id}",
    url="/api/v1/accounts/organisations/{merchant}",
    everyone=404,
    anonymous=401,
    merchant_staff=200,
    merchant_tokens=200,
    government=200,
    other_district_reviewer=404,
    finance_token=200,
)
row(
    "POST /api/v1/accounts/organisations/{organisation_id}/tokens",
    url="/api/v1/accounts/organisations/{merchant}/tokens",
    body={"name": "新收银台"},
    everyone=404,
    anonymous=401,
    clerk=403,
    clerk_token=403,
    government=403,
    finance_token=403,
    other_district_reviewer=404,
    manager=201,
    manager_token=201,
    admin=ALLOWED,
)
row(
    "POST /api/v1/accounts/tokens/{token_id}/revoke",
    url="/api/v1/accounts/tokens/{token}/revoke",
    everyone=403,
    anonymous=401,
    merchant_staff=200,
    merchant_tokens=200,
    admin=200,
)
row("GET /api/v1/programmes", public=True, everyone=200)
row("GET /api/v1/programmes/{code}", url="/api/v1/programmes/{programme}", public=True, everyone=200)
row(
    "POST /api/v1/programmes/{code}/quote",
    url="/api/v1/programmes/{programme}/quote",
    body={"category": "fridge", "price_fen": 300000, "energy_grade": 1},
    public=True,
    everyone=200,
)
row(
    "GET /api/v1/programmes/{code}/budget",
    url="/api/v1/programmes/{programme}/budget",
    everyone=403,
    anonymous=401,
    government=200,
    finance_token=200,
)
row(
    "PUT /api/v1/programmes/{code}/budget",
    url="/api/v1/programmes/{programme}/budget",
    body={"total_fen": 10_000_000, "allocations": {"110105": 10_000_000}},
    everyone=403,
    anonymous=401,
    finance=200,
    finance_token=200,
    admin=200,
)
row(
    "POST /api/v1/programmes/{code}/status",
    url="/api/v1/programmes/{programme}/status",
    body={"status": "open"},
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "GET /api/v1/programmes/{code}/rule-sets",
    url="/api/v1/programmes/{programme}/rule-sets",
    everyone=403,
    anonymous=401,
    government=200,
    finance_token=200,
)
row(
    "POST /api/v1/programmes/{code}/rule-sets",
    url="/api/v1/programmes/{programme}/rule-sets",
    body={"content": "{rule_set_content}", "note": "矩阵"},
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "GET /api/v1/programmes/{code}/rule-sets/{number}/preview",
    url="/api/v1/programmes/{programme}/rule-sets/{rule_set}/preview",
    everyone=403,
    anonymous=401,
    government=200,
    finance_token=200,
)
row(
    "POST /api/v1/programmes/{code}/rule-sets/{number}/approve",
    url="/api/v1/programmes/{programme}/rule-sets/{rule_set}/approve",
    body={"note": "同意"},
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "POST /api/v1/programmes/{code}/rule-sets/{number}/reject",
    url="/api/v1/programmes/{programme}/rule-sets/{rule_set}/reject",
    body={"note": "退回"},
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row("GET /api/v1/measures", public=True, everyone=200)
row(
    "GET /api/v1/measures/{number}/reports",
    url="/api/v1/measures/{measure}/reports",
    everyone=403,
    anonymous=401,
    government=200,
    finance_token=200,
)
row(
    "POST /api/v1/measures/{number}/reports",
    url="/api/v1/measures/{measure}/reports",
    body={"unit": "{unit}", "period": "2026-11", "narrative": "进展顺利"},
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row("GET /api/v1/catalogue/products", public=True, everyone=200)
row(
    "GET /api/v1/catalogue/products/{product_id}",
    url="/api/v1/catalogue/products/{product}",
    public=True,
    everyone=200,
)
row(
    "POST /api/v1/catalogue/products/import",
    body={"file": CSV_FILE},
    content_type="multipart/form-data",
    everyone=403,
    anonymous=401,
    reviewers=ALLOWED,
    admin=ALLOWED,
)
row(
    "GET /api/v1/catalogue/imports/{import_id}",
    url="/api/v1/catalogue/imports/{import}",
    everyone=404,
    anonymous=401,
    government=200,
    finance_token=200,
)
row(
    "POST /api/v1/catalogue/prices",
    body={"merchant_id": "{merchant}", "product_id": "{tv}", "price_fen": 300_000, "effective_from": TODAY},
    everyone=403,
    anonymous=401,
    merchant_staff=ALLOWED,
    merchant_tokens=ALLOWED,
)
row("GET /api/v1/catalogue/prices", everyone=200, anonymous=401)
row("GET /api/v1/subsidies/qualifications", everyone=200, anonymous=401)
row(
    "POST /api/v1/subsidies/qualifications",
    body={"programme": "{programme}", "category": "ac"},
    everyone=403,
    anonymous=401,
    residents=ALLOWED,
)
row(
    "GET /api/v1/subsidies/qualifications/{qualification_id}",
    url="/api/v1/subsidies/qualifications/{qualification}",
    everyone=404,
    anonymous=401,
    consumer=200,
    chaoyang_oversight=200,
)
row(
    "POST /api/v1/subsidies/qualifications/{qualification_id}/cancel",
    url="/api/v1/subsidies/qualifications/{qualification}/cancel",
    everyone=404,
    anonymous=401,
    consumer=200,
    chaoyang_oversight=403,
)
row("GET /api/v1/subsidies/refusals", everyone=200, anonymous=401, tokens=403)
row(
    "GET /api/v1/subsidies/lookup",
    url="/api/v1/subsidies/lookup?code={qualification_code}",
    everyone=403,
    anonymous=401,
    merchant_staff=200,
    other_merchant_staff=200,
    merchant_tokens=200,
    dual_token=200,
)
SALE = {
    "code": "{qualification_code}",
    "store_id": "{store}",
    "product_id": "{tv}",
    "serial": "SN-MATRIX-NEW",
    "price_fen": 300_000,
}
row(
    "POST /api/v1/subsidies/redemptions/quote",
    body=SALE,
    everyone=403,
    anonymous=401,
    merchant_staff=200,
    merchant_tokens=200,
)
row(
    "POST /api/v1/subsidies/redemptions",
    body={**SALE, "confirmed_subsidy_fen": 45_000},
    everyone=403,
    anonymous=401,
    merchant_staff=ALLOWED,
    merchant_tokens=ALLOWED,
)
row("GET /api/v1/subsidies/redemptions", everyone=200, anonymous=401)
row(
    "POST /api/v1/subsidies/redemptions/{redemption_id}/returns/preview",
    url="/api/v1/subsidies/redemptions/{sale}/returns/preview",
    body={"kind": "full"},
    everyone=404,
    anonymous=401,
    merchant_staff=200,
    merchant_tokens=200,
    chaoyang_oversight=403,
)
row(
    "POST /api/v1/subsidies/redemptions/{redemption_id}/returns",
    url="/api/v1/subsidies/redemptions/{sale}/returns",
    body={"kind": "full", "reason": "退货"},
    everyone=404,
    anonymous=401,
    merchant_staff=ALLOWED,
    merchant_tokens=ALLOWED,
    chaoyang_oversight=403,
)
row(
    "GET /api/v1/subsidies/stores",
    everyone=403,
    anonymous=401,
    merchant_staff=200,
    other_merchant_staff=200,
    merchant_tokens=200,
    dual_token=200,
)
row(
    "POST /api/v1/subsidies/stores",
    body={"merchant_id": "{merchant}", "name": "朝阳二店", "address": "北京市朝阳区测试路2号", "district": "110105"},
    everyone=403,
    anonymous=401,
    manager=201,
    manager_token=201,
)
row("GET /api/v1/subsidies/enrolments", everyone=200, anonymous=401)
row(
    "POST /api/v1/subsidies/enrolments",
    body={
        "merchant_id": "{merchant}",
        "programme": "{programme}",
        "categories": ["fridge"],
        "store_ids": ["{store}"],
        "bank_name": "演示银行",
        "account_name": "朝阳家电",
        "bank_account": "6222021234567890123",
        "contact_name": "周经理",
        "contact_phone": "13800000000",
    },
    everyone=403,
    anonymous=401,
    manager=ALLOWED,
    manager_token=ALLOWED,
)
row(
    "POST /api/v1/subsidies/enrolments/{enrolment_id}/decision",
    url="/api/v1/subsidies/enrolments/{enrolment}/decision",
    body={"action": "approve", "note": "同意"},
    everyone=404,
    anonymous=401,
    merchant_staff=403,
    merchant_tokens=403,
    chaoyang_oversight=403,
    district_reviewer=ALLOWED,
    reviewer=ALLOWED,
)
row(
    "POST /api/v1/subsidies/rounds",
    body={"programme": "{programme}", "name": "第二轮", "opens_at": "2026-12-20T10:00:00+08:00"},
    everyone=403,
    anonymous=401,
    reviewer=201,
    admin=201,
)
row("GET /api/v1/subsidies/rounds", url="/api/v1/subsidies/rounds?programme={programme}", public=True, everyone=200)
row("GET /api/v1/subsidies/burn", everyone=403, anonymous=401, government=200, finance_token=200)
row("GET /api/v1/subsidies/holds", everyone=200, anonymous=401)
row(
    "POST /api/v1/subsidies/holds/{hold_id}/clear",
    url="/api/v1/subsidies/holds/{hold}/clear",
    body={"note": "核实"},
    everyone=404,
    anonymous=401,
    merchant_staff=403,
    merchant_tokens=403,
    chaoyang_oversight=403,
    district_reviewer=200,
    reviewer=200,
)
row(
    "POST /api/v1/subsidies/holds/{hold_id}/reject",
    url="/api/v1/subsidies/holds/{hold}/reject",
    body={"note": "价格异常"},
    everyone=404,
    anonymous=401,
    merchant_staff=403,
    merchant_tokens=403,
    chaoyang_oversight=403,
    district_reviewer=200,
    reviewer=200,
)
row("GET /api/v1/settlement/periods", everyone=403, anonymous=401, finance_readers=200, finance_token=200)
row(
    "POST /api/v1/settlement/periods/{period_id}/close",
    url="/api/v1/settlement/periods/{period}/close",
    everyone=403,
    anonymous=401,
    finance=ALLOWED,
    finance_token=ALLOWED,
)
row("GET /api/v1/settlement/payables", everyone=200, anonymous=401)
row("GET /api/v1/settlement/payees", everyone=403, anonymous=401, finance_readers=200, finance_token=200)
row("GET /api/v1/settlement/unmatched", everyone=403, anonymous=401, finance_readers=200, finance_token=200)
row("GET /api/v1/settlement/batches", everyone=403, anonymous=401, finance_readers=200, finance_token=200)
row(
    "POST /api/v1/settlement/batches",
    body={"programme": "{programme}"},
    everyone=403,
    anonymous=401,
    finance=ALLOWED,
    finance_token=ALLOWED,
)
row(
    "GET /api/v1/settlement/batches/{number}",
    url="/api/v1/settlement/batches/{batch}",
    everyone=403,
    anonymous=401,
    finance_readers=200,
    finance_token=200,
)
row(
    "GET /api/v1/settlement/batches/{number}/lines",
    url="/api/v1/settlement/batches/{batch}/lines",
    everyone=403,
    anonymous=401,
    finance_readers=200,
    finance_token=200,
)
row(
    "POST /api/v1/settlement/batches/{number}/approve",
    url="/api/v1/settlement/batches/{batch}/approve",
    everyone=403,
    anonymous=401,
    finance=200,
    finance_token=200,
)
row(
    "GET /api/v1/settlement/batches/{number}/file.{file_format}",
    url="/api/v1/settlement/batches/{batch}/file.csv",
    everyone=403,
    anonymous=401,
    finance=404,
    finance_token=404,
)
row(
    "POST /api/v1/settlement/batches/{number}/results",
    url="/api/v1/settlement/batches/{batch}/results",
    body={"file": CSV_FILE},
    content_type="multipart/form-data",
    everyone=403,
    anonymous=401,
    finance=ALLOWED,
    finance_token=ALLOWED,
)
row("GET /api/v1/settlement/sla", everyone=403, anonymous=401, finance_readers=200, finance_token=200)
row(
    "POST /api/v1/trace/events/batch",
    body={"events": [{"kind": "commission", "codes": ["{new_code}"], "event_time": "{now}", "category": "fridge"}]},
    everyone=403,
    anonymous=401,
    trace_recorders=ALLOWED,
    trace_tokens=ALLOWED,
)
row(
    "POST /api/v1/trace/events",
    body={"kind": "commission", "codes": ["{new_code}"], "event_time": "{now}", "category": "fridge"},
    everyone=403,
    anonymous=401,
    trace_recorders=ALLOWED,
    trace_tokens=ALLOWED,
)
row(
    "POST /api/v1/trace/pickups",
    body={"category": "fridge"},
    everyone=403,
    anonymous=401,
    recycler=201,
    other_recycler=201,
    recycler_token=201,
)
row(
    "POST /api/v1/trace/take-backs/{take_back_id}/commission",
    url="/api/v1/trace/take-backs/{take_back}/commission",
    everyone=404,
    anonymous=401,
    merchant_staff=200,
    merchant_tokens=200,
)
row("GET /api/v1/trace/items", everyone=403, anonymous=401, trace_recorders=200, trace_tokens=200)
row("GET /api/v1/trace/verify/{code}", url="/api/v1/trace/verify/{item}", public=True, everyone=200)
row(
    "GET /api/v1/trace/items/{code}/label.{file_format}",
    url="/api/v1/trace/items/{item}/label.svg",
    public=True,
    everyone=200,
)
row("POST /api/v1/trace/labels.pdf", body={"codes": ["{item}"]}, public=True, everyone=200, anonymous=401)
row("GET /api/v1/trace/checkpoints", public=True, everyone=200)
row("GET /api/v1/trace/public-key", public=True, everyone=200)
row("GET /api/v1/trace/epcis/items/{code}", url="/api/v1/trace/epcis/items/{item}", public=True, everyone=200)
row(
    "GET /api/v1/trace/epcis/events",
    sees=("other_district_reviewer",),
    everyone=403,
    anonymous=401,
    trace_recorders=200,
    trace_tokens=200,
    oversight=200,
)
row(
    "POST /api/v1/trace/epcis/import",
    body={"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument"},
    content_type="application/ld+json",
    everyone=403,
    anonymous=401,
    trace_recorders=ALLOWED,
    trace_tokens=ALLOWED,
)
row(
    "POST /api/v1/vehicles/imports",
    body={"file": CSV_FILE},
    content_type="multipart/form-data",
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "GET /api/v1/vehicles/imports/{import_id}",
    url="/api/v1/vehicles/imports/{vehicle_import}",
    everyone=404,
    anonymous=401,
    reviewer=200,
    supervisor=200,
    auditor=200,
    admin=200,
)
row(
    "POST /api/v1/vehicles/search",
    body={"vin": "{vin}"},
    echoes=("vin",),
    everyone=403,
    anonymous=401,
    chaoyang_oversight=200,
    other_district_reviewer=404,
)
row("GET /api/v1/vehicles/scrapping-list", everyone=403, anonymous=401, oversight=200)
# A malformed VIN or an incomplete body: the scrapping enterprise is let through to the service's refusal (422),
# nobody else past the guard.
row(
    "POST /api/v1/vehicles/certificates",
    body={"vin": "LSV0", "owner_id_number": "1"},
    everyone=403,
    anonymous=401,
    scrappers=ALLOWED,
)
row("GET /api/v1/vehicles/certificates", everyone=403, anonymous=401, scrappers=200)
row(
    "GET /api/v1/vehicles/certificates/{certificate_id}",
    url="/api/v1/vehicles/certificates/{certificate}",
    everyone=403,
    anonymous=401,
    scrappers=200,
)
row(
    "POST /api/v1/vehicles/certificates/{certificate_id}/assemblies",
    url="/api/v1/vehicles/certificates/{certificate}/assemblies",
    body={"assemblies": []},
    everyone=403,
    anonymous=401,
    scrappers=ALLOWED,
)
row(
    "POST /api/v1/vehicles/certificates/{certificate_id}/batteries",
    url="/api/v1/vehicles/certificates/{certificate}/batteries",
    body={"battery_code": "X", "recycler_id": 1},
    everyone=403,
    anonymous=401,
    scrappers=ALLOWED,
)
row(
    "POST /api/v1/vehicles/certificates/{certificate_id}/revoke",
    url="/api/v1/vehicles/certificates/{certificate}/revoke",
    body={"reason": "not-a-reason"},
    everyone=403,
    anonymous=401,
    scrappers=ALLOWED,
)
row(
    "GET /api/v1/vehicles/certificates/check/{number}",
    url="/api/v1/vehicles/certificates/check/{certificate_number}",
    public=True,
    everyone=200,
)
# The recycling network's API: the public finder, and an operator's own sites (a well-formed body the service
# refuses field by field, so nothing is written).
row("GET /api/v1/recycling/network/sites", public=True, everyone=200)
row("GET /api/v1/recycling/network/my-sites", everyone=403, anonymous=401, network_staff=200)
row(
    "POST /api/v1/recycling/network/my-sites",
    body={
        "kind": "x",
        "name": "",
        "district": "",
        "address": "",
        "opening_hours": "",
        "categories": [],
        "capacity_per_month": 0,
        "licence_id": 0,
    },
    everyone=403,
    anonymous=401,
    network_staff=ALLOWED,
)
row(
    "POST /api/v1/recycling/network/my-sites/{site_id}/active",
    url="/api/v1/recycling/network/my-sites/{network_site}/active",
    body={"active": True},
    everyone=403,
    anonymous=401,
    network_staff=404,
    site_operator=200,
)
# Reverse invoicing (反向开票): 通州回收 ("recycler") issued the world's invoice, to the consumer.
INVOICE_API = "/api/v1/recycling/invoices/{reverse_invoice}"
row(
    "POST /api/v1/recycling/invoices",
    body={
        "seller_name": "矩阵卖方",
        "seller_id_number": "1",
        "items": [{"name": "废钢", "weight_g": 1, "price_fen": 1}],
    },
    everyone=403,
    anonymous=401,
    reverse_invoicers=ALLOWED,
)
row("GET /api/v1/recycling/invoices", everyone=403, anonymous=401, reverse_invoicers=200)
row(
    "GET /api/v1/recycling/invoices/{invoice_id}",
    url=INVOICE_API,
    everyone=403,
    anonymous=401,
    reverse_invoicers=404,
    invoice_issuer=200,
)
# An empty reason: the issuer reaches the service's refusal (422); another issuer does not find the invoice.
row(
    "POST /api/v1/recycling/invoices/{invoice_id}/void",
    url=f"{INVOICE_API}/void",
    body={"reason": ""},
    everyone=403,
    anonymous=401,
    reverse_invoicers=404,
    invoice_issuer=ALLOWED,
)
row(
    "GET /api/v1/recycling/invoices/{invoice_id}/pdf",
    url=f"{INVOICE_API}/pdf",
    everyone=403,
    anonymous=401,
    reverse_invoicers=404,
    invoice_issuer=200,
)
row(
    "GET /api/v1/recycling/invoices/{invoice_id}/tax-document",
    url=f"{INVOICE_API}/tax-document",
    everyone=403,
    anonymous=401,
    reverse_invoicers=404,
    invoice_issuer=200,
)
row(
    "GET /api/v1/recycling/summary",
    url=f"/api/v1/recycling/summary?month={TODAY[:7]}",
    everyone=403,
    anonymous=401,
    reverse_invoicers=200,
)
row(
    "POST /api/v1/recycling/tax-numbers",
    body={"file": CSV_FILE},
    content_type="multipart/form-data",
    everyone=403,
    anonymous=401,
    reverse_invoicers=ALLOWED,
)
# A resident's own invoices: signed in as themself (never through an organisation's token).
row("GET /api/v1/recycling/my-invoices", everyone=403, anonymous=401, residents=200)
row(
    "GET /api/v1/recycling/my-invoices/{invoice_id}/pdf",
    url="/api/v1/recycling/my-invoices/{reverse_invoice}/pdf",
    everyone=403,
    anonymous=401,
    consumer=200,
    other_consumer=404,
)
CAR_API = "/api/v1/vehicles/applications/{car_application}"
CAR_BODY = {
    "programme_code": "cn-car-scrap-2026",
    "old_vin": "{car_old_vin}",
    "new_vin": "{car_new_vin}",
    "certificate_number": "BF-MATRIX-1",
    "new_invoice_number": "FP-MATRIX",
    "new_car_price_fen": 15_000_000,
    "new_energy": "nev",
    "new_model_code": "BYD7152WT6HEVC3",
}
row("GET /api/v1/vehicles/applications", everyone=200, anonymous=401)
row(
    "POST /api/v1/vehicles/applications",
    body={**CAR_BODY, "bank_name": "中国银行", "account_number": "6216600100001234567"},
    everyone=403,
    anonymous=401,
    residents=ALLOWED,
)
row(
    "POST /api/v1/vehicles/applications/prepared",
    body={**CAR_BODY, "resident_id": "{resident_id}", "consent_note": "授权书"},
    everyone=403,
    anonymous=401,
    car_dealer=ALLOWED,
    scrappers=ALLOWED,
)
row("GET /api/v1/vehicles/applications/queue", everyone=403, anonymous=401, reviewers=200)
row("GET /api/v1/vehicles/applications/trucks", everyone=403, anonymous=401, declarant=200, declarant_token=200)
row(
    "POST /api/v1/vehicles/applications/trucks",
    body={
        "old_vin": "{car_old_vin}",
        "certificate_number": "BF-MATRIX-TRUCK",
        "bank_name": "中国银行",
        "account_number": "11001234567890",
    },
    everyone=403,
    anonymous=401,
    declarant=ALLOWED,
    declarant_token=ALLOWED,
)
row("GET /api/v1/vehicles/applications/clock-flags", everyone=403, anonymous=401, reviewers=200, finance=200)
row("GET /api/v1/vehicles/top-ups", everyone=403, anonymous=401, reviewer=200, admin=200)
row("GET /api/v1/vehicles/top-ups/owed", everyone=403, anonymous=401, reviewer=200, admin=200)
row(
    "POST /api/v1/vehicles/top-ups",
    body={"rule_version": 1},
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "POST /api/v1/vehicles/top-ups/{run_id}/approve",
    url="/api/v1/vehicles/top-ups/999999/approve",
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "POST /api/v1/vehicles/applications/nev-catalogue",
    body={"file": CSV_FILE},
    content_type="multipart/form-data",
    everyone=403,
    anonymous=401,
    reviewer=ALLOWED,
    admin=ALLOWED,
)
row(
    "GET /api/v1/vehicles/applications/{application_id}",
    url=CAR_API,
    everyone=404,
    anonymous=401,
    consumer=200,
    district_reviewer=200,
    reviewer=200,
)
row(
    "GET /api/v1/vehicles/applications/{application_id}/evidence/{evidence_id}",
    url=CAR_API + "/evidence/{car_evidence}",
    everyone=404,
    anonymous=401,
    consumer=200,
    district_reviewer=200,
    reviewer=200,
)
row(
    "POST /api/v1/vehicles/applications/{application_id}/evidence",
    url=CAR_API + "/evidence",
    body={"kind": "id_card", "file": CSV_FILE},
    content_type="multipart/form-data",
    everyone=404,
    anonymous=401,
    consumer=ALLOWED,
    district_reviewer=403,
    reviewer=403,
)
CAR_APPLICANT_VERBS: tuple[tuple[str, Any], ...] = (
    ("confirm", {"bank_name": "中国银行", "account_number": "6216600100001234567"}),
    ("account", {"bank_name": "中国银行", "account_number": "6216600100001234567"}),
    ("supplied", None),
    ("reconsideration", {"note": "理由"}),
)
for action, body in CAR_APPLICANT_VERBS:
    row(
        f"POST /api/v1/vehicles/applications/{{application_id}}/{action}",
        url=CAR_API + f"/{action}",
        body=body,
        everyone=404,
        anonymous=401,
        consumer=ALLOWED,
        district_reviewer=403,
        reviewer=403,
    )
CAR_REVIEWER_VERBS: tuple[tuple[str, Any], ...] = (
    ("accept", None),
    ("supplement", {"note": "请补充新车登记证书", "due_on": "2099-01-01"}),
    ("checks", None),
    ("decision", {"approve": False, "reason_code": "other"}),
)
for action, body in CAR_REVIEWER_VERBS:
    row(
        f"POST /api/v1/vehicles/applications/{{application_id}}/{action}",
        url=CAR_API + f"/{action}",
        body=body,
        everyone=404,
        anonymous=401,
        consumer=403,
        district_reviewer=ALLOWED,
        reviewer=ALLOWED,
    )

ROWS: list[Row] = row.rows
