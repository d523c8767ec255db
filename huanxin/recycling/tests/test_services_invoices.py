from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from huanxin.accounts.models import Licence, OrganisationKind, Role
from huanxin.conftest import make_member, valid_resident_id
from huanxin.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.recycling import queries, services
from huanxin.recycling.models import InvoiceSequence, ReverseInvoice
from huanxin.recycling.tests.factories import SELLER_NAME, purchase, qualified_recycler, seller_id

pytestmark = pytest.mark.django_db

YUAN = 100
CEILING = 5_000_000 * YUAN


@pytest.fixture
def today() -> datetime.date:
    return timezone.localdate()


def _nothing_written() -> None:
    assert ReverseInvoice.objects.count() == 0
    assert not AuditEntry.objects.filter(action__startswith="recycling.").exists()
    assert not InvoiceSequence.objects.filter(last__gt=0).exists()


def test_a_purchase_issues_an_invoice_with_the_taxes_of_the_published_rules(today):
    issuer, staff = qualified_recycler()
    id_number = seller_id()
    invoice = purchase(staff, issuer, id_number, 12_345 * YUAN)
    assert invoice.number == f"FX{issuer.uscc}{today.year}000001"
    assert (invoice.sale_fen, invoice.vat_fen, invoice.pit_fen) == (1_234_500, 0, 6_173)  # 0.5 %, half-up
    assert invoice.rule_version.startswith("cn-reverse-invoice-2024")
    assert [r["code"] for r in invoice.reasons] == ["reverse_invoice_cap", "vat", "pit"]
    assert invoice.qualification == "营业执照及再生资源回收经营者备案"
    assert invoice.seller_name == SELLER_NAME
    assert id_number not in invoice.seller_id_cipher
    assert invoice.seller_id_masked != id_number
    assert invoice.items == [{"name": "废钢", "weight_g": 125_000, "price_fen": 1_234_500}]
    entry = AuditEntry.objects.get(action="recycling.reverse_invoice.issue")
    assert (entry.organisation_id, entry.after["number"]) == (issuer.pk, invoice.number)
    assert id_number not in str(entry.after)


def test_numbers_run_without_gaps_per_issuer_and_year_and_a_refusal_takes_none(today):
    issuer, staff = qualified_recycler()
    other, other_staff = qualified_recycler()
    first = purchase(staff, issuer, seller_id(), 100 * YUAN)
    with pytest.raises(ValidationFailed):
        purchase(staff, issuer, "110105199003070000", 100 * YUAN)
    second = purchase(staff, issuer, seller_id(), 100 * YUAN)
    elsewhere = purchase(other_staff, other, seller_id(), 100 * YUAN)
    last_year = purchase(staff, issuer, seller_id(), 100 * YUAN, on=today.replace(year=today.year - 1, day=1))
    assert [first.sequence, second.sequence, elsewhere.sequence, last_year.sequence] == [1, 2, 1, 1]


def test_the_ceiling_counts_the_sellers_sales_to_every_recycler_and_a_refusal_leaves_nothing(today):
    first, first_staff = qualified_recycler()
    second, second_staff = qualified_recycler()
    id_number = seller_id()
    purchase(first_staff, first, id_number, 3_000_000 * YUAN, on=today - datetime.timedelta(days=100))
    purchase(second_staff, second, id_number, 1_900_000 * YUAN, on=today - datetime.timedelta(days=10))
    before = (
        ReverseInvoice.objects.count(),
        AuditEntry.objects.count(),
        InvoiceSequence.objects.get(issuer=second).last,
    )
    with pytest.raises(ConflictError) as refused:
        purchase(second_staff, second, id_number, 100_000 * YUAN + 1)
    assert refused.value.code == "reverse_invoice_cap"
    assert "¥100,000.00" in refused.value.detail  # what may still be invoiced
    after = (
        ReverseInvoice.objects.count(),
        AuditEntry.objects.count(),
        InvoiceSequence.objects.get(issuer=second).last,
    )
    assert after == before
    # Exactly up to the ceiling is allowed.
    assert purchase(second_staff, second, id_number, 100_000 * YUAN).sale_fen == 100_000 * YUAN


def test_sales_older_than_12_months_no_longer_count(today):
    issuer, staff = qualified_recycler()
    id_number = seller_id()
    purchase(staff, issuer, id_number, CEILING, on=today.replace(year=today.year - 1))
    assert purchase(staff, issuer, id_number, 100 * YUAN).sale_fen == 100 * YUAN


def test_a_backdated_purchase_must_fit_the_12_months_holding_later_invoices(today):
    issuer, staff = qualified_recycler()
    id_number = seller_id()
    purchase(staff, issuer, id_number, CEILING, on=today)
    with pytest.raises(ConflictError):
        purchase(staff, issuer, id_number, 100 * YUAN, on=today - datetime.timedelta(days=30))


def test_vat_is_due_once_the_sellers_month_across_recyclers_passes_the_exemption(today):
    first, first_staff = qualified_recycler()
    second, second_staff = qualified_recycler()
    id_number = seller_id()
    exempt = purchase(first_staff, first, id_number, 60_000 * YUAN)
    taxed = purchase(second_staff, second, id_number, 50_000 * YUAN)
    assert exempt.vat_fen == 0
    assert taxed.vat_fen == 50_000  # 1 % of 50,000 元
    assert "超过" in taxed.reasons[1]["message"]


def test_a_void_invoice_keeps_its_number_and_counts_for_nothing(today):
    issuer, staff = qualified_recycler()
    id_number = seller_id()
    big = purchase(staff, issuer, id_number, CEILING)
    with pytest.raises(ConflictError):
        purchase(staff, issuer, id_number, 100 * YUAN)
    voided = services.void_invoice(actor=staff, issuer=issuer, invoice_id=big.pk, reason="金额录入错误")
    assert (voided.status, voided.number, voided.void_reason) == ("voided", big.number, "金额录入错误")
    again = purchase(staff, issuer, id_number, 100 * YUAN)
    assert again.sequence == big.sequence + 1  # the void one keeps its number; no number is reused
    assert queries.headroom_of(voided.seller_id_digest).used_fen == 100 * YUAN
    entry = AuditEntry.objects.get(action="recycling.reverse_invoice.void")
    assert entry.after["reason"] == "金额录入错误"
    with pytest.raises(ConflictError) as twice:
        services.void_invoice(actor=staff, issuer=issuer, invoice_id=big.pk, reason="再次")
    assert twice.value.code == "reverse_invoice_voided"
    with pytest.raises(ValidationFailed) as no_reason:
        services.void_invoice(actor=staff, issuer=issuer, invoice_id=again.pk, reason="  ")
    assert no_reason.value.code == "void_reason_required"


def test_another_recycler_cannot_void_or_read_the_invoice():
    issuer, staff = qualified_recycler()
    other, other_staff = qualified_recycler()
    invoice = purchase(staff, issuer, seller_id(), 100 * YUAN)
    with pytest.raises(NotFoundError):
        services.void_invoice(actor=other_staff, issuer=other, invoice_id=invoice.pk, reason="x")
    with pytest.raises(ForbiddenError):
        services.void_invoice(actor=other_staff, issuer=issuer, invoice_id=invoice.pk, reason="x")
    with pytest.raises(NotFoundError):
        queries.get_invoice_of(other, invoice.pk)
    assert ReverseInvoice.objects.get().status == "issued"


@pytest.mark.parametrize(
    "licence",
    [
        {"kinds": (Licence.Kind.RENEWABLE_RECYCLING,)},  # the filing without the business registration
        {"kinds": (Licence.Kind.WEEE_DISMANTLING,)},
        {"valid_until": datetime.date(2025, 12, 31)},  # expired before the purchase
        {"valid_from": datetime.date(2030, 1, 1)},  # not yet valid
    ],
)
def test_an_unqualified_recycler_is_refused_and_nothing_is_written(licence):
    issuer, staff = qualified_recycler(**licence)
    with pytest.raises(ForbiddenError) as refused:
        purchase(staff, issuer, seller_id(), 100 * YUAN, on=datetime.date(2026, 6, 1))
    assert refused.value.code == "recycler_not_qualified"
    _nothing_written()


def test_the_licence_counts_on_the_purchase_date_not_today():
    issuer, staff = qualified_recycler(valid_until=datetime.date(2026, 6, 30))
    assert purchase(staff, issuer, seller_id(), 100 * YUAN, on=datetime.date(2026, 6, 30)).qualification


@pytest.mark.parametrize(
    ("organisation_kind", "role", "kinds"),
    [
        (OrganisationKind.VEHICLE_SCRAPPER, Role.DISMANTLER, (Licence.Kind.VEHICLE_SCRAPPING,)),
        (OrganisationKind.DISMANTLER, Role.DISMANTLER, (Licence.Kind.HAZARDOUS_WASTE,)),
    ],
)
def test_the_other_two_qualifications_are_accepted(organisation_kind, role, kinds):
    issuer, staff = qualified_recycler(organisation_kind=organisation_kind, role=role, kinds=kinds)
    assert purchase(staff, issuer, seller_id(), 100 * YUAN).sale_fen == 100 * YUAN


def test_only_the_issuers_staff_may_issue():
    issuer, _ = qualified_recycler()
    merchant_clerk = make_member(Role.MERCHANT_CLERK)
    with pytest.raises(ForbiddenError) as refused:
        purchase(merchant_clerk, issuer, seller_id(), 100 * YUAN)
    assert refused.value.code == "reverse_invoice_forbidden"
    _nothing_written()


def test_bad_input_is_refused_field_by_field_with_nothing_written(today):
    issuer, staff = qualified_recycler()
    with pytest.raises(ValidationFailed) as refused:
        services.issue_invoice(
            actor=staff,
            issuer=issuer,
            seller_name="x",
            seller_id_number="110105199003070000",
            items=[{"name": "", "weight_g": -1, "price_fen": 0}],
        )
    fields = {(e.field, e.code) for e in refused.value.errors}
    assert ("seller_name", "invalid_name_length") in fields
    assert "seller_id_number" in {f for f, _ in fields}
    assert {"items[0].name", "items[0].weight_g", "items[0].price_fen"} <= {f for f, _ in fields}
    with pytest.raises(ValidationFailed) as future:
        purchase(staff, issuer, seller_id(), 100, on=today + datetime.timedelta(days=1))
    assert future.value.code == "purchase_in_future"
    with pytest.raises(ValidationFailed) as early:
        purchase(staff, issuer, seller_id(), 100, on=datetime.date(2024, 4, 28))
    assert early.value.code == "before_reverse_invoicing"
    _nothing_written()


def _answer(*rows: tuple[str, str]) -> bytes:
    return ("我方发票号码,数电发票号码\n" + "".join(f"{a},{b}\n" for a, b in rows)).encode()


def test_the_tax_systems_numbers_are_recorded_once_and_a_bad_file_changes_nothing():
    issuer, staff = qualified_recycler()
    one = purchase(staff, issuer, seller_id(), 100 * YUAN)
    two = purchase(staff, issuer, seller_id(), 100 * YUAN)
    bad = services.import_tax_numbers(
        actor=staff, issuer=issuer, content=_answer((one.number, "1" * 20), ("FX-UNKNOWN", "2" * 20))
    )
    assert [(e.line, e.code) for e in bad.errors] == [(3, "unknown_invoice")]
    assert not ReverseInvoice.objects.exclude(tax_number=None).exists()
    report = services.import_tax_numbers(
        actor=staff, issuer=issuer, content=_answer((one.number, "1" * 20), (two.number, "2" * 20))
    )
    assert (report.recorded, report.unchanged, report.errors) == (2, 0, [])
    assert ReverseInvoice.objects.get(pk=one.pk).tax_number == "1" * 20
    again = services.import_tax_numbers(actor=staff, issuer=issuer, content=_answer((one.number, "1" * 20)))
    assert (again.recorded, again.unchanged) == (0, 1)
    clash = services.import_tax_numbers(actor=staff, issuer=issuer, content=_answer((one.number, "3" * 20)))
    assert clash.errors[0].code == "tax_number_recorded"
    assert AuditEntry.objects.filter(action="recycling.reverse_invoice.tax_number").count() == 2


def test_a_recycler_cannot_record_numbers_on_another_recyclers_invoice():
    issuer, staff = qualified_recycler()
    other, other_staff = qualified_recycler()
    invoice = purchase(staff, issuer, seller_id(), 100 * YUAN)
    report = services.import_tax_numbers(actor=other_staff, issuer=other, content=_answer((invoice.number, "1" * 20)))
    assert report.errors[0].code == "unknown_invoice"
    assert ReverseInvoice.objects.get().tax_number is None


def test_the_month_summary_counts_valid_invoices_only(today):
    issuer, staff = qualified_recycler()
    id_number = seller_id()
    purchase(staff, issuer, id_number, 60_000 * YUAN)
    taxed = purchase(staff, issuer, id_number, 50_000 * YUAN)
    voided = purchase(staff, issuer, seller_id(), 1_000 * YUAN)
    services.void_invoice(actor=staff, issuer=issuer, invoice_id=voided.pk, reason="重复录入")
    summary = queries.month_summary(issuer, today)
    assert (summary.count, summary.sale_fen, summary.vat_fen) == (2, 110_000 * YUAN, taxed.vat_fen)
    assert (summary.exempt_count, summary.taxed_count, summary.voided_count) == (1, 1, 1)
    assert summary.pit_fen == 550 * YUAN


def test_the_sellers_headroom_is_the_ceiling_less_the_heaviest_12_months(today):
    issuer, staff = qualified_recycler()
    id_number = valid_resident_id()
    invoice = purchase(staff, issuer, id_number, 1_000_000 * YUAN)
    room = queries.headroom_of(invoice.seller_id_digest)
    assert (room.ceiling_fen, room.used_fen, room.remaining_fen) == (CEILING, 1_000_000 * YUAN, 4_000_000 * YUAN)
