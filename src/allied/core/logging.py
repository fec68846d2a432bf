"""Structured logging: every line carries the request id; secrets are redacted before rendering,
by their names and patterns here, and by their values (every secret this process has sealed or
opened, `core.secret_masking`)."""

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

from allied.core.context import request_context
from allied.core.secret_masking import secrets_mask, secrets_mask_structure

SECRET_KEY_NAMES = re.compile(r"pass(word)?|secret|token|api[_-]?key|authorization|cookie|session|vault", re.I)
SECRET_VALUES = [
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\1[redacted]"),
    (re.compile(r"\ballied_[A-Za-z0-9]{6,}_[A-Za-z0-9_-]{16,}"), "[redacted-api-key]"),
    (
        re.compile(r"((?:password|passwd|secret|token|api_key|apikey)[\"']?\s*[:=]\s*[\"']?)[^\s&\"',}]+", re.I),
        r"\1[redacted]",
    ),
]


def redact_text(text: str) -> str:
    for pattern, replacement in SECRET_VALUES:
        text = pattern.sub(replacement, text)
    return text


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key not in {"event", "logger", "level", "timestamp"} and SECRET_KEY_NAMES.search(key):
            event_dict[key] = "[redacted]"
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


def mask_known_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The plaintext of any secret the process holds, wherever it is in the line (the message,
    a value, the exception text), is masked."""
    for key, value in list(event_dict.items()):
        if not key.startswith("_"):
            event_dict[key] = secrets_mask_structure(value)
    return event_dict


def add_request_id(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """From the request being served, or from the request Django attaches to its own log records."""
    request = event_dict.pop("request", None)
    if request is not None and hasattr(request, "path"):
        event_dict.setdefault("path", request.path)
    request_id = request_context().request_id or getattr(request, "request_id", "")
    if request_id:
        event_dict.setdefault("request_id", request_id)
    return event_dict


class StructuredFormatter(structlog.stdlib.ProcessorFormatter):
    def __init__(self, json: bool = False, **kwargs: Any) -> None:
        renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
        super().__init__(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_secrets,
                mask_known_secrets,
                renderer,
            ],
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                add_request_id,
            ],
            **kwargs,
        )

    def format(self, record: logging.LogRecord) -> str:
        # Once more over the rendered line: a secret inside a value the processors did not walk
        # (an object's repr) is caught in its rendered spelling.
        return secrets_mask(super().format(record))


def configure_structlog() -> None:
    """Lines logged with `structlog.get_logger()` go through the standard-library handlers of
    `settings.LOGGING` (and so through the same redaction) instead of straight to stdout."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            add_request_id,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
