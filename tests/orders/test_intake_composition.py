"""The intake service joins its caller's transaction; only the entry point retries, and only when
a twin won the race to the intake's unique constraints."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from allied.accounts.policy import Actor
from allied.core.db import unique_columns, unique_violation
from allied.core.errors import ValidationFailed
from allied.core.models import AuditEntry
from allied.inventory.models import Stock
from allied.orders.models import Channel, Order
from allied.orders.services.intake import order_receive, order_take_in
from tests.catalog.factories import ProductFactory
from tests.orders.factories import order_input

SYSTEM = Actor.system("tests")


@pytest.fixture
def tee(partner_a, floor, stock_in):
    product = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(product, 5)
    return product


@pytest.mark.django_db(transaction=True)
def test_a_consumer_writes_its_own_row_and_the_order_in_one_transaction(partner_a, tee) -> None:
    def consume() -> None:
        with transaction.atomic(durable=True):
            AuditEntry.objects.create(action="inbox.processed")
            order_receive(organization=partner_a, data=order_input(("TEE", 2)), actor=SYSTEM)
            raise RuntimeError("the consumer fails after the intake")

    with pytest.raises(RuntimeError):
        consume()

    assert not Order.objects.exists()
    assert not AuditEntry.objects.filter(action="inbox.processed").exists()
    assert Stock.objects.get(product=tee).reserved == 0


@pytest.mark.django_db(transaction=True)
def test_an_integrity_error_that_is_no_race_is_not_answered_as_a_conflict(partner_a, tee) -> None:
    """A negative shipping fee passes no check of the service but breaks a check constraint: a
    defect, which must surface as itself, not as "send it again"."""
    data = replace(order_input(("TEE", 1)), shipping_fee=Decimal("-1"))

    with pytest.raises(IntegrityError) as raised:
        order_take_in(actor=SYSTEM, data=data, organization=partner_a)

    assert unique_violation(raised.value) is None
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_unique_violation_names_its_table_and_columns(partner_a, tee) -> None:
    first = order_take_in(actor=SYSTEM, data=order_input(("TEE", 1)), organization=partner_a).order

    twin = {field.attname: getattr(first, field.attname) for field in Order._meta.concrete_fields}
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        Order.objects.create(**{**twin, "id": None, "external_id": "another"})  # the same number

    assert unique_violation(raised.value) == unique_columns(Order, "number")


@pytest.mark.django_db
@pytest.mark.parametrize("channel", [Channel.SHOPIFY, Channel.WOOCOMMERCE])
def test_a_partner_cannot_claim_a_store_channel_but_the_connector_can(partner_a, member, tee, channel) -> None:
    owner = member(partner_a)
    partner = Actor(user=owner.user, organization=partner_a, role=owner.role)

    with pytest.raises(ValidationFailed) as refused, transaction.atomic():
        order_receive(organization=partner_a, data=order_input(("TEE", 1), channel=channel), actor=partner)
    intake = order_receive(organization=partner_a, data=order_input(("TEE", 1), channel=channel), actor=SYSTEM)

    assert [error.field for error in refused.value.errors] == ["channel"]
    assert intake.order.channel == channel
