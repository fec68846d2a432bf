from django.db import models


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
