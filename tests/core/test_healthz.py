import datetime
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from allied.core.models import WorkerHeartbeat


@pytest.fixture
def database_down() -> Iterator[None]:
    """Point the connection at a database that cannot be opened, then restore it."""
    original = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-directory/allied.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)


@pytest.mark.django_db
def test_healthz_reports_stale_worker_when_none_beats(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "worker": "stale"}


@pytest.mark.django_db
def test_healthz_reports_live_worker(client: Client) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=now, last_seen=now)

    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "worker": "ok"}


@pytest.mark.django_db
def test_healthz_ignores_a_worker_that_stopped_beating(client: Client) -> None:
    then = timezone.now() - datetime.timedelta(minutes=5)
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=then, last_seen=then)

    assert client.get("/healthz").json()["worker"] == "stale"


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_is_down(database_down: None) -> None:
    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
