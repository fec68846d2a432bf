from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from allied.accounts.policy import Actor
from allied.privacy.consent import consent_for, consent_remember
from allied.privacy.services.consent import consent_record


class ConsentMiddleware:
    """Honours the browser's privacy signal: the first request that carries it (GPC, or DNT when
    ALLIED_HONOUR_DNT) records a refusal once, and the consent cookie remembers that it was
    recorded, so later requests with the same signal write nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.vary = ("Cookie", "Sec-GPC", "DNT") if settings.ALLIED_HONOUR_DNT else ("Cookie", "Sec-GPC")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        consent = consent_for(request)
        record = None
        if consent.signal and not consent.signal_recorded:
            with transaction.atomic(durable=True):
                record = consent_record(
                    anonymous_id=consent.anonymous_id,
                    preferences=False,
                    analytics=False,
                    source=consent.signal,
                    actor=Actor(user=request.user),
                )
            request.consent_signal_recorded_now = True  # type: ignore[attr-defined]
        response = self.get_response(request)
        if record is not None:
            consent_remember(request, response, record)
        # Pages show or hide the banner by the consent cookie and the signal headers.
        patch_vary_headers(response, self.vary)
        return response
