"""Processing the inbox: one task per kept delivery, retried with backoff."""

from django.db import transaction
from django.tasks import task

from allied.core.tasks import retrying
from allied.integrations.services import inbox  # module import: the inbox enqueues these tasks


@retrying(max_attempts=5, base_delay=5, max_delay=300)
@task
def process_inbox_message(message_id: int) -> str:
    """Apply one delivery; safe to run twice (a processed delivery is left alone)."""
    try:
        with transaction.atomic(durable=True):
            return inbox.inbox_message_process(message_id=message_id)
    except Exception as error:
        with transaction.atomic(durable=True):
            inbox.inbox_message_fail(message_id=message_id, reason=f"{type(error).__name__}: {error}")
        raise
