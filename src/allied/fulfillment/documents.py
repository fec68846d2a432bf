"""Printable documents: the AES shipping label (4 × 6 in) and the packing slip (A4), as PDF."""

from io import BytesIO

from django.conf import settings
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, inch
from reportlab.pdfgen.canvas import Canvas

from allied.orders.models import Order, PaymentMethod

LABEL_SIZE = (4 * inch, 6 * inch)


def tracking_url(order: Order) -> str:
    return f"{settings.ALLIED_BASE_URL}/track/{order.tracking_code}"


def tracking_barcode(tracking_code: str, *, max_width: float) -> code128.Code128:
    """The tracking code as Code 128, without its hyphens (scanners read it either way) and with
    bars as wide as still fit the label: at most 1.4 pt, the width the label was designed with."""
    compact = tracking_code.replace("-", "")
    barcode = code128.Code128(compact, barHeight=0.75 * inch, barWidth=1.4)
    if barcode.width > max_width:
        quiet = barcode.lquiet + barcode.rquiet  # fixed quiet zones at either end (a quarter inch each)
        narrower = 1.4 * (max_width - quiet) / (barcode.width - quiet)
        barcode = code128.Code128(compact, barHeight=0.75 * inch, barWidth=narrower)
    return barcode


def _qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(text)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def shipping_label_pdf(order: Order) -> bytes:
    """Recipient, address, COD amount, and the tracking code as Code 128 and as a QR code."""
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE)
    canvas.setTitle(f"Label {order.tracking_code}")
    width, height = LABEL_SIZE
    margin = 0.2 * inch
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(margin, height - 0.45 * inch, "AES")
    canvas.setFont("Helvetica", 8)
    canvas.drawString(margin + 0.55 * inch, height - 0.42 * inch, "Allied E-Commerce Solutions")
    canvas.drawRightString(
        width - margin, height - 0.42 * inch, f"{order.carrier_name or 'AES'} · {order.warehouse.code}"
    )
    canvas.line(margin, height - 0.55 * inch, width - margin, height - 0.55 * inch)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(margin, height - 0.75 * inch, "DELIVER TO")
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(margin, height - 0.98 * inch, order.recipient_name[:34])
    canvas.setFont("Helvetica", 10)
    y = height - 1.18 * inch
    for text in [
        order.address_line1,
        order.address_line2,
        ", ".join(filter(None, [order.address_area, order.address_city])),
        ", ".join(filter(None, [order.address_region, order.address_postcode, order.address_country])),
        order.recipient_phone,
    ]:
        if text:
            canvas.drawString(margin, y, text[:48])
            y -= 0.18 * inch
    canvas.line(margin, 3.0 * inch, width - margin, 3.0 * inch)
    canvas.setFont("Helvetica-Bold", 14)
    if order.payment_method == PaymentMethod.COD:
        canvas.drawString(margin, 2.72 * inch, f"COLLECT {order.currency} {order.cod_amount:,.2f}")
    else:
        canvas.drawString(margin, 2.72 * inch, "PREPAID")
    canvas.setFont("Helvetica", 9)
    canvas.drawString(margin, 2.5 * inch, f"Order {order.number} · {order.organization.name[:30]}")
    weight = f"{order.package_weight_grams / 1000:.2f} kg" if order.package_weight_grams else ""
    canvas.drawString(margin, 2.33 * inch, f"{weight} {order.package_dimensions_mm}".strip())
    barcode = tracking_barcode(order.tracking_code, max_width=width - 2 * margin)
    barcode.drawOn(canvas, margin, 1.3 * inch)
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(margin + 0.1 * inch, 1.1 * inch, order.tracking_code)
    # The QR code sits in the bottom corner, clear of the barcode's bars and quiet zone above it,
    # and the tracking address beside it shrinks to fit rather than run under it or be cut off.
    qr_size = 1.0 * inch
    qr_left = width - margin - qr_size
    _qr(canvas, tracking_url(order), qr_left, 0.15 * inch, qr_size)
    room = qr_left - 0.1 * inch - margin
    canvas.setFont("Helvetica", 7)
    canvas.drawString(margin, 0.42 * inch, "Track this parcel at")
    url = tracking_url(order)
    size = max(4.5, min(7.0, 7.0 * room / canvas.stringWidth(url, "Helvetica", 7)))
    canvas.setFont("Helvetica", size)
    canvas.drawString(margin, 0.28 * inch, url)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def packing_slip_pdf(order: Order) -> bytes:
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(f"Packing slip {order.number}")
    width, height = A4
    left = 50
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(left, height - 60, f"Packing slip — {order.organization.name}")
    canvas.setFont("Helvetica", 10)
    canvas.drawString(
        left, height - 80, f"Order {order.number} (your ref. {order.external_id}) · {order.created_at:%d %b %Y}"
    )
    canvas.drawString(
        left, height - 95, f"Ship to: {order.recipient_name}, {order.address_line1}, {order.address_city}"
    )
    y = height - 130
    canvas.setFont("Helvetica-Bold", 10)
    for x, title in [(left, "SKU"), (left + 130, "Item"), (left + 400, "Qty"), (left + 450, "Packed")]:
        canvas.drawString(x, y, title)
    canvas.line(left, y - 4, width - left, y - 4)
    canvas.setFont("Helvetica", 10)
    for line in order.lines.all():
        y -= 18
        canvas.drawString(left, y, line.sku)
        canvas.drawString(left + 130, y, line.name[:45])
        canvas.drawRightString(left + 420, y, str(line.quantity))
        canvas.drawRightString(left + 480, y, str(line.packed_quantity))
    y -= 30
    canvas.drawString(
        left,
        y,
        f"Total {order.currency} {order.total:,.2f}"
        + (f" · collect on delivery {order.cod_amount:,.2f}" if order.payment_method == PaymentMethod.COD else ""),
    )
    barcode = code128.Code128(order.number, barHeight=30, barWidth=1.2)
    barcode.drawOn(canvas, left, 60)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
