"""Delivery tasks from the door a dispatcher or an integrator uses to the plan of a hub's day:
every stop is checked whole, a handed-over parcel becomes a drop-off once, and a plan puts each
stop on exactly one route or says why not."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.address import Address
from allied.core.errors import PermissionDenied, ValidationFailed
from allied.core.models import DomainEvent
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, PlanRunStatus, Route, TaskKind, TrackingEvent
from allied.delivery.routing.solver import SEARCHES_MIN_S
from allied.delivery.services.planning import (
    plan_run_execute,
    plan_run_request,
    rider_route_start,
    route_lock,
    route_publish,
    task_move,
)
from allied.delivery.services.tasks import PairInput, TaskInput, delivery_tasks_create
from allied.delivery.services.tracking import TrackingRefused, tracking_event_record
from tests.delivery.factories import HubFactory, RiderFactory, ShiftFactory, vehicle
from tests.domain import refused

pytestmark = pytest.mark.django_db
DISPATCH = Actor.system("dispatch")
# Around PECHS, Karachi: a few kilometres from the hub.
SPOTS = [
    (Decimal("24.873000"), Decimal("67.060000")),
    (Decimal("24.880500"), Decimal("67.081000")),
    (Decimal("24.850000"), Decimal("67.050000")),
    (Decimal("24.866000"), Decimal("67.095000")),
    (Decimal("24.890000"), Decimal("67.070000")),
    (Decimal("24.845000"), Decimal("67.075000")),
]


def stop(n: int = 0, **changes) -> TaskInput:
    lat, lng = SPOTS[n % len(SPOTS)]
    values = {
        "kind": TaskKind.DROP_OFF,
        "hub_code": "KHI-H1",
        "date": timezone.localdate(),
        "address": Address.given(line1=f"House {n + 1}, Street 4", city="Karachi", area="PECHS", lat=lat, lng=lng),
        "contact_name": "Hina Baig",
        "contact_phone": "0300 1112233",
        "cod_amount": Decimal("1500.00"),
    }
    return TaskInput(**(values | changes))


@pytest.fixture
def hub():
    return HubFactory()


def test_a_stop_is_stored_with_its_phone_in_e164_and_a_first_tracking_event(partner_a, hub) -> None:
    [task] = delivery_tasks_create(organization=partner_a, stops=[stop()], actor=DISPATCH)

    assert task.contact_phone == "+923001112233"
    assert task.status == TrackingStatus.AT_HUB
    assert len(task.tracking_code) >= 12
    assert list(task.events.values_list("status", flat=True)) == [TrackingStatus.AT_HUB]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"address": Address(line1="House 1", city="Karachi", lat=Decimal("91"), lng=Decimal("67"))}, "address.lat"),
        ({"address": Address(line1="House 1", city="Karachi", lat=Decimal("24"), lng=Decimal("181"))}, "address.lng"),
        ({"window_start": time(14), "window_end": time(12)}, "window_end"),
        ({"window_start": time(14)}, "window_end"),
        ({"parcels": 0}, "parcels"),
        ({"cod_amount": Decimal("-1")}, "cod_amount"),
        ({"contact_phone": "12"}, "contact_phone"),
        ({"hub_code": "NOPE"}, "hub"),
        ({"date": timezone.localdate() - timedelta(days=1)}, "date"),
        ({"address": Address(line1="House 1", city="Lahore")}, "address"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_stored(partner_a, hub, changes, field) -> None:
    error = refused(
        lambda: delivery_tasks_create(organization=partner_a, stops=[stop(), stop(1, **changes)], actor=DISPATCH)
    )

    assert isinstance(error, ValidationFailed)
    assert f"stops[1].{field}" in [e.field for e in error.errors]
    assert not DeliveryTask.objects.exists()


def test_a_pair_across_two_hubs_is_refused(partner_a, hub) -> None:
    HubFactory(code="KHI-H2", name="Karachi East Hub")
    pair = PairInput(pickup=stop(0, kind=TaskKind.PICKUP), drop_off=stop(1, hub_code="KHI-H2"))

    error = refused(lambda: delivery_tasks_create(organization=partner_a, stops=[pair], actor=DISPATCH))

    assert "drop_off.hub" in [e.field for e in error.errors]
    assert not DeliveryTask.objects.exists()


def test_a_partner_asks_only_for_its_own_stops_and_a_viewer_not_at_all(partner_a, partner_b, member, hub) -> None:
    owner, viewer = member(partner_a, Role.OWNER), member(partner_a, Role.VIEWER)
    as_owner = Actor(user=owner.user, organization=partner_a, role=Role.OWNER)

    delivery_tasks_create(organization=partner_a, stops=[stop()], actor=as_owner)
    other = refused(lambda: delivery_tasks_create(organization=partner_b, stops=[stop()], actor=as_owner))
    as_viewer = Actor(user=viewer.user, organization=partner_a, role=Role.VIEWER)
    with pytest.raises(PermissionDenied), transaction.atomic():
        delivery_tasks_create(organization=partner_a, stops=[stop()], actor=as_viewer)

    assert other.detail == "No such organization."
    assert DeliveryTask.objects.filter(organization=partner_b).count() == 0


def plan(hub, seconds: int = 1):
    run = plan_run_request(hub=hub, day=timezone.localdate(), seconds=seconds, actor=DISPATCH, in_background=False)
    return plan_run_execute(run_id=run.pk)


def test_a_day_is_planned_on_shifts_with_pairs_together_and_the_impossible_explained(
    partner_a, hub, django_capture_on_commit_callbacks
) -> None:
    ShiftFactory(rider=RiderFactory(hub=hub))
    ShiftFactory(rider=RiderFactory(hub=hub, vehicle_type=vehicle("van"), capacity_parcels=150))
    stops = [stop(n) for n in range(4)]
    stops.append(PairInput(pickup=stop(4, kind=TaskKind.PICKUP), drop_off=stop(5)))
    stops.append(stop(0, address=Address(line1="Somewhere", city="Karachi")))  # no coordinates
    stops.append(stop(1, window_start=time(5), window_end=time(6)))  # before any shift
    created = delivery_tasks_create(organization=partner_a, stops=stops, actor=DISPATCH)

    run = plan(hub)

    assert run.status == PlanRunStatus.DONE
    assert run.summary["feasible"] is True
    unplanned = {row["tracking_code"]: row["reason"] for row in run.summary["unplanned"]}
    assert unplanned == {
        created[-2].tracking_code: "no coordinates: place a pin",
        created[-1].tracking_code: "window unreachable from the hub within any shift",
    }
    routed = DeliveryTask.objects.filter(route__isnull=False)
    assert routed.count() == len(created) - 2
    pickup, drop_off = created[4], created[5]
    pickup.refresh_from_db()
    drop_off.refresh_from_db()
    assert pickup.route_id == drop_off.route_id
    assert pickup.sequence < drop_off.sequence
    for route in Route.objects.all():
        arrivals = [task.planned_arrival for task in route.stops.order_by("sequence")]
        assert arrivals == sorted(arrivals)
        assert route.starts_at <= arrivals[0]
    assert DeliveryTask.objects.get(pk=created[-2].pk).unplanned_reason == "no coordinates: place a pin"


def test_a_long_plan_searches_on_as_many_cores_as_configured(partner_a, hub, settings) -> None:
    settings.ALLIED_PLANNER_SEARCHES = 2
    ShiftFactory(rider=RiderFactory(hub=hub))
    delivery_tasks_create(organization=partner_a, stops=[stop(n) for n in range(6)], actor=DISPATCH)

    run = plan(hub, seconds=int(SEARCHES_MIN_S) + 1)

    assert run.status == PlanRunStatus.DONE
    assert run.summary["searches"] == 2
    assert run.summary["feasible"] is True
    assert DeliveryTask.objects.filter(route__isnull=True).count() == 0


def test_a_locked_route_is_kept_by_the_next_plan(partner_a, hub) -> None:
    ShiftFactory(rider=RiderFactory(hub=hub))
    ShiftFactory(rider=RiderFactory(hub=hub))
    delivery_tasks_create(organization=partner_a, stops=[stop(n) for n in range(4)], actor=DISPATCH)
    plan(hub)
    first = Route.objects.order_by("pk").first()
    kept = list(first.stops.order_by("sequence").values_list("pk", flat=True))
    route_lock(route=first, locked=True, actor=DISPATCH)
    delivery_tasks_create(organization=partner_a, stops=[stop(5)], actor=DISPATCH)  # arrives later

    plan(hub)

    first.refresh_from_db()
    assert list(first.stops.order_by("sequence").values_list("pk", flat=True)) == kept
    assert DeliveryTask.objects.order_by("-pk").first().route_id is not None


def test_a_moved_stop_goes_last_on_the_other_route_and_both_routes_are_timed_again(partner_a, hub) -> None:
    first_rider, second_rider = RiderFactory(hub=hub), RiderFactory(hub=hub)
    ShiftFactory(rider=first_rider)
    ShiftFactory(rider=second_rider)
    a, b, c = delivery_tasks_create(organization=partner_a, stops=[stop(n) for n in range(3)], actor=DISPATCH)
    day = timezone.localdate()
    start = timezone.now()
    one = Route.objects.create(hub=hub, rider=first_rider, date=day, starts_at=start, ends_at=start)
    two = Route.objects.create(hub=hub, rider=second_rider, date=day, starts_at=start, ends_at=start)
    DeliveryTask.objects.filter(pk=a.pk).update(route=one, sequence=1)
    DeliveryTask.objects.filter(pk=b.pk).update(route=two, sequence=1)
    DeliveryTask.objects.filter(pk=c.pk).update(route=two, sequence=2)

    task_move(task=DeliveryTask.objects.get(pk=c.pk), route=one, actor=DISPATCH)

    one.refresh_from_db()
    two.refresh_from_db()
    on_one = list(one.stops.order_by("sequence"))
    assert [task.pk for task in on_one] == [a.pk, c.pk]
    assert all(task.planned_arrival is not None for task in on_one)
    assert on_one[0].planned_arrival < on_one[1].planned_arrival
    assert one.distance_m > 0
    assert two.distance_m > 0
    assert one.starts_at < on_one[0].planned_arrival < one.ends_at
    assert two.stops.get().planned_arrival is not None


def test_publishing_and_setting_off_puts_each_drop_off_out_for_delivery_with_an_event(partner_a, hub) -> None:
    ShiftFactory(rider=RiderFactory(hub=hub))
    delivery_tasks_create(organization=partner_a, stops=[stop(n) for n in range(3)], actor=DISPATCH)
    plan(hub)
    route = Route.objects.get()

    route_publish(route=route, actor=DISPATCH)
    rider = Actor(user=route.rider.user, organization=route.rider.user.memberships.get().organization, role="rider")
    rider_route_start(route=route, actor=rider)

    assert set(route.stops.values_list("status", flat=True)) == {TrackingStatus.OUT_FOR_DELIVERY}
    assert TrackingEvent.objects.filter(status=TrackingStatus.OUT_FOR_DELIVERY).count() == 3
    assert DomainEvent.objects.filter(type="delivery.out_for_delivery").count() == 3
    payload = DomainEvent.objects.filter(type="delivery.out_for_delivery").first().payload
    assert "Hina" not in str(payload)
    assert "House" not in str(payload)


def test_a_stop_cannot_jump_backwards(partner_a, hub) -> None:
    [task] = delivery_tasks_create(organization=partner_a, stops=[stop()], actor=DISPATCH)
    tracking_event_record(task=task, status=TrackingStatus.OUT_FOR_DELIVERY, actor=DISPATCH)
    tracking_event_record(task=task, status=TrackingStatus.DELIVERED, actor=DISPATCH)

    with pytest.raises(TrackingRefused), transaction.atomic():
        tracking_event_record(task=task, status=TrackingStatus.OUT_FOR_DELIVERY, actor=DISPATCH)
    assert DeliveryTask.objects.get(pk=task.pk).status == TrackingStatus.DELIVERED


def test_only_aes_dispatch_plans(partner_a, member, hub) -> None:
    owner = member(partner_a, Role.OWNER)

    with pytest.raises(PermissionDenied), transaction.atomic():
        plan_run_request(
            hub=hub,
            day=timezone.localdate(),
            seconds=1,
            actor=Actor(user=owner.user, organization=partner_a, role=Role.OWNER),
        )
    too_short = refused(lambda: plan_run_request(hub=hub, day=timezone.localdate(), seconds=0, actor=DISPATCH))
    assert [e.field for e in too_short.errors] == ["seconds"]


class Gazetteer:
    """A geocoder that knows one street (a test's stand-in for Nominatim or a paid API)."""

    def locate(self, address: Address) -> tuple[float, float] | None:
        return (24.8731, 67.0612) if address.line1.startswith("House 9") else None


def test_a_geocoder_places_what_came_without_coordinates_and_the_rest_waits_for_a_pin(partner_a, hub, settings) -> None:
    from allied.delivery.geocoding import geocoder

    settings.ALLIED_GEOCODER = f"{__name__}.Gazetteer"
    geocoder.cache_clear()
    try:
        known, unknown = delivery_tasks_create(
            organization=partner_a,
            stops=[
                stop(0, address=Address(line1="House 9, Street 4", city="Karachi", area="PECHS")),
                stop(1, address=Address(line1="Somewhere else", city="Karachi", area="PECHS")),
            ],
            actor=DISPATCH,
        )
    finally:
        geocoder.cache_clear()

    assert (known.address_lat, known.address_lng) == (Decimal("24.873100"), Decimal("67.061200"))
    assert known.address_coordinates_source == "geocoded"
    assert unknown.address_lat is None
