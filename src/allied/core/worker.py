"""The task worker: django-tasks-db's worker, a heartbeat the reaper and /healthz trust, and the
outbox relay."""

import logging
import threading
import uuid

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from allied.core.outbox import outbox_relay
from allied.core.tasks import worker_heartbeat_beat, worker_heartbeat_remove

logger = logging.getLogger(__name__)


class HeartbeatWorker(Worker):
    def __init__(self, *, interval: float = 1.0, batch: bool = False, max_tasks: int | None = None) -> None:
        super().__init__(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=max_tasks,
            worker_id=f"{uuid.uuid4().hex[:12]}",
            excluded_queue_names=[],
        )
        self.started_at = timezone.now()
        self._stop_beating = threading.Event()

    def beat(self) -> None:
        try:
            worker_heartbeat_beat(worker_id=self.worker_id, started_at=self.started_at)
        except OperationalError:
            # A busy SQLite file delays a beat; the next one catches up.
            logger.warning("worker %s could not record its heartbeat", self.worker_id)

    def _beat_forever(self) -> None:
        try:
            while not self._stop_beating.wait(settings.ALLIED_WORKER_HEARTBEAT_SECONDS):
                self.beat()
                close_old_connections()
        finally:
            connection.close()

    def _relay_forever(self) -> None:
        """The outbox relay beside the task loop: deliveries are due within a poll interval."""
        try:
            while not self._stop_beating.is_set():
                try:
                    relayed = outbox_relay()
                except (OperationalError, InterfaceError):
                    logger.warning("outbox relay in worker %s lost its database; trying again", self.worker_id)
                    relayed = 0
                close_old_connections()
                if not relayed:
                    self._stop_beating.wait(settings.ALLIED_OUTBOX_POLL_SECONDS)
        finally:
            connection.close()

    def run(self) -> None:
        self.beat()
        helpers = [
            threading.Thread(target=self._beat_forever, name="heartbeat", daemon=True),
            threading.Thread(target=self._relay_forever, name="outbox-relay", daemon=True),
        ]
        for helper in helpers:
            helper.start()
        try:
            super().run()
        finally:
            self._stop_beating.set()
            for helper in helpers:
                helper.join(timeout=5)
            try:
                worker_heartbeat_remove(worker_id=self.worker_id)
            except OperationalError:
                logger.warning("worker %s could not remove its heartbeat", self.worker_id)
