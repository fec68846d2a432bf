"""Structured logging: every line carries the request id; secrets are redacted before rendering."""

import re
from collections.abc import MutableMapping
from typing import Any

import structlog

from allied.core.context import request_context

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
