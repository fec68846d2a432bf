"""The website's reads: what the public sees (published pages only) and what operators see."""

from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import Q, QuerySet

from allied.accounts.policy import LEADS_MANAGE, WEBSITE_MANAGE, Actor, require
from allied.core.errors import NotFound
from allied.website.models import Lead, LeadKind, LeadStatus, Page, PageStatus

NAV_FIELDS = ("slug", "title", "show_in_nav", "nav_order")


@dataclass(frozen=True)
class PublicSite:
    """The published pages a public page needs: those in the navigation, and the one asked for."""

    nav: list[Page]
    page: Page | None


def public_site(slug: str = "") -> PublicSite:
    """One query for the navigation and, when `slug` is given, that page (published only)."""
    wanted = Q(show_in_nav=True) | Q(slug=slug) if slug else Q(show_in_nav=True)
    rows = list(
        Page.objects.filter(wanted, status=PageStatus.PUBLISHED)
        .order_by("nav_order", "title")
        .only(*NAV_FIELDS, "meta_description", "body", "updated_at")
    )
    page = next((row for row in rows if row.slug == slug), None) if slug else None
    return PublicSite(nav=[row for row in rows if row.show_in_nav], page=page)


@cache
def _site_version_sql() -> str:
    quote = connection.ops.quote_name
    return f"SELECT MAX({quote('updated_at')}), COUNT(*) FROM {quote(Page._meta.db_table)}"  # noqa: S608 (no input)


def public_site_version() -> tuple[object, int]:
    """Which version of the pages the site is at: when a page was last saved (every save sets
    `updated_at`) and how many there are (a deletion). Every public page asks, so it is one plain
    statement: through the ORM the question would cost more than the page it saves rendering."""
    with connection.cursor() as cursor:
        cursor.execute(_site_version_sql())
        last_saved, count = cursor.fetchone()
    return last_saved, count


def pages_for(actor: Actor) -> QuerySet[Page]:
    require(actor, WEBSITE_MANAGE)
    return Page.objects.select_related("updated_by").order_by("nav_order", "title")


def access_page(actor: Actor, page_id: int) -> Page:
    page = pages_for(actor).filter(pk=page_id).first()
    if page is None:
        raise NotFound("No such page.")
    return page


def leads_for(actor: Actor, *, status: str = "", kind: str = "") -> QuerySet[Lead]:
    """Leads, newest first, filtered by status and kind when they name one."""
    require(actor, LEADS_MANAGE)
    leads = Lead.objects.all()
    if status in LeadStatus.values:
        leads = leads.filter(status=status)
    if kind in LeadKind.values:
        leads = leads.filter(kind=kind)
    return leads


def access_lead(actor: Actor, lead_id: int) -> Lead:
    lead = leads_for(actor).select_related("partner").prefetch_related("activities").filter(pk=lead_id).first()
    if lead is None:
        raise NotFound("No such lead.")
    return lead
