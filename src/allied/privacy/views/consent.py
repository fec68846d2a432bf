"""The cookie banner's choice and the cookie settings page (`/privacy/cookies`).

Both work as plain forms (a POST, then a redirect back) and, from the banner, through htmx without
a page load. They carry no CSRF token: the banner is on pages that set no CSRF cookie (the
tracking page), so a cross-site POST is refused by where the browser says it comes from instead
(Sec-Fetch-Site, else Origin), as Go's net/http CrossOriginProtection does. Every browser that
can be tricked into a cross-site POST sends one of the two."""

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from allied.accounts.policy import Actor
from allied.privacy.consent import OPTIONAL_CATEGORIES, consent_for, consent_remember
from allied.privacy.models import ConsentRecord
from allied.privacy.services.consent import consent_record

NO_STORE = "private, no-store"


class ConsentChoiceForm(forms.Form):
    choice = forms.ChoiceField(
        choices=[("reject", "Reject all"), ("accept", "Accept all"), ("custom", "Save my choices")]
    )
    category = forms.MultipleChoiceField(
        choices=[(name, name) for name in OPTIONAL_CATEGORIES],
        required=False,
        error_messages={"invalid_choice": "%(value)s is not a cookie category."},
    )
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: object, request: HttpRequest, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.request = request

    def clean_next(self) -> str:
        target: str = self.cleaned_data["next"]
        if target and not _on_this_site(self.request, target):
            raise forms.ValidationError("The page to return to must be on this site.")
        return target

    def allowed(self) -> set[str]:
        choice = self.cleaned_data["choice"]
        if choice == "accept":
            return set(OPTIONAL_CATEGORIES)
        if choice == "reject":
            return set()
        return set(self.cleaned_data["category"])


def _on_this_site(request: HttpRequest, url: str) -> bool:
    return url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())


def _back(request: HttpRequest, form: ConsentChoiceForm) -> str:
    """Where the banner's answer returns: `next` when given, else the page the form was on. The
    banner does not write its page into the form, so a page stays the same bytes whatever its
    address (the tracking page answers unknown and malformed codes identically)."""
    if form.cleaned_data["next"]:
        return str(form.cleaned_data["next"])
    referer = request.headers.get("Referer", "")
    return referer if referer and _on_this_site(request, referer) else "/"


def _cross_site(request: HttpRequest) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is not None and origin != f"{request.scheme}://{request.get_host()}"


def _record(request: HttpRequest, form: ConsentChoiceForm, source: str) -> ConsentRecord:
    allowed = form.allowed()
    with transaction.atomic(durable=True):
        return consent_record(
            anonymous_id=consent_for(request).anonymous_id,
            preferences="preferences" in allowed,
            analytics="analytics" in allowed,
            source=source,
            actor=Actor(user=request.user),
        )


def _settings_page(request: HttpRequest, form: ConsentChoiceForm | None, *, status: int = 200) -> HttpResponse:
    consent = consent_for(request)
    context = {
        "consent": consent,
        "form": form,
        "saved": request.GET.get("saved") == "1" and consent.chosen,
        "signal_name": {"gpc": "Global Privacy Control", "dnt": "Do Not Track"}.get(consent.signal, ""),
    }
    response = render(request, "privacy/consent/settings.html", context, status=status)
    response["Cache-Control"] = NO_STORE
    return response


def _signal_refusal(request: HttpRequest) -> HttpResponse:
    """A choice posted while the browser signals a refusal: the signal wins, nothing is recorded."""
    return _settings_page(request, None, status=409)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def cookie_settings(request: HttpRequest) -> HttpResponse:
    """The current choice and its date, and a form to change it (each change is a new record)."""
    if request.method == "GET":
        return _settings_page(request, ConsentChoiceForm(request=request))
    if _cross_site(request):
        return HttpResponseForbidden("Cookie choices are made on this site's own pages.")
    if consent_for(request).signal:
        return _signal_refusal(request)
    form = ConsentChoiceForm(request.POST, request=request)
    if not form.is_valid():
        return _settings_page(request, form, status=400)
    record = _record(request, form, ConsentRecord.Source.SETTINGS)
    response = redirect(f"{reverse('cookie_settings')}?saved=1")
    consent_remember(request, response, record)
    return response


@csrf_exempt
@require_POST
def consent_choose(request: HttpRequest) -> HttpResponse:
    """The banner's answer: back to the page it was on, or (htmx) the banner's thanks in its place."""
    if _cross_site(request):
        return HttpResponseForbidden("Cookie choices are made on this site's own pages.")
    if consent_for(request).signal:
        return _signal_refusal(request)
    form = ConsentChoiceForm(request.POST, request=request)
    if not form.is_valid():
        return _settings_page(request, form, status=400)
    record = _record(request, form, ConsentRecord.Source.BANNER)
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "privacy/consent/banner.html#saved", {"record": record})
    else:
        response = redirect(_back(request, form))
    consent_remember(request, response, record)
    response["Cache-Control"] = NO_STORE
    return response
