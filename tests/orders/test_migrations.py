"""The migrations that move orders to carrier codes and to the new tracking codes, run forwards
and backwards by Django's migration executor on rows written in the old shape."""

from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from allied.orders.tracking import tracking_code_is_valid

BEFORE = [("orders", "0004_organization_index_served_by_unique")]
AFTER = [("orders", "0007_tracking_code_unique")]
_numbers = count(1)


def migrate(targets: list[tuple[str, str]]):
    """Migrates the test database to the targets; returns the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def old_order(Order, organization, warehouse, *, carrier: str, tracking_code: str):
    number = next(_numbers)
    return Order.objects.create(
        organization_id=organization.pk,
        warehouse_id=warehouse.pk,
        channel="api",
        external_id=f"OLD-{number}",
        number=f"OLD{number:05d}",
        status="handed_over" if carrier else "allocated",
        recipient_name="Hina Baig",
        recipient_phone="+92 300 1112233",
        address_line1="House 12",
        address_city="Karachi",
        currency="PKR",
        subtotal=Decimal("10.00"),
        total=Decimal("10.00"),
        payment_method="prepaid",
        carrier=carrier,
        tracking_code=tracking_code,
    )


@pytest.fixture
def back_to_latest():
    """Whatever happens in the test, the database ends with every migration applied."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_labels_become_codes_and_packed_orders_get_new_unique_tracking_codes(partner_a, floor) -> None:
    Order = migrate(BEFORE).get_model("orders", "Order")
    rows = {
        "tcs": old_order(Order, partner_a, floor.warehouse, carrier="TCS", tracking_code="AES1234567890"),
        "riders": old_order(Order, partner_a, floor.warehouse, carrier="AES riders", tracking_code="AES1234567890"),
        "leopards": old_order(Order, partner_a, floor.warehouse, carrier="leopards courier", tracking_code="AES5"),
        "mp": old_order(Order, partner_a, floor.warehouse, carrier="M&P", tracking_code="AES0000000007"),
        "unknown": old_order(Order, partner_a, floor.warehouse, carrier="Bykea", tracking_code="AES0000000008"),
        "unpacked": old_order(Order, partner_a, floor.warehouse, carrier="", tracking_code=""),
    }

    Order = migrate(AFTER).get_model("orders", "Order")

    after = {name: Order.objects.get(pk=row.pk) for name, row in rows.items()}
    assert {name: order.carrier for name, order in after.items()} == {
        "tcs": "tcs",
        "riders": "aes_riders",
        "leopards": "leopards",
        "mp": "mp",
        "unknown": "Bykea",
        "unpacked": "",
    }
    codes = [order.tracking_code for name, order in after.items() if name != "unpacked"]
    assert all(tracking_code_is_valid(code) for code in codes), codes
    assert len(set(codes)) == len(codes)
    assert after["unpacked"].tracking_code == ""

    Order = migrate(BEFORE).get_model("orders", "Order")

    assert Order.objects.get(pk=rows["riders"].pk).carrier == "AES riders"
    assert Order.objects.get(pk=rows["leopards"].pk).carrier == "Leopards Courier"
    assert Order.objects.get(pk=rows["tcs"].pk).tracking_code == after["tcs"].tracking_code
