import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core.cache import caches
from django.db import connection
from django.test import Client

from allied.accounts.models import Membership, Organization
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.accounts.services import api_key_create
from allied.core.ratelimit import READ_LIMITS
from tests.accounts.factories import MembershipFactory, OperatorOrganizationFactory, OrganizationFactory


def pytest_configure(config: pytest.Config) -> None:
    """When the suite runs on PostgreSQL, an unreachable server fails the run; it never skips."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    server = make_conninfo(**{**conninfo_to_dict(url), "dbname": "postgres"})  # the test database is made from here
    try:
        psycopg.connect(server, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        pytest.exit(f"ALLIED_TEST_POSTGRES names a database that cannot be reached: {error}", returncode=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    for item in items:
        if item.get_closest_marker("postgres") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set ALLIED_TEST_POSTGRES (make test does)"))


@pytest.fixture(autouse=True)
def _read_limits_start_at_zero() -> None:
    """The limits on public reads count in process memory (no Redis in tests), which no test's
    rollback resets."""
    caches[READ_LIMITS].clear()


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def operator_org(db: None) -> Organization:
    return OperatorOrganizationFactory()


@pytest.fixture
def partner_a(db: None) -> Organization:
    return OrganizationFactory(name="Partner A", slug="partner-a")


@pytest.fixture
def partner_b(db: None) -> Organization:
    return OrganizationFactory(name="Partner B", slug="partner-b")


@pytest.fixture
def member(db: None) -> Callable[..., Membership]:
    def make(organization: Organization, role: str = Role.OWNER, **user_fields: Any) -> Membership:
        if user_fields:
            return MembershipFactory(
                organization=organization, role=role, **{f"user__{k}": v for k, v in user_fields.items()}
            )
        return MembershipFactory(organization=organization, role=role)

    return make


def enable_totp(user: Any) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def current_totp_code(secret: str) -> str:
    """The code of the current 30 s step, taken where it has a few seconds left to be used."""
    import time

    remaining = 30 - time.time() % 30
    if remaining < 3:
        time.sleep(remaining + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def client_for() -> Callable[[Membership], Client]:
    """A browser session signed in as the member (with MFA satisfied where the role needs it)."""

    def make(membership: Membership) -> Client:
        user = membership.user
        if (
            membership.role in {Role.ADMIN, Role.FINANCE, Role.PRIVACY_OFFICER}
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            enable_totp(user)
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for() -> Callable[..., Client]:
    """A client that sends a fresh API key of the organization with the given scopes."""

    def make(organization: Organization, scopes: list[str] | None = None) -> Client:
        _, raw_key = api_key_create(
            organization=organization,
            name="test app",
            scopes=scopes or ["orders:read", "orders:write", "inventory:read", "inventory:write", "tracking:read"],
            actor=Actor.system("tests"),
        )
        return Client(headers={"Authorization": f"Bearer {raw_key}"})

    return make


@dataclass
class Floor:
    """A warehouse with a receiving dock, a quarantine area and two storage bins."""

    warehouse: Any
    dock: Any
    quarantine: Any
    shelf_a: Any
    shelf_b: Any


@pytest.fixture
def floor(db: None) -> Floor:
    from allied.inventory.models import BinKind
    from tests.inventory.factories import BinFactory, WarehouseFactory

    warehouse = WarehouseFactory()
    return Floor(
        warehouse=warehouse,
        dock=BinFactory(warehouse=warehouse, code="DOCK-1", kind=BinKind.RECEIVING),
        quarantine=BinFactory(warehouse=warehouse, code="Q-1", kind=BinKind.QUARANTINE),
        shelf_a=BinFactory(warehouse=warehouse, code="A-01-01"),
        shelf_b=BinFactory(warehouse=warehouse, code="B-02-01"),
    )


@pytest.fixture
def stock_in(floor: Floor) -> Callable[..., None]:
    """Put units of a product on a shelf through the real receiving path (ASN, receipt, put-away)."""
    from allied.inventory.services import inbound_create, inbound_receive, stock_put_away

    counter = iter(range(1, 1_000_000))

    def put(product: Any, quantity: int, *, bin: Any = None) -> None:
        operator = Actor.system("tests")
        inbound = inbound_create(
            organization=product.organization,
            warehouse=floor.warehouse,
            reference=f"ASN-{next(counter)}",
            lines=[(product, quantity)],
            actor=operator,
        )
        inbound_receive(inbound=inbound, received={inbound.lines.get().pk: (quantity, 0)}, actor=operator)
        stock_put_away(
            product=product, from_bin=floor.dock, to_bin=bin or floor.shelf_a, quantity=quantity, actor=operator
        )

    return put


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("tests")
