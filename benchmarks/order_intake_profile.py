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
import re
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
ROOT = Path(__file__).resolve().parent.parent

# Stages of the request, each by the function whose cumulative time stands for it (absent ones are skipped).
STAGES = [
    ("the request through the WSGI handler and middleware", "django/core/handlers/base.py", "get_response"),
    ("  auth: API key lookup + last-use", "allied/accounts/api_auth.py", "authenticate"),
    ("  ninja: body parse + pydantic validation", "ninja/operation.py", "_get_values"),
    ("  the view orders_create", "allied/orders/api.py", "orders_create"),
    ("    order_take_in (transaction, idempotency)", "allied/orders/services/intake.py", "order_take_in"),
    ("      order_create (the service, until commit)", "allied/orders/services/intake.py", "order_create"),
    ("        intake_for_update (the read and the stock lock)", "allied/orders/locks.py", "intake_for_update"),
    ("        building the rows (Insert.of)", "allied/core/sql.py", "of"),
    ("        the write (run_together)", "allied/core/sql.py", "run_together"),
    ("      commit", "django/db/backends/base/base.py", "commit"),
    ("  ninja: response validation + JSON", "ninja/operation.py", "_result_to_response"),
    ("every SQL statement: Django cursor.execute", "django/db/backends/utils.py", "execute"),
    ("  of which psycopg execute (driver + server)", "psycopg/cursor.py", "execute"),
    ("ORM: Model.__init__", "django/db/models/base.py", "__init__"),
]

DRIVER_BUILTINS = ("psycopg", "sqlite3", "select", "poll", "socket", "recv", "send", "wait")

# Own time by where the code lives, first match wins.
PACKAGES = [
    (
        "Django ORM: query building and SQL compilation",
        (
            "django/db/models/sql/",
            "django/db/models/expressions",
            "django/db/models/lookups",
            "django/db/models/query_utils",
            "django/db/models/fields/",
            "django/utils/tree",
            "django/utils/deconstruct",
            "django/db/models/query.py",
            "django/db/models/options",
            "copy.py",
        ),
    ),
    (
        "Django ORM: model instances and save()",
        ("django/db/models/base.py", "django/db/models/signals", "django/dispatch/"),
    ),
    ("database driver and waiting (psycopg, sqlite3, backends)", ("psycopg/", "django/db/backends/", "sqlite3")),
    ("django-ninja and pydantic", ("ninja/", "pydantic")),
    (
        "Django request handling, middleware, test client",
        (
            "django/core/",
            "django/middleware/",
            "django/http/",
            "django/test/",
            "django/urls/",
            "django/contrib/",
            "django/utils/",
            "django/conf/",
            "allauth/",
            "asgiref/",
        ),
    ),
    ("Django transactions", ("django/db/transaction",)),
    ("Allied code", ("src/allied/",)),
    ("builtins (getattr, isinstance, str.join …, mostly called by the ORM)", ("~",)),
]


def summarize(sql: str, width: int = 150) -> str:
    """One line per statement: column lists and long values elided."""
    sql = " ".join(sql.split())
    sql = re.sub(r"^SELECT (.*?) FROM ", "SELECT … FROM ", sql)
    sql = re.sub(r'^INSERT INTO ("\w+") \(.*?\) (VALUES|SELECT \* FROM UNNEST)\b.*$', r"INSERT INTO \1 (…) \2 (…)", sql)
    sql = re.sub(r"'\d{4}-\d\d-\d\d[ T][\d:.+]+'(::timestamptz)?", "<now>", sql)
    return sql if len(sql) <= width else sql[: width - 1] + "…"


def profile_database(kind: str, orders: int, work: Path) -> None:
    for key in [key for key in os.environ if key.startswith("ALLIED_")]:
        del os.environ[key]  # production mode, whatever the caller's environment says
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
        print(f"{number:3}. {summarize(query['sql'])}")

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
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    print(f"\ncProfile of {orders} orders ({total / orders * 1000:.1f} ms per order under the profiler)")
    print("\nCumulative time per order by stage:")
    entries = stats.stats  # type: ignore[attr-defined]
    whole = None
    for label, path, name in STAGES:
        matching = [row for (file, _, func), row in entries.items() if file.endswith(path) and func == name]
        if not matching:
            continue
        cumulative = sum(row[3] for row in matching) / orders
        whole = whole or cumulative
        calls = sum(row[1] for row in matching) / orders
        print(f"  {label:<55} {cumulative * 1000:7.2f} ms {cumulative / whole:6.1%}   {calls:5.1f} calls")
    print("\nOwn time by package:")
    buckets: dict[str, float] = {}
    for (file, _, function), row in entries.items():
        if file == "~" and any(word in function for word in DRIVER_BUILTINS):
            file = "psycopg/"  # C functions of the drivers, waits on sockets
        bucket = next((label for label, parts in PACKAGES if any(part in file for part in parts)), "other")
        buckets[bucket] = buckets.get(bucket, 0.0) + row[2]
    for bucket, seconds in sorted(buckets.items(), key=lambda item: -item[1]):
        print(f"  {bucket:<70} {seconds / orders * 1000:7.2f} ms {seconds / total:6.1%}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print("\nTop 15 functions by own time:")
    lines = out.getvalue().splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip().startswith("ncalls"))
    for line in lines[start:]:
        if line.strip():
            print(line.replace(str(Path(django.__file__).parent.parent) + "/", "").replace(str(ROOT) + "/", ""))
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
