"""The network AES dispatch runs: hubs checked whole, riders as AES users with the rider role,
one shift per rider and day. Only AES dispatch writes any of it; a refusal writes nothing."""

from dataclasses import replace
from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from allied.accounts.models import Membership, User
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.errors import Conflict, PermissionDenied, ValidationFailed
from allied.delivery.models import Hub, Rider, Shift
from allied.delivery.services.network import HubInput, hub_create, hub_update, rider_create, shift_set
from tests.delivery.factories import HubFactory, RiderFactory
from tests.domain import refused

pytestmark = pytest.mark.django_db
DISPATCH = Actor.system("dispatch")

HUB = HubInput(
    code="khi-h2",
    name="Karachi East Hub",
    address_line1="Main University Road",
    city="Karachi",
    lat=Decimal("24.915000"),
    lng=Decimal("67.100000"),
    detour_factor=Decimal("1.4"),
    service_areas=["Gulshan-e-Iqbal", " Gulistan-e-Jauhar ", "Gulshan-e-Iqbal"],
    service_polygon=[[24.90, 67.08], [24.95, 67.08], [24.95, 67.13], [24.90, 67.13]],
)


def test_hub_create_stores_the_code_upper_case_and_the_areas_once() -> None:
    hub = hub_create(data=HUB, actor=DISPATCH)

    hub.refresh_from_db()
    assert hub.code == "KHI-H2"
    assert hub.service_areas == ["Gulshan-e-Iqbal", "Gulistan-e-Jauhar"]
    assert hub.service_polygon[0] == [24.9, 67.08]
    assert hub.detour_factor == Decimal("1.40")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lat": Decimal("91")}, "lat"),
        ({"lng": Decimal("-181")}, "lng"),
        ({"detour_factor": Decimal("0.9")}, "detour_factor"),
        ({"service_polygon": [[24.9, 67.0], [24.95, 67.0]]}, "service_polygon"),
        ({"service_polygon": [[24.9, 67.0], [24.95, 67.0], [95, 67.1]]}, "service_polygon[2]"),
        ({"service_areas": ["PECHS", " "]}, "service_areas"),
        ({"day_start": time(20), "day_end": time(8)}, "day_end"),
        ({"code": "no spaces"}, "code"),
        ({"name": " "}, "name"),
    ],
)
def test_hub_create_names_each_bad_field_and_stores_nothing(changes, field) -> None:
    error = refused(lambda: hub_create(data=replace(HUB, **changes), actor=DISPATCH))

    assert isinstance(error, ValidationFailed)
    assert field in [e.field for e in error.errors]
    assert not Hub.objects.exists()


def test_hub_create_refuses_a_code_another_hub_has() -> None:
    HubFactory(code="KHI-H2")

    error = refused(lambda: hub_create(data=HUB, actor=DISPATCH))

    assert isinstance(error, Conflict)
    assert [e.field for e in error.errors] == ["code"]


def test_hub_update_checks_the_hub_as_it_would_be() -> None:
    hub = HubFactory(day_start=time(8), day_end=time(20))

    error = refused(lambda: hub_update(hub=hub, changes={"day_end": time(7)}, actor=DISPATCH))
    hub_update(hub=hub, changes={"name": "Karachi Central", "detour_factor": Decimal("1.25")}, actor=DISPATCH)

    assert [e.field for e in error.errors] == ["day_end"]
    hub.refresh_from_db()
    assert (hub.name, hub.detour_factor, hub.day_end) == ("Karachi Central", Decimal("1.25"), time(20))


def test_only_aes_dispatch_changes_the_network(partner_a, member) -> None:
    owner = Actor(user=member(partner_a, Role.OWNER).user, organization=partner_a, role=Role.OWNER)

    assert isinstance(refused(lambda: hub_create(data=HUB, actor=owner)), PermissionDenied)
    assert not Hub.objects.exists()


def test_rider_create_makes_an_aes_user_with_the_rider_role(operator_org) -> None:
    hub = HubFactory()

    rider = rider_create(
        email="Imran@AES.example", full_name="Imran Qureshi", hub_code="khi-h1", vehicle_type_code="van", actor=DISPATCH
    )

    assert rider.user.email == "imran@aes.example"
    assert not rider.user.has_usable_password()
    assert Membership.objects.get(user=rider.user).role == Role.RIDER
    assert Membership.objects.get(user=rider.user).organization == operator_org
    assert (rider.hub, rider.vehicle_type.code) == (hub, "van")
    assert (rider.capacity_parcels, rider.capacity_kg) == (rider.vehicle_type.capacity_parcels, Decimal("600.0"))


def test_rider_create_reuses_an_aes_rider_without_a_profile(operator_org, member) -> None:
    HubFactory()
    existing = member(operator_org, Role.RIDER, email="sana@aes.example")

    rider = rider_create(
        email="sana@aes.example",
        full_name="Sana",
        hub_code="KHI-H1",
        vehicle_type_code="motorbike",
        capacity_parcels=25,
        capacity_kg=Decimal("30"),
        actor=DISPATCH,
    )

    assert rider.user == existing.user
    assert (rider.capacity_parcels, rider.capacity_kg) == (25, Decimal("30.0"))
    assert Membership.objects.filter(user=existing.user).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"hub_code": "NOPE"}, "hub"),
        ({"vehicle_type_code": "rocket"}, "vehicle_type"),
        ({"capacity_parcels": 0}, "capacity_parcels"),
        ({"capacity_kg": Decimal("0")}, "capacity_kg"),
        ({"full_name": " "}, "full_name"),
    ],
)
def test_rider_create_names_each_bad_field_and_stores_nothing(operator_org, changes, field) -> None:
    HubFactory()
    values = {"email": "new@aes.example", "full_name": "New Rider", "hub_code": "KHI-H1", "vehicle_type_code": "van"}

    error = refused(lambda: rider_create(**(values | changes), actor=DISPATCH))

    assert field in [e.field for e in error.errors]
    assert not Rider.objects.exists()
    assert not User.objects.filter(email="new@aes.example").exists()


def test_rider_create_refuses_partner_staff_and_other_aes_staff(operator_org, partner_a, member) -> None:
    HubFactory()
    member(partner_a, Role.OWNER, email="owner@brand.example")
    member(operator_org, Role.DISPATCHER, email="dispatch@aes.example")

    for email in ("owner@brand.example", "dispatch@aes.example"):
        error = refused(
            lambda email=email: rider_create(
                email=email, full_name="X", hub_code="KHI-H1", vehicle_type_code="van", actor=DISPATCH
            )
        )
        assert [e.field for e in error.errors] == ["email"]
    assert not Rider.objects.exists()


def test_shift_set_replaces_the_days_shift() -> None:
    rider = RiderFactory()
    tomorrow = timezone.localdate() + timedelta(days=1)

    shift_set(rider=rider, day=tomorrow, start=time(8), end=time(16), actor=DISPATCH)
    shift_set(rider=rider, day=tomorrow, start=time(10), end=time(18), actor=DISPATCH)

    assert list(Shift.objects.values_list("start", "end")) == [(time(10), time(18))]


def test_shift_set_refuses_an_end_before_the_start_and_a_past_day() -> None:
    rider = RiderFactory()
    yesterday = timezone.localdate() - timedelta(days=1)

    error = refused(lambda: shift_set(rider=rider, day=yesterday, start=time(18), end=time(8), actor=DISPATCH))

    assert sorted(e.field for e in error.errors) == ["date", "end"]
    assert not Shift.objects.exists()
