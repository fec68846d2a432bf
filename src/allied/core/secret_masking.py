"""The plaintexts of the secrets this process holds never reach a log line or an error page.

Redacting by name (`core.logging`) misses a secret that turns up where nobody expected it: in an
exception message, a URL, a local variable of a failing view. So every secret the process handles
is remembered here as it passes through the vault (sealed or opened) or the settings, and each
log line and error page is searched for them, in the spellings a secret takes on its way there
(as is, HTML-escaped, JSON-escaped, URL-encoded). Only values of at least `MIN_LENGTH` characters
are remembered: a shorter one would mask ordinary words and is no credential Allied accepts.
"""

import html
import json
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from django.conf import settings
from django.utils.html import escape as django_escape

MIN_LENGTH = 8
MAX_REMEMBERED = 4096  # the oldest are forgotten first; a process holds far fewer secrets than this
MASK = "[secret]"

# Names whose values are credentials wherever they appear: request parameters, local variables.
SENSITIVE_NAMES = re.compile(
    r"secret|token|pass(word|wd)?|api[_-]?key|(^|_)key$|authorization|cookie|session|vault|credential|signature"
    r"|private|seed",
    re.I,
)

_lock = threading.Lock()
_known: dict[str, None] = {}  # insertion-ordered set of every spelling of every secret
_pattern: re.Pattern[str] | None = None


def _spellings(secret: str) -> set[str]:
    return {
        secret,
        html.escape(secret),
        str(django_escape(secret)),
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret),
        repr(secret)[1:-1],
    }


def secret_seen(secret: str) -> None:
    """Remember a secret's plaintext so that it is masked in every log line and error page."""
    global _pattern
    if not isinstance(secret, str) or len(secret) < MIN_LENGTH or secret in _known:
        return
    with _lock:
        for spelling in _spellings(secret):
            _known.pop(spelling, None)
            _known[spelling] = None
        while len(_known) > MAX_REMEMBERED:
            del _known[next(iter(_known))]
        _pattern = None


def secrets_seen(secrets: Iterable[str]) -> None:
    for secret in secrets:
        secret_seen(secret)


def _known_pattern() -> re.Pattern[str] | None:
    global _pattern
    pattern = _pattern
    if pattern is None and _known:
        with _lock:
            # Longest first, so a secret containing another is masked whole.
            spellings = sorted(_known, key=len, reverse=True)
            pattern = _pattern = re.compile("|".join(re.escape(spelling) for spelling in spellings))
    return pattern


def secrets_mask(text: str) -> str:
    """The text with every known secret replaced by a mask."""
    pattern = _known_pattern()
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def secrets_present(text: str) -> bool:
    pattern = _known_pattern()
    return bool(pattern is not None and text and pattern.search(text))


def secrets_mask_structure(value: Any) -> Any:
    """Strings masked inside dicts, lists and tuples (a structured log line's values)."""
    if isinstance(value, str):
        return secrets_mask(value)
    if isinstance(value, dict):
        return {key: secrets_mask_structure(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(secrets_mask_structure(item) for item in value)
    return value


def secrets_register_configured() -> None:
    """The secrets the deployment is configured with are masked too."""
    secrets_seen([settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", []), *settings.VAULT_KEYS])
    for database in settings.DATABASES.values():
        secret_seen(database.get("PASSWORD") or "")
    for mailer in getattr(settings, "MAILERS", {}).values():
        secret_seen((mailer.get("OPTIONS") or {}).get("password") or "")


class SecretMaskingFilter(logging.Filter):
    """For handlers on the standard-library path: the message, its arguments, the exception and
    stack text of a record are masked before any formatter sees them; a record from structlog
    carries its event dict, whose values are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):  # structlog's event dict, rendered later by a formatter
            record.msg = secrets_mask_structure(record.msg)
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = secrets_mask(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = secrets_mask(record.exc_text)
        if record.stack_info:
            record.stack_info = secrets_mask(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str | dict | list | tuple):
                setattr(record, name, secrets_mask_structure(value))
        return True


_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
