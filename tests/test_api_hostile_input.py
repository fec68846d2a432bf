"""Walk the OpenAPI schema: every text field and text parameter of every operation refuses a NUL
character, and every date and date-time refuses a bare number and an offset PostgreSQL cannot
store, with a 422 problem naming the field, never a 500, and nothing stored. Each bad value is sent
in an otherwise valid request, so it is the value under test that is refused. A new operation
that takes a body fails here until it has a valid example below."""

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from allied.api import api
from allied.catalog.models import Product
from allied.core.models import Subscription
from allied.fulfillment.models import Return
from allied.inventory.models import InboundShipment
from allied.orders.models import Order
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

SCHEMA = api.get_openapi_schema()
COMPONENTS = SCHEMA["components"]["schemas"]
NUL = "a\x00b"
BAD_OFFSET = "2026-01-01T10:00:00+23:00"
BARE_NUMBER = 1767261600

# A stop of the last mile, alone or as either half of a paired job.
STOP = {
    "hub": "KHI-H1",
    "date": "2099-01-31",
    "address": {"line1": "House 12", "area": "PECHS", "city": "Karachi", "lat": 24.87, "lng": 67.06},
    "contact_name": "Hina Baig",
    "contact_phone": "+92 300 1112233",
    "window_start": "09:00",
    "window_end": "12:00",
    "cod_amount": "10.00",
    "instructions": "Ring twice",
    "reference": "SHOP-1",
}
# A valid body for every operation that takes one; `{order}` and `{product}` are filled in.
# A list gives one body per kind of item of a list whose items are of several kinds (the stops of a
# bulk: single stops and paired jobs); a field is tested in the body that has its kind of item.
VALID_BODIES: dict[str, Any] = {
    "orders_create": {
        "external_id": "HOSTILE-1",
        "channel": "api",
        "recipient": {"name": "Hina Baig", "phone": "+92 300 1112233", "email": "hina@example.com"},
        "shipping_address": {
            "line1": "House 12",
            "line2": "Street 4",
            "area": "Gulshan",
            "city": "Karachi",
            "region": "Sindh",
            "postcode": "75300",
            "country": "PK",
        },
        "lines": [{"sku": "TEE", "quantity": 1, "unit_price": "10.00", "currency": "PKR"}],
        "currency": "PKR",
        "payment": {"method": "prepaid"},
        "delivery_window": {"start": "2026-01-31T14:00:00+05:00", "end": "2026-01-31T18:00:00+05:00"},
        "notes": "Ring twice",
        "tags": ["eid"],
    },
    "orders_cancel": {"reason": "Customer cancelled"},
    "products_create": {"sku": "MUG", "name": "Mug", "barcodes": ["123"], "currency": "PKR"},
    "products_update": {"sku": "TEE-2", "name": "Tee", "barcodes": ["456"], "currency": "PKR"},
    "products_bulk_upsert": {"items": [{"sku": "CAP", "name": "Cap", "barcodes": ["789"], "currency": "PKR"}]},
    "inbound_create": {
        "reference": "PO-1",
        "warehouse": "KHI-W1",
        "expected_on": "2026-02-01",
        "notes": "Two pallets",
        "lines": [{"sku": "TEE", "quantity": 5}],
    },
    "returns_create": {"order_id": "{order}", "lines": [{"sku": "TEE", "quantity": 1}], "reason": "Wrong size"},
    "connections_create": {
        "kind": "shopify",
        "name": "Main store",
        "store_url": "kohsar.myshopify.com",
        "credentials": {"access_token": "shpat_hostile_1111", "client_secret": "shpss_hostile_2222"},
    },
    "webhooks_create": {
        "url": "https://hooks.example.com/allied",
        "event_types": ["order.*"],
        "description": "Our ERP",
    },
    "webhooks_update": {"url": "https://hooks.example.com/v2", "event_types": ["product.*"], "description": "ERP"},
    "hubs_create": {
        "code": "KHI-H1",
        "name": "Central",
        "address_line1": "PECHS",
        "city": "Karachi",
        "lat": 24.86,
        "lng": 67.07,
        "service_areas": ["PECHS"],
        "day_start": "08:00",
        "day_end": "20:00",
    },
    "hubs_update": {"name": "Central", "service_areas": ["PECHS"], "day_start": "08:00", "day_end": "20:00"},
    "riders_create": {"email": "r@aes.example", "full_name": "R", "hub": "KHI-H1", "vehicle_type": "van"},
    "riders_shift_set": {"start": "08:00", "end": "16:00"},
    "delivery_tasks_create": STOP | {"kind": "drop_off", "organization": "partner-a"},
    "delivery_tasks_bulk_create": [
        {"organization": "partner-a", "stops": [STOP]},
        {"organization": "partner-a", "stops": [{"pickup": STOP, "drop_off": STOP}]},
    ],
    "delivery_tasks_move": {"route_id": 1},
    "plans_create": {"date": "2099-01-31", "seconds": 1},
    "courier_accounts_create": {
        "code": "steadfast",
        "name": "Steadfast main",
        "areas": ["Karachi"],
        "credentials": {"api_key": "sf_hostile_key", "secret_key": "sf_hostile_secret", "webhook_token": "tok"},
    },
    "courier_accounts_update": {"areas": ["Karachi"], "active": True},
}
VALID_HEADERS = {"orders_create": {"Idempotency-Key": "hostile-key"}}


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return resolved(COMPONENTS[schema["$ref"].rsplit("/", 1)[1]])
    return schema


def leaves(schema: dict[str, Any], path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every scalar field under `schema` with its path; arrays contribute their first item."""
    schema = resolved(schema)
    for option in schema.get("anyOf", []):
        if resolved(option).get("type") != "null":
            yield from leaves(option, path)
    if schema.get("type") == "object":
        for name, field in schema.get("properties", {}).items():
            yield from leaves(field, (*path, name))
    elif schema.get("type") == "array":
        yield from leaves(schema["items"], (*path, 0))
    elif "type" in schema or "enum" in schema:
        yield path, schema


def kind(schema: dict[str, Any]) -> str:
    if schema.get("format") in {"date-time", "date"}:
        return schema["format"]
    return "text" if schema.get("type") == "string" or "enum" in schema else ""


def field_name(path: tuple[Any, ...]) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


def with_value(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target: Any = body
    for part in path[:-1]:
        target = target[part] if isinstance(part, int) else target.setdefault(part, {})
    target[path[-1]] = value
    return body


def bad_values(kind_of_field: str) -> list[Any]:
    return {"text": [NUL], "date-time": [BAD_OFFSET, BARE_NUMBER, "2026-01-01T10:00:00"], "date": [BARE_NUMBER]}[
        kind_of_field
    ]


def cases() -> Iterator[Any]:
    for path, methods in SCHEMA["paths"].items():
        for method, operation in methods.items():
            operation_id = operation["operationId"]
            for parameter in operation.get("parameters", []):
                field_kind = kind(resolved(parameter["schema"])) or next(
                    (kind(resolved(o)) for o in parameter["schema"].get("anyOf", []) if kind(resolved(o))), ""
                )
                if field_kind and parameter["in"] in {"query", "header"}:
                    for value in bad_values(field_kind):
                        yield pytest.param(
                            method, path, operation_id, parameter["in"], (parameter["name"],), value,
                            id=f"{operation_id}-{parameter['name']}-{value!r}",
                        )  # fmt: skip
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            for field_path, field_schema in leaves(body["schema"]):
                field_kind = kind(field_schema)
                if not field_kind:
                    continue
                if field_path and field_path[-1] == 0 and field_kind == "text":
                    field_path = field_path[:-1]  # a list of texts is checked, and named, as one field
                for value in bad_values(field_kind):
                    yield pytest.param(
                        method, path, operation_id, "body", field_path, value,
                        id=f"{operation_id}-{field_name(field_path)}-{value!r}",
                    )  # fmt: skip


@pytest.fixture
def shop(partner_a, floor, stock_in, api_client_for) -> tuple[Client, dict[str, int]]:
    tee = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(tee, 10)
    client = api_client_for(partner_a, scopes=["orders:read", "orders:write", "inventory:read", "inventory:write"])
    created = client.post("/api/v1/orders", VALID_BODIES["orders_create"], content_type="application/json")
    assert created.status_code == 201, created.content
    return client, {"order": created.json()["id"], "product": tee.pk}


def stored() -> tuple[int, ...]:
    return (
        Order.objects.count(),
        Product.objects.count(),
        InboundShipment.objects.count(),
        Return.objects.count(),
        Subscription.objects.count(),
    )


def test_every_operation_with_a_body_has_a_valid_example() -> None:
    with_bodies = {
        operation["operationId"]
        for methods in SCHEMA["paths"].values()
        for operation in methods.values()
        if "requestBody" in operation
    }

    assert with_bodies == set(VALID_BODIES)


@pytest.mark.parametrize(("method", "path", "operation_id", "where", "field_path", "value"), list(cases()))
def test_hostile_text_and_dates_are_422_naming_the_field_and_store_nothing(
    shop: tuple[Client, dict[str, int]],
    method: str,
    path: str,
    operation_id: str,
    where: str,
    field_path: tuple,
    value: Any,
) -> None:
    client, ids = shop
    before = stored()
    url = path.replace("{order_id}", str(ids["order"])).replace("{product_id}", str(ids["product"]))
    url = url.replace("{inbound_id}", "1").replace("{return_id}", "1")
    url = url.replace("{webhook_id}", "1").replace("{delivery_id}", "1")
    body = json.loads(json.dumps(valid_body(operation_id, field_path)).replace('"{order}"', str(ids["order"])))
    headers = dict(VALID_HEADERS.get(operation_id, {}))
    query: dict[str, Any] = {}
    if where == "body":
        body = with_value(
            body,
            field_path,
            [value] if isinstance(value, str) and value == NUL and _is_list(operation_id, field_path) else value,
        )
    elif where == "query":
        query[field_path[0]] = value
    else:
        headers[field_path[0]] = value
    if method == "get":
        response = client.get(url, query, headers=headers)
    else:
        response = getattr(client, method)(url, json.dumps(body), content_type="application/json", headers=headers)

    assert response.status_code == 422, (response.status_code, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert field_name(field_path) in [error["field"] for error in response.json()["errors"]]
    assert stored() == before


def _may_hold(option: dict[str, Any], rest: tuple) -> bool:
    """Whether this alternative of a field can be the one on the path (not null, and an object
    alternative only if it has the path's next property)."""
    if option.get("type") == "null":
        return False
    return option.get("type") != "object" or not rest or rest[0] in option.get("properties", {})


def valid_body(operation_id: str, field_path: tuple) -> dict[str, Any]:
    bodies = VALID_BODIES.get(operation_id, {})
    options = bodies if isinstance(bodies, list) else [bodies]
    return next((body for body in options if _holds(body, field_path[:-1])), options[0])


def _holds(body: Any, path: tuple) -> bool:
    for part in path:
        if isinstance(part, int) and not (isinstance(body, list) and part < len(body)):
            return False
        if isinstance(part, str) and not (isinstance(body, dict) and part in body):
            return False
        body = body[part]
    return True


def _is_list(operation_id: str, field_path: tuple) -> bool:
    """Whether the field is a list of texts (tags, barcodes): the NUL goes inside the list."""
    methods = next(m for m in SCHEMA["paths"].values() for o in m.values() if o["operationId"] == operation_id)
    operation = next(o for o in methods.values() if o["operationId"] == operation_id)
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    for index, part in enumerate(field_path):
        schema = resolved(schema)
        schema = schema["items"] if isinstance(part, int) else schema["properties"][part]
        rest = field_path[index + 1 :]
        schema = next((resolved(o) for o in schema.get("anyOf", []) if _may_hold(resolved(o), rest)), resolved(schema))
    return schema.get("type") == "array"
