from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from allied.core.models import (
    AuditEntry,
    DeliveryAttempt,
    DeliveryStatus,
    DomainEvent,
    EventDelivery,
    Subscription,
    SubscriptionTopic,
    WorkerHeartbeat,
)
from allied.core.outbox import delivery_replay


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records AES administrators read (the admin site lets only them in, with their second
    factor: `AlliedAdminSite.has_permission`), and nobody edits."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "actor_label", "organization", "object_repr", "ip_prefix", "request_id"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_repr", "request_id"]


@admin.register(DomainEvent)
class DomainEventAdmin(ReadOnlyAdmin):
    # The aggregate as one "type:id" column, so every column fits beside the filter without scrolling.
    list_display = ["occurred_at", "type", "organization", "aggregate"]
    list_filter = ["type"]
    ordering = ["-id"]  # newest first, like the audit log

    @admin.display(description="Aggregate", ordering="aggregate_type")
    def aggregate(self, event: DomainEvent) -> str:
        return f"{event.aggregate_type}:{event.aggregate_id}"


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under a record: seen by whoever may see the record (the admin site's own check,
    as in `ReadOnlyAdmin`; AES administrators hold no Django model permissions), never edited."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.admin_site.has_permission(request)


class SubscriptionTopicInline(ReadOnlyInline):
    model = SubscriptionTopic

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "organization", "url", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    exclude = ["secret"]
    inlines = [SubscriptionTopicInline]


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    readonly_fields = ["at", "duration_ms", "status_code", "error"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(EventDelivery)
class EventDeliveryAdmin(ReadOnlyAdmin):
    """Where a failed delivery shows its reason and every attempt, and can be sent again."""

    list_display = ["event", "subscription", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "subscription"]
    list_select_related = ["event", "subscription"]
    inlines = [DeliveryAttemptInline]
    actions = ["replay"]

    @admin.action(description="Deliver the selected failed deliveries again")
    def replay(self, request: HttpRequest, queryset: QuerySet[EventDelivery]) -> None:
        replayed = 0
        for delivery in queryset.filter(status=DeliveryStatus.FAILED):
            with transaction.atomic(durable=True):
                delivery_replay(delivery=delivery)
            replayed += 1
        messages.success(request, f"{replayed} deliveries queued again.")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["worker_id", "hostname", "pid", "started_at", "last_seen"]
