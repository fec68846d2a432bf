"""The privacy engine's records: the published notice's versions and who acknowledged them, the
cookie choices visitors made, data-subject requests, and the retention job's runs."""

import uuid

from django.conf import settings
from django.db import models


class NoticeVersion(models.Model):
    """One published version of the privacy notice: the operators' text and the data map it was
    generated from, frozen. A new version is published whenever either changes."""

    number = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField(auto_now_add=True)
    text = models.TextField()  # the operators' sections, Markdown
    data_map = models.JSONField()  # the data map's entries at publication
    settings_snapshot = models.JSONField(default=dict)  # e.g. whether Do Not Track is honoured
    digest = models.CharField(max_length=64)  # of text, data map and settings
    change_summary = models.TextField(blank=True)  # what changed from the version before, in words
    published_by = models.CharField(max_length=254, blank=True)  # a staff e-mail, or "the data map changed"

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"Privacy notice v{self.number}"


class NoticeAcknowledgement(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(NoticeVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="notice_ack_once")]

    def __str__(self) -> str:
        return f"user #{self.user_id} acknowledged v{self.version_id}"


class ConsentRecord(models.Model):
    """One cookie choice: who (an anonymous browser id, or a signed-in user), which optional
    categories were allowed, under which notice version, when and how it was made."""

    class Source(models.TextChoices):
        BANNER = "banner", "Cookie banner"
        SETTINGS = "settings", "Cookie settings page"
        GPC = "gpc", "Global Privacy Control signal"
        DNT = "dnt", "Do Not Track signal"

    anonymous_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    preferences = models.BooleanField(default=False)
    analytics = models.BooleanField(default=False)
    notice_version = models.ForeignKey(NoticeVersion, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"consent {self.anonymous_id} at {self.at:%Y-%m-%d %H:%M}"


class DataSubjectRequest(models.Model):
    """A person's request about their data: see it, correct it, erase it, or stop messages. Nothing
    happens before the person proves they hold each e-mail address and phone number the request
    names (a one-time code sent to each); a store platform's request arrives already vouched for."""

    class Kind(models.TextChoices):
        ACCESS = "access", "See and download my data"
        CORRECTION = "correction", "Correct my data"
        DELETION = "deletion", "Erase my data"
        OPT_OUT = "opt_out", "Stop messages to me"

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", "Waiting for the code"
        OPEN = "open", "Open"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected"

    class Source(models.TextChoices):
        WEBSITE = "website", "Website form"
        ACCOUNT = "account", "Signed-in profile"
        STORE = "store", "Store platform"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNVERIFIED, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)  # E.164
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(  # the partner whose store platform sent the request
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    details = models.TextField(blank=True)  # what to correct, or anything the person adds
    store_reference = models.CharField(max_length=200, blank=True)  # the store platform's request id
    email_code_hash = models.CharField(max_length=128, blank=True)
    phone_code_hash = models.CharField(max_length=128, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.CharField(max_length=254, blank=True)
    outcome = models.TextField(blank=True)  # what was done, in words, for the person and the audit
    result = models.JSONField(default=dict)  # rows exported or erased per app

    class Meta:
        ordering = ["due_at", "received_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request {self.public_id}"


class RetentionRun(models.Model):
    """One pass of the retention job: what it redacted or deleted, per model and rule."""

    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    triggered_by = models.CharField(max_length=254)  # "schedule", a command, or a staff e-mail
    results = models.JSONField(default=list)  # [{model, fields, rule, action, rows}]
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"retention run {self.started_at:%Y-%m-%d %H:%M}"
