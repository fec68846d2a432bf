"""Django's SQLite backend, with writers queued on a file lock instead of SQLite's busy handler.

Allied's transactions begin IMMEDIATE, so two processes that write at once make the second wait
for SQLite's write lock. SQLite's busy handler waits by sleeping 1, 2, 5, 10, 15, 20, 25… ms
between tries, so under load writers sleep while the lock is free (the order intake's p99 at 16
clients: 1.2 s, docs/benchmarks.md). Here a transaction first takes an exclusive `flock` on
`<database>.writers`, trying again every 2 ms at most, and holds it until its commit or
rollback; after the busy timeout (OPTIONS "timeout") it gives up as SQLite would. Writes outside
a transaction (autocommit) keep SQLite's own locking.
"""

import fcntl
import os
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

_LONGEST_PAUSE = 0.002


class DatabaseWrapper(base.DatabaseWrapper):
    _writers_lock: int | None = None  # the lock file's descriptor, open with the connection
    _holds_writers_lock = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            self._writers_lock = os.open(f"{self.settings_dict['NAME']}.writers", os.O_RDWR | os.O_CREAT, 0o600)
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        if self._writers_lock is not None:
            self._take_writers_lock(self._writers_lock)
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_writers_lock()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release_writers_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writers_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_writers_lock()
            if self._writers_lock is not None:
                os.close(self._writers_lock)
                self._writers_lock = None

    def _take_writers_lock(self, lock: int) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        deadline, pause = time.monotonic() + timeout, 0.0001
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OperationalError(
                        f"database is locked: another transaction held it for {timeout:g} s"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)
            else:
                self._holds_writers_lock = True
                return

    def _release_writers_lock(self) -> None:
        if self._holds_writers_lock and self._writers_lock is not None:
            fcntl.flock(self._writers_lock, fcntl.LOCK_UN)
        self._holds_writers_lock = False
