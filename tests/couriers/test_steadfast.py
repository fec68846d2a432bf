"""The Steadfast adapter against a local fake of Steadfast's API v1 over real HTTP."""

from collections.abc import Iterator
from decimal import Decimal

import pytest

from allied.core.models import PersonalDataShared
from allied.core.tracking import TrackingStatus
from allied.couriers.base import (
    ADAPTERS,
    CourierError,
    CourierParcel,
    CourierWebhookRefused,
    adapter_for,
)
from allied.couriers.steadfast import STATUSES, SteadfastAdapter
from tests.fakes.steadfast import CREDENTIALS, DELIVERY_STATUSES
from tests.fakes.steadfast import fake_steadfast as fake_steadfast  # the fixture

pytestmark = pytest.mark.django_db


def parcel(**changes: object) -> CourierParcel:
    fields: dict[str, object] = {
        "merchant_order_ref": "AL-000124",
        "recipient_name": "Tanvir Ahmed",
        "phone": "+8801911223344",
        "address": "Flat 3B, House 7, Road 11, Banani",
        "city": "Dhaka",
        "cod_amount": Decimal("1770"),
        "weight_grams": 900,
        "parcels": 2,
        "item_description": "Shoes",
        "instructions": "Deliver after 5 PM",
    }
    return CourierParcel(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def steadfast(partner_a, sleeps, fake_steadfast) -> Iterator[SteadfastAdapter]:
    adapter = SteadfastAdapter(dict(CREDENTIALS), organization_id=partner_a.pk, sleep=sleeps.append)
    yield adapter
    adapter.close()


def test_book_returns_the_consignment_and_its_tracking_code(steadfast, fake_steadfast) -> None:
    booking = steadfast.book(parcel())

    stored = fake_steadfast.consignments[booking.consignment_id]
    assert booking.tracking_code == stored["tracking_code"]
    assert (booking.raw_status, booking.status) == ("in_review", TrackingStatus.CREATED)
    assert booking.delivery_fee is None
    [sent] = [r for r in fake_steadfast.received if r.path == "/api/v1/create_order"]
    assert sent.body["invoice"] == "AL-000124"
    assert sent.body["recipient_phone"] == "01911223344"
    assert (sent.body["cod_amount"], sent.body["total_lot"], sent.body["note"]) == (1770, 2, "Deliver after 5 PM")


def test_book_writes_the_sharing_register(steadfast, partner_a) -> None:
    steadfast.book(parcel())

    [shared] = PersonalDataShared.objects.all()
    assert (shared.organization_id, shared.recipient) == (partner_a.pk, "portal.packzy.com")
    assert shared.recipient_category == "delivery_partners"
    assert shared.data_categories == ["user.contact.address", "user.contact.phone_number", "user.name"]


@pytest.mark.parametrize("http_status", [200, 400])
def test_a_missing_phone_is_refused_on_the_phone_field(steadfast, fake_steadfast, http_status) -> None:
    fake_steadfast.refusal_http_status = http_status  # the envelope says 400 either way

    with pytest.raises(CourierError) as refused:
        steadfast.book(parcel(phone=""))

    assert refused.value.fields == {"phone": ["The recipient phone field is required."]}
    assert refused.value.remote_status == 400


def test_a_negative_cod_amount_is_refused_on_the_cod_field(steadfast, fake_steadfast) -> None:
    with pytest.raises(CourierError) as refused:
        steadfast.book(parcel(cod_amount=Decimal("-1")))

    assert refused.value.fields == {"cod_amount": ["The cod amount must be at least 0."]}
    assert fake_steadfast.consignments == {}


def test_booking_the_same_order_twice_is_refused_on_the_order_reference(steadfast) -> None:
    steadfast.book(parcel())

    with pytest.raises(CourierError) as refused:
        steadfast.book(parcel())

    assert refused.value.fields == {"merchant_order_ref": ["The invoice has already been taken."]}


def test_keys_steadfast_does_not_know_are_a_401_courier_error(partner_a, fake_steadfast) -> None:
    adapter = SteadfastAdapter({**CREDENTIALS, "secret_key": "rotated"}, organization_id=partner_a.pk)

    with pytest.raises(CourierError, match="Unauthorized request") as refused:
        adapter.track("1424107")

    assert refused.value.remote_status == 401
    adapter.close()


def test_429_waits_out_retry_after_then_books(steadfast, fake_steadfast, sleeps) -> None:
    fake_steadfast.fail_next(429, retry_after=2)
    fake_steadfast.fail_next(429, retry_after=5)

    booking = steadfast.book(parcel())

    assert booking.consignment_id in fake_steadfast.consignments
    assert sleeps == [2.0, 5.0]


def test_a_retry_after_longer_than_a_request_may_wait_is_reported(steadfast, fake_steadfast, sleeps) -> None:
    fake_steadfast.fail_next(429, retry_after=600)

    with pytest.raises(CourierError) as refused:
        steadfast.book(parcel())

    assert (refused.value.remote_status, refused.value.retry_after) == (429, 600.0)
    assert sleeps == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("pending", TrackingStatus.IN_TRANSIT),
        ("hold", TrackingStatus.RESCHEDULED),
        ("delivered_approval_pending", TrackingStatus.DELIVERED),
        ("partial_delivered", TrackingStatus.DELIVERED),
        ("cancelled", TrackingStatus.RETURN_TO_ORIGIN),
        ("unknown", None),
    ],
)
def test_track_maps_steadfasts_status(steadfast, fake_steadfast, raw, status) -> None:
    booking = steadfast.book(parcel())
    fake_steadfast.advance(booking.consignment_id, raw)

    [event] = steadfast.track(booking.consignment_id)

    assert (event.consignment_id, event.raw_status, event.status) == (booking.consignment_id, raw, status)
    assert event.occurred_at.tzinfo is not None


def test_every_published_delivery_status_is_in_the_table() -> None:
    assert set(STATUSES) == DELIVERY_STATUSES


def test_an_unknown_status_keeps_its_raw_text_and_changes_nothing(steadfast, fake_steadfast) -> None:
    booking = steadfast.book(parcel())
    fake_steadfast.consignments[booking.consignment_id]["status"] = "lost_in_warehouse"

    [event] = steadfast.track(booking.consignment_id)

    assert (event.status, event.raw_status) == (None, "lost_in_warehouse")


def test_a_webhook_with_the_right_bearer_becomes_events(steadfast, fake_steadfast) -> None:
    booking = steadfast.book(parcel())
    delivery = fake_steadfast.advance(booking.consignment_id, "delivered")
    assert delivery is not None

    [event] = steadfast.parse_webhook(delivery.headers, delivery.body)

    assert (event.consignment_id, event.status, event.raw_status) == (
        booking.consignment_id,
        TrackingStatus.DELIVERED,
        "delivered",
    )
    assert event.cod_collected == Decimal("1770")
    assert event.occurred_at == fake_steadfast.now  # Dhaka's wall clock read back as the same instant
    assert event.merchant_order_ref == "AL-000124"


def test_a_tracking_update_is_words_without_a_status(steadfast, fake_steadfast) -> None:
    booking = steadfast.book(parcel())
    delivery = fake_steadfast.tracking_message(booking.consignment_id, "Consignment sent to MIRPUR WAREHOUSE.")

    [event] = steadfast.parse_webhook(delivery.headers, delivery.body)

    assert (event.status, event.raw_status) == (None, "")
    assert event.message == "Consignment sent to MIRPUR WAREHOUSE."


def test_a_webhook_with_the_wrong_bearer_is_refused(steadfast, fake_steadfast) -> None:
    booking = steadfast.book(parcel())
    payload = {
        "notification_type": "delivery_status",
        "consignment_id": int(booking.consignment_id),
        "status": "delivered",
    }
    delivery = fake_steadfast.deliver(payload, token="guess")

    with pytest.raises(CourierWebhookRefused):
        steadfast.parse_webhook(delivery.headers, delivery.body)
    with pytest.raises(CourierWebhookRefused):
        steadfast.parse_webhook({"Content-Type": "application/json"}, delivery.body)
    assert steadfast.webhook_reply().status == 200


def test_a_webhook_body_that_is_not_json_is_refused(steadfast) -> None:
    headers = {"Authorization": f"Bearer {CREDENTIALS['webhook_token']}"}

    with pytest.raises(CourierWebhookRefused, match="not JSON"):
        steadfast.parse_webhook(headers, b"<html>")


def test_cancel_says_to_use_steadfasts_panel(steadfast) -> None:
    with pytest.raises(CourierError, match="cancel 1424107 in the Steadfast merchant panel"):
        steadfast.cancel("1424107")


def test_a_return_is_requested_from_steadfast(steadfast, fake_steadfast) -> None:
    booking = steadfast.book(parcel())

    request_id = steadfast.request_return(booking.consignment_id, reason="Wrong size")

    assert fake_steadfast.returns[int(request_id)]["reason"] == "Wrong size"


def test_the_adapter_is_registered_under_its_carrier_code(partner_a) -> None:
    assert ADAPTERS["steadfast"] is SteadfastAdapter
    adapter = adapter_for("steadfast", CREDENTIALS, organization_id=partner_a.pk)
    assert isinstance(adapter, SteadfastAdapter)
    adapter.close()
