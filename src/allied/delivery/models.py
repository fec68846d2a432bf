"""AES's own last mile: hubs and the areas they serve, riders with their vehicles and shifts,
delivery tasks (drop-offs, pickups, paired jobs), routes, proof of delivery and the tracking
events every leg records, own riders and courier companies alike."""

import uuid
from datetime import time
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from allied.core.address import AddressColumns
from allied.core.models import TenantModel
from allied.core.tracking import TrackingStatus


class Hub(models.Model):
    """A last-mile depot riders start from and come back to."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    lat = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0"))
    lng = models.DecimalField(max_digits=9, decimal_places=6, default=Decimal("0"))
    # Roads are longer than straight lines: travel = haversine distance × this factor ÷ speed.
    detour_factor = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("1.30"))
    # What it serves: area names or postcodes, and/or a polygon of [lat, lng] points.
    service_areas = models.JSONField(default=list, blank=True)
    service_polygon = models.JSONField(default=list, blank=True)
    day_start = models.TimeField(default=time(8, 0))
    day_end = models.TimeField(default=time(20, 0))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(detour_factor__gte=1), name="hub_detour_at_least_straight"),
            models.CheckConstraint(condition=Q(day_end__gt=F("day_start")), name="hub_day_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class VehicleType(models.Model):
    """A kind of vehicle and how fast it moves through the city on average."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=50)
    speed_kmh = models.DecimalField(max_digits=5, decimal_places=1)
    capacity_parcels = models.PositiveIntegerField()  # defaults for a rider on it
    capacity_kg = models.DecimalField(max_digits=7, decimal_places=1)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(speed_kmh__gt=0), name="vehicle_moves")]

    def __str__(self) -> str:
        return self.name


class Rider(models.Model):
    """An AES rider: a user with the rider role, based at a hub, on a vehicle."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rider")
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="riders")
    vehicle_type = models.ForeignKey(VehicleType, on_delete=models.PROTECT, related_name="riders")
    capacity_parcels = models.PositiveIntegerField(default=30)
    capacity_kg = models.DecimalField(max_digits=7, decimal_places=1, default=Decimal("40"))
    # What using this rider at all costs the plan, in metres of driving: plans prefer fewer riders.
    fixed_cost = models.PositiveIntegerField(default=20_000)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["hub", "user__full_name"]

    def __str__(self) -> str:
        return str(self.user)


class Shift(models.Model):
    """When a rider works on a day: routes are planned inside it."""

    rider = models.ForeignKey(Rider, on_delete=models.CASCADE, related_name="shifts")
    date = models.DateField()
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["date", "start"]
        constraints = [
            models.UniqueConstraint(fields=["rider", "date"], name="one_shift_per_rider_and_day"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.rider} {self.date} {self.start:%H:%M}–{self.end:%H:%M}"


class TaskKind(models.TextChoices):
    DROP_OFF = "drop_off", "Drop-off"
    PICKUP = "pickup", "Pickup"  # from a partner's address (or a shop, first half of a paired job)
    RETURN_PICKUP = "return_pickup", "Return pickup"  # from a recipient, back to the hub


class FailureReason(models.TextChoices):
    NOT_HOME = "not_home", "Recipient not home"
    REFUSED = "refused", "Refused by the recipient"
    WRONG_ADDRESS = "wrong_address", "Wrong or incomplete address"
    UNREACHABLE = "unreachable", "Phone unreachable"
    COD_NOT_READY = "cod_not_ready", "Cash not ready"
    RESCHEDULE_REQUESTED = "reschedule_requested", "Recipient asked for another day"
    AREA_INACCESSIBLE = "area_inaccessible", "Area could not be reached"
    DAMAGED = "damaged", "Parcel damaged"


OPEN_STATUSES = (
    TrackingStatus.CREATED,
    TrackingStatus.PICKUP_SCHEDULED,
    TrackingStatus.AT_HUB,
    TrackingStatus.RESCHEDULED,
    TrackingStatus.ATTEMPT_FAILED,
)


class DeliveryTask(TenantModel, AddressColumns):
    """One stop of the last mile: a parcel to drop off, or one to collect. A paired job is a
    pickup and the drop-off that names it (`pickup`): same rider, pickup first."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the rider app's key
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=16, choices=TaskKind.choices)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pickup = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="paired_drop_off"
    )
    reference = models.CharField(max_length=64, blank=True)  # the sender's own reference
    tracking_code = models.CharField(max_length=20, db_index=True)
    date = models.DateField()  # the day it is planned for
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    service_minutes = models.PositiveIntegerField(default=5)
    parcels = models.PositiveIntegerField(default=1)
    weight_grams = models.PositiveIntegerField(default=500)
    cod_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    contact_name = models.CharField(max_length=200)
    contact_phone = models.CharField(max_length=32)  # E.164
    instructions = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=TrackingStatus.choices, default=TrackingStatus.CREATED)
    attempts = models.PositiveIntegerField(default=0)
    failure_reason = models.CharField(max_length=24, choices=FailureReason.choices, blank=True)
    # Planning: the route it is on, its place there and when the rider should arrive.
    route = models.ForeignKey("Route", null=True, blank=True, on_delete=models.SET_NULL, related_name="stops")
    sequence = models.PositiveIntegerField(null=True, blank=True)
    planned_arrival = models.DateTimeField(null=True, blank=True)
    unplanned_reason = models.CharField(max_length=200, blank=True)  # why the last plan left it out
    # Handed to a courier company instead of a rider.
    courier = models.CharField(max_length=40, blank=True)  # a code from allied.core.carriers
    consignment_id = models.CharField(max_length=64, blank=True)
    # Why the courier refused to book it, in its words; cleared when it is booked or booked again.
    courier_refusal = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "route_id", "sequence", "id"]
        indexes = [models.Index(fields=["hub", "date", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start__isnull=True)
                | Q(window_end__isnull=True)
                | Q(window_end__gt=F("window_start")),
                name="task_window_ends_after_it_starts",
            ),
            models.CheckConstraint(condition=Q(parcels__gte=1), name="task_carries_a_parcel"),
            models.CheckConstraint(condition=Q(cod_amount__gte=0), name="task_cod_not_negative"),
            models.CheckConstraint(
                condition=Q(address_lat__isnull=True) | Q(address_lat__gte=-90, address_lat__lte=90),
                name="task_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(address_lng__isnull=True) | Q(address_lng__gte=-180, address_lng__lte=180),
                name="task_longitude_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.tracking_code}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class RouteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # planned, not yet on the rider's phone
    PUBLISHED = "published", "Published"
    DONE = "done", "Done"


class Route(models.Model):
    """One rider's run on one day from one hub: its stops are the tasks that point at it."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="routes")
    rider = models.ForeignKey(Rider, on_delete=models.PROTECT, related_name="routes")
    date = models.DateField()
    status = models.CharField(max_length=12, choices=RouteStatus.choices, default=RouteStatus.DRAFT)
    locked = models.BooleanField(default=False)  # a re-plan keeps it as it is
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    distance_m = models.PositiveIntegerField(default=0)
    duration_s = models.PositiveIntegerField(default=0)
    planned_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "hub", "rider"]
        constraints = [models.UniqueConstraint(fields=["rider", "date"], name="one_route_per_rider_and_day")]

    def __str__(self) -> str:
        return f"{self.rider} {self.date}"


class TrackingEvent(TenantModel):
    """One step of a parcel's journey, stored with when, where and who: the public tracking page,
    the order timeline and the webhooks all read these."""

    task = models.ForeignKey(DeliveryTask, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=TrackingStatus.choices)
    reason = models.CharField(max_length=200, blank=True)  # why an attempt failed, an exception's kind
    at = models.DateTimeField()
    place = models.CharField(max_length=100, blank=True)  # a hub, an area or a city: never a door
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)  # "Rider Imran", "Pathao", "system"
    source = models.CharField(max_length=20, default="allied")  # allied, rider_app, a courier's code
    # The rider app's id for an action taken offline: the same action sent twice is applied once.
    client_action_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.task.tracking_code} {self.status} {self.at:%Y-%m-%d %H:%M}"


class ProofKind(models.TextChoices):
    NONE = "none", "None"
    NAME = "name", "Recipient's name"
    SIGNATURE = "signature", "Signature"
    PHOTO = "photo", "Photo"
    CODE = "code", "One-time code"


class Proof(TenantModel):
    """How a delivery was proven, and the cash collected at the door."""

    task = models.OneToOneField(DeliveryTask, on_delete=models.CASCADE, related_name="proof")
    recipient_name = models.CharField(max_length=200, blank=True)
    signature_svg = models.TextField(blank=True)  # the strokes drawn on the phone, as SVG path data
    photo = models.FileField(upload_to="proofs/%Y/%m/", blank=True)
    code_verified = models.BooleanField(default=False)
    cod_collected = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    source = models.CharField(max_length=20, default="rider_app")  # rider_app, or the courier's code
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Proof for {self.task.tracking_code}"


class DeliveryCode(TenantModel):
    """A one-time code sent to the recipient: given to the rider at the door, or typed on the
    tracking page to reschedule or correct the address. Only its hash is kept."""

    task = models.ForeignKey(DeliveryTask, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=16)  # "delivery" or "recipient"
    code_hash = models.CharField(max_length=128)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.task.tracking_code}"


class PlanRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Planning"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class PlanRun(models.Model):
    """One request to plan a hub's day: run in the background, its progress and its outcome kept
    for the dispatcher board and the API to poll."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="plan_runs")
    date = models.DateField()
    seconds = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=PlanRunStatus.choices, default=PlanRunStatus.QUEUED)
    progress = models.FloatField(default=0)  # 0..1 of the time limit
    summary = models.JSONField(default=dict, blank=True)  # routes, unplanned stops with reasons, cost
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(seconds__gte=1, seconds__lte=600), name="plan_time_limit_sensible")
        ]

    def __str__(self) -> str:
        return f"Plan {self.hub.code} {self.date} ({self.status})"


class MessageChannel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "E-mail"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Handed to the provider"  # left so when the process died mid-send: never sent twice
    SENT = "sent", "Sent"
    OPTED_OUT = "opted_out", "Not sent: the recipient opted out"
    REFUSED = "refused", "Not sent: the privacy contract does not allow that provider"
    FAILED = "failed", "Failed"


class RecipientMessage(TenantModel):
    """One message to a stop's recipient about its journey (out for delivery, delivered, an attempt
    failed), queued by the consumer of the `delivery.*` events and sent by a task."""

    task = models.ForeignKey(DeliveryTask, on_delete=models.CASCADE, related_name="messages")
    event_id = models.BigIntegerField()  # the domain event it answers: one message per event and channel
    kind = models.CharField(max_length=20, choices=TrackingStatus.choices)
    channel = models.CharField(max_length=8, choices=MessageChannel.choices)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    provider = models.CharField(max_length=200, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "channel"], name="one_recipient_message_per_event_channel")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} for {self.task.tracking_code}"


class RecipientOptOut(models.Model):
    """A phone number whose owner asked for no more delivery messages (a link or a STOP reply),
    whichever partner the parcel is from; one-time codes they ask for themselves still go."""

    phone = models.CharField(max_length=32, unique=True)  # E.164
    source = models.CharField(max_length=16)  # "link" or "keyword"
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Opt-out …{self.phone[-4:]}"


class HandBack(models.Model):
    """A rider's end of day at the hub: the cash collected at doors and the parcels not delivered,
    what the records expect against what the rider hands over. A difference is flagged and kept."""

    route = models.OneToOneField(Route, on_delete=models.PROTECT, related_name="hand_back")
    expected_cash = models.DecimalField(max_digits=12, decimal_places=2)
    handed_cash = models.DecimalField(max_digits=12, decimal_places=2)
    expected_parcels = models.PositiveIntegerField()
    handed_parcels = models.PositiveIntegerField()
    # The tracking codes the rider should bring back, as they were when the hand-back was recorded.
    expected_codes = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=500, blank=True)
    flagged = models.BooleanField(default=False)  # cash or parcels differ: a dispatcher looks into it
    at = models.DateTimeField()
    recorded_by = models.CharField(max_length=200)  # the rider or the dispatcher who took it
    client_action_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(condition=Q(handed_cash__gte=0), name="handback_cash_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Hand-back {self.route}"

    @property
    def cash_short(self) -> Decimal:
        return self.expected_cash - self.handed_cash

    @property
    def parcels_short(self) -> int:
        return self.expected_parcels - self.handed_parcels


class HandBackSettlement(models.Model):
    """How a flagged hand-back was settled: the cash the rider brought later, the parcels found and
    returned to the hub, and what was written off (with the reason); who settled it and when."""

    hand_back = models.OneToOneField(HandBack, on_delete=models.PROTECT, related_name="settlement")
    cash_received = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    cash_written_off = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    parcels_returned = models.PositiveIntegerField(default=0)
    parcels_written_off = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=500, blank=True)  # why anything was written off
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    settled_by_label = models.CharField(max_length=200)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(condition=Q(cash_received__gte=0), name="settlement_cash_not_negative"),
            models.CheckConstraint(condition=Q(cash_written_off__gte=0), name="settlement_write_off_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Settlement of {self.hand_back}"

    @property
    def outcome(self) -> str:
        """The settlement in a line, for the rider's and the dispatcher's pages."""
        parts = []
        if self.cash_received:
            parts.append(f"Rs {self.cash_received:,.2f} received later")
        if self.cash_written_off:
            parts.append(f"Rs {self.cash_written_off:,.2f} written off")
        if self.parcels_returned:
            parts.append(
                f"{self.parcels_returned} parcel{'s' if self.parcels_returned != 1 else ''} returned to the hub"
            )
        if self.parcels_written_off:
            parts.append(f"{self.parcels_written_off} parcel{'s' if self.parcels_written_off != 1 else ''} written off")
        return "; ".join(parts) or "Settled with nothing owed"
