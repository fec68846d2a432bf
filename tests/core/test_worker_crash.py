import os
import signal
from pathlib import Path

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from allied.core.models import AuditEntry
from allied.core.tasks import tasks_reap_stuck
from tests.core.tasks_for_tests import SIDE_EFFECT, record_side_effect
from tests.processes import allied_process, stop, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_worker_killed_mid_task_is_rerun_by_another_worker_with_one_side_effect(
    tmp_path: Path, settings: object
) -> None:
    hold = tmp_path / "hold"
    hold.touch()
    result = record_side_effect.enqueue("crash-once", hold_while_exists=str(hold))

    first = allied_process("worker", "--interval", "0.1")
    try:
        wait_for(Path(f"{hold}.running").exists, what="the first worker to be inside the task")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    hold.unlink()
    claimed = DBTaskResult.objects.get(id=result.id)
    assert claimed.status == TaskResultStatus.RUNNING
    assert not AuditEntry.objects.filter(action=SIDE_EFFECT).exists()  # its transaction died with it

    settings.ALLIED_WORKER_LOST_AFTER_SECONDS = 1  # type: ignore[attr-defined]
    wait_for(lambda: tasks_reap_stuck()["requeued"] == 1, timeout=10, what="the reaper to notice the dead worker")

    second = allied_process("worker", "--interval", "0.1")
    try:
        wait_for(
            lambda: DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL,
            what="the second worker to finish the task",
        )
    finally:
        stop(second)

    finished = DBTaskResult.objects.get(id=result.id)
    assert len(finished.worker_ids) == 2
    assert finished.worker_ids[0] != finished.worker_ids[1]
    assert AuditEntry.objects.filter(action=SIDE_EFFECT, object_id="crash-once").count() == 1
