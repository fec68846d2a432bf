"""Every write of the public website: operators' pages, visitors' leads and the leads' pipeline.
Each service is one transaction; every change an operator makes is audited."""

import re
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from allied.accounts.models import Organization
from allied.accounts.policy import LEADS_MANAGE, ORGANIZATIONS_MANAGE, WEBSITE_MANAGE, Actor, require
from allied.accounts.roles import OrganizationKind, Role
from allied.accounts.services import invitation_create, organization_create
from allied.core.audit import audit_record
from allied.core.contact import email_check, phone_normalize
from allied.core.errors import Conflict, FieldError, IllegalTransition, PermissionDenied, ValidationFailed
from allied.website.locks import lead_for_update, page_for_update
from allied.website.models import ContactPreference, Lead, LeadActivity, LeadKind, LeadStatus, Page, PageStatus

# Paths of the site's own pages and of other apps at the root: no CMS page may take them.
RESERVED_SLUGS = frozenset(
    {
        "ops", "portal", "api", "track", "accounts", "admin", "privacy", "static", "contact", "feedback", "me",
        "home", "healthz", "couriers", "integrations", "invitations", "media",
    }
)  # fmt: skip
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PAGE_FIELDS = ("slug", "title", "meta_description", "body", "show_in_nav", "nav_order", "status")

# Visitors write their number as it is dialled in Pakistan, or in the international form.
VISITOR_PHONE_COUNTRY = "PK"

S = LeadStatus
LEAD_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.CONTACTED, S.LOST}),
    S.CONTACTED: frozenset({S.QUALIFIED, S.LOST}),
    S.QUALIFIED: frozenset({S.WON, S.LOST}),
    S.WON: frozenset(),
    S.LOST: frozenset(),
}


# Pages ------------------------------------------------------------------------------------------


def _slug_check(slug: str, *, page_id: int | None) -> str:
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise ValidationFailed(
            "The address is not valid.",
            errors=[FieldError("slug", "Use lower-case letters, digits and single hyphens, e.g. last-mile.")],
        )
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(
            f"/{slug}/ is used by the site itself.",
            errors=[FieldError("slug", f"/{slug}/ belongs to the site itself; choose another address.", "reserved")],
        )
    others = Page.objects.filter(slug=slug)
    if (others.exclude(pk=page_id) if page_id is not None else others).exists():
        raise Conflict("Another page has that address.", errors=[FieldError("slug", "Another page has it.")])
    return slug


@transaction.atomic(savepoint=False)
def page_create(
    *, slug: str, title: str, body: str, actor: Actor, meta_description: str = "", show_in_nav: bool = False,
    nav_order: int = 100, status: str = PageStatus.DRAFT,
) -> Page:  # fmt: skip
    """A new page of the public site; published at once if `status` says so. Audited."""
    require(actor, WEBSITE_MANAGE)
    page = Page.objects.create(
        slug=_slug_check(slug, page_id=None),
        title=title.strip(),
        meta_description=meta_description.strip(),
        body=body,
        show_in_nav=show_in_nav,
        nav_order=nav_order,
        status=PageStatus(status),
        updated_by=actor.user,
    )
    audit_record(
        action="website.page_created",
        actor=actor,
        target=page,
        changes={"slug": page.slug, "title": page.title, "status": page.status},
    )
    return page


@transaction.atomic(savepoint=False)
def page_update(*, page: Page, actor: Actor, **values: Any) -> Page:
    """Change a page's content, address or state (publishing is `status="published"`); what changed is
    audited with its old and new values (the body as its lengths). Saving what is already there
    changes nothing and records nothing."""
    require(actor, WEBSITE_MANAGE)
    unknown = set(values) - set(PAGE_FIELDS)
    if unknown:
        raise ValueError(f"Pages have no fields {sorted(unknown)}")
    page = page_for_update(page.pk)
    if "slug" in values:
        values["slug"] = _slug_check(values["slug"], page_id=page.pk)
    if "status" in values:
        values["status"] = PageStatus(values["status"])
    changes: dict[str, Any] = {}
    for name, new in values.items():
        old = getattr(page, name)
        if old != new:
            changes[name] = (
                {"old_length": len(old), "new_length": len(new)} if name == "body" else {"old": old, "new": new}
            )
            setattr(page, name, new)
    if not changes:
        return page
    page.updated_by = actor.user
    page.save()
    action = "website.page_published" if changes.get("status", {}).get("new") == PageStatus.PUBLISHED else None
    audit_record(action=action or "website.page_updated", actor=actor, target=page, changes=changes)
    return page


# Leads ------------------------------------------------------------------------------------------


@transaction.atomic(savepoint=False)
def lead_submit(
    *, kind: str, name: str, email: str, message: str, phone: str = "", company: str = "", relationship: str = "",
    service: str = "", contact_preference: str = ContactPreference.EMAIL,
) -> Lead:  # fmt: skip
    """Store a visitor's inquiry or feedback as a new lead and mail them an acknowledgement after the
    commit. Every problem is reported at once; nothing is stored unless all is well."""
    errors: list[FieldError] = []
    if not name.strip():
        errors.append(FieldError("name", "Tell us your name."))
    if not message.strip():
        errors.append(FieldError("message", "Write your message."))
    try:
        email = email_check(email, field="email")
    except ValidationFailed as invalid:
        errors += invalid.errors
    if not email:
        errors.append(FieldError("email", "We need your e-mail address to answer."))
    if phone.strip():
        try:
            phone = phone_normalize(phone, default_country=VISITOR_PHONE_COUNTRY, field="phone")
        except ValidationFailed as invalid:
            errors += invalid.errors
    elif contact_preference in (ContactPreference.PHONE, ContactPreference.EITHER):
        errors.append(FieldError("phone", "Give a phone number, or choose to be contacted by e-mail."))
    if errors:
        raise ValidationFailed("Some fields need another look.", errors=errors)
    lead = Lead.objects.create(
        kind=LeadKind(kind),
        name=name.strip(),
        email=email,
        phone=phone,
        company=company.strip(),
        relationship=relationship.strip(),
        service=service,
        message=message.strip(),
        contact_preference=ContactPreference(contact_preference),
    )
    from allied.website.tasks import send_lead_acknowledgement

    transaction.on_commit(partial(send_lead_acknowledgement.enqueue, lead.pk))
    return lead


def _record(lead: Lead, actor: Actor, *, from_status: str = "", to_status: str = "", note: str = "") -> None:
    LeadActivity.objects.create(
        lead=lead, from_status=from_status, to_status=to_status, note=note, actor_label=actor.label
    )


@transaction.atomic(savepoint=False)
def lead_note_add(*, lead: Lead, note: str, actor: Actor) -> LeadActivity:
    """An operator's note on the lead's history."""
    require(actor, LEADS_MANAGE)
    if not note.strip():
        raise ValidationFailed("The note is empty.", errors=[FieldError("note", "Write the note first.")])
    lead = lead_for_update(lead.pk)
    activity = LeadActivity.objects.create(lead=lead, note=note.strip(), actor_label=actor.label)
    lead.save(update_fields=["updated_at"])
    audit_record(action="lead.note_added", actor=actor, target=lead)
    return activity


def _unique_slug(company: str) -> str:
    base = slugify(company)[:50] or "partner"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic(savepoint=False)
def lead_status_change(*, lead: Lead, status: str, actor: Actor, note: str = "") -> Lead:
    """Move the lead along its pipeline (new → contacted → qualified → won, or lost on the way); the
    move is recorded with who and when. Won creates the company as a partner organization and
    invites the lead's e-mail as its owner, so only those who may onboard partners can win a lead.
    A move to the status the lead already has changes nothing."""
    require(actor, LEADS_MANAGE)
    status = LeadStatus(status)
    lead = lead_for_update(lead.pk)
    if lead.status == status:
        return lead
    if status not in LEAD_TRANSITIONS[lead.status]:
        raise IllegalTransition(
            f"A {lead.get_status_display().lower()} lead cannot become {status.label.lower()}.",
            errors=[FieldError("status", f"From {lead.get_status_display()} it can go to: {_next_words(lead)}.")],
        )
    if status == LeadStatus.WON:
        _onboard(lead, actor)
    old = lead.status
    lead.status = status
    lead.save(update_fields=["status", "partner", "updated_at"])
    _record(lead, actor, from_status=old, to_status=status, note=note.strip())
    audit_record(
        action="lead.status_changed",
        actor=actor,
        target=lead,
        changes={"status": {"old": old, "new": status}, "partner_id": lead.partner_id},
    )
    return lead


def _next_words(lead: Lead) -> str:
    return ", ".join(LeadStatus(s).label for s in sorted(LEAD_TRANSITIONS[lead.status])) or "nothing"


def _onboard(lead: Lead, actor: Actor) -> None:
    if not actor.is_system and ORGANIZATIONS_MANAGE not in actor.permissions:
        raise PermissionDenied("Only those who onboard partners can mark a lead won.")
    if not lead.company or not lead.email:
        raise ValidationFailed(
            "A won lead becomes a partner: it needs a company name and an e-mail address.",
            errors=[FieldError("status", "This lead has no company or no e-mail address to invite.")],
        )
    organization = organization_create(
        name=lead.company, slug=_unique_slug(lead.company), kind=OrganizationKind.PARTNER, actor=actor
    )
    invitation_create(organization=organization, email=lead.email, role=Role.OWNER, actor=actor)
    lead.partner = organization
