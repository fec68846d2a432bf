"""On SQLite, transactions queue for a file lock: the next writer starts as soon as the one
before commits, and gives up with "database is locked" after the busy timeout."""

import threading
import time
from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection, connections, transaction

from allied.accounts.models import Organization
from allied.accounts.roles import OrganizationKind

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's own lock"),
]


def _create(slug: str) -> None:
    Organization.objects.create(name=slug.title(), slug=slug, kind=OrganizationKind.PARTNER)


@pytest.fixture
def busy_timeout() -> Iterator[dict]:
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")
    yield options
    options["timeout"] = saved


def test_the_next_writer_waits_for_the_commit_not_for_the_connection(busy_timeout) -> None:
    started, commit, committed, finish = (threading.Event() for _ in range(4))

    def first_writer() -> None:
        try:
            with transaction.atomic():
                _create("first")
                started.set()
                commit.wait(10)
            committed.set()
            finish.wait(10)  # the connection stays open after the commit
        finally:
            connections.close_all()

    holder = threading.Thread(target=first_writer)
    holder.start()
    assert started.wait(10)
    threading.Timer(0.3, commit.set).start()
    busy_timeout["timeout"] = 5
    began = time.monotonic()
    with transaction.atomic():
        _create("second")
    waited = time.monotonic() - began
    assert committed.is_set()
    busy_timeout["timeout"] = 0.5
    with transaction.atomic():  # the first writer's connection is still open: the lock is free
        _create("third")
    finish.set()
    holder.join(10)

    assert waited >= 0.25
    assert set(Organization.objects.values_list("slug", flat=True)) >= {"first", "second", "third"}


def test_a_writer_gives_up_after_the_busy_timeout(busy_timeout) -> None:
    started, release = threading.Event(), threading.Event()

    def long_writer() -> None:
        try:
            with transaction.atomic():
                _create("first")
                started.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=long_writer)
    holder.start()
    assert started.wait(10)
    busy_timeout["timeout"] = 0.2
    try:
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            _create("second")
    finally:
        release.set()
        holder.join(10)

    assert Organization.objects.filter(slug="first").exists()
    assert not Organization.objects.filter(slug="second").exists()
