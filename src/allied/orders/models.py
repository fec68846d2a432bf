from decimal import Decimal

from django.db import models
from django.db.models import Q

from allied.core.address import AddressColumns
from allied.core.carriers import carrier_name
from allied.core.models import TenantModel


class Channel(models.TextChoices):
    MANUAL = "manual", "Manual"
    CSV = "csv", "CSV import"
    API = "api", "API"
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    MARKETPLACE = "marketplace", "Marketplace"


class OrderStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    ALLOCATED = "allocated", "Allocated"
    BACKORDERED = "backordered", "Backordered"
    PICKING = "picking", "Picking"
    PACKED = "packed", "Packed"
    HANDED_OVER = "handed_over", "Handed over"
    DELIVERED = "delivered", "Delivered"
    ATTEMPT_FAILED = "attempt_failed", "Delivery attempt failed"
    RETURNED = "returned", "Returned"
    CANCELLED = "cancelled", "Cancelled"


class PaymentMethod(models.TextChoices):
    PREPAID = "prepaid", "Prepaid"
    COD = "cod", "Cash on delivery"


class Order(AddressColumns, TenantModel):
    """An order from any channel; (channel, external id) identifies it, so re-sending never duplicates."""

    # No index of its own: the (organization, channel, external id) unique index and the
    # (organization, status, id) index start with it.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    external_id = models.CharField(max_length=100)
    number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.RECEIVED, db_index=True)
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="orders")
    recipient_name = models.CharField(max_length=200)
    recipient_phone = models.CharField(max_length=32)
    recipient_email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    payment_method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    cod_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    carrier = models.CharField(max_length=40, blank=True)  # a code from allied.core.carriers
    # Empty until the parcel is packed. The plain index serves lookups on SQLite, which uses the
    # partial unique index below only for queries that repeat its condition.
    tracking_code = models.CharField(max_length=20, blank=True, db_index=True)
    package_weight_grams = models.PositiveIntegerField(null=True, blank=True)
    package_dimensions_mm = models.CharField(max_length=40, blank=True)
    split_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="split_orders",
        help_text="The order whose backordered remainder this one ships.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "channel", "external_id"], name="order_unique_per_channel"),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, shipping_fee__gte=0, total__gte=0, cod_amount__gte=0),
                name="order_money_not_negative",
            ),
            models.UniqueConstraint(
                fields=["tracking_code"], condition=~Q(tracking_code=""), name="order_tracking_code_unique"
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "id"])]

    def __str__(self) -> str:
        return f"Order {self.number}"

    @property
    def carrier_name(self) -> str:
        return carrier_name(self.carrier) if self.carrier else ""


class OrderLine(TenantModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    allocated_quantity = models.PositiveIntegerField(default=0)
    picked_quantity = models.PositiveIntegerField(default=0)
    packed_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(
                    allocated_quantity__lte=models.F("quantity"), picked_quantity__lte=models.F("allocated_quantity")
                ),
                name="order_line_never_over_allocated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"

    @property
    def missing_quantity(self) -> int:
        return self.quantity - self.allocated_quantity


class OrderEvent(TenantModel):
    """The order's timeline: every transition and notable change, oldest first."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=40)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.from_status}→{self.to_status}"


class IdempotencyRecord(TenantModel):
    """An API request made with an Idempotency-Key: the same key answers with the same order."""

    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="idempotency_key_unique_per_org")]

    def __str__(self) -> str:
        return self.key
