"""An invoice as documents: the structured record for the tax system (JSON and XML) and a PDF for people.

The PDF embeds (a subset of) the platform's Chinese font (``core.pdf``), so it renders the same on any viewer.
"""

from __future__ import annotations

import io
from typing import Any
from xml.etree import ElementTree

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from huanxin.core import crypto
from huanxin.core.domain.money import format_yuan
from huanxin.core.pdf import cjk_font
from huanxin.recycling.models import ReverseInvoice

FORMAT_VERSION = "1"


def _kg(weight_g: int) -> str:
    return f"{weight_g / 1000:,.3f}"


def tax_document(invoice: ReverseInvoice) -> dict[str, Any]:
    """What the tax system is sent for one invoice: amounts in fen, weights in grams, the seller's full ID (the
    tax system needs it to identify the seller; only the issuer reads this document)."""
    issuer = invoice.issuer
    return {
        "format_version": FORMAT_VERSION,
        "number": invoice.number,
        "tax_number": invoice.tax_number or "",
        "status": invoice.status,
        "purchased_on": invoice.purchased_on.isoformat(),
        "issued_at": invoice.issued_at.isoformat(),
        "issuer": {
            "name": issuer.name,
            "uscc": issuer.uscc,
            "qualification": invoice.qualification,
            "licence_numbers": invoice.licence_numbers,
        },
        "seller": {
            "name": invoice.seller_name,
            "id_number": crypto.decrypt(invoice.seller_id_cipher, purpose="resident_id"),
        },
        "items": [dict(item) for item in invoice.items],
        "weight_g": invoice.weight_g,
        "sale_fen": invoice.sale_fen,
        "vat_fen": invoice.vat_fen,
        "pit_fen": invoice.pit_fen,
        "rule_version": invoice.rule_version,
        "voided_at": invoice.voided_at.isoformat() if invoice.voided_at else "",
        "void_reason": invoice.void_reason,
    }


def tax_document_xml(document: dict[str, Any]) -> bytes:
    """The same record as XML: one element per field, nested objects as child elements, items as <item>."""
    root = ElementTree.Element("ReverseInvoice")

    def fill(parent: ElementTree.Element, data: dict[str, Any]) -> None:
        for key, value in data.items():
            if isinstance(value, dict):
                fill(ElementTree.SubElement(parent, key), value)
            elif isinstance(value, list):
                holder = ElementTree.SubElement(parent, key)
                for entry in value:
                    fill(ElementTree.SubElement(holder, "item"), entry)
            else:
                ElementTree.SubElement(parent, key).text = str(value)

    fill(root, document)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def invoice_pdf(invoice: ReverseInvoice) -> bytes:
    """One A4 page: the invoice's parties, lines, amounts and taxes; a void invoice is marked so across it."""
    font = cjk_font()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setTitle(f"反向开具发票 {invoice.number}")
    width, height = A4
    left, y = 20 * mm, height - 25 * mm

    def line(text: str, size: float = 10.5, gap: float = 6.5) -> None:
        nonlocal y
        page.setFont(font, size)
        page.drawString(left, y, text)
        y -= gap * mm

    page.setFont(font, 18)
    page.drawCentredString(width / 2, y, "资源回收企业反向开具发票（收购）")
    y -= 12 * mm
    line(f"发票号码：{invoice.number}")
    line(f"数电发票号码：{invoice.tax_number or '（尚未取得）'}")
    line(
        f"收购日期：{invoice.purchased_on:%Y-%m-%d}    开具时间：{timezone.localtime(invoice.issued_at):%Y-%m-%d %H:%M}"
    )
    line(f"开票方（收购方）：{invoice.issuer.name}    统一社会信用代码：{invoice.issuer.uscc}")
    line(f"开票资格：{invoice.qualification}（{invoice.licence_numbers}）")
    line(f"出售方（自然人）：{invoice.seller_name}    身份证号码：{invoice.seller_id_masked}")
    y -= 3 * mm
    page.setFont(font, 10.5)
    columns = (left, left + 90 * mm, left + 130 * mm)
    for x, title in zip(columns, ("物品", "重量（千克）", "金额（元，不含税）"), strict=True):
        page.drawString(x, y, title)
    y -= 2.5 * mm
    page.line(left, y, width - left, y)
    y -= 5 * mm
    for item in invoice.items:
        page.drawString(columns[0], y, str(item["name"]))
        page.drawString(columns[1], y, _kg(int(item["weight_g"])))
        page.drawString(columns[2], y, format_yuan(int(item["price_fen"]), symbol=False))
        y -= 6 * mm
    page.line(left, y + 3 * mm, width - left, y + 3 * mm)
    y -= 2 * mm
    line(f"合计重量：{_kg(invoice.weight_g)} 千克    销售额（不含增值税）：{format_yuan(invoice.sale_fen)}")
    line(f"增值税：{format_yuan(invoice.vat_fen)}    个人所得税预缴：{format_yuan(invoice.pit_fen)}")
    for reason in invoice.reasons:
        line(str(reason.get("message", "")), size=9, gap=5.5)
    line(f"依据：{invoice.rule_version}", size=9, gap=5.5)
    if invoice.is_void:
        y -= 4 * mm
        line(f"本发票已于 {timezone.localtime(invoice.voided_at):%Y-%m-%d} 作废：{invoice.void_reason}", size=11)
        page.saveState()
        page.setFont(font, 64)
        page.setFillGray(0.6, 0.35)
        page.translate(width / 2, height / 2)
        page.rotate(30)
        page.drawCentredString(0, 0, "已作废")
        page.restoreState()
    page.showPage()
    page.save()
    return buffer.getvalue()
