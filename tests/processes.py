"""Start Allied's own processes (worker, serve) against the test database."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parent.parent


def subprocess_database_url() -> str:
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        user = database["USER"] or "postgres"
        host = database["HOST"] or "127.0.0.1"
        port = database["PORT"] or 5432
        return f"postgres://{user}@{host}:{port}/{database['NAME']}"
    return f"sqlite:///{database['NAME']}"


def _as_this_test() -> dict[str, str]:
    """What a process needs to run Allied as the test does: its settings, database and time zone
    (the test's "today" is the process's)."""
    return {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": subprocess_database_url(),
        "PYTHONPATH": str(REPO),
        "ALLIED_TIME_ZONE": settings.TIME_ZONE,
    }


def allied_process(*args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "allied.cli", *args],
        cwd=REPO,
        env={**os.environ, **_as_this_test(), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_allied(*args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the `allied` command to completion against the test database (`env`: more variables)."""
    return subprocess.run(
        [sys.executable, "-m", "allied.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**_as_this_test(), "PATH": "/usr/bin:/bin", "ALLIED_DEBUG": "1", **env},
    )


def wait_for(condition: Callable[[], object], *, timeout: float = 30, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
