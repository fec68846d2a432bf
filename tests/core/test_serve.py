import os
import signal
import socket

import httpx
import pytest

from allied.core.models import WorkerHeartbeat
from tests.processes import allied_process, run_allied, stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthz(port: int) -> dict | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
    except httpx.HTTPError:
        return None


def test_serve_runs_web_worker_and_scheduler_and_restarts_a_dead_worker() -> None:
    port = free_port()
    serve = allied_process("serve", "--port", str(port), "--workers", "1")
    try:
        wait_for(lambda: (healthz(port) or {}).get("worker") == "ok", timeout=60, what="serve to report a live worker")
        first = WorkerHeartbeat.objects.get()
        os.kill(first.pid, signal.SIGKILL)

        replacement = wait_for(
            lambda: WorkerHeartbeat.objects.exclude(pid=first.pid).first(), timeout=30, what="a new worker"
        )
        assert replacement.pid != first.pid  # type: ignore[attr-defined]
        assert healthz(port) == {"status": "ok", "database": "ok", "worker": "ok"}
    finally:
        stop(serve)


@pytest.mark.parametrize("command", ["web", "serve"])
def test_a_second_server_on_a_port_in_use_refuses_to_start(command: str) -> None:
    port = free_port()
    first = allied_process("web", "--port", str(port), "--workers", "1")
    try:
        wait_for(lambda: healthz(port), timeout=60, what="the first server to answer")

        second = run_allied(command, "--port", str(port), "--workers", "1", timeout=60)

        assert second.returncode == 1
        assert f"127.0.0.1:{port} is not free" in second.stderr
        assert first.poll() is None
        assert healthz(port) is not None
    finally:
        stop(first)
