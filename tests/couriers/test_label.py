"""The A6 label every adapter renders (neither courier's API returns one)."""

import re
from decimal import Decimal

import pytest

from allied.core.tracking import TrackingStatus
from allied.couriers.base import Booking, CourierParcel, render_label
from allied.couriers.pathao import PathaoAdapter
from allied.couriers.steadfast import SteadfastAdapter

PARCEL = CourierParcel(
    merchant_order_ref="AL-000125",
    recipient_name="Farhana Akter",
    phone="+8801811223344",
    address="House 22, Sector 7, Uttara",
    city="Dhaka",
    postcode="1230",
    cod_amount=Decimal("2450.50"),
    weight_grams=1200,
    parcels=2,
    instructions="Fragile",
)
BOOKING = Booking(
    consignment_id="1424107",
    tracking_code="SFR261205ST0015BAEBBD",
    raw_status="in_review",
    status=TrackingStatus.CREATED,
)


def test_the_label_is_an_a6_pdf_naming_the_consignment_and_the_recipient() -> None:
    pdf = render_label(courier="Steadfast", booking=BOOKING, parcel=PARCEL)

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    media_box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert media_box is not None
    assert (round(float(media_box[1])), round(float(media_box[2]))) == (298, 420)  # A6: 105 x 148 mm
    for text in [
        b"Consignment 1424107",
        b"SFR261205ST0015BAEBBD",
        b"Steadfast",
        b"Farhana Akter",
        b"+8801811223344",
        b"Uttara",
        b"COD BDT 2450.50",
        b"1.20 kg",
        b"Order AL-000125",
    ]:
        assert text in pdf, text


@pytest.mark.parametrize(
    ("adapter", "credentials"),
    [
        (PathaoAdapter, {"client_id": "c", "client_secret": "s", "access_token": "a", "store_id": "1"}),
        (SteadfastAdapter, {"api_key": "k", "secret_key": "s"}),
    ],
)
def test_each_adapter_renders_the_label_with_its_own_name(adapter, credentials) -> None:
    courier = adapter(credentials, organization_id=1)

    pdf = courier.label_pdf(BOOKING, PARCEL)

    assert pdf.startswith(b"%PDF-")
    assert f"({courier.name})".encode() in pdf
    courier.close()
