from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from allied.core.models import TenantModel


class Product(TenantModel):
    """A partner's stock-keeping unit. The SKU is unique within the partner."""

    # No index of its own: the (organization, sku) unique index serves lookups by partner, and a
    # second one tempts PostgreSQL's one plan for the intake's prepared lookup into reading them all.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    barcodes = models.JSONField(default=list, blank=True)
    weight_grams = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    declared_value = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default="PKR")
    tracks_lots = models.BooleanField(default=False)
    tracks_expiry = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization_id", "sku"]
        constraints = [models.UniqueConstraint(fields=["organization", "sku"], name="product_sku_unique_per_partner")]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"
