"""Operators' text (CMS pages, the privacy notice's own sections) is Markdown (CommonMark) with raw
HTML disabled, so it cannot put a script or a style on a page, and `javascript:` links stay text."""

from functools import lru_cache

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False})


@lru_cache(maxsize=256)
def markdown_html(text: str) -> SafeString:
    """The body as HTML; the same text is rendered once per process (a page's version is its text)."""
    return mark_safe(_renderer.render(text))  # noqa: S308  (markdown-it escapes text; raw HTML is off)
