"""AES's accounts with courier companies, the consignments booked through them, and the inbox of
what the couriers sent. Nothing here names a stop or an order: the last mile (`delivery`) keeps
its stops and finds them by carrier code and consignment id."""

from django.db import models
from django.utils import timezone

from allied.core.vault import vault_decrypt


def credential_purpose(code: str, name: str) -> str:
    """The vault purpose of one courier credential: a Pathao token never opens as a Steadfast key."""
    return f"couriers.{code}.{name}"


class CourierAccount(models.Model):
    """AES's merchant account with one courier company (a carrier code with an adapter in
    `allied.core.carriers`). Its credentials are tokens and keys the courier issued, each sealed in
    the vault for its own purpose (`credentials`: name -> vault token); a merchant's password is
    exchanged for tokens once, at connect, and kept nowhere."""

    code = models.CharField(max_length=40)  # "pathao", "steadfast"
    name = models.CharField(max_length=100)
    credentials = models.JSONField(default=dict, blank=True)  # name -> vault token
    credential_hints = models.JSONField(default=dict, blank=True)  # name -> "…abcd", for pages
    # The previous webhook secret (inside `credentials`) is accepted until then, while the
    # courier's panel is changed over.
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    # Cities or areas whose parcels go through this account; empty: everywhere the courier goes.
    areas = models.JSONField(default=list, blank=True)
    sandbox = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)  # False: paused, no new parcels are booked through it
    # The last time the courier answered a request made with this account (connect, book, track).
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Disconnected: its credentials are wiped; the row stays for the consignments booked through it.
    disconnected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code", "name", "id"]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    @property
    def status(self) -> str:
        if self.disconnected_at is not None:
            return "disconnected"
        return "active" if self.is_active else "paused"

    def serves(self, *places: str) -> bool:
        """Whether parcels to this city or area go through this account."""
        if not self.areas:
            return True
        names = {str(area).strip().lower() for area in self.areas}
        return bool(names & {place.strip().lower() for place in places if place and place.strip()})

    def credentials_open(self, *, now=None) -> dict[str, str]:
        """Every credential opened from the vault, for the adapter that needs them and nothing else;
        the previous webhook secret only while it is still accepted."""
        opened = {
            name: vault_decrypt(token, purpose=credential_purpose(self.code, name))
            for name, token in self.credentials.items()
        }
        if self.previous_secret_until is None or self.previous_secret_until <= (now or timezone.now()):
            opened = {name: value for name, value in opened.items() if not name.startswith("previous_")}
        return opened


class CourierConsignment(models.Model):
    """One parcel booked with a courier through an account: which account to ask about it later
    (polls, labels) and the courier's own tracking code."""

    account = models.ForeignKey(CourierAccount, on_delete=models.PROTECT, related_name="consignments")
    consignment_id = models.CharField(max_length=64)
    tracking_code = models.CharField(max_length=64)
    reference = models.CharField(max_length=64)  # the merchant order reference sent (the order number)
    delivery_fee = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    booked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-booked_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "consignment_id"], name="one_row_per_consignment"),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.consignment_id}"


class CourierWebhookStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be applied"
    PROCESSED = "processed", "Applied"
    FAILED = "failed", "Failed"  # applying raised; retried, then kept


class CourierWebhook(models.Model):
    """One authentic webhook delivery from a courier, stored before it is answered: the raw body
    and the events the adapter read from it (its headers carry the secret, so they are not kept).
    A task applies the events to the stops."""

    account = models.ForeignKey(CourierAccount, on_delete=models.PROTECT, related_name="webhooks")
    body = models.TextField()
    events = models.JSONField(default=list, blank=True)  # CourierEvent fields, as JSON
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=CourierWebhookStatus.choices, default=CourierWebhookStatus.PENDING)
    outcome = models.JSONField(default=list, blank=True)  # what became of each event
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account.code} webhook {self.pk} ({self.status})"
