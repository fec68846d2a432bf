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
    type = models.CharField(max_length=80, db_index=True)
    aggregate_type = models.CharField(max_length=80)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["organization", "id"])]

    def __str__(self) -> str:
        return f"{self.type} {self.aggregate_type}:{self.aggregate_id}"


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
