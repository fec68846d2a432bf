"""Public pages rendered once per process for each state of what they show.

The website's pages and the tracking page are the same for every visitor who asks while what they
show stays the same, so a request whose key (that state, written by the caller) was rendered
before costs no template work: only its CSP nonce differs, and the shared HTML holds a mark swapped
for each request's own. The caller's key must name everything the page depends on: the data it
shows, and the cookie banner's variant (the language is added here). Nothing on such a page may
depend on who asks (no user, no CSRF token, no messages), so callers use it for anonymous
visitors only.
"""

import secrets
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.autoreload import file_changed

NO_CSRF = {"csrf_token": ""}  # base.html would put a token (and a cookie) on every page
# What the context processors give a page from the visitor's own session, never shared: their
# CSRF token, and the messages waiting for them (left waiting: they show on their next page).
NOT_THE_VISITORS = {**NO_CSRF, "messages": ()}


class RenderedPages:
    """The last `size` pages rendered, by key; the least recently asked is forgotten first."""

    NONCE_MARK = f"csp-nonce-{secrets.token_hex(16)}"

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._html: OrderedDict[Hashable, str] = OrderedDict()
        _every_store.add(self)

    def response(
        self, request: HttpRequest, key: Hashable, build: Callable[[], tuple[str, dict[str, Any]]], *, status: int = 200
    ) -> HttpResponse:
        """The page for `key`; `build` gives its template and context when it is not rendered yet
        (and may raise, Http404 say, for a page that is not there)."""
        key = (translation.get_language(), key)
        with self._lock:
            html = self._html.get(key)
            if html is not None:
                self._html.move_to_end(key)
        if html is None:
            template, context = build()
            html = render_to_string(template, {**context, **NOT_THE_VISITORS, "csp_nonce": self.NONCE_MARK}, request)
            with self._lock:
                self._html[key] = html
                if len(self._html) > self._size:
                    self._html.popitem(last=False)
        return HttpResponse(html.replace(self.NONCE_MARK, str(get_nonce(request))), status=status)

    def forget(self) -> None:
        with self._lock:
            self._html.clear()


_every_store: weakref.WeakSet[RenderedPages] = weakref.WeakSet()


@receiver(file_changed, dispatch_uid="allied.core.rendered_pages")
def _forget_pages_on_template_change(sender: object, file_path: Path, **kwargs: Any) -> None:
    """The development server reloads templates without restarting; the rendered pages follow them."""
    if file_path.suffix == ".html":
        for pages in list(_every_store):
            pages.forget()
