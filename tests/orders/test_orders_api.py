import json

import pytest
from django.test import Client

from allied.accounts.policy import Actor
from allied.accounts.services import api_key_create
from allied.core.models import DomainEvent
from allied.inventory.models import Stock
from allied.inventory.selectors import inventory_verify
from allied.orders.models import Order
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


def order_body(**overrides: object) -> dict:
    body = {
        "external_id": "SHOP-1001",
        "recipient": {"name": "Hina Baig", "phone": "+92 300 1112233", "email": "hina@example.com"},
        "shipping_address": {"line1": "House 12, Street 4", "area": "Gulshan", "city": "Karachi", "region": "Sindh"},
        "lines": [{"sku": "TEE", "quantity": 2, "unit_price": "1500.00"}],
        "currency": "PKR",
        "shipping_fee": "200.00",
        "payment": {"method": "cod", "cod_amount": "3200.00"},
        "tags": ["eid"],
    }
    body.update(overrides)
    return body


def post(client: Client, body: object, **headers: str) -> object:
    return client.post("/api/v1/orders", json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def shop(partner_a, floor, stock_in, api_client_for) -> Client:
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 10)
    return api_client_for(partner_a, scopes=["orders:read", "orders:write", "inventory:read"])


def test_create_order_allocates_and_returns_it(shop: Client) -> None:
    response = post(shop, order_body())

    assert response.status_code == 201
    order = response.json()
    assert (order["status"], order["total"], order["cod_amount"]) == ("allocated", "3200.00", "3200.00")
    assert order["lines"][0]["allocated_quantity"] == 2
    stored = Order.objects.get()
    assert (stored.tags, stored.status, stored.lines.get().allocated_quantity) == (["eid"], "allocated", 2)
    assert shop.get(f"/api/v1/orders/{order['id']}").json() | {"events": None} == order | {"events": None}
    assert DomainEvent.objects.get(type="order.created").payload["lines"] == [
        {"sku": "TEE", "quantity": 2, "allocated": 2}
    ]
    levels = shop.get("/api/v1/inventory", {"sku": "TEE"}).json()["items"]
    assert levels == [
        {"sku": "TEE", "warehouse": "KHI-W1", "on_hand": 10, "reserved": 2, "quarantined": 0, "available": 8}
    ]


def test_resending_the_same_external_id_returns_the_same_order(shop: Client) -> None:
    first = post(shop, order_body())
    second = post(shop, order_body())

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Order.objects.count() == 1
    assert Stock.objects.get().reserved == 2


def test_idempotency_key_replays_and_refuses_reuse_for_another_body(shop: Client) -> None:
    first = post(shop, order_body(external_id="A"), **{"Idempotency-Key": "key-1"})
    replay = post(shop, order_body(external_id="A"), **{"Idempotency-Key": "key-1"})
    reused = post(shop, order_body(external_id="B"), **{"Idempotency-Key": "key-1"})

    assert (first.status_code, replay.status_code, reused.status_code) == (201, 200, 409)
    assert replay.json()["id"] == first.json()["id"]
    assert reused.json()["errors"][0]["code"] == "key_reused"
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"sku": "NOPE", "quantity": 1, "unit_price": "1.00"}]}, "lines[0].sku"),
        ({"lines": [{"sku": "TEE", "quantity": 0, "unit_price": "1.00"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "TEE", "quantity": -3, "unit_price": "1.00"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "1.00", "currency": "USD"}]}, "lines[0].currency"),
        ({"lines": []}, "lines"),
        ({"currency": "rupees"}, "currency"),
        ({"payment": {"method": "cod"}}, "payment.cod_amount"),
        ({"payment": {"method": "bitcoin"}}, "payment.method"),
        ({"recipient": {"name": "", "phone": "+92 300 1112233"}}, "recipient.name"),
        ({"shipping_address": {"line1": "x"}}, "shipping_address.city"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_orders_are_422_naming_the_field_and_store_nothing(shop: Client, change: dict, field: str) -> None:
    response = post(shop, order_body(**change))

    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Order.objects.exists()
    assert Stock.objects.get().reserved == 0


def test_mixed_currencies_are_named_in_the_problem(shop: Client) -> None:
    body = order_body(lines=[{"sku": "TEE", "quantity": 1, "unit_price": "1.00", "currency": "USD"}])

    problem = post(shop, body).json()

    assert problem["errors"] == [
        {"field": "lines[0].currency", "message": "Must be the order's currency, PKR.", "code": "currency"}
    ]


def test_malformed_json_wrong_type_and_huge_body_store_nothing(shop: Client) -> None:
    broken = shop.post("/api/v1/orders", '{"external_id": ', content_type="application/json")
    wrong = shop.post("/api/v1/orders", "external_id=1", content_type="text/plain")
    huge = shop.post(
        "/api/v1/orders", json.dumps(order_body(notes="x" * (10 * 1024 * 1024))), content_type="application/json"
    )

    assert (broken.status_code, wrong.status_code, huge.status_code) == (400, 415, 413)
    assert not Order.objects.exists()


def test_list_filters_and_paginates(shop: Client) -> None:
    for number in range(3):
        post(shop, order_body(external_id=f"E-{number}"))

    page = shop.get("/api/v1/orders", {"limit": 2}).json()
    rest = shop.get("/api/v1/orders", {"limit": 2, "cursor": page["next_cursor"]}).json()
    found = shop.get("/api/v1/orders", {"search": "E-1"}).json()["items"]

    assert [o["external_id"] for o in page["items"] + rest["items"]] == ["E-0", "E-1", "E-2"]
    assert rest["next_cursor"] is None
    assert [o["external_id"] for o in found] == ["E-1"]
    assert shop.get("/api/v1/orders", {"status": "cancelled"}).json()["items"] == []


def test_get_shows_the_timeline_and_cancel_releases_stock(shop: Client) -> None:
    order_id = post(shop, order_body()).json()["id"]

    cancelled = shop.post(
        f"/api/v1/orders/{order_id}/cancel", json.dumps({"reason": "changed mind"}), content_type="application/json"
    )
    detail = shop.get(f"/api/v1/orders/{order_id}").json()

    assert cancelled.status_code == 200
    assert detail["status"] == "cancelled"
    assert [e["type"] for e in detail["events"]] == ["received", "allocated", "cancelled"]
    assert Stock.objects.get().reserved == 0
    assert inventory_verify() == []


def test_read_only_key_cannot_create_or_cancel(partner_a, floor, api_client_for) -> None:
    reader = api_client_for(partner_a, scopes=["orders:read"])

    assert post(reader, order_body()).status_code == 403
    assert not Order.objects.exists()


def test_asn_is_announced_through_the_api(shop: Client, partner_a) -> None:
    ProductFactory(organization=partner_a, sku="CAP")
    writer_body = {"reference": "PO-1", "lines": [{"sku": "CAP", "quantity": 40}], "expected_on": "2026-12-01"}
    _, key = api_key_create(organization=partner_a, name="w", scopes=["inventory:write"], actor=Actor.system("t"))
    writer = Client(headers={"Authorization": f"Bearer {key}"})

    created = writer.post("/api/v1/inbound-shipments", json.dumps(writer_body), content_type="application/json")
    duplicate = writer.post("/api/v1/inbound-shipments", json.dumps(writer_body), content_type="application/json")
    unknown = writer.post(
        "/api/v1/inbound-shipments",
        json.dumps({"reference": "PO-2", "lines": [{"sku": "ZZZ", "quantity": 1}]}),
        content_type="application/json",
    )

    assert created.status_code == 201
    assert created.json()["lines"] == [
        {"sku": "CAP", "expected_quantity": 40, "received_quantity": None, "damaged_quantity": 0, "discrepancy": None}
    ]
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["field"] == "reference"
    assert unknown.json()["errors"][0] == {
        "field": "lines[0].sku",
        "message": "Unknown SKU 'ZZZ'.",
        "code": "unknown_sku",
    }
    elsewhere = writer.post(
        "/api/v1/inbound-shipments",
        json.dumps({"reference": "PO-3", "warehouse": "NOWHERE", "lines": [{"sku": "CAP", "quantity": 1}]}),
        content_type="application/json",
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["field"] == "warehouse"


def test_the_201_answer_is_the_replay_and_the_get(shop: Client) -> None:
    body = order_body(
        lines=[{"sku": "TEE", "quantity": 2, "unit_price": "59.7"}],
        shipping_fee="0",
        payment={"method": "cod", "cod_amount": "119.4"},
        delivery_window={"start": "2026-01-31T14:00:00+05:00", "end": "2026-01-31T18:30:00.250000+05:00"},
    )

    created = post(shop, body, **{"Idempotency-Key": "same-answer"})
    replay = post(shop, body, **{"Idempotency-Key": "same-answer"})
    fetched = shop.get(f"/api/v1/orders/{created.json()['id']}").json()

    assert (created.status_code, replay.status_code) == (201, 200)
    assert created.json() == replay.json()
    assert {key: fetched[key] for key in created.json()} == created.json()
    answer = created.json()
    assert (answer["lines"][0]["unit_price"], answer["subtotal"], answer["shipping_fee"]) == ("59.70", "119.40", "0.00")
    assert (answer["window_start"], answer["window_end"]) == ("2026-01-31T09:00:00Z", "2026-01-31T13:30:00.250Z")


def test_the_same_json_reserialized_is_the_same_body_for_an_idempotency_key(shop: Client) -> None:
    body = order_body(external_id="RE-1")
    compact = json.dumps(body, separators=(",", ":"))
    pretty = json.dumps(dict(reversed(list(body.items()))), indent=4)

    first = shop.post("/api/v1/orders", compact, content_type="application/json", headers={"Idempotency-Key": "k-9"})
    again = shop.post("/api/v1/orders", pretty, content_type="application/json", headers={"Idempotency-Key": "k-9"})

    assert (first.status_code, again.status_code) == (201, 200), again.content
    assert first.json()["id"] == again.json()["id"]
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "nope"}, "status"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"created_after": "1700000000"}, "created_after"),
        ({"created_before": "2026-01-01"}, "created_before"),
        ({"created_after": "2026-01-01T10:00:00"}, "created_after"),
        ({"created_after": "2026-01-01T10:00:00+23:00"}, "created_after"),
        ({"search": "a\x00b"}, "search"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_list_filters_are_422_naming_the_parameter(shop: Client, query: dict, field: str) -> None:
    response = shop.get("/api/v1/orders", query)

    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_list_filters_by_status_and_creation_time_with_an_offset(shop: Client) -> None:
    post(shop, order_body())

    allocated = shop.get("/api/v1/orders", {"status": "allocated", "created_after": "2000-01-01T05:00:00+05:00"})
    cancelled = shop.get("/api/v1/orders", {"status": "cancelled"})

    assert [order["external_id"] for order in allocated.json()["items"]] == ["SHOP-1001"]
    assert cancelled.json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/no-such-thing", 404, "not_found"),
        ("get", "/api/nothing-here", 404, "not_found"),
        ("delete", "/api/v1/orders", 405, "method_not_allowed"),
        ("put", "/api/v1/me", 405, "method_not_allowed"),
    ],
)
def test_unknown_paths_and_methods_under_api_are_problems(
    shop: Client, method: str, path: str, status: int, code: str
) -> None:
    response = getattr(shop, method)(path)

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    if status == 405:
        assert "GET" in response["Allow"]
