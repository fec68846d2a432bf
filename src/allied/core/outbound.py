"""Talking to a third party's API (a store platform, a courier): timeouts, retries that honour 429 and
`Retry-After`, and the sharing register written before personal data leaves."""

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils import timezone

from allied.core.privacy import sharing_record

logger = logging.getLogger(__name__)

RETRIED_STATUS = {408, 429, 500, 502, 503, 504}


class OutboundError(Exception):
    """The remote API refused or could not be reached after the retries; `status` is its last answer."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  # the remote asked to wait longer than a request may: seconds


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds to wait (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def api_origin(url: str) -> str:
    """Where a remote API answers: its own address, or in development and tests a local fake
    standing in for it (`ALLIED_API_ORIGINS`)."""
    return settings.ALLIED_API_ORIGINS.get(url, url)


class OutboundHttp:
    """HTTP to one remote API. A request that meets 429, 408, a 5xx or a transport error is retried with
    backoff; the remote's `Retry-After` is waited out (up to `max_wait`), never ignored."""

    def __init__(
        self,
        *,
        base_url: str,
        organization_id: int,
        recipient_category: str,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        max_attempts: int = 4,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url
        self.recipient = urlsplit(base_url).hostname or base_url
        self.recipient_category = recipient_category
        self.organization_id = organization_id
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.sleep = sleep
        self.client = httpx.Client(
            base_url=api_origin(base_url),
            headers=dict(headers or {}),
            auth=auth,
            timeout=httpx.Timeout(settings.ALLIED_OUTBOUND_HTTP_TIMEOUT, connect=5.0),
            follow_redirects=False,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        shares: Iterable[str] = (),
        purpose: str = "order_fulfillment",
        reference: str = "",
    ) -> httpx.Response:
        """Send, retrying what may be retried (`data`: a form body). `shares` names the personal data categories the
        request carries: they are written to the sharing register before anything is sent."""
        categories = list(shares)
        if categories:
            sharing_record(
                organization_id=self.organization_id,
                recipient=self.recipient,
                recipient_category=self.recipient_category,
                data_categories=categories,
                purpose=purpose,
                reference=reference,
            )
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                response = self.client.request(method, path, params=params, json=json, data=data)
            except httpx.TransportError as error:
                if last:
                    raise OutboundError(f"{self.recipient} could not be reached: {error}") from error
                self.sleep(min(self.max_wait, 2.0**attempt))
                continue
            if response.status_code not in RETRIED_STATUS:
                if response.is_error:
                    raise OutboundError(
                        f"{self.recipient} answered {response.status_code}: {response.text[:300]}",
                        status=response.status_code,
                    )
                return response
            if last:
                break
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self.max_wait:
                raise OutboundError(
                    f"{self.recipient} asked to wait {wait:.0f} s", status=response.status_code, retry_after=wait
                )
            self.sleep(wait if wait is not None else min(self.max_wait, 2.0**attempt))
        raise OutboundError(
            f"{self.recipient} answered {response.status_code} {self.max_attempts} times", status=response.status_code
        )

    def close(self) -> None:
        self.client.close()
