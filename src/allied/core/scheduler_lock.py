"""Exactly one scheduler per deployment: a PostgreSQL advisory lock, or a file lock beside SQLite."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# An arbitrary constant that names Allied's scheduler among advisory locks.
SCHEDULER_LOCK_KEY = 4_212_001


@contextmanager
def scheduler_lock() -> Iterator[bool]:
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        # A connection of its own: the lock lives exactly as long as this session.
        dedicated = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with dedicated.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [SCHEDULER_LOCK_KEY])
                yield bool(cursor.fetchone()[0])
        finally:
            dedicated.close()
        return
    with open(settings.VAR_DIR / "scheduler.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
