from decimal import Decimal

import pytest
from django.db import transaction

from allied.accounts.models import Membership, Organization
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.catalog.models import Product
from allied.catalog.services import (
    product_create,
    product_deactivate,
    product_reactivate,
    product_update,
    product_upsert_many,
)
from allied.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from allied.core.models import DomainEvent
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


# Services run inside their caller's transaction; the tests open it as views and API handlers do,
# with transaction.atomic(durable=True), so a refused write is rolled back as it would be in production.


def actor_of(membership: Membership) -> Actor:
    return Actor(user=membership.user, organization=membership.organization, role=membership.role)


@pytest.fixture
def owner_a(partner_a: Organization, member: object) -> Actor:
    return actor_of(member(partner_a, Role.OWNER))  # type: ignore[operator]


def test_update_changes_only_the_given_fields_and_records_what_changed(owner_a: Actor, partner_a: Organization) -> None:
    product = ProductFactory(organization=partner_a, sku="TEE-BLK-M", name="Black tee", weight_grams=180)

    product_update(product=product, weight_grams=200, declared_value=Decimal("1750"), actor=owner_a)

    product.refresh_from_db()
    assert (product.sku, product.name, product.weight_grams, product.declared_value) == (
        "TEE-BLK-M",
        "Black tee",
        200,
        Decimal("1750.00"),
    )
    event = DomainEvent.objects.get()
    assert (event.type, event.organization, event.aggregate_id) == ("product.updated", partner_a, str(product.pk))
    assert event.payload["changed"] == ["weight_grams", "declared_value"]
    assert (event.payload["weight_grams"], event.payload["declared_value"]) == (200, "1750.00")


def test_update_that_changes_nothing_records_no_event(owner_a: Actor, partner_a: Organization) -> None:
    product = ProductFactory(organization=partner_a, name="Black tee", weight_grams=180)

    product_update(product=product, name="  Black tee ", weight_grams=180, actor=owner_a)

    assert not DomainEvent.objects.exists()


def test_update_to_another_products_sku_is_a_conflict_on_sku(owner_a: Actor, partner_a: Organization) -> None:
    ProductFactory(organization=partner_a, sku="TAKEN")
    product = ProductFactory(organization=partner_a, sku="MINE")

    with pytest.raises(Conflict) as raised, transaction.atomic(durable=True):
        product_update(product=product, sku="TAKEN", actor=owner_a)

    assert [e.field for e in raised.value.errors] == ["sku"]
    assert Product.objects.filter(sku="MINE").exists()


def test_sku_of_another_partner_is_free_to_use(
    owner_a: Actor, partner_a: Organization, partner_b: Organization
) -> None:
    ProductFactory(organization=partner_b, sku="SHARED")
    product = ProductFactory(organization=partner_a, sku="MINE")

    product_update(product=product, sku="SHARED", actor=owner_a)

    assert Product.objects.filter(sku="SHARED").count() == 2


def test_invalid_values_are_refused_naming_each_field(owner_a: Actor, partner_a: Organization) -> None:
    product = ProductFactory(organization=partner_a, weight_grams=180, currency="PKR")

    with pytest.raises(ValidationFailed) as raised, transaction.atomic(durable=True):
        product_update(product=product, weight_grams=-1, currency="rupees", sku="has space", actor=owner_a)

    assert {e.field for e in raised.value.errors} == {"weight_grams", "currency", "sku"}
    product.refresh_from_db()
    assert (product.weight_grams, product.currency) == (180, "PKR")


def test_viewer_may_not_change_products(partner_a: Organization, member: object) -> None:
    viewer = actor_of(member(partner_a, Role.VIEWER))  # type: ignore[operator]
    product = ProductFactory(organization=partner_a, name="Before")

    with pytest.raises(PermissionDenied), transaction.atomic(durable=True):
        product_update(product=product, name="After", actor=viewer)

    product.refresh_from_db()
    assert product.name == "Before"


def test_a_partner_cannot_change_another_partners_product(owner_a: Actor, partner_b: Organization) -> None:
    product = ProductFactory(organization=partner_b, name="Theirs")

    with pytest.raises(NotFound), transaction.atomic(durable=True):
        product_update(product=product, name="Mine now", actor=owner_a)

    product.refresh_from_db()
    assert product.name == "Theirs"


def test_deactivate_and_reactivate_keep_the_product_and_record_updates(owner_a: Actor, partner_a: Organization) -> None:
    product = ProductFactory(organization=partner_a)

    product_deactivate(product=product, actor=owner_a)
    product_deactivate(product=product, actor=owner_a)  # already inactive: no second event
    product.refresh_from_db()
    assert product.is_active is False
    product_reactivate(product=product, actor=owner_a)

    product.refresh_from_db()
    assert product.is_active is True
    events = list(DomainEvent.objects.values_list("type", "payload__is_active"))
    assert events == [("product.updated", False), ("product.updated", True)]


def test_barcodes_are_trimmed_and_each_kept_once(owner_a: Actor, partner_a: Organization) -> None:
    product = product_create(
        organization=partner_a, sku=" NEW-1 ", name=" New ", barcodes=[" 111 ", "222", "111"], actor=owner_a
    )

    assert (product.sku, product.name, product.barcodes) == ("NEW-1", "New", ["111", "222"])


def test_operator_creates_for_a_partner_but_not_for_aes(
    operator_org: Organization, partner_a: Organization, member: object
) -> None:
    admin = actor_of(member(operator_org, Role.ADMIN))  # type: ignore[operator]

    product = product_create(organization=partner_a, sku="OPS-1", name="By AES", actor=admin)
    with pytest.raises(ValidationFailed), transaction.atomic(durable=True):
        product_create(organization=operator_org, sku="OPS-2", name="For AES itself", actor=admin)

    assert product.organization == partner_a
    assert list(Product.objects.values_list("sku", flat=True)) == ["OPS-1"]


def test_upsert_many_creates_new_skus_and_updates_existing_ones(owner_a: Actor, partner_a: Organization) -> None:
    existing = ProductFactory(organization=partner_a, sku="OLD", name="Old name", weight_grams=500)
    same = ProductFactory(organization=partner_a, sku="SAME", name="Same", weight_grams=100)

    result = product_upsert_many(
        organization=partner_a,
        items=[
            {"sku": "NEW", "name": "New one", "declared_value": "99.5"},
            {"sku": "OLD", "name": "New name"},
            {"sku": "SAME", "weight_grams": 100},
        ],
        actor=owner_a,
    )

    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert [p.sku for p in result.products] == ["NEW", "OLD", "SAME"]
    existing.refresh_from_db()
    assert (existing.name, existing.weight_grams) == ("New name", 500), "fields not given keep their value"
    new = Product.objects.get(sku="NEW")
    assert (new.organization, new.declared_value, new.weight_grams, new.is_active) == (
        partner_a,
        Decimal("99.50"),
        0,
        True,
    )
    assert same.pk == result.products[2].pk
    assert sorted(DomainEvent.objects.values_list("type", "aggregate_id")) == sorted(
        [("product.created", str(new.pk)), ("product.updated", str(existing.pk))]
    )


def test_upsert_many_with_one_invalid_item_stores_nothing(owner_a: Actor, partner_a: Organization) -> None:
    ProductFactory(organization=partner_a, sku="OLD", name="Old name")

    with pytest.raises(ValidationFailed) as raised, transaction.atomic(durable=True):
        product_upsert_many(
            organization=partner_a,
            items=[{"sku": "NEW", "name": "New"}, {"sku": "OLD", "name": "Changed", "weight_grams": -3}],
            actor=owner_a,
        )

    assert [e.field for e in raised.value.errors] == ["items[1].weight_grams"]
    assert not Product.objects.filter(sku="NEW").exists()
    assert Product.objects.get(sku="OLD").name == "Old name"
    assert not DomainEvent.objects.exists()


def test_upsert_many_refuses_a_sku_given_twice_and_a_new_sku_without_name(
    owner_a: Actor, partner_a: Organization
) -> None:
    with pytest.raises(ValidationFailed) as raised, transaction.atomic(durable=True):
        product_upsert_many(
            organization=partner_a,
            items=[{"sku": "A", "name": "A"}, {"sku": "A", "name": "A again"}, {"sku": "B"}],
            actor=owner_a,
        )

    assert {(e.field, e.code) for e in raised.value.errors} == {("items[1].sku", "duplicate")}
    with pytest.raises(ValidationFailed) as raised, transaction.atomic(durable=True):
        product_upsert_many(organization=partner_a, items=[{"sku": "B"}], actor=owner_a)
    assert [(e.field, e.code) for e in raised.value.errors] == [("items[0].name", "missing")]
    assert not Product.objects.exists()
