"""The only place the website's rows are locked: one row at a time, so no order to keep."""

from allied.website.models import Lead, Page


def page_for_update(page_id: int) -> Page:
    return Page.objects.select_for_update(no_key=True).get(pk=page_id)


def lead_for_update(lead_id: int) -> Lead:
    return Lead.objects.select_for_update(no_key=True).get(pk=lead_id)
