"""The console's CMS: operators list, write, preview and publish the public site's pages."""

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.core.errors import FORM_ERRORS
from allied.core.forms import form_add_domain_error
from allied.core.markdown import markdown_html
from allied.website.forms import PageForm
from allied.website.models import Page
from allied.website.selectors import access_page, pages_for
from allied.website.services import PAGE_FIELDS, page_create, page_update


@permission_required(policy.WEBSITE_MANAGE)
def page_list(request: HttpRequest) -> HttpResponse:
    return render(request, "website/ops/page_list.html", {"pages": pages_for(request.actor)})  # type: ignore[attr-defined]


def _form_page(request: HttpRequest, form: PageForm, page: Page | None) -> HttpResponse:
    body = form["body"].value() or ""
    context: dict[str, Any] = {"form": form, "page": page, "preview": markdown_html(str(body))}
    return render(request, "website/ops/page_form.html", context, status=400 if form.errors else 200)


@permission_required(policy.WEBSITE_MANAGE)
def page_new(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = PageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                page = page_create(actor=actor, **form.cleaned_data)
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, f"“{page.title}” is saved as {page.get_status_display().lower()}.")
            return redirect("ops_website_page", page_id=page.pk)
    return _form_page(request, form, None)


@permission_required(policy.WEBSITE_MANAGE)
def page_edit(request: HttpRequest, page_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    page = access_page(actor, page_id)
    if request.method != "POST":
        return _form_page(request, PageForm(initial={name: getattr(page, name) for name in PAGE_FIELDS}), page)
    form = PageForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                page = page_update(page=page, actor=actor, **form.cleaned_data)
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, f"Saved; the page is {page.get_status_display().lower()}.")
            return redirect("ops_website_page", page_id=page.pk)
    return _form_page(request, form, page)


@require_POST
@permission_required(policy.WEBSITE_MANAGE)
def page_preview(request: HttpRequest) -> HttpResponse:
    """The body as the public site will show it (htmx swaps it in beside the form); nothing is saved."""
    context = {"preview": markdown_html(request.POST.get("body", "")), "title": request.POST.get("title", "")}
    return render(request, "website/ops/page_form.html#preview", context)
