"""The public website's content and what visitors send: CMS pages that operators write in the
console, and leads (service inquiries and feedback) with their pipeline."""

from django.conf import settings
from django.db import models


class PageStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Page(models.Model):
    """A page of the public site at `/<slug>/`, its body written in Markdown (raw HTML is not allowed)."""

    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120)
    meta_description = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    show_in_nav = models.BooleanField(default=False)
    nav_order = models.PositiveSmallIntegerField(default=100)
    status = models.CharField(max_length=16, choices=PageStatus.choices, default=PageStatus.DRAFT)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["nav_order", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == PageStatus.PUBLISHED


class LeadKind(models.TextChoices):
    INQUIRY = "inquiry", "Service inquiry"
    FEEDBACK = "feedback", "Feedback"


class Service(models.TextChoices):
    ECOMMERCE = "ecommerce", "E-commerce (stores and marketplaces)"
    FULFILMENT = "fulfilment", "Warehousing and fulfilment"
    LAST_MILE = "last_mile", "Last-mile delivery and cash on delivery"
    WEBSITE = "website", "Website services"
    OTHER = "other", "Something else"


class ContactPreference(models.TextChoices):
    EMAIL = "email", "E-mail"
    PHONE = "phone", "Phone"
    EITHER = "either", "Either"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Lead(models.Model):
    """An inquiry or feedback sent through the website. Never stores the sender's IP address."""

    kind = models.CharField(max_length=16, choices=LeadKind.choices)
    name = models.CharField(max_length=120)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=20, blank=True)  # E.164
    company = models.CharField(max_length=160, blank=True)
    relationship = models.CharField(max_length=120, blank=True)  # their role, or how they know AES
    service = models.CharField(max_length=16, choices=Service.choices, blank=True)
    message = models.TextField()
    contact_preference = models.CharField(
        max_length=8, choices=ContactPreference.choices, default=ContactPreference.EMAIL
    )
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The partner organization a won lead was invited to become.
    partner = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class LeadActivity(models.Model):
    """The lead's history: each status change and each operator's note, with who and when."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    from_status = models.CharField(max_length=16, choices=LeadStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=LeadStatus.choices, blank=True)
    note = models.TextField(blank=True)
    actor_label = models.CharField(max_length=254)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.lead} at {self.at:%Y-%m-%d %H:%M}"
