"""Where the time of one order goes in the API path, in process (no HTTP server, no concurrency).

On a fresh database (PostgreSQL `allied_bench_profile`, then SQLite in a temporary directory),
in production mode, through Django's test Client and the whole middleware stack:

- the SQL statements of one `POST /api/v1/orders` (CaptureQueriesContext), listed;
- wall and CPU time per order, serially, over 200 orders;
- cProfile of 200 orders: the top functions by own time, and the cumulative time of the stages.

    .venv/bin/python benchmarks/order_intake_profile.py [--orders 200] [--databases postgresql,sqlite]
"""

import argparse
import base64
import cProfile
import io
import json
import os
import pstats
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this directory is on sys.path.
from order_intake import POSTGRES_URL, drop_bench_database, load_data, order_body, postgres_admin

PROFILE_DB = "allied_bench_profile"

# Stages of the request, by the function whose cumulative time stands for it.
STAGES = [
    ("the whole request (test Client)", "django/test/client.py", "post"),
    ("WSGI handler + middleware + view", "django/core/handlers/base.py", "get_response"),
    ("ninja: the operation (auth, parse, view, render)", "ninja/operation.py", "run"),
    ("auth: API key lookup + last-use", "allied/accounts/api_auth.py", "authenticate"),
    ("ninja: body parse + pydantic validation", "ninja/operation.py", "_get_values"),
    ("the view orders_create", "allied/orders/api.py", "orders_create"),
    ("  order_create (the service)", "allied/orders/services.py", "order_create"),
    ("    _validate (product lookup)", "allied/orders/services.py", "_validate"),
    ("    default_warehouse", "allied/inventory/selectors.py", "default_warehouse"),
    ("    _allocate (lock + 3 updates)", "allied/orders/services.py", "_allocate"),
    ("    order_domain_event", "allied/orders/events.py", "order_domain_event"),
    ("  access_order (re-read for the answer)", "allied/orders/selectors.py", "access_order"),
    ("ninja: response validation + JSON", "ninja/operation.py", "_result_to_response"),
    ("transaction commit", "django/db/backends/base/base.py", "commit"),
    ("SQL: cursor.execute (all statements)", "django/db/backends/utils.py", "execute"),
    ("SQL: psycopg execute (the driver and the server)", "psycopg/cursor.py", "execute"),
    ("SQL: ORM compile (as_sql)", "django/db/models/sql/compiler.py", "as_sql"),
    ("ORM: Model.__init__", "django/db/models/base.py", "__init__"),
]


def profile_database(kind: str, orders: int, work: Path) -> None:
    os.environ.update(
        ALLIED_DEBUG="0",
        ALLIED_SECRET_KEY=secrets.token_urlsafe(64)[:64],
        ALLIED_VAULT_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        ALLIED_ALLOWED_HOSTS="127.0.0.1",
        ALLIED_SSL_REDIRECT="0",
        ALLIED_LOG_LEVEL="WARNING",
        ALLIED_VAR_DIR=str(work),
        DJANGO_SETTINGS_MODULE="allied.settings",
        DATABASE_URL=f"{POSTGRES_URL}/{PROFILE_DB}" if kind == "postgresql" else f"sqlite:///{work / 'p.sqlite3'}",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    setup = load_data()
    client = Client(HTTP_HOST="127.0.0.1")
    rng = random.Random(1)
    sequence = iter(range(10**9))

    def post() -> Any:
        organization = rng.choice(setup["organizations"])
        body, _ = order_body(f"profile-{next(sequence)}", rng.sample(organization["skus"], 3), rng)
        response = client.post(
            "/api/v1/orders",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {organization['key']}"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
        return response

    for _ in range(50):  # warm-up: imports, caches, prepared plans
        post()
    with CaptureQueriesContext(connection) as captured:
        response = post()
    assert json.loads(response.content)["status"] == "allocated"
    print(f"\n== {kind}: {len(captured.captured_queries)} SQL statements for one order")
    for number, query in enumerate(captured.captured_queries, 1):
        sql = " ".join(query["sql"].split())
        print(f"{number:3}. {sql[:150]}{'…' if len(sql) > 150 else ''}")

    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(orders):
        post()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"\nSerial, in process, {orders} orders: {wall / orders * 1000:.2f} ms per order"
        f" ({orders / wall:.0f}/s), of which {cpu / orders * 1000:.2f} ms CPU in this process"
        f" and {(wall - cpu) / orders * 1000:.2f} ms waiting (database round trips and database work)."
    )

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(orders):
        post()
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"\ncProfile, {orders} orders, cumulative time per order by stage (profiler overhead inflates it):")
    entries = stats.stats  # type: ignore[attr-defined]
    for label, path, name in STAGES:
        matching = [row for (file, _, func), row in entries.items() if file.endswith(path) and func == name]
        total = sum(row[3] for row in matching)
        calls = sum(row[1] for row in matching)
        print(f"  {label:<50} {total / orders * 1000:7.2f} ms   ({calls / orders:.1f} calls)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(20)
    print("\nTop 20 functions by own time:")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
    connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--databases", type=lambda s: s.split(","), default=["postgresql", "sqlite"])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        work = Path(tempfile.mkdtemp(prefix="allied-profile-"))
        try:
            profile_database(args.one, args.orders, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    status = 0
    for kind in args.databases:  # one process per database: settings are read once
        if kind == "postgresql":
            drop_bench_database(PROFILE_DB)
            postgres_admin(f'CREATE DATABASE "{PROFILE_DB}"')
        try:
            status |= subprocess.run(
                [sys.executable, __file__, "--one", kind, "--orders", str(args.orders)], check=False
            ).returncode
        finally:
            if kind == "postgresql":
                drop_bench_database(PROFILE_DB)
    return status


if __name__ == "__main__":
    sys.exit(main())
