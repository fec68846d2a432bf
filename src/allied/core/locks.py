"""The only place core's rows are locked."""

from datetime import datetime
from typing import Any

from django.db.models import Exists, Model, OuterRef

from allied.core.models import DeliveryStatus, EventDelivery, Subscription


def deliveries_due_for_update(*, now: datetime) -> EventDelivery | None:
    """Claim the oldest due delivery that no other relay holds and that no earlier pending
    delivery of the same subscriber and aggregate precedes (per-aggregate order). A paused or
    disabled endpoint's deliveries wait until it is active again."""
    earlier_pending = EventDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        aggregate_key=OuterRef("aggregate_key"),
        status=DeliveryStatus.PENDING,
        event_id__lt=OuterRef("event_id"),
    )
    return (
        EventDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        )
        .exclude(Exists(earlier_pending))
        .select_related("event", "subscription")
        .order_by("event_id", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )


def sealed_row_for_update(model: type[Model], *, pk: Any, field: str) -> Model | None:
    """Lock one row holding a sealed column while `allied vault rotate` re-seals it, so a write of
    a new secret in the meantime is neither lost nor overwritten with the old one."""
    return model._default_manager.select_for_update(of=("self",)).filter(pk=pk).only("pk", field).first()


def subscription_for_update(subscription_id: int) -> Subscription:
    """A partner's endpoint, locked (its organization read along, not locked)."""
    return Subscription.objects.select_related("organization").select_for_update(of=("self",)).get(pk=subscription_id)
