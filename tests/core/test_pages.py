"""Pages rendered once and shared (each visit's own nonce: tests/website/test_pages.py): which are kept,
and edited templates show."""

from pathlib import Path

import pytest
from django.test import RequestFactory
from django.utils.autoreload import file_changed

from allied.core.pages import RenderedPages

pytestmark = pytest.mark.django_db


def _request():  # type: ignore[no-untyped-def]
    return RequestFactory().get("/", secure=True)


def test_the_least_recently_asked_page_is_forgotten_first() -> None:
    pages = RenderedPages(size=2)
    built: list[str] = []

    def build_for(key: str):  # type: ignore[no-untyped-def]
        def build() -> tuple[str, dict[str, object]]:
            built.append(key)
            return "privacy/consent/banner.html", {"show": False}

        return build

    for key in ("a", "b", "a", "c", "a", "b"):
        pages.response(_request(), key, build_for(key))

    assert built == ["a", "b", "c", "b"], "a stays (asked last but one), b went when c came"


def test_an_edited_template_is_rendered_afresh() -> None:
    pages = RenderedPages(size=2)
    built: list[str] = []

    def build() -> tuple[str, dict[str, object]]:
        built.append("page")
        return "privacy/consent/banner.html", {"show": False}

    pages.response(_request(), "page", build)
    file_changed.send(sender=None, file_path=Path("styles.css"))
    pages.response(_request(), "page", build)
    file_changed.send(sender=None, file_path=Path("page.html"))
    pages.response(_request(), "page", build)

    assert built == ["page", "page"]
