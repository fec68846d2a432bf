"""Run what `allied worker` runs — the outbox relay and every task that is due — until nothing is
left, so a test sees the end of a chain (an event, its consumer, the task that consumer queued)."""

from django_tasks_db.models import DBTaskResult

from allied.core.outbox import outbox_relay
from allied.core.worker import HeartbeatWorker


def run_until_quiet(*, rounds: int = 20) -> None:
    for _ in range(rounds):
        HeartbeatWorker(batch=True, interval=0).run()
        relayed = 0
        while delivered := outbox_relay():
            relayed += delivered
        if not relayed and not DBTaskResult.objects.ready().exists():
            return
    raise AssertionError(f"still busy after {rounds} rounds")
