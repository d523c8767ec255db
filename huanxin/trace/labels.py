"""QR labels for old items: PNG and SVG of one label, and a PDF sheet of labels for sticker printers.

The QR code carries the item's GS1 Digital Link, so any phone camera opens the public verification page.
The PDF embeds the platform's Chinese font (``core.pdf``), so the labels print the same from any viewer.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from huanxin.catalogue.domain.categories import category_name
from huanxin.core.pdf import cjk_font
from huanxin.trace.domain.codes import printed_code
from huanxin.trace.models import TraceItem
from huanxin.trace.services import digital_link

# A common sticker sheet: 3 × 8 labels of 70 × 37 mm on A4.
COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 70 * mm, 37.125 * mm


def qr(item: TraceItem) -> segno.QRCode:
    return segno.make(digital_link(item.code), error="m")


def label_png(item: TraceItem, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    qr(item).save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def label_svg(item: TraceItem, scale: int = 6) -> bytes:
    buffer = io.BytesIO()
    qr(item).save(buffer, kind="svg", scale=scale, border=2, xmldecl=True, svgns=True, title=item.code)
    return buffer.getvalue()


def label_sheet_pdf(items: Sequence[TraceItem]) -> bytes:
    """Labels in reading order, 24 to an A4 page: QR code, category in Chinese, and the code underneath."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setTitle("一机一码 追溯标签")
    width, height = A4
    margin_x = (width - COLUMNS * LABEL_W) / 2
    margin_y = (height - ROWS * LABEL_H) / 2
    for index, item in enumerate(items):
        slot = index % (COLUMNS * ROWS)
        if index and slot == 0:
            page.showPage()
        column, row = slot % COLUMNS, slot // COLUMNS
        x = margin_x + column * LABEL_W
        y = height - margin_y - (row + 1) * LABEL_H
        matrix = qr(item).matrix
        size = 28 * mm
        cell = size / len(matrix)
        top = y + (LABEL_H + size) / 2
        for r, line in enumerate(matrix):
            for c, dark in enumerate(line):
                if dark:
                    page.rect(x + 3 * mm + c * cell, top - (r + 1) * cell, cell, cell, stroke=0, fill=1)
        page.setFont(cjk_font(), 10)
        page.drawString(x + 33 * mm, y + LABEL_H - 11 * mm, f"一机一码 · {category_name(item.category)}")
        page.setFont(cjk_font(), 6.5)
        reference = printed_code(item.code)
        page.drawString(x + 33 * mm, y + LABEL_H - 17 * mm, reference[:24])
        page.drawString(x + 33 * mm, y + LABEL_H - 21 * mm, reference[24:48])
        page.drawString(x + 33 * mm, y + 6 * mm, "扫码查验回收去向")
    page.save()
    return buffer.getvalue()
