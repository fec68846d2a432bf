"""On PostgreSQL: many clients racing for the same units never oversell."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test import Client

from allied.inventory.models import Stock
from allied.inventory.selectors import inventory_verify
from allied.orders.models import Order, OrderStatus
from tests.catalog.factories import ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 64


def test_64_clients_race_for_the_last_10_units(partner_a, floor, stock_in, api_client_for) -> None:
    tee = ProductFactory(organization=partner_a, sku="LAST-TEN")
    stock_in(tee, 10)
    authorization = api_client_for(partner_a).defaults["HTTP_AUTHORIZATION"]
    start = threading.Barrier(CLIENTS)

    def place(number: int) -> int:
        client = Client(HTTP_AUTHORIZATION=authorization)
        body = {
            "external_id": f"RACE-{number}",
            "recipient": {"name": "R", "phone": "+92 300 0000000"},
            "shipping_address": {"line1": "1 Main St", "city": "Karachi"},
            "lines": [{"sku": "LAST-TEN", "quantity": 1, "unit_price": "10.00"}],
            "currency": "PKR",
            "payment": {"method": "prepaid"},
        }
        start.wait()
        try:
            return client.post("/api/v1/orders", json.dumps(body), content_type="application/json").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = list(pool.map(place, range(CLIENTS)))

    assert statuses == [201] * CLIENTS
    assert Order.objects.filter(status=OrderStatus.ALLOCATED).count() == 10
    assert Order.objects.filter(status=OrderStatus.BACKORDERED).count() == CLIENTS - 10
    stock = Stock.objects.get(product=tee)
    assert (stock.on_hand, stock.reserved, stock.available) == (10, 10, 0)
    assert inventory_verify() == []


def test_the_same_order_sent_by_16_clients_at_once_is_taken_in_once(partner_a, floor, stock_in, api_client_for) -> None:
    """The unique constraint decides the race; the losers run the intake again and answer the winner."""
    stock_in(ProductFactory(organization=partner_a, sku="TWIN"), 100)
    authorization = api_client_for(partner_a).defaults["HTTP_AUTHORIZATION"]
    start = threading.Barrier(16)
    body = {
        "external_id": "SAME-ORDER",
        "recipient": {"name": "R", "phone": "+92 300 0000000"},
        "shipping_address": {"line1": "1 Main St", "city": "Karachi"},
        "lines": [{"sku": "TWIN", "quantity": 2, "unit_price": "10.00"}],
        "currency": "PKR",
        "payment": {"method": "prepaid"},
    }

    def place(number: int) -> tuple[int, int]:
        client = Client(HTTP_AUTHORIZATION=authorization)
        # half of them also name the same Idempotency-Key
        headers = {"Idempotency-Key": "twin-key"} if number % 2 else {}
        start.wait()
        try:
            response = client.post("/api/v1/orders", json.dumps(body), content_type="application/json", headers=headers)
            return response.status_code, response.json()["id"]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(place, range(16)))

    assert sorted(status for status, _ in answers) == [200] * 15 + [201]
    assert len({order_id for _, order_id in answers}) == 1
    assert Order.objects.count() == 1
    assert Stock.objects.get(product__sku="TWIN").reserved == 2
    assert inventory_verify() == []
