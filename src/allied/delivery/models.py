from decimal import Decimal

from django.conf import settings
from django.db import models


class Hub(models.Model):
    """A last-mile depot riders start from."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    lat = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0"))
    lng = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0"))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class VehicleType(models.TextChoices):
    MOTORBIKE = "motorbike", "Motorbike"
    VAN = "van", "Van"
    BICYCLE = "bicycle", "Bicycle"


class Rider(models.Model):
    """An AES rider: a user with the rider role, based at a hub."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rider")
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="riders")
    vehicle = models.CharField(max_length=16, choices=VehicleType.choices, default=VehicleType.MOTORBIKE)
    capacity_parcels = models.PositiveIntegerField(default=30)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["hub", "user__full_name"]

    def __str__(self) -> str:
        return str(self.user)
