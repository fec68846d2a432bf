"""Reliable background work on top of django-tasks-db.

The backend writes a task row in the caller's transaction, so a task enqueued in a rolled-back
transaction never exists. It has no retries and no recovery, so this module adds both, once:

* ``@retrying(max_attempts=...)`` on a task re-queues it after a failure with exponential
  backoff, capped, until the attempts run out; then it stays FAILED.
* ``reap_stuck_tasks`` (every minute) re-queues RUNNING tasks whose worker stopped sending
  heartbeats (killed, lost its machine) or that ran past the hard timeout.

The attempt count is the number of workers that claimed the row (``worker_ids``), so it
survives crashes. Task bodies must be idempotent: a task may run again after a crash.
"""

import datetime
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from crontask import cron
from django.conf import settings
from django.db import transaction
from django.tasks import Task, TaskResultStatus, task
from django.tasks.signals import task_finished
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from allied.core.models import WorkerHeartbeat
from allied.core.outbox import outbox_prune

logger = logging.getLogger(__name__)

# A task without a retry policy still gets this many runs when its worker dies under it.
LOST_WORKER_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_delay: float = 5.0
    max_delay: float = 600.0

    def delay_after(self, attempt: int) -> datetime.timedelta:
        seconds = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return datetime.timedelta(seconds=seconds)


_retry_policies: dict[str, RetryPolicy] = {}


def retrying(*, max_attempts: int, base_delay: float = 5.0, max_delay: float = 600.0) -> Any:
    """Declare that a task may be retried: ``@retrying(max_attempts=5)`` above ``@task``."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def declare(declared: Task) -> Task:
        _retry_policies[declared.module_path] = RetryPolicy(max_attempts, base_delay, max_delay)
        return declared

    return declare


def retry_policy_for(task_path: str) -> RetryPolicy | None:
    return _retry_policies.get(task_path)


def task_requeue_after_failure(*, result_id: Any, task_path: str, attempts: int) -> bool:
    """Put a failed task back in the queue if its policy allows another attempt."""
    policy = retry_policy_for(task_path)
    if policy is None or attempts >= policy.max_attempts:
        return False
    run_after = timezone.now() + policy.delay_after(attempts)
    requeued = DBTaskResult.objects.filter(id=result_id, status=TaskResultStatus.FAILED).update(
        status=TaskResultStatus.READY, run_after=run_after, finished_at=None
    )
    if requeued:
        logger.info("task %s failed on attempt %d; retrying after %s", task_path, attempts, run_after.isoformat())
    return bool(requeued)


def _on_task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    if task_result.status != TaskResultStatus.FAILED:
        return
    task_requeue_after_failure(
        result_id=task_result.id, task_path=task_result.task.module_path, attempts=len(task_result.worker_ids)
    )


def connect_retry_handler() -> None:
    task_finished.connect(_on_task_finished, dispatch_uid="allied.core.tasks.retry")


def worker_heartbeat_beat(*, worker_id: str, started_at: datetime.datetime) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname(), "pid": os.getpid(), "started_at": started_at, "last_seen": now},
    )


def worker_heartbeat_remove(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def workers_alive_since(since: datetime.datetime) -> bool:
    return WorkerHeartbeat.objects.filter(last_seen__gte=since).exists()


@transaction.atomic(savepoint=False)
def tasks_reap_stuck(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Re-queue RUNNING tasks whose worker is gone or that ran past the hard timeout.

    Each update is conditional on the row still being the same RUNNING claim, so a task a
    live worker finishes meanwhile is left alone, and two reapers never double-queue.
    """
    now = now or timezone.now()
    lost_before = now - datetime.timedelta(seconds=settings.ALLIED_WORKER_LOST_AFTER_SECONDS)
    timed_out_before = now - datetime.timedelta(seconds=settings.ALLIED_TASK_RUNNING_TIMEOUT_SECONDS)
    alive = set(WorkerHeartbeat.objects.filter(last_seen__gte=lost_before).values_list("worker_id", flat=True))
    requeued = failed = 0
    for result in DBTaskResult.objects.running().only("id", "task_path", "worker_ids", "started_at"):
        claimed_by = result.worker_ids[-1] if result.worker_ids else ""
        if claimed_by in alive and result.started_at and result.started_at >= timed_out_before:
            continue
        attempts = len(result.worker_ids)
        policy = retry_policy_for(result.task_path)
        max_attempts = policy.max_attempts if policy else LOST_WORKER_MAX_ATTEMPTS
        still_claimed = DBTaskResult.objects.filter(
            id=result.id, status=TaskResultStatus.RUNNING, started_at=result.started_at
        )
        if attempts < max_attempts:
            requeued += still_claimed.update(status=TaskResultStatus.READY, run_after=now)
        else:
            failed += still_claimed.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path="allied.core.tasks.WorkerLost",
                traceback=f"Worker {claimed_by or '?'} stopped mid-task (attempt {attempts} of {max_attempts}).",
            )
        logger.warning("reaped task %s claimed by %s (attempt %d)", result.id, claimed_by, attempts)
    WorkerHeartbeat.objects.filter(last_seen__lt=now - datetime.timedelta(days=1)).delete()
    return {"requeued": requeued, "failed": failed}


@cron("* * * * *")
@task
def reap_stuck_tasks() -> dict[str, int]:
    with transaction.atomic(durable=True):
        return tasks_reap_stuck()


@cron("17 3 * * *")
@task
def prune_finished_tasks() -> int:
    """Keep finished task rows for 30 days: long enough to inspect a failure."""
    cutoff = timezone.now() - datetime.timedelta(days=30)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


@cron("41 3 * * *")
@task
def prune_outbox() -> dict[str, int]:
    """Settled deliveries and their events are kept for ALLIED_OUTBOX_RETENTION_DAYS."""
    with transaction.atomic(durable=True):
        return outbox_prune()
