from decimal import Decimal

from django.db import IntegrityError, transaction

from allied.accounts.models import Organization
from allied.accounts.policy import CATALOG_MANAGE, Actor, require
from allied.catalog.models import Product
from allied.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from allied.core.events import domain_event_record


def product_payload(product: Product) -> dict:
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "barcodes": product.barcodes,
        "weight_grams": product.weight_grams,
        "declared_value": str(product.declared_value),
        "currency": product.currency,
        "is_active": product.is_active,
    }


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
) -> Product:
    """Add a product to a partner's catalog; the SKU must be new for that partner."""
    require(actor, CATALOG_MANAGE)
    if not actor.is_operator and actor.organization != organization:
        raise NotFound("No such organization.")
    if organization.is_operator:
        raise ValidationFailed("Products belong to brand partners, not to AES.")
    sku = sku.strip()
    if Product.objects.filter(organization=organization, sku=sku).exists():
        raise Conflict(
            f"SKU {sku} already exists.", errors=[FieldError("sku", "Already used by another product.", "duplicate")]
        )
    try:
        with transaction.atomic():
            product = Product.objects.create(
                organization=organization,
                sku=sku,
                name=name.strip(),
                barcodes=barcodes or [],
                weight_grams=weight_grams,
                length_mm=length_mm,
                width_mm=width_mm,
                height_mm=height_mm,
                declared_value=declared_value,
                currency=currency,
                tracks_lots=tracks_lots,
                tracks_expiry=tracks_expiry,
            )
    except IntegrityError:
        # Another request created the same SKU between our check and our insert.
        raise Conflict(
            f"SKU {sku} already exists.", errors=[FieldError("sku", "Already used by another product.", "duplicate")]
        ) from None
    domain_event_record(
        type="product.created", organization=organization, aggregate=product, payload=product_payload(product)
    )
    return product
