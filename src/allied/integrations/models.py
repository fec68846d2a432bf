"""Store connections and the inbox of what the stores sent."""

import uuid

from django.db import models

from allied.core.models import TenantModel
from allied.core.vault import vault_decrypt


class ConnectionKind(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    MARKETPLACE = "marketplace", "Marketplace (Daraz)"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"  # webhooks are refused (the store retries) and nothing is pushed
    DISCONNECTED = "disconnected", "Disconnected"  # credentials forgotten; kept for its history


class Connection(TenantModel):
    """A partner's store, connected with tokens and secrets issued for the integration (never a
    store account's password), each sealed in the vault (`credentials`, one token per name)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # in the webhook address
    kind = models.CharField(max_length=16, choices=ConnectionKind.choices)
    name = models.CharField(max_length=100)
    store_url = models.URLField(max_length=300)  # https://shop.myshopify.com or the WooCommerce site
    status = models.CharField(max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    credentials = models.JSONField(default=dict, blank=True)  # name -> vault token
    credential_hints = models.JSONField(default=dict, blank=True)  # name -> "…abcd", for pages
    previous_webhook_secret = models.TextField(blank=True)  # vault token, accepted until the time below
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    remote = models.JSONField(default=dict, blank=True)  # what the store assigned: service, location, webhook ids
    created_at = models.DateTimeField(auto_now_add=True)
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    # Reconciliation: orders changed since the checkpoint are fetched from the store's API.
    poll_checkpoint = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.TextField(blank=True)
    # Checks of the credentials and the set-up in the store (webhooks, Shopify's fulfillment service).
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check_error = models.TextField(blank=True)
    set_up_at = models.DateTimeField(null=True, blank=True)
    # Stock: changed products wait in StockPushItem; one push per store at a time, spaced out.
    stock_sync = models.BooleanField(default=True)
    stock_push_due_at = models.DateTimeField(null=True, blank=True)  # a push is queued for then
    last_stock_push_at = models.DateTimeField(null=True, blank=True)
    last_stock_push_error = models.TextField(blank=True)
    # The last comparison of the store's recent orders with Allied's (see services/compare.py).
    comparison = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["organization_id", "name", "id"]
        constraints = [
            # A marketplace's sellers share its API address: one seller per connection is kept at set-up.
            models.UniqueConstraint(
                fields=["kind", "store_url"],
                condition=~models.Q(status="disconnected") & ~models.Q(kind="marketplace"),
                name="one_live_connection_per_store",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def credential(self, name: str) -> str:
        """A credential opened from the vault, for the request that needs it and nothing else."""
        return vault_decrypt(self.credentials[name], purpose=credential_purpose(self.kind, name))


def credential_purpose(connection_kind: str, name: str) -> str:
    return f"integrations.{connection_kind}.{name}"


class InboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be processed"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Nothing to do"
    REJECTED = "rejected", "Rejected"  # authentic but not applicable: kept with the reason
    FAILED = "failed", "Failed"  # processing raised; retried, then kept for a replay


# Applied or turned down: the raw body is no longer needed to act, so an erasure may replace it.
SETTLED_STATUSES = (InboxStatus.PROCESSED, InboxStatus.IGNORED, InboxStatus.REJECTED)
REDACTED_BODY = '{"redacted": true}'


class InboxMessage(TenantModel):
    """One authentic webhook delivery, stored raw before it is answered; processed by a task."""

    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="inbox")
    topic = models.CharField(max_length=100)
    delivery_key = models.CharField(max_length=200)  # the store's id of the event: a repeat is dropped
    store_order_id = models.CharField(max_length=64, blank=True, db_index=True)  # the order it is about
    store_updated_at = models.DateTimeField(null=True, blank=True)  # the order's state as of this time
    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=InboxStatus.choices, default=InboxStatus.PENDING)
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "delivery_key"], name="one_inbox_row_per_delivery")
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.delivery_key} ({self.status})"


class StockPushItem(TenantModel):
    """A product whose available quantity the store has not been told since it changed. A change
    while a push runs moves `changed_at`, so the row outlives that push and the next one sends it."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="stock_pending")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "product"], name="one_pending_push_per_product")]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.connection_id}"
