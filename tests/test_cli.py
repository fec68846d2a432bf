import time
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from allied.accounts.models import Membership, Organization, User
from allied.accounts.roles import OrganizationKind, Role
from allied.catalog.models import Product
from allied.delivery.models import DeliveryTask, Hub, Rider, Shift
from allied.inventory.models import Warehouse
from tests.processes import run_allied

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_loads_every_role_and_catalogs_and_is_idempotent() -> None:
    first = run_allied("demo")
    counts = (User.objects.count(), Product.objects.count(), Membership.objects.count())
    second = run_allied("demo")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert (User.objects.count(), Product.objects.count(), Membership.objects.count()) == counts
    assert Organization.objects.filter(kind=OrganizationKind.OPERATOR).count() == 1
    partners = Organization.objects.filter(kind=OrganizationKind.PARTNER)
    assert partners.count() == 3
    assert all(Product.objects.filter(organization=p).count() >= 50 for p in partners)
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    assert Rider.objects.count() == 5
    assert Warehouse.objects.count() == 1
    hub = Hub.objects.get()
    assert (hub.lat, hub.lng) != (0, 0)
    assert "allied-demo-2026" in first.stdout
    assert "admin@aes.example" in first.stdout


def _a_zone_where_it_is_ten_in_the_evening() -> str:
    offset = (22 - datetime.now(UTC).hour + 12) % 24 - 12  # within the -12..+11 hours Etc/GMT zones cover
    return f"Etc/GMT{-offset:+d}"  # the sign is POSIX's: Etc/GMT-5 is five hours ahead of UTC


def test_in_the_evening_the_demo_day_is_tomorrow_the_day_the_dispatch_board_opens_on(settings) -> None:
    settings.TIME_ZONE = _a_zone_where_it_is_ten_in_the_evening()  # the demo hub's day ends at 20:00
    run_allied("demo")
    dispatcher = Client()
    dispatcher.force_login(User.objects.get(email="dispatch@aes.example"))

    board = dispatcher.get("/ops/dispatch/")

    assert board.context["day"] > timezone.localdate()
    assert Shift.objects.filter(date=board.context["day"]).count() == Rider.objects.count()
    assert not DeliveryTask.objects.exclude(date=board.context["day"]).exists()
    page = board.content.decode()
    assert all(code in page for code in DeliveryTask.objects.values_list("tracking_code", flat=True))


def _wait_for_a_fresh_totp_step(seconds_needed: float = 10) -> None:
    """A code is good for its 30 s step only: start where it has time to be typed in."""
    remaining = 30 - time.time() % 30
    if remaining < seconds_needed:
        time.sleep(remaining + 0.2)


def test_demo_logins_printed_work_including_two_factor(client: object) -> None:
    run_allied("demo")

    client.post("/accounts/login/", {"login": "owner@kohsar.example", "password": "allied-demo-2026"})  # type: ignore[attr-defined]
    assert client.get("/portal/").status_code == 200  # type: ignore[attr-defined]
    client.logout()  # type: ignore[attr-defined]
    client.post("/accounts/login/", {"login": "admin@aes.example", "password": "allied-demo-2026"})  # type: ignore[attr-defined]
    _wait_for_a_fresh_totp_step()
    code = run_allied("democode", "admin@aes.example").stdout.strip()
    client.post("/accounts/2fa/authenticate/", {"code": code})  # type: ignore[attr-defined]
    assert client.get("/ops/").status_code == 200  # type: ignore[attr-defined]


def test_createoperator_creates_staff_with_a_role(operator_org: Organization) -> None:
    result = run_allied(
        "createoperator", "--email", "Night.Shift@aes.example", "--role", "warehouse", "--password", "a-Long-passw0rd"
    )

    assert result.returncode == 0, result.stderr
    membership = Membership.objects.get(user__email="night.shift@aes.example")
    assert (membership.organization, membership.role) == (operator_org, Role.WAREHOUSE)
    assert membership.user.check_password("a-Long-passw0rd")


def test_createoperator_refuses_a_partner_role(operator_org: Organization) -> None:
    result = run_allied(
        "createoperator", "--email", "x@aes.example", "--role", "owner", "--password", "a-Long-passw0rd"
    )

    assert result.returncode == 2
    assert "not a role" in result.stderr
    assert not User.objects.filter(email="x@aes.example").exists()
