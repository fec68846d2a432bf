"""Tasks the tests enqueue. Module-level, so a worker in another process can import them."""

import time
from pathlib import Path

from django.db import transaction
from django.tasks import task

from allied.core.models import AuditEntry
from allied.core.tasks import retrying

SIDE_EFFECT = "test.side_effect"


@task
def record_side_effect(key: str, hold_while_exists: str = "") -> str:
    """Write one audit row for `key`, idempotently; optionally hold the transaction open while a file exists."""
    with transaction.atomic(durable=True):
        if AuditEntry.objects.filter(action=SIDE_EFFECT, object_id=key).exists():
            return "already done"
        AuditEntry.objects.create(action=SIDE_EFFECT, object_id=key, actor_label="worker")
        if hold_while_exists:
            Path(f"{hold_while_exists}.running").touch()
            while Path(hold_while_exists).exists():
                time.sleep(0.05)
    return "done"


@retrying(max_attempts=3, base_delay=60, max_delay=100)
@task
def always_fails(reason: str) -> None:
    raise RuntimeError(reason)


@task
def fails_without_policy() -> None:
    raise RuntimeError("no retries for me")
