"""Parcels handed to courier companies: the drop-off made from the handover, booked with the
courier through AES's account, its label, cancelling it, and what the courier reports (webhooks and
polls) applied to the stop through `tracking_event_record`, the one owner of a stop's status.

Requests to a courier never run inside a transaction: a booking is sent first, then written under
the stop's lock. What a courier reports that the stop cannot become from where it is (an older
status arriving late, a status the courier's table leaves unmapped) is recorded as ignored with the
reason, never an error: a courier retries a failed webhook for ever.
"""

import logging
from collections.abc import Callable, Sequence
from functools import partial

from django.db import transaction
from django.db.models import F, QuerySet

from allied.accounts.policy import DELIVERY_MANAGE, Actor, require
from allied.core.audit import audit_record
from allied.core.carriers import carrier_name, carriers_all
from allied.core.errors import Conflict, PermissionDenied
from allied.core.tracking import TrackingStatus
from allied.couriers.base import Booking, CourierError, CourierEvent, CourierParcel
from allied.couriers.models import CourierAccount, CourierConsignment, CourierWebhook, CourierWebhookStatus
from allied.couriers.services import (
    courier_account_for,
    courier_account_succeeded,
    courier_adapter,
    courier_consignment_of,
    courier_consignment_record,
    courier_webhook_finish,
    courier_webhook_receive,
    event_from_json,
)
from allied.delivery.models import OPEN_STATUSES, DeliveryTask, Hub, Proof, TaskKind, TrackingEvent
from allied.delivery.services.failed import access_task, may_handle_failed
from allied.delivery.services.tasks import hub_for, order_drop_off_fields
from allied.delivery.services.tracking import NEXT, TrackingRefused, tracking_event_record
from allied.orders.models import Order

logger = logging.getLogger(__name__)

S = TrackingStatus
FINISHED = (S.DELIVERED, S.RETURNED, S.CANCELLED)  # nothing more to ask the courier
RETRIED_REMOTE_STATUS = {408, 425, 429}


def courier_books(code: str) -> bool:
    """Whether parcels handed to this carrier are booked with it through an adapter."""
    return any(carrier.code == code and carrier.adapter is not None for carrier in carriers_all())


def _courier_actor(code: str) -> Actor:
    return Actor.system(carrier_name(code))


@transaction.atomic(savepoint=False)
def courier_task_from_handover(*, order: Order, actor: Actor) -> DeliveryTask | None:
    """A parcel handed to a courier company becomes its drop-off, once, with `courier` set (so no
    plan of AES's riders takes it), from the hub serving its address or else the first active hub.
    None when there is no hub at all. Booking it is the caller's next step (a task)."""
    existing = DeliveryTask.objects.filter(order=order, kind=TaskKind.DROP_OFF).first()
    if existing is not None:
        return existing
    hub = hub_for(order.address) or Hub.objects.filter(is_active=True).order_by("code").first()
    if hub is None:
        return None
    task = DeliveryTask.objects.create(
        **order_drop_off_fields(order, hub),
        courier=order.carrier,
        unplanned_reason=f"Waiting to be booked with {carrier_name(order.carrier)}.",
        **order.address.columns(),
    )
    tracking_event_record(task=task, status=S.CREATED, actor=actor, place=hub.name)
    return task


def _parcel(task: DeliveryTask) -> CourierParcel:
    number = Order.objects.filter(pk=task.order_id).values_list("number", flat=True).first() if task.order_id else None
    return CourierParcel(
        merchant_order_ref=number or task.reference or task.tracking_code,
        recipient_name=task.contact_name,
        phone=task.contact_phone,
        address=", ".join(part for part in (task.address_line1, task.address_line2) if part.strip()),
        area=task.address_area,
        city=task.address_city,
        postcode=task.address_postcode,
        cod_amount=task.cod_amount,
        weight_grams=task.weight_grams,
        parcels=task.parcels,
        instructions=task.instructions,
    )


def _retried(error: CourierError) -> bool:
    """A courier that could not be reached or was busy is asked again; a refusal is not."""
    return error.remote_status is None or error.remote_status >= 500 or error.remote_status in RETRIED_REMOTE_STATUS


def _note(task_id: int, text: str, *, refusal: str = "") -> None:
    with transaction.atomic(durable=True):
        DeliveryTask.objects.filter(pk=task_id).update(unplanned_reason=text[:200], courier_refusal=refusal[:500])


def _refusal_text(error: CourierError) -> str:
    """The courier's words, field by field when it said which."""
    fields = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.fields.items())
    return f"{error.detail} ({fields})" if fields and fields not in error.detail else error.detail


def courier_task_book(*, task_id: int, sleep: Callable[[float], None] | None = None) -> DeliveryTask:
    """Book a courier stop with its company through the account serving its area, once. The request
    is sent outside any transaction; the consignment is then written under the stop's lock with a
    pickup-scheduled event. A refusal (the courier's words, field by field) is noted on the stop and
    not retried; a courier that cannot be reached raises `CourierError` for the task to retry. Safe
    to run again: a booked stop is left alone."""
    task = DeliveryTask.objects.get(pk=task_id)
    if task.consignment_id or not task.courier or task.status in FINISHED:
        return task
    name = carrier_name(task.courier)
    account = courier_account_for(task.courier, task.address_area, task.address_city)
    if account is None:
        detail = f"No active {name} account serves {task.address_city}."
        _note(task.pk, detail)
        raise CourierError(detail, courier=name)
    parcel = _parcel(task)
    adapter = courier_adapter(account, organization_id=task.organization_id, sleep=sleep)
    try:
        booking = adapter.book(parcel)
    except CourierError as error:
        if _retried(error):
            _note(task.pk, f"Not booked: {error.detail}")
            raise
        _note(task.pk, f"Not booked: {error.detail}", refusal=_refusal_text(error))
        logger.warning("%s refused to book stop %s: %s", name, task.pk, error.detail)
        return DeliveryTask.objects.get(pk=task.pk)
    finally:
        adapter.close()
    with transaction.atomic(durable=True):
        courier_account_succeeded(account_id=account.pk)
        return _booked(task.pk, account, booking, parcel.merchant_order_ref)


def _booked(task_id: int, account: CourierAccount, booking: Booking, reference: str) -> DeliveryTask:
    task = DeliveryTask.objects.select_for_update().select_related("hub").get(pk=task_id)
    courier_consignment_record(account=account, booking=booking, reference=reference)
    if task.consignment_id:  # booked by another run meanwhile: the first consignment stands
        logger.warning(
            "stop %s was booked twice: %s kept, %s not", task.pk, task.consignment_id, booking.consignment_id
        )
        return task
    task.consignment_id = booking.consignment_id
    task.unplanned_reason = ""
    task.courier_refusal = ""
    task.save(update_fields=["consignment_id", "unplanned_reason", "courier_refusal", "updated_at"])
    tracking_event_record(
        task=task,
        status=S.PICKUP_SCHEDULED,
        actor=_courier_actor(task.courier),
        reason=f"Booked with {carrier_name(task.courier)}: consignment {booking.consignment_id}",
        place=task.hub.name,
        # Allied's own step, dated by Allied's clock: only what the courier reports is compared by
        # the courier's clock (`_apply`).
        source="allied",
    )
    return task


def courier_refusals(actor: Actor) -> QuerySet[DeliveryTask]:
    """Open courier stops the courier refused to book, oldest first: each waits for its details to
    be corrected and "Book again"."""
    return (
        DeliveryTask.objects.visible_to(actor)
        .exclude(courier_refusal="")
        .filter(consignment_id="", status__in=OPEN_STATUSES)
        .select_related("hub", "organization")
        .order_by("updated_at", "pk")
    )


@transaction.atomic(savepoint=False)
def courier_task_book_again(*, task: DeliveryTask, actor: Actor) -> DeliveryTask:
    """Ask for a refused booking again, after its address or phone was corrected: the refusal is
    cleared under the stop's lock and one booking is queued, so a second click (or a second
    operator) finds nothing refused and queues nothing: the stop is booked at most once."""
    from allied.delivery.tasks import book_courier_task

    if not may_handle_failed(actor):
        raise PermissionDenied("Your role does not allow this (delivery.manage or delivery.request).")
    task = access_task(actor, task.pk, for_update=True)
    if not task.courier:
        raise Conflict(f"{task.tracking_code} is not a courier's parcel.")
    if task.consignment_id or not task.courier_refusal:
        return task  # booked, or a booking is already on its way: nothing to ask again
    if task.status not in OPEN_STATUSES:
        raise Conflict(f"The stop is {S(task.status).label.lower()}: it is not booked any more.")
    previous = task.courier_refusal
    task.courier_refusal = ""
    task.unplanned_reason = f"Booking again with {carrier_name(task.courier)}."
    task.save(update_fields=["courier_refusal", "unplanned_reason", "updated_at"])
    audit_record(
        action="delivery.courier_book_again",
        actor=actor,
        organization=task.organization,
        target=task,
        changes={"refused": previous},
    )
    transaction.on_commit(partial(book_courier_task.enqueue, task.pk))
    return task


def _account_of(task: DeliveryTask) -> CourierAccount:
    consignment = courier_consignment_of(task.courier, task.consignment_id)
    if consignment is None:
        raise Conflict(f"Stop {task.tracking_code} is not booked with a courier.")
    return consignment.account


def courier_label_pdf(*, task: DeliveryTask) -> bytes:
    """The courier's label of a booked stop (A6 PDF, the courier's tracking code as a barcode)."""
    consignment = courier_consignment_of(task.courier, task.consignment_id)
    if consignment is None:
        raise Conflict(f"Stop {task.tracking_code} is not booked with a courier.")
    booking = Booking(
        consignment_id=consignment.consignment_id,
        tracking_code=consignment.tracking_code,
        raw_status="",
        status=None,
        delivery_fee=consignment.delivery_fee,
    )
    adapter = courier_adapter(consignment.account, organization_id=task.organization_id)
    try:
        return adapter.label_pdf(booking, _parcel(task))
    finally:
        adapter.close()


def courier_task_cancel(*, task: DeliveryTask, actor: Actor, reason: str = "") -> DeliveryTask:
    """Cancel a courier stop: the courier is asked first (outside any transaction) and a refusal is
    its `CourierError` (neither Pathao nor Steadfast cancels through its API: the error says where
    to ask); then the stop is cancelled under its lock."""
    require(actor, DELIVERY_MANAGE)
    if task.consignment_id:
        adapter = courier_adapter(_account_of(task), organization_id=task.organization_id)
        try:
            adapter.cancel(task.consignment_id)
        finally:
            adapter.close()
    with transaction.atomic(durable=True):
        task = DeliveryTask.objects.select_for_update().get(pk=task.pk)
        if task.status == S.CANCELLED:
            return task
        try:
            tracking_event_record(task=task, status=S.CANCELLED, actor=actor, reason=reason or "Cancelled.")
        except TrackingRefused as refused:
            raise Conflict(str(refused)) from refused
    return task


# What the courier reports ----------------------------------------------------------------------


def _steps(current: str, target: str) -> list[str] | None:
    """The statuses that take a stop from `current` to what the courier reports. A courier that
    reports a parcel moving on while the stop still waits for its pickup has picked it up: a missed
    "picked up" is recorded first, so the stop follows. None: the stop cannot get there."""
    if target in NEXT.get(current, frozenset()):
        return [target]
    if current == S.PICKUP_SCHEDULED and target in NEXT[S.PICKED_UP]:
        return [S.PICKED_UP, target]
    return None


def _apply(code: str, event: CourierEvent) -> str:
    said = f"{event.consignment_id} {event.raw_status or '(a message)'}"
    task = (
        DeliveryTask.objects.select_for_update()
        .select_related("hub")
        .filter(courier=code, consignment_id=event.consignment_id)
        .first()
    )
    if task is None:
        return f"{said}: ignored, no stop is booked with this consignment"
    if event.status is None:
        if event.raw_status:
            logger.info("%s status %r is not in its table; stop %s unchanged", code, event.raw_status, task.pk)
        return f"{said}: ignored, no status to change"
    if event.status == task.status and event.status != S.ATTEMPT_FAILED:
        cod = _cod_record(task, code, event) if event.status == S.DELIVERED else ""
        return f"{said}: ignored, already {event.status}{cod}"
    recorded = TrackingEvent.objects.filter(task=task, source=code)  # the courier's reports, by its clock
    if recorded.filter(status=event.status, at=event.occurred_at).exists():
        return f"{said}: ignored, already recorded"
    if recorded.filter(at__gt=event.occurred_at).exists():
        return f"{said}: ignored, older than what is recorded"
    steps = _steps(task.status, event.status)
    if steps is None:
        logger.info("%s reports %s for stop %s, which is %s: ignored", code, event.status, task.pk, task.status)
        return f"{said}: ignored, a stop that is {task.status} cannot become {event.status}"
    actor = _courier_actor(code)
    for status in steps:
        implied = status != event.status
        tracking_event_record(
            task=task,
            status=status,
            actor=actor,
            reason=f"{carrier_name(code)} reports {event.raw_status}" if implied else (event.reason or event.message),
            place=event.place,
            at=event.occurred_at,
            source=code,
        )
    cod = _cod_record(task, code, event) if event.status == S.DELIVERED else ""
    return f"{said}: {' then '.join(steps)}{cod}"


def _cod_record(task: DeliveryTask, code: str, event: CourierEvent) -> str:
    """The cash the courier says it collected at the door, kept as a rider's is (the stop's proof,
    `cod_collected`), once: a repeated report changes nothing. An amount other than the stop's COD
    is audited and shown to dispatch (`courier_cod_mismatches`)."""
    if event.cod_collected is None:
        return ""
    proof = Proof.objects.filter(task=task).first()
    if proof is not None:
        if proof.cod_collected != event.cod_collected:
            logger.warning(
                "%s reports Rs %s collected for stop %s, already recorded as Rs %s: the first stands",
                code,
                event.cod_collected,
                task.pk,
                proof.cod_collected,
            )
        return "; cash already recorded"
    Proof.objects.create(
        organization_id=task.organization_id,
        task=task,
        cod_collected=event.cod_collected,
        source=code,
        at=event.occurred_at,
    )
    if event.cod_collected != task.cod_amount:
        audit_record(
            action="delivery.cod_mismatch",
            actor=_courier_actor(code),
            organization=task.organization,
            target=task,
            changes={"expected": str(task.cod_amount), "collected": str(event.cod_collected)},
        )
        return f"; Rs {event.cod_collected} collected, Rs {task.cod_amount} expected"
    return f"; Rs {event.cod_collected} collected"


def courier_cod_mismatches(hub: Hub) -> QuerySet[Proof]:
    """Courier stops of the hub whose courier collected another amount than the stop's COD, newest
    first: dispatch takes it up with the courier."""
    return (
        Proof.objects.filter(task__hub=hub)
        .exclude(source="rider_app")
        .exclude(cod_collected=F("task__cod_amount"))
        .select_related("task")
        .order_by("-at", "-pk")
    )


@transaction.atomic(savepoint=False)
def courier_events_apply(*, code: str, events: Sequence[CourierEvent]) -> list[str]:
    """Apply what a courier reported to its stops, each under its lock, through
    `tracking_event_record`. Returns what became of each event (applied, or ignored and why): a
    repeat, an older status arriving late, or a status the stop cannot take changes nothing."""
    return [_apply(code, event) for event in events]


@transaction.atomic(savepoint=False)
def courier_webhook_take(*, account: CourierAccount, body: bytes, events: list[CourierEvent]) -> CourierWebhook:
    """Keep an authentic delivery and queue the task that applies it."""
    from allied.delivery.tasks import apply_courier_webhook

    webhook = courier_webhook_receive(account=account, body=body, events=events)
    apply_courier_webhook.enqueue(webhook.pk)
    return webhook


@transaction.atomic(savepoint=False)
def courier_webhook_apply(*, webhook_id: int) -> list[str]:
    """Apply a kept delivery's events, once: a delivery already applied is left alone."""
    webhook = CourierWebhook.objects.select_related("account").get(pk=webhook_id)
    if webhook.status == CourierWebhookStatus.PROCESSED:
        return list(webhook.outcome)
    outcome = courier_events_apply(code=webhook.account.code, events=[event_from_json(e) for e in webhook.events])
    courier_webhook_finish(webhook_id=webhook.pk, outcome=outcome)
    return outcome


def courier_task_poll(*, task_id: int, sleep: Callable[[float], None] | None = None) -> list[str]:
    """Ask the courier where a booked stop is (outside any transaction) and apply the answer: a
    webhook the courier never sent is caught here."""
    task = DeliveryTask.objects.get(pk=task_id)
    if not task.consignment_id or task.status in FINISHED:
        return []
    account = _account_of(task)
    adapter = courier_adapter(account, organization_id=task.organization_id, sleep=sleep)
    try:
        events = adapter.track(task.consignment_id)
    finally:
        adapter.close()
    with transaction.atomic(durable=True):
        courier_account_succeeded(account_id=account.pk)
        return courier_events_apply(code=task.courier, events=events)


def courier_tasks_to_poll() -> list[int]:
    """Booked courier stops the courier has not finished with."""
    disconnected = CourierConsignment.objects.filter(account__disconnected_at__isnull=False)
    return list(
        DeliveryTask.objects.exclude(courier="")
        .exclude(consignment_id="")
        .exclude(status__in=FINISHED)
        .exclude(consignment_id__in=disconnected.values("consignment_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
