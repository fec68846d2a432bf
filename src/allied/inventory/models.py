"""Where partners' units are and what may be promised.

Per product and warehouse, `Stock` keeps on hand, reserved and quarantined, and
available = on hand - reserved - quarantined. Per product and bin, `BinStock` keeps the
physical units; the bins of a warehouse add up to its on hand. Every change is a row in the
append-only `StockMove` ledger, whose running sums equal the balances (`allied inventory verify`).
"""

from typing import Any

from django.db import models
from django.db.models import F, Q

from allied.core.models import AppendOnlyError, TenantModel


class Warehouse(models.Model):
    """One of AES's warehouses; it holds stock of every partner, so it belongs to no tenant."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2, default="PK")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class BinKind(models.TextChoices):
    STORAGE = "storage", "Storage"
    RECEIVING = "receiving", "Receiving dock"
    QUARANTINE = "quarantine", "Quarantine"


class Bin(models.Model):
    """A location in a warehouse. Codes sort in walking order (zone-aisle-shelf), e.g. A-01-03."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="bins")
    code = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=BinKind.choices, default=BinKind.STORAGE)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["warehouse_id", "code"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "code"], name="bin_code_unique_per_warehouse")]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"


class Stock(TenantModel):
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="stock")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    quarantined = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["warehouse_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="one_stock_row_per_product_warehouse"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=0, reserved__gte=0, quarantined__gte=0), name="stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(on_hand__gte=F("reserved") + F("quarantined")), name="stock_never_oversold"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} @ {self.warehouse.code}: {self.on_hand} on hand"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.quarantined


class BinStock(TenantModel):
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="bin_stock")
    bin = models.ForeignKey(Bin, on_delete=models.PROTECT, related_name="stock")
    quantity = models.IntegerField(default=0)

    class Meta:
        ordering = ["bin__code", "product"]
        constraints = [
            models.UniqueConstraint(fields=["product", "bin"], name="one_bin_stock_row_per_product_bin"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="bin_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product} in {self.bin}"


class MoveReason(models.TextChoices):
    RECEIPT = "receipt", "Received"
    PUTAWAY = "putaway", "Put away"
    RESERVE = "reserve", "Reserved for an order"
    RELEASE = "release", "Reservation released"
    PICK = "pick", "Picked for an order"
    UNPICK = "unpick", "Picked units put back"
    ADJUST_DAMAGED = "adjust_damaged", "Adjustment: damaged"
    ADJUST_LOST = "adjust_lost", "Adjustment: lost"
    ADJUST_FOUND = "adjust_found", "Adjustment: found"
    ADJUST_CORRECTION = "adjust_correction", "Adjustment: correction"
    COUNT = "count", "Cycle count"
    RETURN_RESTOCK = "return_restock", "Return restocked"
    RETURN_QUARANTINE = "return_quarantine", "Return quarantined"
    RETURN_DISPOSE = "return_dispose", "Return disposed"


ADJUSTMENT_REASONS = [
    MoveReason.ADJUST_DAMAGED,
    MoveReason.ADJUST_LOST,
    MoveReason.ADJUST_FOUND,
    MoveReason.ADJUST_CORRECTION,
]


class StockMove(TenantModel):
    """One line of the stock ledger: what changed, why, for what, by whom, and the balances after."""

    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    bin = models.ForeignKey(Bin, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=24, choices=MoveReason.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    quarantined_delta = models.IntegerField(default=0)
    bin_delta = models.IntegerField(default=0)
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    quarantined_after = models.IntegerField()
    bin_quantity_after = models.IntegerField(null=True, blank=True)
    reference_type = models.CharField(max_length=40, blank=True)
    reference_id = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=300, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["product", "warehouse", "id"]),
            models.Index(fields=["reference_type", "reference_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.on_hand_delta:+d} {self.product_id}@{self.warehouse_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("The stock ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("The stock ledger is append-only.")


class InboundStatus(models.TextChoices):
    ANNOUNCED = "announced", "Announced"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class InboundShipment(TenantModel):
    """An advance shipping notice (ASN): stock a partner announces before it arrives."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="inbound_shipments")
    reference = models.CharField(max_length=64)
    expected_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=InboundStatus.choices, default=InboundStatus.ANNOUNCED)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "reference"], name="inbound_reference_unique_per_partner")
        ]

    def __str__(self) -> str:
        return f"ASN {self.reference}"


class InboundLine(TenantModel):
    inbound = models.ForeignKey(InboundShipment, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    expected_quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(null=True, blank=True)
    damaged_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["inbound_id", "id"]
        constraints = [models.UniqueConstraint(fields=["inbound", "product"], name="one_inbound_line_per_product")]

    def __str__(self) -> str:
        return f"{self.expected_quantity} × {self.product}"

    @property
    def discrepancy(self) -> int | None:
        """Units received (good or damaged) minus units announced; None until received."""
        if self.received_quantity is None:
            return None
        return self.received_quantity - self.expected_quantity


class CountStatus(models.TextChoices):
    RECOUNT = "recount", "Recount needed"
    DONE = "done", "Done"


class CycleCount(TenantModel):
    """Counting one product in one bin; a count that disagrees with the books must be counted again."""

    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    bin = models.ForeignKey(Bin, on_delete=models.PROTECT, related_name="+")
    expected_quantity = models.IntegerField()
    first_count = models.IntegerField()
    second_count = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=CountStatus.choices)
    adjustment = models.IntegerField(default=0)
    counted_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Count of {self.product} in {self.bin}"
