import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.catalog.factories import ProductFactory
from tests.orders.test_orders_api import order_body

pytestmark = pytest.mark.django_db


def test_order_intake_through_the_api_stays_lean(partner_a, floor, stock_in, api_client_for) -> None:
    """The hottest path: a budget of statements per order (docs/benchmarks.md lists them)."""
    for sku in ("TEE", "CAP", "MUG"):
        stock_in(ProductFactory(organization=partner_a, sku=sku), 10)
    api = api_client_for(partner_a)
    body = order_body(lines=[{"sku": sku, "quantity": 1, "unit_price": "10.00"} for sku in ("TEE", "CAP", "MUG")])
    api.post("/api/v1/orders", json.dumps(order_body(external_id="WARM-UP")), content_type="application/json")

    with CaptureQueriesContext(connection) as queries:
        response = api.post("/api/v1/orders", json.dumps(body), content_type="application/json")

    assert response.status_code == 201
    # Django logs server-bound statements (PostgreSQL's prepared ones) as "QUERY = '…' - PARAMS = …"
    statements = [re.sub(r"^QUERY = ['\"]", "", q["sql"]).split()[0].upper() for q in queries.captured_queries]
    # the key with its organization; then, in the request's transaction (a savepoint under the
    # test), one statement reading what the intake must know and locking the stock rows, and the
    # writes: one statement on PostgreSQL, one per table on SQLite (the last: the events' deliveries)
    if connection.vendor == "postgresql":
        assert statements == ["SELECT", "SAVEPOINT", "WITH", "WITH", "RELEASE"]
    else:
        writes = ["INSERT", "INSERT", "UPDATE", "INSERT", "INSERT", "INSERT", "INSERT"]
        assert statements == ["SELECT", "SAVEPOINT", "WITH", *writes, "RELEASE"]
