"""Every secret the process has sealed or opened is masked by value in log lines, whatever
carries it; short values and ordinary text are left alone."""

import json
import logging

import structlog

from allied.core.logging import StructuredFormatter
from allied.core.secret_masking import MASK, SecretMaskingFilter, secret_seen, secrets_mask
from allied.core.vault import vault_decrypt, vault_encrypt


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.getLogger("allied.test").makeRecord(
        "allied.test",
        logging.ERROR,
        __file__,
        1,
        message,
        args,
        exc_info,  # type: ignore[arg-type]
    )


def test_a_value_sealed_or_opened_by_the_vault_is_masked_in_any_text() -> None:
    token = vault_encrypt("sealed-value-5d8e1c", purpose="test")
    vault_decrypt(vault_encrypt("opened-value-9b2f7a", purpose="test"), purpose="test")

    assert secrets_mask("a sealed-value-5d8e1c and opened-value-9b2f7a") == f"a {MASK} and {MASK}"
    assert "sealed-value-5d8e1c" not in token


def test_the_formatter_masks_message_arguments_and_exception_text() -> None:
    secret_seen("Formatter-Secret-41f0")
    try:
        raise ValueError("refused Formatter-Secret-41f0")
    except ValueError as error:
        line = StructuredFormatter(json=True).format(
            record("calling with %s", {"key": "Formatter-Secret-41f0"}, exc_info=(ValueError, error, None))
        )

    assert "Formatter-Secret-41f0" not in line
    assert json.loads(line)["event"] == f"calling with {{'key': '{MASK}'}}"


def test_the_filter_masks_records_for_any_handler_and_structlog_event_dicts() -> None:
    secret_seen('Filter "Secret" 7a0c')
    plain = record("token was %s", 'Filter "Secret" 7a0c')
    from_structlog = record("")
    from_structlog.msg = {"event": "call failed", "detail": 'with Filter "Secret" 7a0c'}

    SecretMaskingFilter().filter(plain)
    SecretMaskingFilter().filter(from_structlog)

    assert plain.getMessage() == f"token was {MASK}"
    assert from_structlog.msg["detail"] == f"with {MASK}"
    assert secrets_mask(json.dumps('Filter "Secret" 7a0c')) == f'"{MASK}"'  # its JSON spelling too


def test_structlog_loggers_go_through_the_configured_handlers(caplog) -> None:
    secret_seen("structlog-secret-3c9d")

    structlog.get_logger("allied.test").warning("failed", detail="with structlog-secret-3c9d")

    [event] = [r.msg for r in caplog.records if isinstance(r.msg, dict)]  # it reached the stdlib handlers
    assert event["event"] == "failed"
    assert "structlog-secret-3c9d" not in StructuredFormatter(json=True).format(caplog.records[-1])


def test_short_values_and_ordinary_text_are_left_alone() -> None:
    secret_seen("1234567")

    assert secrets_mask("order 1234567 packed") == "order 1234567 packed"
