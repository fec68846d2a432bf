from django.db import models

from allied.core.carriers import carrier_name
from allied.core.models import TenantModel


class PickListStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class PickList(models.Model):
    """Orders picked in one walk through the warehouse: one order (single) or several (batch)."""

    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=PickListStatus.choices, default=PickListStatus.OPEN)
    orders = models.ManyToManyField("orders.Order", related_name="pick_lists")
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Pick list {self.pk}"


class ManifestStatus(models.TextChoices):
    OPEN = "open", "Loading"
    CLOSED = "closed", "Handed over"


class Manifest(models.Model):
    """The parcels handed to one carrier in one go; each parcel is scanned out onto it."""

    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, related_name="+")
    carrier = models.CharField(max_length=40, help_text="A code from allied.core.carriers.")
    status = models.CharField(max_length=8, choices=ManifestStatus.choices, default=ManifestStatus.OPEN)
    created_by_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Manifest {self.pk} ({self.carrier_name})"

    @property
    def carrier_name(self) -> str:
        return carrier_name(self.carrier)


class ManifestParcel(models.Model):
    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="parcels")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="manifest_parcel")
    scanned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scanned_at"]

    def __str__(self) -> str:
        return f"{self.order} on {self.manifest}"


class ReturnSource(models.TextChoices):
    PARTNER_REQUEST = "partner_request", "Requested by the partner"
    FAILED_DELIVERY = "failed_delivery", "Failed delivery"


class ReturnStatus(models.TextChoices):
    EXPECTED = "expected", "Expected"
    RECEIVED = "received", "Received"


class ReturnCondition(models.TextChoices):
    RESTOCK = "restock", "Restock"
    QUARANTINE = "quarantine", "Quarantine"
    DISPOSE = "dispose", "Dispose"


class Return(TenantModel):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    source = models.CharField(max_length=16, choices=ReturnSource.choices)
    status = models.CharField(max_length=8, choices=ReturnStatus.choices, default=ReturnStatus.EXPECTED)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Return of {self.order}"


class ReturnLine(TenantModel):
    parcel_return = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    condition = models.CharField(max_length=12, choices=ReturnCondition.choices, blank=True)

    class Meta:
        ordering = ["parcel_return_id", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.sku}"
