"""The e-OOC PDF (OOC-EOOC-1): the final copy of the BE with a QR code whose payload is the
signed e-OOC token (reportlab; the QR is drawn as vectors by reportlab's own QR widget).

Rendering takes a few hundred milliseconds (the QR encoding is pure Python), so it happens
when the importer or broker first asks for the document, never on the consumer's path; the
bytes are then kept and served as they are (`invariant` output: the same inputs give the
same bytes).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

QR_SIZE = 70 * mm


def _qr(payload: str, size: float = QR_SIZE) -> Drawing:
    widget = QrCodeWidget(payload, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _table(rows: Sequence[Sequence[Any]], widths: Sequence[float] | None = None) -> Table:
    table = Table([[str(cell) for cell in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render_e_ooc(
    bill_of_entry: Mapping[str, Any], claims: Mapping[str, Any], token: str, reasons: Sequence[str]
) -> bytes:
    """One PDF: the BE as registered in its final version, the Out of Charge, the QR."""
    styles = getSampleStyleSheet()
    be = bill_of_entry
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=1,
        title=f"e-OOC {claims['ooc_no']}",
        author="ooc-issuer",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    heading = (
        f"Out of Charge {claims['ooc_no']} &mdash; Bill of Entry {claims['be_no']} of "
        f"{claims['be_date']}, {claims['port_code']} (version {claims['version']})"
    )
    summary = [
        ["Field", "Value"],
        ["Custom House", claims["port_code"]],
        ["BE number / date / type", f"{be['be_no']} / {be['be_date']} / {be['be_type']}"],
        ["IEC / importer", f"{be['iec']} / {be.get('importer_name') or ''}"],
        ["Customs broker", be.get("customs_broker_code") or ""],
        ["IGM", (be.get("igm") or {}).get("igm_no", "") if be.get("igm") else ""],
        ["Packages", claims.get("packages") if claims.get("packages") is not None else ""],
        ["Duty (INR)", f"{claims['duty']:,.2f}"],
        ["Out of Charge", f"{claims['ooc_no']} at {claims['ooc_at']} ({claims['mode']})"],
        ["e-Gatepass", claims["gatepass_no"]],
    ]
    items = [["Inv", "Item", "CTH", "Description", "Qty", "Unit price"]]
    for invoice in be.get("invoices", []):
        for item in invoice.get("items", []):
            items.append(
                [
                    invoice["invoice_no"],
                    item["item_sl_no"],
                    item["cth"],
                    item["description"][:60],
                    f"{item['quantity']:g} {item['unit']}",
                    f"{item['unit_price']:g} {invoice['currency']}",
                ]
            )
    containers = [["Container", "Seal"]] + [
        [c["container_no"], c["seal_no"]] for c in be.get("containers", [])
    ]
    story: list[Any] = [
        Paragraph("e-Out of Charge (secure copy, OOC-EOOC-1)", styles["Title"]),
        Paragraph(heading, styles["Heading4"]),
        _table(summary, [55 * mm, 125 * mm]),
        Spacer(1, 4 * mm),
        _table(items, [28 * mm, 10 * mm, 18 * mm, 78 * mm, 22 * mm, 24 * mm]),
        Spacer(1, 4 * mm),
        _table(containers, [60 * mm, 60 * mm]),
        Spacer(1, 4 * mm),
        *[Paragraph(reason, styles["BodyText"]) for reason in reasons],
        Spacer(1, 4 * mm),
        Paragraph(
            "Scan the code: it carries the signed e-OOC (JWS, ES256). Verify it against "
            "ooc-issuer's published keys (/.well-known/jwks.json) or at /e-ooc/verification.",
            styles["BodyText"],
        ),
        _qr(token),
    ]
    document.build(story)
    return buffer.getvalue()
