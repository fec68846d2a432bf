"""The shared kernel: tenant-scoped base model, audit log, domain events, worker heartbeats."""

from typing import Any, Self

from django.conf import settings
from django.db import models


class TenantQuerySet(models.QuerySet):
    """Rows of one organization; `visible_to` is the default read path for every tenant model."""

    def visible_to(self, actor: Any) -> Self:
        """Operator staff see every tenant's rows; everyone else sees only their own organization."""
        if actor is None:
            return self.none()
        if actor.is_operator:
            return self.all()
        if actor.organization is None:
            return self.none()
        return self.filter(organization=actor.organization)


class TenantModel(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    pass


class AuditEntry(models.Model):
    """An append-only record of a security- or money-relevant action."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_prefix = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} by {self.actor_label or 'system'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit entries are append-only.")


class DomainEvent(models.Model):
    """A business fact, written in the transaction that made it true, for integrations to deliver."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=80, db_index=True)  # a name from core.event_types.CATALOGUE
    version = models.PositiveSmallIntegerField(default=1)
    aggregate_type = models.CharField(max_length=80)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "id"])]

    def __str__(self) -> str:
        return f"{self.type} {self.aggregate_type}:{self.aggregate_id}"


class Subscription(models.Model):
    """Who receives which domain events: an internal consumer (a function registered under this
    name, `core.outbox.consumer`) or an HTTP endpoint (a partner's webhook). Every event of a
    subscribed type gets a delivery row in the transaction that records the event."""

    class Kind(models.TextChoices):
        CONSUMER = "consumer", "Internal consumer"
        WEBHOOK = "webhook", "Webhook endpoint"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )  # None: events of every organization (internal consumers)
    description = models.CharField(max_length=100, blank=True)  # the partner's own label for an endpoint
    url = models.URLField(max_length=500, blank=True)
    secret = models.TextField(blank=True)  # sealed by the vault (purpose "outbox.webhook")
    secret_hint = models.CharField(max_length=8, blank=True)  # its last four characters
    # After a rotation the old secret signs too (a second signature) until then.
    previous_secret = models.TextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)  # False: paused, disabled or deleted; owed no events
    failing_since = models.DateTimeField(null=True, blank=True)  # first failed attempt since the last success
    disabled_at = models.DateTimeField(null=True, blank=True)  # by the relay, its deliveries kept failing
    disabled_reason = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # deleted by the partner; its history stays
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantQuerySet.as_manager()

    def __str__(self) -> str:
        return self.description or self.name

    @property
    def status(self) -> str:
        """`active`, `paused` (by the partner), `disabled` (by the relay) or `deleted`."""
        if self.deleted_at is not None:
            return "deleted"
        if self.disabled_at is not None:
            return "disabled"
        return "active" if self.is_active else "paused"


class SubscriptionTopic(models.Model):
    """One event type a subscription receives; `*` stands for every type in the catalogue."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="topics")
    event_type = models.CharField(max_length=80)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subscription", "event_type"], name="one_topic_per_type")]
        indexes = [models.Index(fields=["event_type"])]

    def __str__(self) -> str:
        return f"{self.subscription} <- {self.event_type}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class EventDelivery(models.Model):
    """One event owed to one subscription. The row is the relay's unit of work: written with the
    event, claimed with SKIP LOCKED, retried with backoff, delivered in per-aggregate order."""

    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    aggregate_key = models.CharField(max_length=150)  # the event's "aggregate_type:aggregate_id"
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event_id", "id"]
        verbose_name_plural = "event deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "subscription"], name="one_delivery_per_subscriber")]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_due", condition=models.Q(status=DeliveryStatus.PENDING)
            ),
            models.Index(
                fields=["subscription", "aggregate_key", "event"],
                name="delivery_pending_in_aggregate",
                condition=models.Q(status=DeliveryStatus.PENDING),
            ),
        ]

    def __str__(self) -> str:
        return f"Event {self.event_id} for subscription {self.subscription_id} ({self.get_status_display().lower()})"


class DeliveryAttempt(models.Model):
    """One try at a delivery, kept for the console: when, how long, what came back."""

    delivery = models.ForeignKey(EventDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery_id", "id"]

    def __str__(self) -> str:
        return f"attempt at {self.at:%Y-%m-%d %H:%M:%S} ({self.status_code or self.error[:40]})"


class WorkerHeartbeat(models.Model):
    """Proof of life of a task worker; the reaper and /healthz read it."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname}:{self.pid}"


def remember_related(instance: models.Model, related_name: str, objects: list[Any]) -> None:
    """Let `instance.<related_name>.all()` answer with objects just written, without a query.

    This fills the same cache `prefetch_related` fills, for rows a service has in hand.
    """
    related = getattr(instance, related_name).all()
    related._result_cache = objects
    related._prefetch_done = True
    cache = {**getattr(instance, "_prefetched_objects_cache", {}), related_name: related}
    instance._prefetched_objects_cache = cache  # type: ignore[attr-defined]


class PersonalDataShared(models.Model):
    """The sharing register: one transmission of personal data to a third party, written by the
    outbound client before it sends (`core.privacy.sharing_record`)."""

    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )  # whose data: the partner, or none for AES's own
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    recipient = models.CharField(max_length=200)  # e.g. kohsar.myshopify.com
    recipient_category = models.CharField(max_length=32)  # one of core.privacy.SERVICE_PROVIDERS
    data_categories = models.JSONField(default=list)  # fideslang categories
    purpose = models.CharField(max_length=32)
    reference = models.CharField(max_length=200, blank=True)  # the order or shipment it was for

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.recipient} {self.purpose} {self.at:%Y-%m-%d %H:%M}"
