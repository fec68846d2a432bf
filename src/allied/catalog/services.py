"""Every write to the catalog. Each service is one transaction and records its domain events."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from pydantic import ValidationError as PydanticValidationError

from allied.accounts.models import Organization
from allied.accounts.policy import CATALOG_MANAGE, Actor, require
from allied.catalog.locks import products_by_sku_for_update
from allied.catalog.models import Product
from allied.catalog.schemas import ProductUpdateSchema, schema_field_errors
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.event_types import PRODUCT_CREATED, PRODUCT_UPDATED
from allied.core.events import domain_event_record

CENTS = Decimal("0.01")


def product_payload(product: Product) -> dict:
    """A product's fields as the `product.*` events carry them: JSON values only (the declared value as a string)."""
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "barcodes": product.barcodes,
        "weight_grams": product.weight_grams,
        "length_mm": product.length_mm,
        "width_mm": product.width_mm,
        "height_mm": product.height_mm,
        "declared_value": str(product.declared_value),
        "currency": product.currency,
        "tracks_lots": product.tracks_lots,
        "tracks_expiry": product.tracks_expiry,
        "is_active": product.is_active,
    }


@dataclass(frozen=True)
class ProductUpsertResult:
    products: list[Product]  # in the order of the items
    created: int
    updated: int
    unchanged: int


def _check_may_write(actor: Actor, organization: Organization) -> None:
    require(actor, CATALOG_MANAGE)
    if not actor.is_operator and actor.organization != organization:
        raise NotFound("No such organization.")
    if organization.is_operator:
        raise ValidationFailed("Products belong to brand partners, not to AES.")


def _field_errors(values: Mapping[str, Any], *, prefix: str = "") -> tuple[dict[str, Any], list[FieldError]]:
    """Validate the given fields with the schema the API uses; answer them cleaned, or the errors."""
    try:
        cleaned = ProductUpdateSchema.model_validate(dict(values), strict=False).model_dump(exclude_unset=True)
    except PydanticValidationError as error:
        return {}, [FieldError(f"{prefix}{e.field}", e.message, e.code) for e in schema_field_errors(error)]
    if "barcodes" in cleaned:
        cleaned["barcodes"] = list(dict.fromkeys(cleaned["barcodes"]))  # the same code twice is once
    if "declared_value" in cleaned:
        cleaned["declared_value"] = cleaned["declared_value"].quantize(CENTS)  # as the database gives it back
    return cleaned, []


def _validated(values: Mapping[str, Any]) -> dict[str, Any]:
    cleaned, errors = _field_errors(values)
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    return cleaned


def _duplicate_sku(sku: str) -> Conflict:
    return Conflict(
        f"SKU {sku} already exists.", errors=[FieldError("sku", "Already used by another product.", "duplicate")]
    )


def _changed_fields(product: Product, values: Mapping[str, Any]) -> list[str]:
    return [name for name, value in values.items() if getattr(product, name) != value]


def _record_update(product: Product, changed: list[str]) -> None:
    domain_event_record(
        type=PRODUCT_UPDATED,
        organization=product.organization,
        aggregate=product,
        payload=product_payload(product) | {"changed": changed},
    )


def _change(product: Product, values: Mapping[str, Any]) -> list[str]:
    """Apply cleaned values; record `product.updated` naming what changed. Answers the changed fields."""
    changed = _changed_fields(product, values)
    if not changed:
        return []
    if "sku" in changed:
        others = Product.objects.filter(organization_id=product.organization_id, sku=values["sku"]).exclude(
            pk=product.pk
        )
        if others.exists():
            raise _duplicate_sku(values["sku"])
    for name in changed:
        setattr(product, name, values[name])
    if "sku" in changed:
        try:
            with transaction.atomic():
                product.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise _duplicate_sku(product.sku) from None  # taken by another request since our check
    else:
        product.save(update_fields=[*changed, "updated_at"])
    _record_update(product, changed)
    return changed


@transaction.atomic(savepoint=False)
def product_create(
    *,
    organization: Organization,
    sku: str,
    name: str,
    actor: Actor,
    barcodes: list[str] | None = None,
    weight_grams: int = 0,
    length_mm: int = 0,
    width_mm: int = 0,
    height_mm: int = 0,
    declared_value: Decimal = Decimal("0"),
    currency: str = "PKR",
    tracks_lots: bool = False,
    tracks_expiry: bool = False,
    is_active: bool = True,
) -> Product:
    """Add a product to a partner's catalog; the SKU must be new for that partner."""
    _check_may_write(actor, organization)
    values = _validated(
        {
            "sku": sku,
            "name": name,
            "barcodes": barcodes or [],
            "weight_grams": weight_grams,
            "length_mm": length_mm,
            "width_mm": width_mm,
            "height_mm": height_mm,
            "declared_value": declared_value,
            "currency": currency,
            "tracks_lots": tracks_lots,
            "tracks_expiry": tracks_expiry,
            "is_active": is_active,
        }
    )
    if Product.objects.filter(organization=organization, sku=values["sku"]).exists():
        raise _duplicate_sku(values["sku"])
    try:
        with transaction.atomic():
            product = Product.objects.create(organization=organization, **values)
    except IntegrityError:
        # Another request created the same SKU between our check and our insert.
        raise _duplicate_sku(values["sku"]) from None
    domain_event_record(
        type=PRODUCT_CREATED, organization=organization, aggregate=product, payload=product_payload(product)
    )
    return product


@transaction.atomic(savepoint=False)
def product_update(
    *,
    product: Product,
    actor: Actor,
    sku: str | None = None,
    name: str | None = None,
    barcodes: list[str] | None = None,
    weight_grams: int | None = None,
    length_mm: int | None = None,
    width_mm: int | None = None,
    height_mm: int | None = None,
    declared_value: Decimal | None = None,
    currency: str | None = None,
    tracks_lots: bool | None = None,
    tracks_expiry: bool | None = None,
    is_active: bool | None = None,
) -> Product:
    """Change some fields of a product (None leaves a field as it is). A new SKU must be free in the
    partner's catalog. Records `product.updated` when anything actually changed."""
    _check_may_write(actor, product.organization)
    given = {
        "sku": sku,
        "name": name,
        "barcodes": barcodes,
        "weight_grams": weight_grams,
        "length_mm": length_mm,
        "width_mm": width_mm,
        "height_mm": height_mm,
        "declared_value": declared_value,
        "currency": currency,
        "tracks_lots": tracks_lots,
        "tracks_expiry": tracks_expiry,
        "is_active": is_active,
    }
    _change(product, _validated({field: value for field, value in given.items() if value is not None}))
    return product


@transaction.atomic(savepoint=False)
def product_deactivate(*, product: Product, actor: Actor) -> Product:
    """Take a product out of use. It stays in the catalog (stock and past orders refer to it)."""
    return product_update(product=product, is_active=False, actor=actor)


@transaction.atomic(savepoint=False)
def product_reactivate(*, product: Product, actor: Actor) -> Product:
    """Put a deactivated product back into use, through the same checks and event as any update."""
    return product_update(product=product, is_active=True, actor=actor)


@transaction.atomic(savepoint=False)
def product_upsert_many(
    *, organization: Organization, items: Sequence[Mapping[str, Any]], actor: Actor
) -> ProductUpsertResult:
    """Create or update a partner's products by SKU, all or nothing.

    Each item names its `sku` and any other fields: an existing product changes only the fields
    given, a new one takes the defaults for the rest (and needs a `name`). Any invalid item, or a
    SKU given twice, raises ValidationFailed naming `items[i].field`, and nothing is stored.
    """
    _check_may_write(actor, organization)
    cleaned: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        values, item_errors = _field_errors(item, prefix=f"items[{index}].")
        errors.extend(item_errors)
        cleaned.append(values)
        sku = values.get("sku")
        if not item_errors and not sku:
            errors.append(FieldError(f"items[{index}].sku", "Field required", "missing"))
        elif sku in first_index:
            errors.append(
                FieldError(f"items[{index}].sku", f"SKU {sku} is also items[{first_index[sku]}].", "duplicate")
            )
        elif sku:
            first_index[sku] = index
    existing = products_by_sku_for_update(organization=organization, skus=first_index) if not errors else {}
    if not errors:
        errors = [
            FieldError(f"items[{index}].name", "A new product needs a name.", "missing")
            for index, values in enumerate(cleaned)
            if values["sku"] not in existing and "name" not in values
        ]
    if errors:
        bad_items = len({e.field.split(".")[0] for e in errors})
        raise ValidationFailed(f"{bad_items} of {len(items)} items are not valid; nothing was stored.", errors=errors)

    new = [Product(organization=organization, **values) for values in cleaned if values["sku"] not in existing]
    try:  # one INSERT per 500 new products; a clash aborts the whole (all or nothing) write
        Product.objects.bulk_create(new, batch_size=500)
    except IntegrityError:
        raise Conflict(
            "Another request added some of these SKUs meanwhile; nothing was stored. Try again.",
            errors=[FieldError("items", "A SKU was added by another request.", "duplicate")],
        ) from None
    for product in new:
        domain_event_record(
            type=PRODUCT_CREATED, organization=organization, aggregate=product, payload=product_payload(product)
        )
    created_by_sku = {product.sku: product for product in new}
    # An item's SKU is how its product was found, so an update here never changes a SKU.
    updated = sum(1 for values in cleaned if values["sku"] in existing and _change(existing[values["sku"]], values))
    return ProductUpsertResult(
        products=[existing.get(values["sku"]) or created_by_sku[values["sku"]] for values in cleaned],
        created=len(new),
        updated=updated,
        unchanged=len(cleaned) - len(new) - updated,
    )
