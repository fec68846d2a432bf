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
