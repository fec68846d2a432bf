import datetime

import pytest
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from allied.core.models import AuditEntry, WorkerHeartbeat
from allied.core.tasks import RetryPolicy, tasks_reap_stuck
from allied.core.worker import HeartbeatWorker
from tests.core.tasks_for_tests import SIDE_EFFECT, always_fails, fails_without_policy, record_side_effect

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker_until_idle() -> None:
    HeartbeatWorker(batch=True, interval=0).run()


class Rollback(Exception):
    pass


def test_task_enqueued_in_rolled_back_transaction_never_runs() -> None:
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            record_side_effect.enqueue("rolled-back")
            raise Rollback

    with pytest.raises(Rollback):
        enqueue_then_fail()

    run_worker_until_idle()

    assert not DBTaskResult.objects.exists()
    assert not AuditEntry.objects.filter(action=SIDE_EFFECT).exists()


def test_task_enqueued_in_committed_transaction_runs_once() -> None:
    with transaction.atomic():
        result = record_side_effect.enqueue("committed")

    run_worker_until_idle()

    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL
    assert AuditEntry.objects.filter(action=SIDE_EFFECT, object_id="committed").count() == 1


def test_failing_task_is_retried_with_exponential_backoff_then_marked_failed() -> None:
    result = always_fails.enqueue("remote said no")
    delays = []
    for _ in range(3):
        before = timezone.now()
        run_worker_until_idle()
        row = DBTaskResult.objects.get(id=result.id)
        if row.status == TaskResultStatus.READY:
            delays.append(round((row.run_after - before).total_seconds()))
            DBTaskResult.objects.filter(id=result.id).update(run_after=timezone.now())  # time passes

    row = DBTaskResult.objects.get(id=result.id)
    assert delays == [60, 100]  # 60 * 2**0, then 60 * 2**1 capped at 100
    assert row.status == TaskResultStatus.FAILED
    assert len(row.worker_ids) == 3
    assert "remote said no" in row.traceback


def test_task_without_retry_policy_fails_at_once() -> None:
    result = fails_without_policy.enqueue()

    run_worker_until_idle()

    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert len(row.worker_ids) == 1


def test_retry_delay_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=5, max_delay=300)

    assert [policy.delay_after(n).total_seconds() for n in range(1, 9)] == [5, 10, 20, 40, 80, 160, 300, 300]


def _claim_as(worker_id: str, result_id: object, *, started: datetime.datetime) -> None:
    row = DBTaskResult.objects.get(id=result_id)
    DBTaskResult.objects.filter(id=result_id).update(
        status=TaskResultStatus.RUNNING, worker_ids=[*row.worker_ids, worker_id], started_at=started
    )


def test_reaper_requeues_task_whose_worker_stopped_beating() -> None:
    now = timezone.now()
    result = record_side_effect.enqueue("orphaned")
    _claim_as("dead-worker", result.id, started=now - datetime.timedelta(minutes=5))
    WorkerHeartbeat.objects.create(
        worker_id="dead-worker",
        hostname="h",
        pid=1,
        started_at=now - datetime.timedelta(hours=1),
        last_seen=now - datetime.timedelta(minutes=5),
    )

    assert tasks_reap_stuck(now=now) == {"requeued": 1, "failed": 0}
    run_worker_until_idle()

    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL
    assert AuditEntry.objects.filter(action=SIDE_EFFECT, object_id="orphaned").count() == 1


def test_reaper_leaves_task_of_live_worker_alone() -> None:
    now = timezone.now()
    result = record_side_effect.enqueue("busy")
    _claim_as("live-worker", result.id, started=now - datetime.timedelta(minutes=1))
    WorkerHeartbeat.objects.create(worker_id="live-worker", hostname="h", pid=1, started_at=now, last_seen=now)

    assert tasks_reap_stuck(now=now) == {"requeued": 0, "failed": 0}
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.RUNNING


def test_reaper_requeues_task_running_past_the_hard_timeout(settings: object) -> None:
    now = timezone.now()
    result = record_side_effect.enqueue("too-long")
    _claim_as("live-worker", result.id, started=now - datetime.timedelta(hours=2))
    WorkerHeartbeat.objects.create(worker_id="live-worker", hostname="h", pid=1, started_at=now, last_seen=now)

    assert tasks_reap_stuck(now=now) == {"requeued": 1, "failed": 0}


def test_reaper_fails_task_that_keeps_losing_its_worker() -> None:
    now = timezone.now()
    result = record_side_effect.enqueue("poison")
    for attempt in range(3):
        _claim_as(f"gone-{attempt}", result.id, started=now - datetime.timedelta(minutes=10))
        tasks_reap_stuck(now=now)

    row = DBTaskResult.objects.get(id=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "allied.core.tasks.WorkerLost"
