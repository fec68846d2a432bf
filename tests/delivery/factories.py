from datetime import time
from decimal import Decimal

import factory
from django.utils import timezone

from allied.accounts.roles import Role
from allied.delivery.models import Hub, Rider, Shift, VehicleType
from tests.accounts.factories import MembershipFactory, OperatorOrganizationFactory


class HubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hub
        django_get_or_create = ("code",)

    code = "KHI-H1"
    name = "Karachi Central Hub"
    address_line1 = "Shahrah-e-Faisal, Block 6, PECHS"
    city = "Karachi"
    lat = Decimal("24.861500")
    lng = Decimal("67.069900")


SPEEDS = {
    "motorbike": ("Motorbike", "22", 30, "40"),
    "van": ("Van", "18", 150, "600"),
    "bicycle": ("Bicycle", "12", 12, "15"),
}


def vehicle(code: str = "motorbike") -> VehicleType:
    """A vehicle type as the delivery migration seeds it (a flushed test database lacks them)."""
    name, speed, parcels, kg = SPEEDS[code]
    made, _ = VehicleType.objects.get_or_create(
        code=code, defaults={"name": name, "speed_kmh": speed, "capacity_parcels": parcels, "capacity_kg": kg}
    )
    return made


class RiderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rider

    user = factory.LazyFunction(
        lambda: MembershipFactory(organization=OperatorOrganizationFactory(), role=Role.RIDER).user
    )
    hub = factory.SubFactory(HubFactory)
    vehicle_type = factory.LazyFunction(vehicle)
    capacity_parcels = 30
    capacity_kg = Decimal("40")


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    rider = factory.SubFactory(RiderFactory)
    date = factory.LazyFunction(timezone.localdate)
    start = time(8, 0)
    end = time(18, 0)
