"""Taking the stores' deliveries in: kept raw in the inbox, applied once by a task."""

import json

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.core.contact import phone_normalize
from allied.core.errors import Conflict, ValidationFailed
from allied.core.privacy import DataSubject
from allied.integrations import tasks
from allied.integrations.connectors import (
    Cancel,
    FulfillmentRequest,
    Ignore,
    MappingFailed,
    PrivacyKind,
    PrivacyRequest,
    TakeIn,
    Uninstalled,
    connector_for,
)
from allied.integrations.models import (
    REDACTED_BODY,
    SETTLED_STATUSES,
    Connection,
    InboxMessage,
    InboxStatus,
)
from allied.integrations.services.connections import connection_disconnect, require_manage
from allied.orders.models import Order, OrderStatus
from allied.orders.services.intake import order_receive
from allied.orders.services.lifecycle import order_cancel
from allied.privacy.services.requests import privacy_request_access_from_store, privacy_store_erase


@transaction.atomic(savepoint=False)
def inbox_receive(*, connection: Connection, topic: str, delivery_key: str, body: bytes) -> InboxMessage | None:
    """Keep an authentic delivery as it came and queue its processing, in one transaction; a
    delivery already kept (the store sent it again) is dropped: returns None."""
    store_order_id, malformed, updated_at = "", "", None
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
        connector = connector_for(connection.kind)
        store_order_id = connector.store_order_id(topic, payload)
        updated_at = connector.updated_at(payload)
    except ValueError as error:  # UnicodeDecodeError included
        malformed = f"The body is not a JSON object: {error}."
    try:
        with transaction.atomic():
            message = InboxMessage.objects.create(
                organization_id=connection.organization_id,
                connection=connection,
                topic=topic[:100],
                delivery_key=delivery_key[:200],
                store_order_id=store_order_id[:64],
                store_updated_at=updated_at,
                body=body.decode("utf-8", errors="replace"),
                status=InboxStatus.REJECTED if malformed else InboxStatus.PENDING,
                reason=malformed,
            )
    except IntegrityError:
        return None
    Connection.objects.filter(pk=connection.pk).update(last_webhook_at=timezone.now())
    if not malformed:
        tasks.process_inbox_message.enqueue(message.pk)
    return message


ERASED_REASON = "The body was erased at a privacy request."


def _finish(message: InboxMessage, status: str, reason: str = "", order: Order | None = None) -> str:
    message.status, message.reason, message.order = status, reason[:2000], order
    message.processed_at = timezone.now()
    message.save(update_fields=["status", "reason", "order", "processed_at", "attempts"])
    return status


def _cancelled_in_store(message: InboxMessage, store_order_id: str) -> bool:
    cancels = InboxMessage.objects.filter(connection_id=message.connection_id, store_order_id=store_order_id)
    cancels = cancels.exclude(pk=message.pk).filter(reason__startswith="Cancelled in the store")
    return cancels.exists()


def _superseded(message: InboxMessage) -> bool:
    """Stores deliver out of order: a state older than one already applied never overwrites it."""
    if not message.store_order_id or message.store_updated_at is None:
        return False
    return (
        InboxMessage.objects.filter(
            connection_id=message.connection_id,
            store_order_id=message.store_order_id,
            status=InboxStatus.PROCESSED,
            store_updated_at__gt=message.store_updated_at,
        )
        .exclude(pk=message.pk)
        .exists()
    )


@transaction.atomic(savepoint=False)
def inbox_message_process(*, message_id: int) -> str:
    """Apply one kept delivery, once: a store order is taken in through the same intake as every
    order (in this transaction, so the inbox row and the order commit together), a cancellation
    cancels it, anything that cannot apply is rejected with its reason, never half-applied.
    Deliveries arrive in any order: a cancellation seen first is remembered, and the order it
    cancels is then not taken in."""
    message = InboxMessage.objects.select_for_update().select_related("connection__organization").get(pk=message_id)
    if message.status not in (InboxStatus.PENDING, InboxStatus.FAILED):
        return message.status
    message.attempts += 1
    connection = message.connection
    actor = Actor.system(f"{connection.get_kind_display()} connection {connection.pk}")
    try:
        payload = json.loads(message.body)
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:
        return _finish(message, InboxStatus.REJECTED, f"The body is not a JSON object: {error}.")
    if message.body == REDACTED_BODY:
        return _finish(message, InboxStatus.REJECTED, ERASED_REASON)
    try:
        action = connector_for(connection.kind).action(message.topic, payload)
    except (MappingFailed, TypeError, ValueError) as error:
        return _finish(message, InboxStatus.REJECTED, f"The store's {_what(message.topic)} cannot be read: {error}")
    if isinstance(action, Ignore):
        return _finish(message, InboxStatus.IGNORED, action.reason)
    if isinstance(action, PrivacyRequest):
        return _privacy_request_apply(message, action)
    if isinstance(action, FulfillmentRequest):
        tasks.answer_fulfillment_request.enqueue(message.pk)
        return _finish(message, InboxStatus.PROCESSED, "Answer queued.")
    if isinstance(action, Uninstalled):
        connection_disconnect(connection=connection, actor=actor)
        return _finish(message, InboxStatus.PROCESSED, "Allied was removed from the store: disconnected.")
    if _superseded(message):
        return _finish(message, InboxStatus.IGNORED, "A newer state of this order was already applied.")
    if isinstance(action, Cancel):
        order = Order.objects.filter(
            organization_id=connection.organization_id, channel=connection.kind, external_id=action.store_order_id
        ).first()
        if order is None:
            return _finish(message, InboxStatus.PROCESSED, "Cancelled in the store before Allied took it in.")
        if order.status != OrderStatus.CANCELLED:
            try:
                with transaction.atomic():
                    order_cancel(order=order, reason=f"Cancelled in {connection.get_kind_display()}", actor=actor)
            except Conflict as error:
                return _finish(message, InboxStatus.REJECTED, f"Cancelled in the store, but {error.detail}", order)
        return _finish(message, InboxStatus.PROCESSED, "Cancelled in the store.", order)
    assert isinstance(action, TakeIn)
    if _cancelled_in_store(message, action.order.external_id):
        return _finish(message, InboxStatus.IGNORED, "Cancelled in the store before Allied took it in.")
    try:
        with transaction.atomic():
            intake = order_receive(organization=connection.organization, data=action.order, actor=actor)
    except ValidationFailed as refused:
        problems = "; ".join(f"{error.field}: {error.message}" for error in refused.errors) or refused.detail
        return _finish(message, InboxStatus.REJECTED, f"On hold: {problems}")
    except Conflict as refused:
        return _finish(message, InboxStatus.REJECTED, f"On hold: {refused.detail}")
    note = "Taken in." if intake.created else "Already taken in."
    return _finish(message, InboxStatus.PROCESSED, note, intake.order)


def _what(topic: str) -> str:
    return "request" if topic.startswith(("customers/", "shop/")) else "order"


def _readable_phone(phone: str, country: str) -> str:
    """The store's phone in E.164, or "" when it cannot be read (the e-mail may still find the person)."""
    if not phone:
        return ""
    try:
        return phone_normalize(phone, default_country=country, field="phone")
    except ValidationFailed:
        return ""


def _privacy_request_apply(message: InboxMessage, action: PrivacyRequest) -> str:
    """A customer's access request opens a request for the privacy officer; a customer's erasure is
    carried out at once, in this transaction; a shop's erasure erases every recipient of the
    partner's orders from this channel. Each is that partner's records only, and recorded once:
    a redelivery finds the request already made and changes nothing."""
    connection, organization = message.connection, message.connection.organization
    if action.kind == PrivacyKind.SHOP:
        recipients = (
            Order.objects.filter(organization=organization, channel=connection.kind)
            .exclude(recipient_email="", recipient_phone="")
            .values_list("recipient_email", "recipient_phone")
            .order_by("recipient_email", "recipient_phone")
            .distinct()
        )
        subjects = [
            DataSubject(email=email, phone=phone, organization_id=organization.pk) for email, phone in recipients
        ]
        request = privacy_store_erase(
            organization=organization, subjects=subjects, store_reference=action.store_reference
        )
        inbox_bodies_redact(messages=connection.inbox.all())
        return _finish(
            message, InboxStatus.PROCESSED, f"The shop's customers were erased (request {request.public_id})."
        )
    email, phone = action.email.lower(), _readable_phone(action.phone, organization.default_country)
    if not email and not phone:
        return _finish(message, InboxStatus.REJECTED, f"The customer's phone {action.phone!r} cannot be read.")
    if action.kind == PrivacyKind.ACCESS:
        request = privacy_request_access_from_store(
            organization=organization, email=email, phone=phone, store_reference=action.store_reference
        )
        return _finish(message, InboxStatus.PROCESSED, f"Passed to the privacy officer (request {request.public_id}).")
    request = privacy_store_erase(
        organization=organization,
        subjects=[DataSubject(email=email, phone=phone, organization_id=organization.pk)],
        store_reference=action.store_reference,
    )
    if action.store_order_ids:
        inbox_bodies_redact(messages=connection.inbox.filter(store_order_id__in=action.store_order_ids))
    # This delivery names the person too; the request keeps who asked.
    message.body = REDACTED_BODY
    message.save(update_fields=["body"])
    return _finish(message, InboxStatus.PROCESSED, f"The customer was erased (request {request.public_id}).")


@transaction.atomic(savepoint=False)
def inbox_bodies_redact(*, messages: QuerySet[InboxMessage]) -> int:
    """Replace the bodies of those deliveries that are settled with a marker; a pending or failed
    one keeps its body, which still has to be applied. A rejected one's reason may quote the body
    (a phone that could not be read), so it goes too. Returns how many changed."""
    settled = messages.filter(status__in=SETTLED_STATUSES).exclude(body=REDACTED_BODY)
    settled.filter(status=InboxStatus.REJECTED).update(reason=ERASED_REASON)
    return settled.update(body=REDACTED_BODY)


@transaction.atomic(savepoint=False)
def inbox_message_fail(*, message_id: int, reason: str) -> None:
    """Record why processing raised; the task retries, and a replay is possible after the last try."""
    InboxMessage.objects.filter(pk=message_id, status__in=[InboxStatus.PENDING, InboxStatus.FAILED]).update(
        status=InboxStatus.FAILED, reason=reason[:2000]
    )


@transaction.atomic(savepoint=False)
def inbox_message_replay(*, message: InboxMessage, actor: Actor) -> InboxMessage:
    """Process a failed or rejected delivery again (after the SKU was added, say)."""
    require_manage(actor, message.connection.organization)
    message = InboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status not in (InboxStatus.FAILED, InboxStatus.REJECTED):
        raise Conflict("Only a failed or rejected delivery can be processed again.")
    message.status, message.reason = InboxStatus.PENDING, ""
    message.save(update_fields=["status", "reason"])
    tasks.process_inbox_message.enqueue(message.pk)
    return message
