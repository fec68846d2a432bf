"""Order intake: orders per second through `POST /api/v1/orders`, against the database ceiling.

For PostgreSQL and SQLite, each on a fresh database: migrate, load 3 partners with 5,001 products
(plenty of stock each), serve Allied in production mode (granian WSGI, 2 workers x 4 threads) and
drive it with wrk (one keep-alive connection per client, at most 2 threads, order_intake.lua) at
1, 16 and 64 concurrent clients; every order has a unique external id and 3 lines on products
chosen uniformly, and the database is checked afterwards for one allocated order per answer.
Right after each API point, the same transaction directly in the database, with no
HTTP and no Django (pgbench at the same client count on PostgreSQL, the sqlite3 module in one
thread on SQLite), on the same schema and data. Prints the table for docs/benchmarks.md:
throughput, p50/p99 latency, the ceiling and the ratio, and where the CPU went per order.
`order_intake_profile.py` shows where the time goes inside one order. Needs wrk (Debian: `apt-get
install wrk`; when it is missing and the script runs as root, it installs it).

    .venv/bin/python benchmarks/order_intake.py                      # the full run, about 3.5 minutes
    .venv/bin/python benchmarks/order_intake.py --duration 5 --warmup 1 --databases sqlite

Everything runs on 127.0.0.1; the benchmark database (PostgreSQL: `allied_bench` on
BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432) and the server are removed at
the end, whatever happens. Load generator, server and database share the machine's cores.
"""

import argparse
import base64
import contextlib
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ALLIED = str(BIN / "allied") if (BIN / "allied").exists() else shutil.which("allied") or "allied"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
BENCH_DB = "allied_bench"
ORGANIZATIONS = 3
PRODUCTS = 5_001  # 1,667 per partner
ON_HAND = 10_000_000
LINES_PER_ORDER = 3
UNIT_PRICE = 1500
SHIPPING_FEE = 150
WEB_WORKERS, WEB_THREADS = 2, 4
CLK_TCK = os.sysconf("SC_CLK_TCK")


# The data load (runs in a subprocess with the benchmark's environment) ------------------------


def load_data(organizations: int = ORGANIZATIONS, products: int = PRODUCTS) -> dict[str, Any]:
    """Partners with products, stock and an API key each, and one warehouse. Needs django.setup()."""
    from decimal import Decimal

    from django.db import connection, transaction

    from allied.accounts.models import Organization
    from allied.accounts.policy import Actor
    from allied.accounts.roles import OrganizationKind
    from allied.accounts.services import api_key_create
    from allied.catalog.models import Product
    from allied.inventory.models import Stock, Warehouse

    per_partner = products // organizations
    setup: dict[str, Any] = {"organizations": []}
    with transaction.atomic():
        warehouse = Warehouse.objects.create(
            code="BENCH-1", name="Benchmark warehouse", address_line1="Plot 14, Korangi", city="Karachi"
        )
        setup["warehouse_id"] = warehouse.pk
        for index in range(organizations):
            organization = Organization.objects.create(
                name=f"Bench Partner {index}", slug=f"bench-partner-{index}", kind=OrganizationKind.PARTNER
            )
            made = Product.objects.bulk_create(
                [
                    Product(
                        organization=organization,
                        sku=f"P{index}-{n:05d}",
                        name=f"Bench product {index}-{n}",
                        declared_value=Decimal(UNIT_PRICE),
                    )
                    for n in range(per_partner)
                ]
            )
            Stock.objects.bulk_create(
                [Stock(organization=organization, product=p, warehouse=warehouse, on_hand=ON_HAND) for p in made]
            )
            api_key, raw_key = api_key_create(
                organization=organization,
                name="benchmark",
                scopes=["orders:write", "orders:read"],
                actor=Actor.system("bench"),
            )
            first = made[0].pk
            setup["organizations"].append(
                {
                    "index": index,
                    "id": organization.pk,
                    "key": raw_key,
                    "actor_label": f"api key {api_key.prefix} ({api_key.name})",
                    "skus": [p.sku for p in made],
                    "product_ids": [p.pk for p in made],
                    # pgbench picks products by id: the partner's ids must be first..first+n-1.
                    "first_product_id": first,
                    "contiguous": [p.pk for p in made] == list(range(first, first + len(made))),
                }
            )
    # Statistics for the tables just filled, as a database in service has them (autovacuum would
    # gather them in a while): PostgreSQL plans the intake's prepared statements with the statistics
    # of that moment. The order tables stay never-analyzed: analyzed while empty, they would make
    # the planner read whole tables in a run that fills them with thousands of orders.
    with connection.cursor() as cursor:
        for table in (
            "accounts_organization",
            "accounts_apikey",
            "catalog_product",
            "inventory_warehouse",
            "inventory_stock",
        ):
            cursor.execute(f"ANALYZE {table}")
    return setup


def cmd_load(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allied.settings")
    import django

    django.setup()
    Path(args.output).write_text(json.dumps(load_data()))
    return 0


# The orders and the load generator (wrk) ------------------------------------------------------


def order_document(external_id: str, lines: list[tuple[str, Any]], cod_amount: str) -> dict[str, Any]:
    """The body of `POST /api/v1/orders`: the given lines (sku, quantity), cash on delivery."""
    return {
        "external_id": external_id,
        "channel": "api",
        "recipient": {"name": "Hina Baig", "phone": "+92 300 1112233", "email": "hina@example.com"},
        "shipping_address": {
            "line1": "House 12, Street 4, Block 7",
            "area": "Gulshan-e-Iqbal",
            "city": "Karachi",
            "region": "Sindh",
            "postcode": "75300",
            "country": "PK",
        },
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": f"{UNIT_PRICE}.00"} for sku, quantity in lines],
        "currency": "PKR",
        "shipping_fee": f"{SHIPPING_FEE}.00",
        "payment": {"method": "cod", "cod_amount": cod_amount},
    }


def order_body(external_id: str, skus: list[str], rng: random.Random) -> tuple[bytes, int]:
    quantities = [rng.randint(1, 3) for _ in skus]
    total = sum(quantities) * UNIT_PRICE + SHIPPING_FEE
    document = order_document(external_id, list(zip(skus, quantities, strict=True)), f"{total}.00")
    return json.dumps(document).encode(), total


WRK_SCRIPT = Path(__file__).with_name("order_intake.lua")
WRK_TIMEOUT_S = 60  # an answer slower than this counts as a timeout and leaves the latency figures


def lua_string(value: str) -> str:
    """A Lua string literal (of printable ASCII, which is all the data file holds)."""
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"not printable ASCII: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_body_template() -> str:
    """order_body's JSON as a Lua string.format template: external id, (sku, quantity) per line, COD total."""
    marks = {"external_id": '"%s"', "sku": '"%s"', "quantity": "%d", "cod_amount": '"%d.00"'}
    lines = [("@@sku@@", "@@quantity@@")] * LINES_PER_ORDER
    text = json.dumps(order_document("@@external_id@@", lines, "@@cod_amount@@")).replace("%", "%%")
    order = re.findall(r'"@@(\w+)@@"', text)
    if order != ["external_id", *["sku", "quantity"] * LINES_PER_ORDER, "cod_amount"]:
        raise RuntimeError(f"order_intake.lua fills external id, (sku, quantity) per line, COD total, not {order}")
    return re.sub(r'"@@(\w+)@@"', lambda match: marks[match.group(1)], text)


def wrk_data(setup: dict[str, Any]) -> str:
    """The Lua file that order_intake.lua loads: the body template, the partners' keys and SKUs."""
    partners = [
        f"  {{key = {lua_string(o['key'])}, skus = {{{', '.join(lua_string(sku) for sku in o['skus'])}}}}},"
        for o in setup["organizations"]
    ]
    return "\n".join(
        [
            "return {",
            f"  body = {lua_string(wrk_body_template())},",
            f"  unit_price = {UNIT_PRICE}, shipping_fee = {SHIPPING_FEE}, lines = {LINES_PER_ORDER},",
            "  partners = {",
            *partners,
            "  },",
            "}",
            "",
        ]
    )


def ensure_wrk() -> str:
    """wrk's path; installed with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            "order_intake.py drives the server with wrk (https://github.com/wg/wrk), which is not installed:"
            " `sudo apt-get install -y wrk` on Debian or Ubuntu (as root, this script installs it itself)."
        )
    print("-- wrk is missing: apt-get install -y wrk", flush=True)
    environment = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(install, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:  # the package lists may be missing or stale
        subprocess.run(["apt-get", "update"], env=environment, capture_output=True, check=False)
        result = subprocess.run(install, env=environment, capture_output=True, text=True, check=False)
    found = shutil.which("wrk")
    if result.returncode != 0 or not found:
        raise SystemExit(f"could not install wrk ({' '.join(install)}):\n{result.stdout}{result.stderr}")
    return found


def wrk_run(wrk: str, url: str, data: Path, clients: int, seconds: int, run: str) -> dict[str, Any]:
    """One wrk run: `clients` keep-alive connections on at most 2 threads for `seconds`. Every order's
    external id is bench-<run>-<thread>-<n>. The script's done() prints the figures as JSON."""
    threads = 2 if clients % 2 == 0 else 1  # wrk gives each thread clients // threads connections
    command = [wrk, "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", f"{WRK_TIMEOUT_S}s"]
    command += ["-s", str(WRK_SCRIPT), f"{url}/api/v1/orders", "--", str(data), run, str(random.randrange(2**31))]
    result = subprocess.run(
        command, capture_output=True, text=True, errors="replace", check=False, timeout=seconds + 120
    )
    line = next((line for line in result.stdout.splitlines() if line.startswith("RESULT ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    figures: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return figures


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


# CPU accounting from /proc: who used the cores during a point ---------------------------------

POSTGRES_HELPERS = ("walwriter", "checkpointer", "background writer")


def machine_busy_seconds() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


def session_alive(session_id: int) -> bool:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                raw = Path(entry.path, "stat").read_text()
                if int(raw[raw.rindex(")") + 2 :].split()[3]) == session_id:
                    return True
    return False


class CpuSampler(threading.Thread):
    """Samples /proc twice a second: the CPU of the server's processes (its session) and of
    PostgreSQL (the benchmark database's backends, the WAL writer, checkpointer and background
    writer), counting processes that start or end during the point. The machine's busy time comes
    from /proc/stat, so 'other' work on the machine shows."""

    def __init__(self, server_session: int | None, database: str | None) -> None:
        super().__init__(daemon=True)
        self.server_session, self.database = server_session, database
        self.kinds: dict[int, str | None] = {}
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stopping = threading.Event()

    def classify(self, pid: int, comm: str, session: int) -> str | None:
        if self.server_session is not None and session == self.server_session:
            return "server"
        if comm != "postgres":
            return None
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return None
        # "postgres: [cluster: ]walwriter" or "postgres: [cluster: ]user database host(port) state"
        title = re.sub(r"^postgres: (\S+: )?", "", command) if command.startswith("postgres: ") else ""
        if title.startswith(POSTGRES_HELPERS):
            return "postgres"
        parts = title.split()
        return "postgres" if self.database and len(parts) > 1 and parts[1] == self.database else None

    def scan(self, initial: bool) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                raw = Path(entry.path, "stat").read_text()
                comm = raw[raw.index("(") + 1 : raw.rindex(")")]
                fields = raw[raw.rindex(")") + 2 :].split()
            except (OSError, ValueError):
                continue
            if pid not in self.kinds:
                self.kinds[pid] = self.classify(pid, comm, int(fields[3]))
                if self.kinds[pid] is not None:
                    # A process born during the point counts from zero.
                    self.first[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK if initial else 0.0
            if self.kinds[pid] is not None:
                self.last[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK

    def __enter__(self) -> "CpuSampler":
        self.machine, self.started = machine_busy_seconds(), time.monotonic()
        self.scan(initial=True)
        self.start()
        return self

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.scan(initial=False)

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.join()
        self.scan(initial=False)
        self.result = {"machine": machine_busy_seconds() - self.machine, "elapsed": time.monotonic() - self.started}
        for kind in ("server", "postgres"):
            self.result[kind] = sum(
                self.last[pid] - self.first[pid] for pid, found in self.kinds.items() if found == kind
            )


# Helpers for the driver -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_environment(database_url: str, var_dir: Path) -> dict[str, str]:
    """Production mode, whatever the caller's environment says (make bench sets ALLIED_DEBUG=1)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ALLIED_") and key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        ALLIED_DEBUG="0",
        ALLIED_SECRET_KEY=secrets.token_urlsafe(64)[:64],
        ALLIED_VAULT_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        ALLIED_ALLOWED_HOSTS="127.0.0.1",
        ALLIED_SSL_REDIRECT="0",
        ALLIED_LOG_LEVEL="WARNING",
        ALLIED_VAR_DIR=str(var_dir),
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="allied.settings",
    )
    return environment


def postgres_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def drop_bench_database(name: str) -> None:
    postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(command: list[str], environment: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


@contextlib.contextmanager
def allied_server(environment: dict[str, str], log_path: Path) -> Iterator[tuple[str, int]]:
    """`allied web` in production mode; stopped (the whole process group) on the way out."""
    import httpx

    port = free_port()
    server_options = ["--workers", str(WEB_WORKERS), "--threads", str(WEB_THREADS)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [ALLIED, "web", "--host", "127.0.0.1", "--port", str(port), *server_options],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not answer /healthz in 90 s:\n{log_path.read_text()}")
                time.sleep(0.3)
            yield url, process.pid
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            # granian's workers may outlive the main process by a moment; they are in its group.
            for _ in range(50):
                if not session_alive(process.pid):
                    break
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def orders_written(connection: Any, tag: str) -> dict[str, tuple[int, int]]:
    """An API point's orders in the database, per wrk run (external ids bench-<tag><run>-...):
    run -> (orders, allocated ones). `connection`: psycopg (autocommit) or sqlite3."""
    prefix = f"bench-{tag}"  # hex: safe to inline
    rows = connection.execute(
        f"SELECT substr(external_id, {len(prefix) + 1}, 1), count(*),"
        " sum(CASE WHEN status = 'allocated' THEN 1 ELSE 0 END)"
        f" FROM orders_order WHERE external_id LIKE '{prefix}%' GROUP BY 1"
    ).fetchall()
    return {run: (int(orders), int(allocated)) for run, orders, allocated in rows}


def wait_for_orders(connection: Any, tag: str, expected: int, settle: float = 2.0) -> dict[str, tuple[int, int]]:
    """wrk stops without waiting for the answers in flight, and the server still writes those orders:
    wait until every request sent has its order, or until the count has not moved for `settle` s."""
    last, since = -1, time.monotonic()
    while True:
        written = orders_written(connection, tag)
        total = sum(orders for orders, _ in written.values())
        if total >= expected:
            return written
        if total != last:
            last, since = total, time.monotonic()
        elif time.monotonic() - since >= settle:
            return written
        time.sleep(0.1)


def api_point(
    wrk: str, url: str, data: Path, connection: Any, clients: int, args: argparse.Namespace, cpu: CpuSampler
) -> dict[str, Any]:
    """A warm-up wrk run, then the measured one, then the orders still in flight; the CPU over all of it.
    Checks in the database that every answered request wrote one order, and that all are allocated."""
    tag = uuid.uuid4().hex[:8]
    phases = {"w": args.warmup, "m": args.duration} if args.warmup else {"m": args.duration}
    children = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN))
    with cpu:
        runs = {run: wrk_run(wrk, url, data, clients, seconds, f"bench-{tag}{run}") for run, seconds in phases.items()}
        # wrk 4.1 builds one request more than it sends, to check the script before the run.
        written = wait_for_orders(connection, tag, sum(run["sent"] - 1 for run in runs.values()))
    wrk_cpu = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN)) - children
    problems = []
    for run, figures in runs.items():
        orders, allocated = written.get(run, (0, 0))
        label = "warm-up" if run == "w" else "measured run"
        failed = figures["connect_errors"] + figures["read_errors"] + figures["write_errors"] + figures["timeouts"]
        if figures["not_201"] or failed:
            problems.append(f"{label}: {figures['not_201']} answers not 201, {failed} socket errors or timeouts")
        if not figures["requests"] <= orders <= figures["sent"]:
            problems.append(f"{label}: {orders} orders written for {figures['requests']} answers")
        if allocated != orders:
            problems.append(f"{label}: {orders - allocated} of {orders} orders not allocated")
    measured = runs["m"]
    if not measured["requests"]:
        problems.append("no answers")
    return {
        "clients": clients,
        "completed": measured["requests"],
        "completed_all": sum(orders for orders, _ in written.values()),  # for the CPU per order
        "per_second": measured["requests"] / (measured["duration_us"] / 1e6),
        "p50_ms": measured["p50_us"] / 1000,
        "p99_ms": measured["p99_us"] / 1000,
        "errors": sum(
            run[key]
            for run in runs.values()
            for key in ("not_201", "connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        "sample_error": next((run["sample_error"] for run in runs.values() if run["sample_error"]), ""),
        "problems": problems,
        "wrk": runs,
        "orders_written": written,
        "cpu": cpu.result | {"client": wrk_cpu},  # CPU seconds over the whole point, warm-up included
    }


# The database ceiling ------------------------------------------------------------------------

PGBENCH_SCRIPT = """\
\\set k random(0, {last_org})
\\set org CASE {org_cases} END
\\set lo CASE {lo_cases} END
\\set n CASE {n_cases} END
\\set a random(0, :n - 1)
\\set d1 random(1, :n / 3)
\\set d2 random(1, :n / 3)
\\set i1 :a
\\set i2 (:a + :d1) % :n
\\set i3 (:a + :d1 + :d2) % :n
\\set p1 :lo + :i1
\\set p2 :lo + :i2
\\set p3 :lo + :i3
\\set q1 random(1, 3)
\\set q2 random(1, 3)
\\set q3 random(1, 3)
\\set subtotal (:q1 + :q2 + :q3) * {price}
\\set total :subtotal + {fee}
BEGIN;
INSERT INTO orders_order (channel, external_id, number, status, recipient_name, recipient_phone, recipient_email,
  address_line1, address_line2, address_area, address_city, address_region, address_postcode, address_country,
  address_lat, address_lng, address_coordinates_source, currency, subtotal, shipping_fee, total, payment_method,
  cod_amount, window_start, window_end, notes, tags, carrier, tracking_code, package_weight_grams,
  package_dimensions_mm, created_at, updated_at, organization_id, warehouse_id)
VALUES ('api', gen_random_uuid()::text, upper(substr(md5(random()::text), 1, 16)), 'allocated', 'Hina Baig',
  '+92 300 1112233', 'hina@example.com', 'House 12, Street 4, Block 7', '', 'Gulshan-e-Iqbal', 'Karachi', 'Sindh',
  '75300', 'PK', NULL, NULL, '', 'PKR', :subtotal, {fee}, :total, 'cod', :total, NULL, NULL, '', '[]', '', '', NULL,
  '', now(), now(), :org, {warehouse})
RETURNING id AS order_id \\gset
INSERT INTO orders_orderline (sku, name, quantity, unit_price, allocated_quantity, picked_quantity,
  packed_quantity, order_id, organization_id, product_id)
VALUES ('P' || :k || '-' || lpad(:i1::text, 5, '0'), 'Bench product', :q1, {price}, :q1, 0, 0, :order_id, :org, :p1),
  ('P' || :k || '-' || lpad(:i2::text, 5, '0'), 'Bench product', :q2, {price}, :q2, 0, 0, :order_id, :org, :p2),
  ('P' || :k || '-' || lpad(:i3::text, 5, '0'), 'Bench product', :q3, {price}, :q3, 0, 0, :order_id, :org, :p3);
SELECT max(on_hand) FILTER (WHERE product_id = :p1) AS h1, max(reserved) FILTER (WHERE product_id = :p1) AS r1,
  max(on_hand) FILTER (WHERE product_id = :p2) AS h2, max(reserved) FILTER (WHERE product_id = :p2) AS r2,
  max(on_hand) FILTER (WHERE product_id = :p3) AS h3, max(reserved) FILTER (WHERE product_id = :p3) AS r3
FROM (SELECT product_id, on_hand, reserved FROM inventory_stock
      WHERE warehouse_id = {warehouse} AND product_id IN (:p1, :p2, :p3)
      ORDER BY product_id FOR UPDATE) AS locked \\gset
UPDATE inventory_stock SET reserved = reserved + v.q
FROM (VALUES (:p1::bigint, :q1::int), (:p2::bigint, :q2::int), (:p3::bigint, :q3::int)) AS v (product_id, q)
WHERE inventory_stock.warehouse_id = {warehouse} AND inventory_stock.product_id = v.product_id;
INSERT INTO inventory_stockmove (reason, on_hand_delta, reserved_delta, quarantined_delta, bin_delta, on_hand_after,
  reserved_after, quarantined_after, bin_quantity_after, reference_type, reference_id, note, actor_label, at, bin_id,
  organization_id, product_id, warehouse_id)
VALUES ('reserve', 0, :q1, 0, 0, :h1, :r1::int + :q1::int, 0, NULL, 'order', :order_id, '', '{actor}', now(), NULL,
    :org, :p1, {warehouse}),
  ('reserve', 0, :q2, 0, 0, :h2, :r2::int + :q2::int, 0, NULL, 'order', :order_id, '', '{actor}', now(), NULL,
    :org, :p2, {warehouse}),
  ('reserve', 0, :q3, 0, 0, :h3, :r3::int + :q3::int, 0, NULL, 'order', :order_id, '', '{actor}', now(), NULL,
    :org, :p3, {warehouse});
INSERT INTO orders_orderevent (type, from_status, to_status, payload, actor_label, at, order_id, organization_id)
VALUES ('received', '', 'received', '{{"channel": "api"}}', '{actor}', now(), :order_id, :org),
  ('allocated', 'received', 'allocated', '{{}}', '{actor}', now(), :order_id, :org);
INSERT INTO core_domainevent (type, version, aggregate_type, aggregate_id, payload, occurred_at, organization_id)
VALUES ('order.created', 1, 'orders.order', :order_id,
    jsonb_build_object('id', :order_id::bigint, 'channel', 'api', 'status', 'allocated',
      'lines', jsonb_build_array(jsonb_build_object('product', :p1::bigint, 'quantity', :q1::int),
                                 jsonb_build_object('product', :p2::bigint, 'quantity', :q2::int),
                                 jsonb_build_object('product', :p3::bigint, 'quantity', :q3::int))),
    now(), :org),
  ('inventory.level_changed', 1, 'inventory.stock', :p1, jsonb_build_object('product_id', :p1::bigint,
    'on_hand', :h1::int, 'reserved', :r1::int + :q1::int, 'cause', 'order.allocated'), now(), :org),
  ('inventory.level_changed', 1, 'inventory.stock', :p2, jsonb_build_object('product_id', :p2::bigint,
    'on_hand', :h2::int, 'reserved', :r2::int + :q2::int, 'cause', 'order.allocated'), now(), :org),
  ('inventory.level_changed', 1, 'inventory.stock', :p3, jsonb_build_object('product_id', :p3::bigint,
    'on_hand', :h3::int, 'reserved', :r3::int + :q3::int, 'cause', 'order.allocated'), now(), :org);
COMMIT;
"""


def pgbench_script(setup: dict[str, Any]) -> str:
    organizations = setup["organizations"]
    if not all(organization["contiguous"] for organization in organizations):
        raise RuntimeError("pgbench needs each partner's product ids to be contiguous")

    def cases(key: str) -> str:
        return " ".join(f"WHEN :k = {o['index']} THEN {o[key]}" for o in organizations[:-1]) + (
            f" ELSE {organizations[-1][key]}"
        )

    for organization in organizations:
        organization["n"] = len(organization["product_ids"])
    return PGBENCH_SCRIPT.format(
        last_org=len(organizations) - 1,
        org_cases=cases("id"),
        lo_cases=cases("first_product_id"),
        n_cases=cases("n"),
        price=UNIT_PRICE,
        fee=SHIPPING_FEE,
        warehouse=setup["warehouse_id"],
        actor=organizations[0]["actor_label"],
    )


def pgbench_point(database: str, script: Path, clients: int, seconds: int, work: Path) -> dict[str, Any]:
    parts = urlsplit(POSTGRES_URL)
    prefix = work / f"pgbench-{clients}"
    command = ["pgbench", "-n", "-M", "prepared", "-j", str(min(2, clients)), "-c", str(clients)]
    command += ["-T", str(seconds), "-f", str(script), "-l", "--log-prefix", str(prefix)]
    command += ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    result = subprocess.run([*command, database], capture_output=True, text=True, check=False, timeout=seconds + 120)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{result.stdout}{result.stderr}")
    latencies = []
    for log in work.glob(f"{prefix.name}.*"):
        for line in log.read_text().splitlines():
            latencies.append(int(line.split()[2]) / 1_000_000)
        log.unlink()
    latencies.sort()
    failed = next((line for line in result.stdout.splitlines() if "failed" in line), "")
    return {
        "clients": clients,
        "completed": len(latencies),
        "per_second": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "failed": failed.strip(),
    }


def sqlite_ceiling(path: Path, setup: dict[str, Any], seconds: float, warmup: float) -> dict[str, Any]:
    """The same transaction through the sqlite3 module in one thread (WAL, synchronous=NORMAL)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=20)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    rng = random.Random(7)
    organizations = setup["organizations"]
    warehouse = setup["warehouse_id"]
    latencies: list[float] = []
    completed_all = 0
    cpu = time.thread_time()
    start = time.perf_counter() + warmup
    end = start + seconds
    while True:
        began = time.perf_counter()
        if began >= end:
            break
        organization = rng.choice(organizations)
        picks = rng.sample(range(len(organization["product_ids"])), 3)
        products = [(organization["product_ids"][i], organization["skus"][i], rng.randint(1, 3)) for i in picks]
        subtotal = sum(q for _, _, q in products) * UNIT_PRICE
        now = time.strftime("%Y-%m-%d %H:%M:%S.000000")
        org, actor = organization["id"], organization["actor_label"]
        connection.execute("BEGIN IMMEDIATE")
        order_id = connection.execute(
            "INSERT INTO orders_order (channel, external_id, number, status, recipient_name, recipient_phone,"
            " recipient_email, address_line1, address_line2, address_area, address_city, address_region,"
            " address_postcode, address_country, address_lat, address_lng, address_coordinates_source, currency,"
            " subtotal, shipping_fee, total, payment_method, cod_amount, window_start, window_end, notes, tags,"
            " carrier, tracking_code, package_weight_grams, package_dimensions_mm, created_at, updated_at,"
            " organization_id, warehouse_id)"
            " VALUES ('api', ?, ?, 'allocated', 'Hina Baig', '+92 300 1112233', 'hina@example.com',"
            " 'House 12, Street 4, Block 7', '', 'Gulshan-e-Iqbal', 'Karachi', 'Sindh', '75300', 'PK', NULL, NULL,"
            " '', 'PKR', ?, ?, ?, 'cod', ?, NULL, NULL, '', '[]', '', '', NULL, '', ?, ?, ?, ?) RETURNING id",
            (
                uuid.uuid4().hex,
                secrets.token_hex(8).upper(),
                str(subtotal),
                str(SHIPPING_FEE),
                str(subtotal + SHIPPING_FEE),
                str(subtotal + SHIPPING_FEE),
                now,
                now,
                org,
                warehouse,
            ),
        ).fetchone()[0]
        connection.execute(
            "INSERT INTO orders_orderline (sku, name, quantity, unit_price, allocated_quantity, picked_quantity,"
            " packed_quantity, order_id, organization_id, product_id) VALUES "
            + ", ".join(["(?, 'Bench product', ?, ?, ?, 0, 0, ?, ?, ?)"] * 3),
            [v for pid, sku, q in products for v in (sku, q, str(UNIT_PRICE), q, order_id, org, pid)],
        )
        ids = sorted(pid for pid, _, _ in products)
        balances = {
            row[0]: (row[1], row[2])
            for row in connection.execute(
                "SELECT product_id, on_hand, reserved FROM inventory_stock"
                " WHERE warehouse_id = ? AND product_id IN (?, ?, ?) ORDER BY product_id",
                [warehouse, *ids],
            )
        }
        connection.execute(
            "WITH v (product_id, q) AS (VALUES (?, ?), (?, ?), (?, ?))"
            " UPDATE inventory_stock SET reserved = reserved + v.q FROM v"
            " WHERE inventory_stock.warehouse_id = ? AND inventory_stock.product_id = v.product_id",
            [*(v for pid, _, q in products for v in (pid, q)), warehouse],
        )
        connection.execute(
            "INSERT INTO inventory_stockmove (reason, on_hand_delta, reserved_delta, quarantined_delta, bin_delta,"
            " on_hand_after, reserved_after, quarantined_after, bin_quantity_after, reference_type, reference_id,"
            " note, actor_label, at, bin_id, organization_id, product_id, warehouse_id) VALUES "
            + ", ".join(["('reserve', 0, ?, 0, 0, ?, ?, 0, NULL, 'order', ?, '', ?, ?, NULL, ?, ?, ?)"] * 3),
            [
                v
                for pid, _, q in products
                for v in (q, balances[pid][0], balances[pid][1] + q, str(order_id), actor, now, org, pid, warehouse)
            ],
        )
        connection.execute(
            "INSERT INTO orders_orderevent (type, from_status, to_status, payload, actor_label, at, order_id,"
            " organization_id) VALUES ('received', '', 'received', ?, ?, ?, ?, ?),"
            " ('allocated', 'received', 'allocated', '{}', ?, ?, ?, ?)",
            (json.dumps({"channel": "api"}), actor, now, order_id, org, actor, now, order_id, org),
        )
        connection.execute(
            "INSERT INTO core_domainevent (type, version, aggregate_type, aggregate_id, payload, occurred_at,"
            " organization_id)"
            " VALUES ('order.created', 1, 'orders.order', ?, ?, ?, ?)"
            + ", ('inventory.level_changed', 1, 'inventory.stock', ?, ?, ?, ?)"
            * 3,
            [
                str(order_id),
                json.dumps({"id": order_id, "status": "allocated", "lines": [[p, q] for p, _, q in products]}),
                now,
                org,
                *(
                    v
                    for pid, _, q in products
                    for v in (
                        str(pid),
                        json.dumps(
                            {
                                "product_id": pid,
                                "on_hand": balances[pid][0],
                                "reserved": balances[pid][1] + q,
                                "cause": "order.allocated",
                            }
                        ),
                        now,
                        org,
                    )
                ),
            ],
        )
        connection.execute("COMMIT")
        done = time.perf_counter()
        completed_all += 1
        if done >= start:
            latencies.append(done - began)
    connection.close()
    latencies.sort()
    return {
        "clients": 1,
        "completed": len(latencies),
        "per_second": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "completed_all": completed_all,
        "client_cpu_s": time.thread_time() - cpu,
    }


# The driver ------------------------------------------------------------------------------------


def bench_database(kind: str, args: argparse.Namespace, work: Path, wrk: str) -> dict[str, Any]:
    """Each client count: the API point, then at once the ceiling point, so both see the same machine."""
    var_dir = work / f"var-{kind}"
    var_dir.mkdir()
    if kind == "postgresql":
        database_url = f"{POSTGRES_URL}/{BENCH_DB}"
        drop_bench_database(BENCH_DB)
        postgres_admin(f'CREATE DATABASE "{BENCH_DB}"')
    else:
        database_url = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    environment = bench_environment(database_url, var_dir)
    outcome: dict[str, Any] = {"database": kind, "points": []}
    try:
        print(f"-- {kind}: migrate, load {PRODUCTS:,} products of {ORGANIZATIONS} partners, serve", flush=True)
        run([ALLIED, "migrate", "--verbosity", "0"], environment, cwd=ROOT)
        setup_path = work / f"setup-{kind}.json"
        run([sys.executable, __file__, "_load", "--output", str(setup_path)], environment, cwd=ROOT)
        setup = json.loads(setup_path.read_text())
        script = work / "order.sql"
        script.write_text(pgbench_script(setup))
        wrk_data_path = work / f"wrk-{kind}.lua"
        wrk_data_path.write_text(wrk_data(setup))
        with contextlib.ExitStack() as stack:
            if kind == "postgresql":
                import psycopg

                connection: Any = stack.enter_context(psycopg.connect(database_url, autocommit=True))
            else:
                connection = sqlite3.connect(var_dir / "bench.sqlite3", isolation_level=None)
                stack.callback(connection.close)
            url, server_pid = stack.enter_context(allied_server(environment, work / f"server-{kind}.log"))
            database = BENCH_DB if kind == "postgresql" else None
            for clients in args.clients:
                api = api_point(wrk, url, wrk_data_path, connection, clients, args, CpuSampler(server_pid, database))
                print(
                    f"   API      {clients:>3} clients: {api['per_second']:7.0f} orders/s"
                    f"  p50 {api['p50_ms']:7.1f} ms  p99 {api['p99_ms']:7.1f} ms  errors {api['errors']}",
                    flush=True,
                )
                for problem in api["problems"]:
                    print(f"            {problem}", flush=True)
                if api["sample_error"]:
                    print(f"            first error: {api['sample_error']}", flush=True)
                children = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN))
                with CpuSampler(None, database) as cpu:
                    if kind == "postgresql":
                        ceiling = pgbench_point(BENCH_DB, script, clients, args.ceiling_duration, work)
                        client_cpu = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN)) - children
                    else:
                        ceiling = sqlite_ceiling(var_dir / "bench.sqlite3", setup, args.sqlite_ceiling_duration, 1)
                        client_cpu = ceiling["client_cpu_s"]
                ceiling["cpu"] = cpu.result | {"client": client_cpu, "server": 0.0}
                label = f"{clients:>3} clients" if kind == "postgresql" else "  1 thread "
                print(
                    f"   ceiling  {label}: {ceiling['per_second']:7.0f} orders/s"
                    f"  p50 {ceiling['p50_ms']:7.2f} ms  p99 {ceiling['p99_ms']:7.2f} ms  {ceiling.get('failed', '')}",
                    flush=True,
                )
                outcome["points"].append({"clients": clients, "api": api, "ceiling": ceiling})
    finally:
        if kind == "postgresql":
            drop_bench_database(BENCH_DB)
    return outcome


def source_version() -> str:
    def git(*command: str) -> str:
        result = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True, check=False)
        return result.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" with uncommitted changes in src/" if git("status", "--porcelain", "src") else "")


def print_report(outcomes: list[dict[str, Any]], args: argparse.Namespace) -> None:
    cores = os.cpu_count() or 1
    print()
    print(f"Allied at {source_version()}, {time.strftime('%Y-%m-%d %H:%M')}.")
    print(
        f"Order intake: {args.duration} s per API point after {args.warmup} s warm-up;"
        f" ceiling {args.ceiling_duration} s (pgbench), {args.sqlite_ceiling_duration} s (sqlite3, one thread),"
        " each right after its API point;"
        f" {cores} cores shared by load generator (wrk), server and database."
    )
    print()
    print(
        "| database | clients | Allied orders/s | p50 ms | p99 ms | errors "
        "| ceiling orders/s | ceiling p50 ms | ceiling p99 ms | Allied / ceiling |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for outcome in outcomes:
        for point in outcome["points"]:
            api, ceiling = point["api"], point["ceiling"]
            label = " (1 thread)" if outcome["database"] == "sqlite" else ""
            ratio = api["per_second"] / ceiling["per_second"]
            print(
                f"| {outcome['database']} | {point['clients']} | {api['per_second']:,.0f} | {api['p50_ms']:.1f}"
                f" | {api['p99_ms']:.1f} | {api['errors']} | {ceiling['per_second']:,.0f}{label}"
                f" | {ceiling['p50_ms']:.2f} | {ceiling['p99_ms']:.2f} | {ratio:.1%} |"
            )
    print()
    print("CPU per order over each point (from /proc; API points include their warm-up and the orders in flight")
    print("when wrk stops). 'Client' is wrk (API) or pgbench / the sqlite3 loop (ceiling); 'other work' is")
    print("everything else on the machine (other sessions' tests, the driver), in cores kept busy on average.")
    print()
    print("| database | clients | path | server ms | PostgreSQL ms | client ms | other work, cores | machine busy |")
    print("|---|---|---|---|---|---|---|---|")
    for outcome in outcomes:
        for point in outcome["points"]:
            for path, measured in (("API", point["api"]), ("ceiling", point["ceiling"])):
                cpu = measured["cpu"]
                client = cpu["client"]
                orders = max(1, measured.get("completed_all", measured["completed"]))
                other = cpu["machine"] - cpu["server"] - cpu["postgres"] - client
                busy = cpu["machine"] / (cpu["elapsed"] * cores)
                print(
                    f"| {outcome['database']} | {point['clients']} | {path} | {cpu['server'] * 1000 / orders:.2f}"
                    f" | {cpu['postgres'] * 1000 / orders:.2f} | {client * 1000 / orders:.2f}"
                    f" | {other / cpu['elapsed']:.2f} | {busy:.0%} |"
                )


def wait_for_quiet_machine(limit: float) -> None:
    """Start when the other work on the machine pauses (under 20 % busy for 5 s), or after `limit` s."""
    deadline = time.monotonic() + limit
    while True:
        before, started = machine_busy_seconds(), time.monotonic()
        time.sleep(5)
        busy = (machine_busy_seconds() - before) / ((time.monotonic() - started) * (os.cpu_count() or 1))
        if busy < 0.2:
            return
        if time.monotonic() > deadline:
            print(f"note: the machine is {busy:.0%} busy with other work; measuring anyway", flush=True)
            return


def cmd_bench(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="allied-bench-"))

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    outcomes = []
    try:
        wrk = ensure_wrk()
        if args.wait_quiet:
            wait_for_quiet_machine(args.wait_quiet)
        for kind in args.databases:
            outcomes.append(bench_database(kind, args, work, wrk))
        print_report(outcomes, args)
        (work / "results.json").write_text(json.dumps(outcomes, indent=2))
        if args.save:
            Path(args.save).write_text(json.dumps(outcomes, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bad = [
        (outcome["database"], point["clients"])
        for outcome in outcomes
        for point in outcome["points"]
        if point["api"]["problems"]
    ]
    if bad:
        print(f"\nFAILED: errors, missing or unallocated orders, or no orders at {bad}; these figures do not count.")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("_load", help=argparse.SUPPRESS)
    p.add_argument("--output", required=True)
    parser.add_argument("--duration", type=int, default=15, help="measured seconds per API point (default 15)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds before each API point (default 3)")
    parser.add_argument("--ceiling-duration", type=int, default=15, help="seconds per ceiling point (default 15)")
    parser.add_argument(
        "--clients", type=lambda s: [int(n) for n in s.split(",")], default=[1, 16, 64], help="default 1,16,64"
    )
    parser.add_argument(
        "--databases", type=lambda s: s.split(","), default=["postgresql", "sqlite"], help="default postgresql,sqlite"
    )
    parser.add_argument(
        "--sqlite-ceiling-duration", type=int, default=5, help="seconds per SQLite ceiling point (default 5)"
    )
    parser.add_argument(
        "--wait-quiet", type=float, default=60, help="wait up to this long for other work to pause (default 60)"
    )
    parser.add_argument("--save", help="also write the raw results as JSON to this file")
    args = parser.parse_args()
    if args.command == "_load":
        return cmd_load(args)
    return cmd_bench(args)


if __name__ == "__main__":
    sys.exit(main())
