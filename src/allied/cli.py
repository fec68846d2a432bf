"""The `allied` command: run, operate and administer an Allied deployment."""

import argparse
import getpass
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from types import FrameType

SUPERVISED = ("web", "worker", "scheduler")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allied.settings")
    import django

    django.setup()


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    call_command("createcachetable", verbosity=args.verbosity)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    from allied.demo import demo_load

    summary = demo_load()
    print(summary.as_text())
    return 0


def cmd_democode(args: argparse.Namespace) -> int:
    """The current two-factor code of a demo account (development mode only)."""
    _setup_django()
    import time as clock

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
    from django.conf import settings

    from allied.demo import demo_totp_secret

    if not settings.DEBUG:
        print("error: demo codes exist only in development mode (ALLIED_DEBUG=1)", file=sys.stderr)
        return 2
    print(format_hotp_value(hotp_value(demo_totp_secret(args.email.lower()), int(clock.time()) // 30)))
    return 0


def port_in_use(host: str, port: int) -> str:
    """Why (host, port) cannot be listened on, or "" when it can. The web server binds with
    SO_REUSEPORT, which would let a second server share a port already serving; this probe binds
    without it, so a port in use refuses (a port left in TIME_WAIT by a stopped server does not)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"cannot resolve {host!r}: {error.strerror}"
    family, kind, protocol, _, address = addresses[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return f"{host}:{port} is not free ({error.strerror}); is Allied or another server already running there?"
    return ""


def _refuse_busy_port(args: argparse.Namespace) -> int:
    problem = port_in_use(args.host, args.port)
    if problem:
        print(f"error: {problem} Stop it, or choose another port with --port.", file=sys.stderr)
        return 1
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    if _refuse_busy_port(args):
        return 1
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    command = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "allied.wsgi:application",
        "--host", args.host, "--port", str(args.port),
        "--workers", str(args.workers), "--blocking-threads", str(args.threads),
        "--no-ws", "--log-level", "warning",
    ]  # fmt: skip
    os.execv(sys.executable, command)


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    from allied.core.worker import HeartbeatWorker

    worker = HeartbeatWorker(interval=args.interval, batch=args.batch)
    worker.configure_signals()
    worker.run()
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    from allied.core.scheduler_lock import scheduler_lock

    with scheduler_lock() as acquired:
        if not acquired:
            print("Another scheduler holds the lock; exactly one runs per deployment.", file=sys.stderr)
            return 1
        call_command("crontask")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Web server, task worker and scheduler together; any that dies is started again."""
    if _refuse_busy_port(args):
        return 1
    base = [sys.executable, "-m", "allied.cli"]
    commands = {
        "web": [*base, "web", "--host", args.host, "--port", str(args.port), "--workers", str(args.workers)],
        "worker": [*base, "worker"],
        "scheduler": [*base, "scheduler"],
    }
    children: dict[str, subprocess.Popen[bytes]] = {}
    restarts: dict[str, int] = dict.fromkeys(commands, 0)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, command in commands.items():
        children[name] = subprocess.Popen(command)
    print(
        f"Allied is serving on http://{args.host}:{args.port}/ (web, worker and scheduler). Ctrl+C stops.", flush=True
    )
    while not stopping:
        time.sleep(0.5)
        for name, child in list(children.items()):
            code = child.poll()
            if code is None or stopping:
                continue
            restarts[name] += 1
            delay = min(30, 2 ** min(restarts[name], 5))
            print(
                f"allied serve: {name} exited with {code}; starting it again in {delay}s", file=sys.stderr, flush=True
            )
            time.sleep(delay)
            children[name] = subprocess.Popen(commands[name])
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


def cmd_createoperator(args: argparse.Namespace) -> int:
    _setup_django()
    from django.db import transaction

    from allied.accounts.policy import Actor
    from allied.accounts.selectors import operator_organization
    from allied.accounts.services import user_create_member
    from allied.core.errors import DomainError

    password = args.password or os.environ.get("ALLIED_OPERATOR_PASSWORD") or getpass.getpass("Password: ")
    try:
        with transaction.atomic(durable=True):
            membership = user_create_member(
                email=args.email,
                password=password,
                full_name=args.name,
                organization=operator_organization(),
                role=args.role,
                actor=Actor.system("allied createoperator"),
            )
    except DomainError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 2
    print(f"Created {membership.user.email} as {membership.get_role_display()} of {membership.organization.name}.")
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    _setup_django()
    from django.db import transaction

    from allied.accounts.models import Organization
    from allied.accounts.policy import Actor
    from allied.accounts.services import api_key_create
    from allied.core.errors import DomainError

    organization = Organization.objects.filter(slug=args.org).first()
    if organization is None:
        print(f"error: no organization {args.org!r}", file=sys.stderr)
        return 2
    scopes = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    try:
        with transaction.atomic(durable=True):
            api_key, raw_key = api_key_create(
                organization=organization, name=args.name, scopes=scopes, actor=Actor.system("allied apikey create")
            )
    except DomainError as error:
        messages = "; ".join(f"{e.field}: {e.message}" for e in error.errors) or error.detail
        print(f"error: {messages}", file=sys.stderr)
        return 2
    print(f"API key for {organization.name} ({', '.join(api_key.scopes)}). It is shown only now:")
    print(raw_key)
    return 0


def cmd_integrations_connect(args: argparse.Namespace) -> int:
    """Connect a partner's store; credentials from the options or, kept out of the process list,
    from ALLIED_CONNECT_<NAME> variables (ALLIED_CONNECT_CLIENT_SECRET, …)."""
    _setup_django()
    from django.db import transaction

    from allied.accounts.models import Organization
    from allied.accounts.policy import Actor
    from allied.core.errors import DomainError
    from allied.integrations.connectors import connector_for
    from allied.integrations.selectors import webhook_address
    from allied.integrations.services.connections import connection_create

    organization = Organization.objects.filter(slug=args.org).first()
    if organization is None:
        print(f"error: no organization {args.org!r}", file=sys.stderr)
        return 2
    credentials = {
        name: getattr(args, name, None) or os.environ.get(f"ALLIED_CONNECT_{name.upper()}", "")
        for name in connector_for(args.platform).credential_names
    }
    try:
        with transaction.atomic(durable=True):
            connection = connection_create(
                organization=organization,
                kind=args.platform,
                name=args.name or args.store,
                store_url=args.store,
                credentials=credentials,
                actor=Actor.system("allied integrations connect"),
            )
    except DomainError as error:
        messages = "; ".join(f"{e.field}: {e.message}" for e in error.errors) or error.detail
        print(f"error: {messages}", file=sys.stderr)
        return 2
    print(f"connection {connection.pk} for {organization.name}: {connection}")
    print(f"webhook address: {webhook_address(connection)}")
    return 0


COURIER_OPTIONS = {
    "pathao": ("client_id", "client_secret", "username", "password", "store_id", "webhook_secret"),
    "steadfast": ("api_key", "secret_key", "webhook_token"),
}


def cmd_couriers_connect(args: argparse.Namespace) -> int:
    """Connect AES's account with a courier company; credentials from the options or, kept out of
    the process list, from ALLIED_CONNECT_<NAME> variables (ALLIED_CONNECT_PASSWORD, …). Pathao's
    password is exchanged for tokens once and kept nowhere. A webhook secret not given is made up
    and printed once, for the courier's panel."""
    _setup_django()
    import secrets

    from django.conf import settings
    from django.db import transaction
    from django.urls import reverse

    from allied.accounts.policy import Actor
    from allied.core.errors import DomainError
    from allied.couriers.services import WEBHOOK_SECRET, courier_account_connect_pathao, courier_account_create

    given = {
        name: getattr(args, name, None) or os.environ.get(f"ALLIED_CONNECT_{name.upper()}", "")
        for name in COURIER_OPTIONS[args.courier]
    }
    secret_name = WEBHOOK_SECRET[args.courier]
    made_up = not given[secret_name]
    if made_up:
        given[secret_name] = secrets.token_urlsafe(32)
    areas = [area for area in args.areas.split(",") if area.strip()]
    actor = Actor.system("allied couriers connect")
    name = args.name or args.courier.title()
    try:
        if args.courier == "pathao":
            account = courier_account_connect_pathao(
                name=name,
                client_id=given["client_id"],
                client_secret=given["client_secret"],
                username=given["username"],
                password=given["password"],
                store_id=given["store_id"],
                webhook_secret=given["webhook_secret"],
                areas=areas,
                sandbox=args.sandbox,
                actor=actor,
            )
        else:
            with transaction.atomic(durable=True):
                account = courier_account_create(
                    code=args.courier, name=name, credentials=given, areas=areas, sandbox=args.sandbox, actor=actor
                )
    except DomainError as error:
        messages = "; ".join(f"{e.field}: {e.message}" for e in error.errors) or error.detail
        print(f"error: {messages}", file=sys.stderr)
        return 2
    print(f"courier account {account.pk}: {account}")
    print(f"webhook address: {settings.ALLIED_BASE_URL}{reverse('courier_webhook', kwargs={'courier': account.code})}")
    if made_up:
        print(f"webhook secret (shown only now; set it in the courier's panel): {given[secret_name]}")
    return 0


def _since(value: str) -> datetime:
    """A date (midnight UTC) or an ISO date and time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (YYYY-MM-DD or an ISO date and time)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_integrations_backfill(args: argparse.Namespace) -> int:
    """Fetch every order the store changed since a date, with a progress bar; each state goes
    through the inbox (duplicates are dropped there) and the worker takes the orders in."""
    _setup_django()
    from django.utils import timezone
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from allied.core.outbound import OutboundError
    from allied.integrations.models import Connection, ConnectionStatus
    from allied.integrations.services.sync import PollResult, connection_poll

    connection = Connection.objects.filter(pk=args.connection).first()
    if connection is None:
        print(f"error: no connection {args.connection}", file=sys.stderr)
        return 2
    if connection.status != ConnectionStatus.ACTIVE:
        print(f"error: {connection} is {connection.get_status_display().lower()}", file=sys.stderr)
        return 2
    if args.since > timezone.now():
        print("error: --since is in the future", file=sys.stderr)
        return 2
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, disable=not sys.stdout.isatty() and not args.progress) as progress:
        bar = progress.add_task(f"{connection}: fetching orders changed since {args.since:%Y-%m-%d %H:%M}", total=None)

        def show(result: PollResult) -> None:
            text = f"{connection}: {result.pages} page(s), {result.fetched} order(s) fetched, {result.kept} new"
            progress.update(bar, description=text)

        try:
            result = connection_poll(connection_id=connection.pk, since=args.since, progress=show)
        except OutboundError as failure:
            print(f"error: the store refused: {failure}", file=sys.stderr)
            return 1
    print(
        f"{result.fetched} order(s) fetched in {result.pages} page(s); {result.kept} new state(s) queued for "
        f"the worker ({result.fetched - result.kept} already known)."
    )
    return 0


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (YYYY-MM-DD)") from None


def cmd_routes_plan(args: argparse.Namespace) -> int:
    """Plan a hub's day now, as the dispatcher board does, and print the routes."""
    _setup_django()
    from django.db import transaction
    from django.utils.timezone import localtime

    from allied.accounts.policy import Actor
    from allied.core.errors import DomainError
    from allied.delivery.models import Route
    from allied.delivery.services.planning import access_hub, plan_run_execute, plan_run_request

    actor = Actor.system("allied routes plan")
    try:
        hub = access_hub(args.hub)
        with transaction.atomic(durable=True):
            run = plan_run_request(hub=hub, day=args.date, seconds=args.seconds, actor=actor, in_background=False)
    except DomainError as error:
        messages = "; ".join(f"{e.field}: {e.message}" for e in error.errors) or error.detail
        print(f"error: {messages}", file=sys.stderr)
        return 2
    run = plan_run_execute(run_id=run.pk)
    summary = run.summary
    print(f"{hub.code} {args.date}: {summary['stops']} stop(s), {summary['riders']} rider(s) on shift")
    for route in Route.objects.filter(hub=hub, date=args.date).select_related("rider__user").order_by("starts_at"):
        km, hours = route.distance_m / 1000, route.duration_s / 3600
        starts, ends = localtime(route.starts_at), localtime(route.ends_at)
        print(f"  {route.rider}: {route.stops.count()} stop(s), {km:.1f} km, {hours:.1f} h, "
              f"{starts:%H:%M}–{ends:%H:%M}{' (locked)' if route.locked else ''}")  # fmt: skip
        for stop in route.stops.order_by("sequence"):
            kind = stop.get_kind_display()
            print(f"    {stop.sequence:>3}. {localtime(stop.planned_arrival):%H:%M} {kind:<13} {stop.tracking_code}")
    for unplanned in summary["unplanned"]:
        print(f"  not planned: {unplanned['tracking_code']}: {unplanned['reason']}")
    print(f"planned in {summary['runtime_s']} s; {'no violation' if summary['feasible'] else 'VIOLATIONS'}")
    return 0 if summary["feasible"] else 1


def cmd_vault_rotate(args: argparse.Namespace) -> int:
    """Re-seal every stored secret under the newest vault key; exit 1 if any cannot be opened."""
    _setup_django()
    from allied.core.vault import sealed_values_rotate

    reports = sealed_values_rotate(check=args.check, batch_size=args.batch_size)
    for report in reports:
        print(report.as_text(check=args.check))
    unreadable = [f"{report.sealed} {where}" for report in reports for where in report.unreadable]
    for where in unreadable:
        print(f"unreadable: {where}", file=sys.stderr)
    rotated = sum(report.rotated for report in reports)
    if args.check:
        print(f"{rotated} sealed value(s) are not under the newest key yet; nothing was changed.")
    else:
        print(f"{rotated} sealed value(s) re-sealed under the newest key.")
    if unreadable:
        print(
            f"error: {len(unreadable)} sealed value(s) no configured key opens; they were left as they were. "
            "Put the key they were sealed with back into ALLIED_VAULT_KEYS (after the newest) and run again.",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_inventory_verify(args: argparse.Namespace) -> int:
    """Prove the stock ledger and the balances agree; exit 1 and list the differences if not."""
    _setup_django()
    from allied.inventory.selectors import inventory_verify

    problems = inventory_verify()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} difference(s) between the ledger and the balances.", file=sys.stderr)
        return 1
    print("The stock ledger and the balances agree.")
    return 0


def cmd_privacy_retention(args: argparse.Namespace) -> int:
    """Apply every declared retention rule now (or count what it would do) and print each rule's rows."""
    _setup_django()
    from allied.accounts.policy import Actor
    from allied.privacy.services.retention import retention_run

    run = retention_run(actor=Actor.system("allied privacy retention"), dry_run=args.dry_run)
    verb = "would" if args.dry_run else "did"
    for result in run.results:
        if result["rows"] or result["note"]:
            rows = f"{result['rows']} row{'s' if result['rows'] != 1 else ''}"
            note = f" ({result['note']})" if result["note"] else ""
            print(f"{result['model']} {', '.join(result['fields'])}: {result['action']} {rows}{note}")
    print(f"Retention {verb} touch {run.rows} row(s) under {len(run.results)} rule(s).")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["allied manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="allied", description="Allied operations platform")
    sub = parser.add_subparsers(dest="command", required=True)

    def server_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default=os.environ.get("ALLIED_HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("ALLIED_PORT", "8000")))
        p.add_argument("--workers", type=int, default=int(os.environ.get("ALLIED_WEB_WORKERS", "2")))

    p = sub.add_parser("serve", help="web server, task worker and scheduler together (the embedded default)")
    server_options(p)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("web", help="the web server (granian, WSGI)")
    server_options(p)
    p.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("ALLIED_WEB_THREADS", "4")),
        help="blocking threads per worker; keep workers x threads under the database's connection limit",
    )
    p.set_defaults(func=cmd_web)
    p = sub.add_parser("worker", help="a background task worker (run as many as you like)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
    p.add_argument("--batch", action="store_true", help="run what is queued now, then exit")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("scheduler", help="the cron scheduler (exactly one per deployment)")
    p.set_defaults(func=cmd_scheduler)
    p = sub.add_parser("migrate", help="create or update the database")
    p.add_argument("--verbosity", type=int, default=1)
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("demo", help="load the demo data (idempotent)")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("democode", help="the current two-factor code of a demo account (development only)")
    p.add_argument("email")
    p.set_defaults(func=cmd_democode)
    p = sub.add_parser("createoperator", help="create an AES staff account")
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="")
    p.add_argument("--role", default="admin")
    p.add_argument("--password", default="", help="prompted for when absent (or ALLIED_OPERATOR_PASSWORD)")
    p.set_defaults(func=cmd_createoperator)
    p = sub.add_parser("apikey", help="API keys")
    apikey_sub = p.add_subparsers(dest="apikey_command", required=True)
    p = apikey_sub.add_parser("create", help="create a key for a partner; printed once")
    p.add_argument("--org", required=True, help="the organization's short name (slug)")
    p.add_argument("--scopes", required=True, help="comma-separated, e.g. orders:read,orders:write")
    p.add_argument("--name", default="Created with the allied command")
    p.set_defaults(func=cmd_apikey_create)
    p = sub.add_parser("integrations", help="store connections")
    integrations_sub = p.add_subparsers(dest="integrations_command", required=True)
    p = integrations_sub.add_parser("connect", help="connect a partner's store; prints its id and webhook address")
    p.add_argument("platform", choices=["shopify", "woocommerce", "marketplace"])
    p.add_argument("--org", required=True, help="the partner's short name (slug)")
    p.add_argument(
        "--store",
        required=True,
        help="kohsar.myshopify.com, the WooCommerce site's https:// address, or Daraz's API (https://api.daraz.pk/rest)",
    )
    p.add_argument("--name", default="", help="a name for the connection (default: the store)")
    for name in (
        *("access_token", "client_secret", "consumer_key", "consumer_secret", "webhook_secret"),
        *("app_key", "app_secret", "refresh_token"),
    ):
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"or ALLIED_CONNECT_{name.upper()}")
    p.set_defaults(func=cmd_integrations_connect)
    p = integrations_sub.add_parser(
        "backfill", help="fetch every order a store changed since a date (a new connection's history, a gap)"
    )
    p.add_argument("--connection", type=int, required=True, help="the connection's id")
    p.add_argument("--since", type=_since, required=True, help="YYYY-MM-DD (UTC) or an ISO date and time")
    p.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    p.set_defaults(func=cmd_integrations_backfill)
    p = sub.add_parser("couriers", help="AES's accounts with courier companies")
    couriers_sub = p.add_subparsers(dest="couriers_command", required=True)
    p = couriers_sub.add_parser(
        "connect", help="connect AES's account with a courier; prints its id and webhook address"
    )
    p.add_argument("courier", choices=sorted(COURIER_OPTIONS))
    p.add_argument("--name", default="", help="a name for the account (default: the courier's)")
    p.add_argument("--areas", default="", help="comma-separated cities or areas it serves (default: everywhere)")
    p.add_argument("--sandbox", action="store_true", help="the courier's sandbox (Pathao)")
    for name in sorted({name for names in COURIER_OPTIONS.values() for name in names}):
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"or ALLIED_CONNECT_{name.upper()}")
    p.set_defaults(func=cmd_couriers_connect)
    p = sub.add_parser("routes", help="last-mile routes")
    routes_sub = p.add_subparsers(dest="routes_command", required=True)
    p = routes_sub.add_parser(
        "plan", help="plan a hub's day (its open stops, its riders on shift) and print the routes"
    )
    p.add_argument("--hub", required=True, help="the hub's code")
    p.add_argument("--date", type=_day, required=True, help="YYYY-MM-DD")
    p.add_argument("--seconds", type=int, default=10, help="the planner's time limit (1–600)")
    p.set_defaults(func=cmd_routes_plan)
    p = sub.add_parser("vault", help="the vault of stored secrets")
    vault_sub = p.add_subparsers(dest="vault_command", required=True)
    p = vault_sub.add_parser(
        "rotate",
        help="re-seal every stored secret under the newest key (the first of ALLIED_VAULT_KEYS); prints counts",
    )
    p.add_argument("--check", action="store_true", help="only count what is not under the newest key yet")
    p.add_argument("--batch-size", type=int, default=200, help="rows read at a time")
    p.set_defaults(func=cmd_vault_rotate)
    p = sub.add_parser("privacy", help="the privacy engine")
    privacy_sub = p.add_subparsers(dest="privacy_command", required=True)
    p = privacy_sub.add_parser("retention", help="apply every declared retention rule now")
    p.add_argument("--dry-run", action="store_true", help="count what would be redacted or deleted; change nothing")
    p.set_defaults(func=cmd_privacy_retention)

    p = sub.add_parser("inventory", help="inventory checks")
    inventory_sub = p.add_subparsers(dest="inventory_command", required=True)
    p = inventory_sub.add_parser("verify", help="prove the stock ledger and the balances agree")
    p.set_defaults(func=cmd_inventory_verify)
    p = sub.add_parser("manage", help="any Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
