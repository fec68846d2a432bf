"""The registers: the data map (the records of processing, built from every app's declarations)
for the privacy officer, with JSON and CSV exports; and the sharing register, every transmission of
personal data to a third party, for the privacy officer (all of it) and a partner (its own)."""

import csv
import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.roles import OrganizationKind
from allied.accounts.selectors import organizations_visible_to
from allied.core.privacy import DATA_CATEGORIES, PURPOSES, SERVICE_PROVIDERS, DataMapEntry
from allied.privacy.notice_text import category_words, data_map_record, purpose_words
from allied.privacy.selectors import data_map_coverage, data_map_entries, sharing_records_visible_to

DATA_MAP_COLUMNS = [
    "app",
    "model",
    "field",
    "category",
    "category_words",
    "purpose",
    "legal_basis",
    "retention",
    "shared_with",
]
SHARING_COLUMNS = ["at", "organization", "recipient", "recipient_category", "data_categories", "purpose", "reference"]


class DataMapFilterForm(forms.Form):
    purpose = forms.ChoiceField(
        required=False,
        choices=[("", "Every purpose"), *((p, purpose_words(p).title) for p in sorted(PURPOSES))],
    )
    category = forms.ChoiceField(
        required=False,
        label="Data category",
        choices=[("", "Every category"), *((c, f"{category_words(c)} ({c})") for c in sorted(DATA_CATEGORIES))],
    )


class SharingFilterForm(forms.Form):
    recipient_category = forms.ChoiceField(
        required=False,
        label="Recipient category",
        choices=[("", "Every category"), *((r, r.replace("_", " ").capitalize()) for r in sorted(SERVICE_PROVIDERS))],
    )
    organization = forms.ChoiceField(required=False, label="Partner")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, partners: Iterable[tuple[str, str]] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if partners is None:  # a partner sees its own rows: nothing to choose
            del self.fields["organization"]
        else:
            cast(forms.ChoiceField, self.fields["organization"]).choices = [("", "Every partner"), *partners]


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def _csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    class Line:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def _csv_download(header: list[str], rows: Iterable[list[Any]], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _grouped(entries: list[DataMapEntry]) -> list[tuple[str, list[tuple[str, list[dict[str, Any]]]]]]:
    """By app, then by model, in the data map's order (which is by model label), each entry with
    its category, purpose and legal basis in words."""
    records = [
        data_map_record(entry)
        | {
            "purpose_title": purpose_words(entry.purpose).title,
            "legal_basis_title": entry.legal_basis.replace("_", " ").capitalize(),
        }
        for entry in entries
    ]
    return [
        (app, [(model, list(fields)) for model, fields in groupby(group, key=itemgetter("model"))])
        for app, group in groupby(records, key=itemgetter("app"))
    ]


@require_GET
@permission_required(policy.PRIVACY_MANAGE)
def data_map_page(request: HttpRequest) -> HttpResponse:
    """Every declared personal field, grouped by app and model, with the coverage of the declarations;
    `?format=json` or `?format=csv` downloads the (filtered) records of processing."""
    form = DataMapFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = data_map_entries(purpose=filters.get("purpose", ""), category=filters.get("category", ""))
    coverage = data_map_coverage()
    download = request.GET.get("format", "")
    if download == "json":
        body = {
            "generated_at": timezone.now().isoformat(),
            "coverage": {"declared": coverage.declared, "undeclared": coverage.undeclared, "percent": coverage.percent},
            "entries": [data_map_record(entry) for entry in entries],
        }
        response = HttpResponse(json.dumps(body, indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="allied-data-map-{_stamp()}.json"'
        return response
    if download == "csv":
        records = (data_map_record(entry) for entry in entries)
        rows = ([*(r[c] for c in DATA_MAP_COLUMNS[:-1]), " ".join(r["shared_with"])] for r in records)
        response = HttpResponse("".join(_csv_lines(DATA_MAP_COLUMNS, rows)), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="allied-data-map-{_stamp()}.csv"'
        return response
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "form": form,
        "groups": _grouped(entries),
        "shown": len(entries),
        "coverage": coverage,
        "filter_query": query.urlencode(),
    }
    return render(request, "privacy/data_map.html", context)


def _partners(actor: policy.Actor) -> list[tuple[str, str]] | None:
    """The partners the privacy officer filters by; None for a partner, who sees only its own rows."""
    if not actor.is_operator:
        return None
    partners = organizations_visible_to(actor).filter(kind=OrganizationKind.PARTNER).order_by("name")
    return [(organization.slug, organization.name) for organization in partners]


@require_GET
@login_required
def sharing_register(request: HttpRequest) -> HttpResponseBase:
    """Every transmission of personal data to a third party the caller may see, newest first,
    filtered by recipient category, partner (AES only) and dates; `?format=csv` downloads them."""
    actor = request.actor  # type: ignore[attr-defined]
    form = SharingFilterForm(request.GET or None, partners=_partners(actor))
    filters = form.cleaned_data if form.is_valid() else {}
    rows = sharing_records_visible_to(
        actor,
        recipient_category=filters.get("recipient_category", ""),
        organization_slug=filters.get("organization", ""),
        since=filters.get("since"),
        until=filters.get("until"),
    )
    if request.GET.get("format") == "csv":
        lines = (
            [
                row.at.isoformat(),
                row.organization.name if row.organization else "AES",
                row.recipient,
                row.recipient_category,
                " ".join(row.data_categories),
                row.purpose,
                row.reference,
            ]
            for row in rows.iterator()
        )
        return _csv_download(SHARING_COLUMNS, lines, f"allied-sharing-register-{_stamp()}.csv")
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("page", None)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for row in page:
        row.data_words = [category_words(category) for category in row.data_categories]  # type: ignore[attr-defined]
        row.purpose_title = purpose_words(row.purpose).title  # type: ignore[attr-defined]
    context = {
        "form": form,
        "page": page,
        "area": "ops" if actor.is_operator else "portal",
        "filter_query": query.urlencode(),
    }
    template = "privacy/register/sharing.html#results" if request.htmx else "privacy/register/sharing.html"  # type: ignore[attr-defined]
    return render(request, template, context)
