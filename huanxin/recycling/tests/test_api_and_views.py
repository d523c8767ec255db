from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from xml.etree import ElementTree

import pytest

from huanxin.accounts.models import Person
from huanxin.conftest import api_client_for, client_for, token_client_for
from huanxin.core.models import AuditEntry
from huanxin.recycling.models import ReverseInvoice
from huanxin.recycling.tests.factories import SELLER_NAME, purchase, qualified_recycler, seller_id

pytestmark = pytest.mark.django_db

URL = "/api/v1/recycling/invoices"


def body(id_number: str, price_fen: int = 10_000, **extra):
    return {
        "seller_name": SELLER_NAME,
        "seller_id_number": id_number,
        "items": [{"name": "废铜", "weight_g": 2_500, "price_fen": price_fen}],
        **extra,
    }


def post(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", **headers)


def test_a_recycler_issues_an_invoice_through_the_api_once_per_idempotency_key(personas):
    issuer, staff = qualified_recycler()
    client = token_client_for(staff, issuer)
    id_number = seller_id()
    first = post(client, URL, body(id_number), HTTP_IDEMPOTENCY_KEY="inv-1")
    again = post(client, URL, body(id_number), HTTP_IDEMPOTENCY_KEY="inv-1")
    assert first.status_code == 201, first.json()
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert ReverseInvoice.objects.count() == 1
    data = first.json()
    assert (data["sale_fen"], data["vat_fen"], data["pit_fen"], data["status"]) == (10_000, 0, 50, "issued")
    assert id_number not in first.content.decode()
    detail = client.get(f"{URL}/{data['id']}")
    assert detail.json()["number"] == data["number"]


def test_refusals_through_the_api_name_the_field_and_write_nothing(personas):
    issuer, staff = qualified_recycler(valid_until=datetime.date(2025, 1, 1))
    client = token_client_for(staff, issuer)
    bad = post(client, URL, body("110105199003070000", price_fen=0))
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"seller_id_number", "items[0].price_fen"}
    expired = post(client, URL, body(seller_id()))
    assert (expired.status_code, expired.json()["code"]) == (403, "recycler_not_qualified")
    assert not ReverseInvoice.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="recycling.").exists()


def test_recycler_bs_token_cannot_read_or_void_as_invoices(personas):
    issuer, staff = qualified_recycler()
    other, other_staff = qualified_recycler()
    invoice = purchase(staff, issuer, seller_id(), 10_000)
    b = token_client_for(other_staff, other)
    assert b.get(f"{URL}/{invoice.pk}").status_code == 404
    assert b.get(f"{URL}/{invoice.pk}/pdf").status_code == 404
    assert b.get(f"{URL}/{invoice.pk}/tax-document").status_code == 404
    assert b.get(URL).json()["count"] == 0
    assert b.get(f"{URL}/{invoice.pk}?organisation_id={issuer.pk}").status_code == 403
    assert post(b, f"{URL}/{invoice.pk}/void", {"reason": "x"}).status_code == 404
    assert ReverseInvoice.objects.get().status == "issued"


def test_void_summary_and_tax_answer_through_the_api(personas):
    issuer, staff = qualified_recycler()
    client = token_client_for(staff, issuer)
    one = purchase(staff, issuer, seller_id(), 10_000)
    two = purchase(staff, issuer, seller_id(), 20_000)
    voided = post(client, f"{URL}/{one.pk}/void", {"reason": "录入错误"})
    assert (voided.status_code, voided.json()["status"], voided.json()["number"]) == (200, "voided", one.number)
    month = two.purchased_on.strftime("%Y-%m")
    summary = client.get(f"/api/v1/recycling/summary?month={month}").json()
    assert (summary["count"], summary["sale_fen"], summary["voided_count"]) == (1, 20_000, 1)
    assert client.get("/api/v1/recycling/summary?month=2025-13").status_code == 422
    csv = f"number,tax_number\n{two.number},{'9' * 20}\n".encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    answer = client.post("/api/v1/recycling/tax-numbers", {"file": SimpleUploadedFile("a.csv", csv)})
    assert answer.json() == {"recorded": 1, "unchanged": 0}
    bad = client.post(
        "/api/v1/recycling/tax-numbers", {"file": SimpleUploadedFile("b.csv", b"number,tax_number\nFX0,1\n")}
    )
    assert (bad.status_code, bad.json()["errors"][0]["code"]) == (422, "invalid_tax_number")
    assert client.get(f"{URL}/{two.pk}").json()["tax_number"] == "9" * 20


def test_the_tax_document_as_json_and_xml_carries_the_full_seller_id(personas):
    issuer, staff = qualified_recycler()
    id_number = seller_id()
    invoice = purchase(staff, issuer, id_number, 10_000)
    client = token_client_for(staff, issuer)
    document = client.get(f"{URL}/{invoice.pk}/tax-document").json()
    assert (document["number"], document["seller"]["id_number"], document["sale_fen"]) == (
        invoice.number,
        id_number,
        10_000,
    )
    xml = client.get(f"{URL}/{invoice.pk}/tax-document?format=xml")
    root = ElementTree.fromstring(xml.content)
    assert root.findtext("number") == invoice.number
    assert root.findtext("seller/name") == SELLER_NAME
    assert root.find("items/item/weight_g").text == "125000"


def test_the_pdf_embeds_its_chinese_font(personas, tmp_path):
    issuer, staff = qualified_recycler()
    invoice = purchase(staff, issuer, seller_id(), 10_000)
    pdf = token_client_for(staff, issuer).get(f"{URL}/{invoice.pk}/pdf")
    assert pdf["Content-Type"] == "application/pdf"
    content = pdf.content
    assert content.startswith(b"%PDF")
    assert b"/FontFile2" in content  # the TrueType program itself is in the file
    assert b"NotoSansSC" in content
    assert b"STSong" not in content
    if shutil.which("pdffonts"):
        path = tmp_path / "invoice.pdf"
        path.write_bytes(content)
        listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        noto = [line for line in listing.splitlines() if "NotoSansSC" in line]
        assert noto
        assert all(" yes " in line for line in noto)  # embedded


def test_a_resident_sees_their_own_invoices_and_headroom(personas):
    issuer, staff = qualified_recycler()
    person = Person.objects.get(pk=personas.consumer_person.pk)
    invoice = purchase(staff, issuer, person.reveal_resident_id(), 1_000_000)
    purchase(staff, issuer, seller_id(), 5_000)  # someone else's
    mine = api_client_for(personas.consumer).get("/api/v1/recycling/my-invoices").json()
    assert [i["number"] for i in mine["items"]] == [invoice.number]
    assert mine["headroom"]["remaining_fen"] == mine["headroom"]["ceiling_fen"] - 1_000_000
    other = api_client_for(personas.other_consumer)
    assert other.get("/api/v1/recycling/my-invoices").json()["items"] == []
    assert other.get(f"/api/v1/recycling/my-invoices/{invoice.pk}/pdf").status_code == 404
    assert api_client_for(personas.consumer).get(f"/api/v1/recycling/my-invoices/{invoice.pk}/pdf").status_code == 200
    page = client_for(personas.consumer).get("/recycling/mine/")
    assert page.status_code == 200
    assert invoice.number in page.content.decode()
    assert api_client_for(personas.clerk).get("/api/v1/recycling/my-invoices").status_code == 403


def test_the_recycler_pages_record_a_purchase_void_it_and_summarise(personas):
    issuer, staff = qualified_recycler()
    client = client_for(staff)
    page = client.get("/recycling/invoices/")
    assert page.status_code == 200
    assert "¥5,000,000.00" in page.content.decode()  # the ceiling, read from the rule version
    form = {
        "org": issuer.pk,
        "seller_name": SELLER_NAME,
        "seller_id_number": seller_id(),
        "item_name_0": "废旧冰箱",
        "item_weight_0": "45.5",
        "item_price_0": "120",
    }
    done = client.post("/recycling/invoices/", form)
    assert done.status_code == 302
    invoice = ReverseInvoice.objects.get()
    assert (invoice.weight_g, invoice.sale_fen) == (45_500, 12_000)
    detail = client.get(done["Location"])
    assert invoice.number in detail.content.decode()
    incomplete = client.post("/recycling/invoices/", {**form, "item_name_1": "废纸"})
    assert incomplete.status_code == 422
    assert ReverseInvoice.objects.count() == 1
    voided = client.post(f"/recycling/invoices/{invoice.pk}/void/", {"org": issuer.pk, "reason": "录错"})
    assert voided.status_code == 302
    assert ReverseInvoice.objects.get().status == "voided"
    summary = client.get("/recycling/summary/")
    assert summary.status_code == 200
    assert client.get(f"/recycling/invoices/{invoice.pk}/pdf/").status_code == 200
    xml = client.get(f"/recycling/invoices/{invoice.pk}/export/?format=xml")
    assert ElementTree.fromstring(xml.content).findtext("status") == "voided"
    tax = client.get("/recycling/tax-numbers/")
    assert tax.status_code == 200


def test_a_page_refusal_shows_on_the_form(personas):
    issuer, staff = qualified_recycler(valid_until=datetime.date(2025, 1, 1))
    response = client_for(staff).post(
        "/recycling/invoices/",
        {
            "org": issuer.pk,
            "seller_name": SELLER_NAME,
            "seller_id_number": seller_id(),
            "item_name_0": "废钢",
            "item_weight_0": "1",
            "item_price_0": "10",
        },
    )
    assert response.status_code == 422
    assert "没有有效的反向开票资格" in response.content.decode()
    assert not ReverseInvoice.objects.exists()
