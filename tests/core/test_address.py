"""One address value for every row and door that holds one."""

import json
from decimal import Decimal

import pytest

from allied.core.address import Address, CoordinatesSource
from allied.core.privacy import DataSubject
from allied.orders.models import Order
from allied.orders.privacy import erase_orders
from tests.catalog.factories import ProductFactory
from tests.orders.test_orders_api import order_body


def test_an_address_round_trips_through_its_columns() -> None:
    address = Address.given(line1="House 12", city="Karachi", area="Clifton", lat=Decimal("24.8"), lng=Decimal("67.0"))

    assert address.coordinates_source == CoordinatesSource.GIVEN
    assert Address(**{column.removeprefix("address_"): value for column, value in address.columns().items()}) == address


def test_half_a_coordinate_is_no_coordinate() -> None:
    address = Address.given(line1="House 12", city="Karachi", lat=Decimal("24.8"), lng=None)

    assert (address.lat, address.coordinates_source) == (None, CoordinatesSource.NONE)


@pytest.mark.django_db
def test_the_api_stores_the_senders_coordinates_with_their_source(partner_a, floor, stock_in, api_client_for) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 5)
    body = order_body(shipping_address={"line1": "House 12", "city": "Karachi", "lat": 24.861, "lng": 67.0099})

    response = api_client_for(partner_a).post("/api/v1/orders", json.dumps(body), content_type="application/json")

    answered = response.json()["shipping_address"]
    assert (answered["city"], answered["lat"], answered["lng"], answered["coordinates_source"]) == (
        "Karachi",
        24.861,
        67.0099,
        "given",
    )
    stored = Order.objects.get(pk=response.json()["id"]).address
    assert (stored.lat, stored.lng, stored.coordinates_source) == (
        Decimal("24.861000"),
        Decimal("67.009900"),
        CoordinatesSource.GIVEN,
    )


@pytest.mark.django_db
def test_erasure_keeps_only_city_and_country_of_the_address(partner_a, floor, stock_in, api_client_for) -> None:
    stock_in(ProductFactory(organization=partner_a, sku="TEE"), 5)
    body = order_body(
        recipient={"name": "Hina", "phone": "+92 300 1112233", "email": "hina@example.com"},
        shipping_address={"line1": "House 12", "area": "Clifton", "city": "Karachi", "lat": 24.8, "lng": 67.0},
    )
    order_id = (
        api_client_for(partner_a).post("/api/v1/orders", json.dumps(body), content_type="application/json").json()["id"]
    )
    Order.objects.filter(pk=order_id).update(status="delivered")

    erase_orders(DataSubject(email="hina@example.com"))

    assert Order.objects.get(pk=order_id).address == Address(line1="erased", city="Karachi", country="PK")
