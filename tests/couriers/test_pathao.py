"""The Pathao adapter against a local fake of Pathao's Merchant API over real HTTP."""

from collections.abc import Iterator
from datetime import datetime
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
from allied.couriers.pathao import (
    INTEGRATION_HEADER,
    INTEGRATION_VALUE,
    PATHAO_BASE_URL,
    STATUSES,
    PathaoAdapter,
    pathao_issue_token,
    status_key,
)
from tests.fakes.pathao import CREDENTIALS, EVENT_STATUS, FakePathao
from tests.fakes.pathao import fake_pathao as fake_pathao  # the fixture

pytestmark = pytest.mark.django_db


def parcel(**changes: object) -> CourierParcel:
    fields: dict[str, object] = {
        "merchant_order_ref": "AL-000123",
        "recipient_name": "Nusrat Jahan",
        "phone": "+8801712345678",
        "address": "House 12, Road 4, Dhanmondi",
        "area": "Dhanmondi",
        "city": "Dhaka",
        "postcode": "1209",
        "cod_amount": Decimal("1250.00"),
        "weight_grams": 300,
        "item_description": "2 cotton kurtas",
        "instructions": "Call before coming",
    }
    return CourierParcel(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.fixture
def credentials(fake_pathao: FakePathao) -> dict[str, str]:
    tokens = fake_pathao.issue_tokens()
    return {
        "client_id": CREDENTIALS["client_id"],
        "client_secret": CREDENTIALS["client_secret"],
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "store_id": CREDENTIALS["store_id"],
        "webhook_secret": CREDENTIALS["webhook_secret"],
    }


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def changes() -> list[dict[str, str]]:
    return []


@pytest.fixture
def pathao(partner_a, credentials, sleeps, changes) -> Iterator[PathaoAdapter]:
    adapter = PathaoAdapter(
        credentials, organization_id=partner_a.pk, sleep=sleeps.append, on_credentials_changed=changes.append
    )
    yield adapter
    adapter.close()


def requests(fake: FakePathao, method: str, path: str) -> list:
    return [r for r in fake.received if r.method == method and r.path == f"/aladdin/api/v1{path}"]


def test_book_returns_the_consignment_as_tracking_code_with_its_fee(pathao, fake_pathao) -> None:
    booking = pathao.book(parcel())

    assert booking.consignment_id in fake_pathao.orders
    assert booking.tracking_code == booking.consignment_id
    assert (booking.raw_status, booking.status) == ("Pending", TrackingStatus.CREATED)
    assert booking.delivery_fee == Decimal("60")
    [sent] = requests(fake_pathao, "POST", "/orders")
    assert sent.body["recipient_phone"] == "01712345678"
    assert sent.body["recipient_address"] == "House 12, Road 4, Dhanmondi, Dhanmondi, Dhaka, 1209"
    assert (sent.body["store_id"], sent.body["item_weight"], sent.body["amount_to_collect"]) == (130820, 0.5, 1250)
    assert (sent.body["delivery_type"], sent.body["item_type"]) == (48, 2)


def test_book_writes_the_sharing_register_before_sending(pathao, partner_a) -> None:
    pathao.book(parcel())

    [shared] = PersonalDataShared.objects.all()
    assert shared.organization_id == partner_a.pk
    assert shared.recipient == "api-hermes.pathao.com"
    assert shared.recipient_category == "delivery_partners"
    assert shared.data_categories == ["user.contact.address", "user.contact.phone_number", "user.name"]
    assert (shared.purpose, shared.reference) == ("last_mile_delivery", "AL-000123")


def test_a_missing_phone_is_refused_on_the_phone_field(pathao) -> None:
    with pytest.raises(CourierError) as refused:
        pathao.book(parcel(phone=""))

    assert refused.value.fields == {"phone": ["The recipient phone field is required."]}
    assert refused.value.remote_status == 422
    assert "Please fix the given errors" in refused.value.detail


def test_a_negative_cod_amount_is_refused_on_the_cod_field(pathao, fake_pathao) -> None:
    with pytest.raises(CourierError) as refused:
        pathao.book(parcel(cod_amount=Decimal("-5")))

    assert refused.value.fields == {"cod_amount": ["The amount to collect must be at least 0."]}
    assert fake_pathao.orders == {}


def test_connecting_exchanges_the_password_once_and_never_returns_it(fake_pathao, partner_a) -> None:
    tokens = pathao_issue_token(
        PATHAO_BASE_URL,
        CREDENTIALS["client_id"],
        CREDENTIALS["client_secret"],
        CREDENTIALS["username"],
        CREDENTIALS["password"],
        organization_id=partner_a.pk,
    )

    assert set(tokens) == {"client_id", "client_secret", "access_token", "refresh_token", "expires_at"}
    assert CREDENTIALS["password"] not in tokens.values()
    assert tokens["access_token"] in fake_pathao.access_tokens
    assert datetime.fromisoformat(tokens["expires_at"]).tzinfo is not None
    assert not PersonalDataShared.objects.exists()  # the merchant's own login is no recipient's data


def test_a_wrong_password_is_a_courier_error_in_pathaos_words(fake_pathao, partner_a) -> None:
    with pytest.raises(CourierError) as refused:
        pathao_issue_token(
            PATHAO_BASE_URL,
            CREDENTIALS["client_id"],
            CREDENTIALS["client_secret"],
            CREDENTIALS["username"],
            "not-the-password",
            organization_id=partner_a.pk,
        )

    assert "The user credentials were incorrect." in refused.value.detail
    assert refused.value.remote_status == 400


def test_an_expired_token_is_refreshed_once_and_the_request_sent_again(pathao, fake_pathao, changes) -> None:
    fake_pathao.expire_tokens()

    booking = pathao.book(parcel())

    assert booking.consignment_id in fake_pathao.orders
    assert [r.status for r in requests(fake_pathao, "POST", "/orders")] == [401, 200]
    [refresh] = requests(fake_pathao, "POST", "/issue-token")
    assert refresh.body["grant_type"] == "refresh_token"
    [stored] = changes
    assert stored["access_token"] in fake_pathao.access_tokens
    assert stored["refresh_token"] in fake_pathao.refresh_tokens
    assert "password" not in stored


def test_a_refused_refresh_asks_to_connect_pathao_again(pathao, fake_pathao, changes) -> None:
    fake_pathao.expire_tokens()
    fake_pathao.refresh_tokens.clear()

    with pytest.raises(CourierError, match="connect Pathao again"):
        pathao.book(parcel())

    assert len(requests(fake_pathao, "POST", "/issue-token")) == 1
    assert changes == []


def test_429_waits_out_retry_after_then_books(pathao, fake_pathao, sleeps) -> None:
    fake_pathao.fail_next(429, retry_after=3)

    booking = pathao.book(parcel())

    assert booking.consignment_id in fake_pathao.orders
    assert sleeps == [3.0]


def test_track_maps_pathaos_status_and_its_dhaka_time(pathao, fake_pathao) -> None:
    booking = pathao.book(parcel())
    fake_pathao.advance(booking.consignment_id, "order.received-at-last-mile-hub")

    [event] = pathao.track(booking.consignment_id)

    assert (event.status, event.raw_status) == (TrackingStatus.AT_HUB, "Received_at_Last_Mile_HUB")
    assert event.occurred_at == fake_pathao.now
    assert event.merchant_order_ref == "AL-000123"


def test_an_unknown_status_keeps_its_raw_text_and_changes_nothing(pathao, fake_pathao) -> None:
    booking = pathao.book(parcel())
    fake_pathao.orders[booking.consignment_id]["order_status"] = "Lost_In_Space"

    [event] = pathao.track(booking.consignment_id)

    assert (event.status, event.raw_status) == (None, "Lost_In_Space")


def test_tracking_an_unknown_consignment_is_a_courier_error(pathao) -> None:
    with pytest.raises(CourierError, match="Order not found"):
        pathao.track("DL000000NOPE")


@pytest.mark.parametrize("event", sorted(EVENT_STATUS))
def test_every_pathao_event_and_its_status_are_in_the_table(event) -> None:
    assert status_key(event) in STATUSES
    assert status_key(EVENT_STATUS[event]) in STATUSES


def test_a_signed_webhook_becomes_events_with_normalised_statuses(pathao, fake_pathao) -> None:
    booking = pathao.book(parcel())
    delivery = fake_pathao.advance(booking.consignment_id, "order.delivered", collected_amount=1250)
    assert delivery is not None

    [event] = pathao.parse_webhook(delivery.headers, delivery.body)

    assert event.consignment_id == booking.consignment_id
    assert (event.status, event.raw_status) == (TrackingStatus.DELIVERED, "order.delivered")
    assert event.cod_collected == Decimal("1250")
    assert event.occurred_at == fake_pathao.now


def test_a_failed_attempt_carries_pathaos_reason(pathao, fake_pathao) -> None:
    booking = pathao.book(parcel())
    delivery = fake_pathao.advance(booking.consignment_id, "order.delivery-failed", reason="Customer not reachable")
    assert delivery is not None

    [event] = pathao.parse_webhook(delivery.headers, delivery.body)

    assert (event.status, event.reason) == (TrackingStatus.ATTEMPT_FAILED, "Customer not reachable")


def test_a_webhook_with_the_wrong_signature_is_refused(pathao, fake_pathao) -> None:
    booking = pathao.book(parcel())
    delivery = fake_pathao.deliver(
        {"event": "order.delivered", "consignment_id": booking.consignment_id}, secret="guess"
    )

    with pytest.raises(CourierWebhookRefused):
        pathao.parse_webhook(delivery.headers, delivery.body)
    with pytest.raises(CourierWebhookRefused):
        pathao.parse_webhook({"Content-Type": "application/json"}, delivery.body)


def test_the_previous_webhook_secret_still_works_while_the_panel_is_changed(
    partner_a, credentials, fake_pathao
) -> None:
    rotated = {
        **credentials,
        "webhook_secret": "the-new-secret",
        "previous_webhook_secret": CREDENTIALS["webhook_secret"],
    }
    adapter = PathaoAdapter(rotated, organization_id=partner_a.pk)
    delivery = fake_pathao.deliver({"event": "order.picked", "consignment_id": "DL1"})

    [event] = adapter.parse_webhook(delivery.headers, delivery.body)

    assert event.status == TrackingStatus.PICKED_UP
    adapter.close()


def test_the_integration_check_is_accepted_with_pathaos_header(pathao, fake_pathao) -> None:
    delivery = fake_pathao.integration_check()

    assert pathao.parse_webhook(delivery.headers, delivery.body) == []
    reply = pathao.webhook_reply()
    assert reply.status == 202
    assert reply.headers == {INTEGRATION_HEADER: INTEGRATION_VALUE}


def test_cancel_says_pathao_must_be_asked(pathao) -> None:
    with pytest.raises(CourierError, match="ask Pathao to cancel DL123"):
        pathao.cancel("DL123")


def test_the_adapter_is_registered_under_its_carrier_code(partner_a, credentials) -> None:
    assert ADAPTERS["pathao"] is PathaoAdapter
    adapter = adapter_for("pathao", credentials, organization_id=partner_a.pk, sandbox=True)
    assert isinstance(adapter, PathaoAdapter)
    assert adapter.base_url == "https://courier-api-sandbox.pathao.com"
    adapter.close()
