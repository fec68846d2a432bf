import json
import logging

import pytest
from django.test import Client

from allied.core.logging import StructuredFormatter, redact_text


def render(record_message: str, *args: object, extra: dict | None = None, json_lines: bool = True) -> str:
    logger = logging.getLogger("allied.test")
    record = logger.makeRecord("allied.test", logging.INFO, __file__, 1, record_message, args, None, extra=extra)
    return StructuredFormatter(json=json_lines).format(record)


def test_json_log_line_carries_level_logger_and_time() -> None:
    line = json.loads(render("order %s received", "A-1"))

    assert line["event"] == "order A-1 received"
    assert line["level"] == "info"
    assert line["logger"] == "allied.test"
    assert "timestamp" in line


@pytest.mark.parametrize(
    "message",
    [
        "calling with Authorization: Bearer allied_ab12cd34_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5",
        "key allied_ab12cd34_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5 rejected",
        "login payload password=hunter2hunter2 email=a@b.c",
        'sent {"token": "abc123secretvalue"}',
    ],
)
def test_secrets_never_reach_the_log(message: str) -> None:
    line = render(message)

    for secret in ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5", "hunter2hunter2", "abc123secretvalue"]:
        assert secret not in line


def test_secret_named_extra_fields_are_redacted() -> None:
    line = json.loads(render("connecting", extra={"api_key": "k-123456", "shop": "kohsar"}))

    assert line["api_key"] == "[redacted]"
    assert line["shop"] == "kohsar"


def test_redaction_keeps_ordinary_text() -> None:
    assert redact_text("order 1001 packed by warehouse@aes.example") == "order 1001 packed by warehouse@aes.example"


class CapturingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(StructuredFormatter(json=True))
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.mark.django_db
def test_request_id_is_echoed_and_reaches_log_lines(client: Client) -> None:
    handler = CapturingHandler()
    logging.getLogger("django.request").addHandler(handler)
    try:
        response = client.get("/api/v1/me", headers={"X-Request-ID": "req-from-balancer-42"})
    finally:
        logging.getLogger("django.request").removeHandler(handler)

    assert response["X-Request-ID"] == "req-from-balancer-42"
    assert response.json()["request_id"] == "req-from-balancer-42"
    assert [line["request_id"] for line in handler.lines] == ["req-from-balancer-42"]


@pytest.mark.django_db
def test_unacceptable_request_id_is_replaced(client: Client) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "<script>"})

    assert response["X-Request-ID"] != "<script>"
    assert len(response["X-Request-ID"]) == 32
