"""`allied routes plan` as a dispatcher runs it from a terminal."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.core.address import Address
from allied.delivery.models import DeliveryTask, PlanRun, Route
from allied.delivery.services.tasks import TaskInput, delivery_tasks_create
from tests.delivery.factories import HubFactory, RiderFactory, ShiftFactory
from tests.processes import run_allied

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_command_plans_the_day_and_prints_each_route_in_order(partner_a, settings) -> None:
    settings.TIME_ZONE = "Asia/Karachi"  # times print in the hub's clock, not in UTC
    hub = HubFactory()
    ShiftFactory(rider=RiderFactory(hub=hub))
    today = timezone.localdate()
    stops = [
        TaskInput(
            kind="drop_off",
            hub_code=hub.code,
            date=today,
            address=Address.given(
                line1=f"House {n}",
                area="PECHS",
                city="Karachi",
                lat=Decimal("24.87") + n / Decimal(500),
                lng=Decimal("67.06"),
            ),
            contact_name="Hina Baig",
            contact_phone="0300 1112233",
        )
        for n in range(3)
    ]
    stops.append(TaskInput(**{**stops[0].__dict__, "address": Address(line1="No pin", city="Karachi")}))
    created = delivery_tasks_create(organization=partner_a, stops=stops, actor=Actor.system("tests"))

    result = run_allied("routes", "plan", "--hub", hub.code, "--date", today.isoformat(), "--seconds", "2")

    assert result.returncode == 0, result.stderr
    assert f"{hub.code} {today}: 4 stop(s), 1 rider(s) on shift" in result.stdout
    route = Route.objects.get()
    assert f"{timezone.localtime(route.starts_at):%H:%M}–{timezone.localtime(route.ends_at):%H:%M}" in result.stdout
    assert timezone.localtime(route.starts_at).time() >= time(8), "the shift starts at 08:00 in Karachi"
    for task in DeliveryTask.objects.filter(route=route).order_by("sequence"):
        assert f"{task.sequence:>3}. {timezone.localtime(task.planned_arrival):%H:%M}" in result.stdout
    assert f"not planned: {created[-1].tracking_code}: no coordinates: place a pin" in result.stdout
    assert "no violation" in result.stdout
    assert PlanRun.objects.get().status == "done"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--hub", "NOPE", "--date", "{today}"], "No hub 'NOPE'"),
        (["--hub", "KHI-H1", "--date", "{yesterday}"], "date: The day has passed."),
        (["--hub", "KHI-H1", "--date", "{today}", "--seconds", "0"], "seconds: Between 1 and 600 seconds."),
        (["--hub", "KHI-H1", "--date", "6 Dec"], "not a date"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_planned(args, error) -> None:
    HubFactory()
    today = timezone.localdate()
    filled = [a.format(today=today, yesterday=today - timedelta(days=1)) for a in args]

    result = run_allied("routes", "plan", *filled)

    assert result.returncode == 2
    assert error in result.stderr
    assert not PlanRun.objects.exists()
