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
