"""Every page and every API operation, called by every kind of caller, answers what the policy says.

Beside the tenant sweep (tests/test_tenant_isolation.py, which asks "can A reach B's rows?"),
this one asks "may this caller do this at all?". It walks the URL resolver and the OpenAPI
schema, and calls each route with each method it handles as: nobody (anonymous), a partner
member of each partner role, an AES operator of each operator role (those whose role needs a
second factor sign in with their authenticator app), and, for the API, a key of each single
scope and of all scopes, and a signed-in session without a key.

The expectations are the tables PAGES and OPERATIONS below, one entry per route name and per
operation id, each naming the permission of `allied.accounts.policy` the route needs and
whether it is AES's (operators only) or the partner's. A route or operation without an entry
fails the sweep, and so does an entry whose route is gone.

Outcomes, as a caller sees them:
  ok       2xx, 3xx other than to sign-in, or a 4xx about the input or the state (400, 409, 422),
           with no permission refused on the way;
  refused  403, or 404 (an object's page answers 404 to whoever may not see it);
  sign-in  a redirect to the sign-in page, or 401 from the API;
  405      the route does not take this method, whoever asks.
A permission refusal that a page catches and shows as a message (200 or 302) is its own
outcome, never expected: it is seen by recording every `PermissionDenied` raised while the
request is handled, so a caught refusal is never mistaken for a success. Any 5xx fails.

The console (/ops/) and the portal (/portal/) share their list and detail views: which rows
show depends on the caller, not on the prefix, so the prefix is not what is checked here.
What is AES's alone, whatever a partner's role or a key's scopes (the warehouse floor:
picking, packing, manifests and handover; receiving and put-away; stock corrections and
counts; delivery outcomes; receiving returns), is marked `aes(...)`.

Where today's code disagrees with the policy, the table still says what the policy says and
KNOWN_MISMATCHES marks the case as a strict xfail, so it flips to a failure once fixed.
"""

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from typing import Any
from unittest import mock

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from allied.accounts import policy
from allied.accounts.policy import (
    API_KEYS_MANAGE,
    AUDIT_VIEW,
    CATALOG_MANAGE,
    CATALOG_VIEW,
    CONSOLE_ACCESS,
    DELIVERY_MANAGE,
    DELIVERY_RECORD,
    DELIVERY_REQUEST,
    DELIVERY_VIEW,
    FINANCE_MANAGE,
    INTEGRATIONS_MANAGE,
    INVENTORY_MANAGE,
    INVENTORY_VIEW,
    LEADS_MANAGE,
    ORDERS_FULFIL,
    ORDERS_MANAGE,
    ORDERS_VIEW,
    ORGANIZATIONS_MANAGE,
    ORGANIZATIONS_VIEW_ALL,
    PORTAL_ACCESS,
    PRIVACY_MANAGE,
    TEAM_MANAGE,
    TEAM_VIEW,
    WAREHOUSE_MANAGE,
    WEBHOOKS_MANAGE,
    WEBSITE_MANAGE,
    Actor,
)
from allied.accounts.roles import MFA_REQUIRED_ROLES, OPERATOR_SCOPES, ApiScope, Role
from allied.accounts.services import api_key_create, invitation_create
from allied.api import api
from allied.core import errors
from allied.core.address import Address
from allied.core.tracking import TrackingStatus
from allied.couriers.models import CourierAccount
from allied.delivery.models import DeliveryTask, HandBack, PlanRun, Route, RouteStatus, TaskKind
from allied.delivery.services.tasks import TaskInput, delivery_tasks_create
from allied.delivery.services.tracking import tracking_event_record
from allied.fulfillment.models import Manifest, PickList, Return, ReturnLine, ReturnSource
from allied.integrations.services.connections import connection_create
from allied.integrations.services.subscriptions import subscription_create, subscription_send_test
from allied.inventory.models import BinKind, CycleCount, InboundShipment, MoveReason
from allied.inventory.services import inbound_create, inbound_receive, stock_put_away
from allied.orders.services.intake import order_create
from allied.orders.services.lifecycle import order_hand_over, order_pack, order_pick, order_start_picking
from allied.privacy.models import DataSubjectRequest, RetentionRun
from allied.privacy.services.notice import notice_refresh
from allied.website.services import lead_submit, page_create
from tests.accounts.factories import PASSWORD, MembershipFactory, OperatorOrganizationFactory, OrganizationFactory
from tests.catalog.factories import ProductFactory
from tests.conftest import current_totp_code, enable_totp
from tests.delivery.factories import HubFactory, RiderFactory, ShiftFactory
from tests.inventory.factories import BinFactory, WarehouseFactory
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db

OK, REFUSED, SIGN_IN, NOT_ALLOWED = "ok", "refused", "sign-in", "405"
REFUSED_AS_MESSAGE = "refused, answered as a message"  # never expected: a refusal is a 403 (or 404)
LOGIN_PATH = "/accounts/login/"


# Callers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    name: str
    kind: str  # "anonymous", "partner", "operator", "key", "session" (signed in, calling the API)
    role: str = ""
    scopes: tuple[str, ...] = ()

    @property
    def permissions(self) -> frozenset[str]:
        if self.kind == "key":
            return frozenset().union(*(policy.SCOPE_PERMISSIONS[scope] for scope in self.scopes))
        return policy.ROLE_PERMISSIONS.get(self.role, frozenset())

    @property
    def signed_in(self) -> bool:
        return self.kind in {"partner", "operator"}

    @property
    def is_aes_key(self) -> bool:
        """A key of AES itself: it holds operator scopes only (decision 0008)."""
        return self.kind == "key" and set(self.scopes) <= OPERATOR_SCOPES

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator" or self.is_aes_key

    @property
    def is_partner(self) -> bool:
        return self.kind == "partner" or (self.kind == "key" and not self.is_aes_key)


ANONYMOUS = Caller("anonymous", "anonymous")
PARTNER_CALLERS = [Caller(role.value, "partner", role) for role in (Role.OWNER, Role.MANAGER, Role.VIEWER)]
OPERATOR_CALLERS = [
    Caller(role.value, "operator", role)
    for role in (
        Role.ADMIN,
        Role.DISPATCHER,
        Role.WAREHOUSE,
        Role.RIDER,
        Role.FINANCE,
        Role.PRIVACY_OFFICER,
        Role.SUPPORT,
    )
]
PAGE_CALLERS = [ANONYMOUS, *PARTNER_CALLERS, *OPERATOR_CALLERS]
PARTNER_SCOPES = [scope.value for scope in ApiScope if scope not in OPERATOR_SCOPES]
API_CALLERS = [
    ANONYMOUS,
    Caller("owner-session", "session", Role.OWNER),  # the API takes keys only, never a browser session
    # a key of partner A per scope, and AES's own key per operator scope (decision 0008)
    *(Caller(f"key[{scope.value}]", "key", scopes=(scope.value,)) for scope in ApiScope),
    Caller("key[all]", "key", scopes=tuple(PARTNER_SCOPES)),  # every scope a partner's key may hold
]


# Rules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who may: a permission of the policy, optionally only AES operators or only partners."""

    permission: str = ""
    also: str = ""  # a second permission the caller needs too (to see the page the action is on)
    area: str = ""  # "aes", "partner" or "" (either)
    public: bool = False
    nobody: bool = False
    method_not_allowed: bool = False
    absent: bool = False
    with_authenticator: bool = False
    alternatives: tuple["Rule", ...] = ()

    def __or__(self, other: "Rule") -> "Rule":
        return Rule(alternatives=(*(self.alternatives or (self,)), *(other.alternatives or (other,))))

    def allows(self, caller: Caller) -> bool:
        if self.alternatives:
            return any(rule.allows(caller) for rule in self.alternatives)
        if self.nobody:
            return False
        if self.with_authenticator and caller.role not in MFA_REQUIRED_ROLES:
            return False
        if self.area == "aes" and not caller.is_operator:
            return False
        if self.area == "partner" and not caller.is_partner:
            return False
        return all(not needed or needed in caller.permissions for needed in (self.permission, self.also))

    def expect_page(self, caller: Caller) -> str:
        if self.method_not_allowed:
            return NOT_ALLOWED
        if self.absent:
            return REFUSED
        if self.public:
            return OK
        if not caller.signed_in:
            return SIGN_IN
        return OK if self.allows(caller) else REFUSED

    def expect_api(self, caller: Caller) -> str:
        if self.public:
            return OK
        if caller.kind != "key":
            return SIGN_IN
        return OK if self.allows(caller) else REFUSED


PUBLIC = Rule(public=True)
SIGNED_IN = Rule()  # any signed-in person, whatever their role
NOBODY = Rule(nobody=True)
POST_ONLY = Rule(method_not_allowed=True)  # @require_POST answers 405 before asking who calls
GET_ONLY = Rule(method_not_allowed=True)  # @require_GET
ABSENT = Rule(absent=True)  # a pattern that answers 404 to everyone
# Signed in with an authenticator app (in this sweep, exactly the roles that must have one).
WITH_AUTHENTICATOR = Rule(with_authenticator=True)


def needs(permission: str) -> Rule:
    """Anyone, operator or partner, whose role grants the permission."""
    return Rule(permission=permission)


def aes(permission: str, *, also: str = "") -> Rule:
    """AES operator staff whose role grants the permission; never a partner, whatever its role."""
    return Rule(permission=permission, also=also, area="aes")


def partner(permission: str) -> Rule:
    return Rule(permission=permission, area="partner")


# Team changes: the organization's own owner, or an AES administrator (policy.can_manage_team_of).
MANAGES_PARTNER_A_TEAM = partner(TEAM_MANAGE) | aes(ORGANIZATIONS_MANAGE)
MANAGES_OWN_TEAM = needs(TEAM_MANAGE)


# The world the sweep acts on ----------------------------------------------------------------


@dataclass
class World:
    """Partner A's rows (which operators see too), and a session or key per caller."""

    ids: dict[str, object]
    sku: str
    order_line_id: int
    return_line_id: int
    inbound_line_id: int
    order_number: str
    tracking_code: str
    partner_slug: str
    hub_code: str
    route_id: int
    failed_task_id: int
    sessions: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _sign_in(membership: Any) -> str:
    """A session as the member; roles that need a second factor sign in with password and TOTP."""
    client = Client()
    if membership.role in MFA_REQUIRED_ROLES:
        secret = enable_totp(membership.user)
        RecoveryCodes.activate(membership.user)
        after_password = client.post(LOGIN_PATH, {"login": membership.user.email, "password": PASSWORD})
        assert after_password["Location"] == "/accounts/2fa/authenticate/", "MFA roles are asked for the code"
        after_code = client.post("/accounts/2fa/authenticate/", {"code": current_totp_code(secret)})
        assert after_code.status_code == 302, "signed in with the second factor"
    else:
        client.force_login(membership.user)
    return _session_key(client)


def _rider_stop(partner: Any, rider_user: Any) -> DeliveryTask:
    """A drop-off of partner A on the sweep rider's published route (not started)."""
    hub = HubFactory()
    rider = RiderFactory(user=rider_user, hub=hub)
    [stop] = delivery_tasks_create(
        organization=partner,
        stops=[
            TaskInput(
                kind=TaskKind.DROP_OFF,
                hub_code=hub.code,
                date=timezone.localdate(),
                address=Address.given(line1="House 1, Street 4", city=hub.city, area="PECHS"),
                contact_name="Sweep Recipient",
                contact_phone="0300 1112233",
            )
        ],
        actor=Actor.system("sweep"),
    )
    now = timezone.now()
    route = Route.objects.create(
        hub=hub, rider=rider, date=timezone.localdate(), status=RouteStatus.PUBLISHED, starts_at=now, ends_at=now
    )
    DeliveryTask.objects.filter(pk=stop.pk).update(route=route, sequence=1)
    return stop


def _sweep_stop(hub_code: str) -> TaskInput:
    return TaskInput(
        kind="drop_off",
        hub_code=hub_code,
        date=timezone.localdate(),
        address=Address.given(line1="House 1", area="PECHS", city="Karachi", lat=Decimal("24.873"), lng=Decimal("67")),
        contact_name="Sweep Recipient",
        contact_phone="+92 300 1112233",
    )


def _build_world() -> World:
    system = Actor.system("tests")
    operator_org = OperatorOrganizationFactory()
    partner_a = OrganizationFactory(name="Sweep Partner", slug="sweep-partner")
    memberships = {
        caller.name: MembershipFactory(organization=partner_a, role=caller.role) for caller in PARTNER_CALLERS
    }
    memberships |= {
        caller.name: MembershipFactory(organization=operator_org, role=caller.role) for caller in OPERATOR_CALLERS
    }
    owner = Actor(user=memberships[Role.OWNER].user, organization=partner_a, role=Role.OWNER)

    warehouse = WarehouseFactory()
    dock = BinFactory(warehouse=warehouse, code="DOCK-1", kind=BinKind.RECEIVING)
    BinFactory(warehouse=warehouse, code="Q-1", kind=BinKind.QUARANTINE)
    shelf = BinFactory(warehouse=warehouse, code="A-01-01")
    product = ProductFactory(organization=partner_a, sku="SWEEP-TEE")
    delivered_stock = inbound_create(
        organization=partner_a, warehouse=warehouse, reference="SWEEP-STOCK", lines=[(product, 1)], actor=system
    )
    inbound_receive(inbound=delivered_stock, received={delivered_stock.lines.get().pk: (1, 0)}, actor=system)
    stock_put_away(product=product, from_bin=dock, to_bin=shelf, quantity=1, actor=system)

    target_member = MembershipFactory(organization=partner_a, role=Role.VIEWER)  # what team changes act on
    invitation, token = invitation_create(
        organization=partner_a, email="invitee@sweep.example", role=Role.VIEWER, actor=owner
    )
    target_key, _ = api_key_create(organization=partner_a, name="to revoke", scopes=["orders:read"], actor=owner)
    # An order on its way to the customer: what AES records a delivery outcome for.
    order = order_create(
        organization=partner_a, actor=owner, warehouse=warehouse, data=order_input((product.sku, 1))
    ).order
    order_start_picking(order=order, actor=system)
    order_pick(order=order, code=product.sku, quantity=1, bin_code=shelf.code, actor=system)
    order_pack(order=order, scanned_codes=[product.sku], weight_grams=400, dimensions_mm="", actor=system)
    order_hand_over(order=order, carrier="tcs", actor=system)
    order.refresh_from_db()
    inbound = inbound_create(
        organization=partner_a, warehouse=warehouse, reference="SWEEP-ASN", lines=[(product, 5)], actor=owner
    )
    # A stop of AES's riders: what the public tracking page shows.
    HubFactory()
    [stop] = delivery_tasks_create(
        organization=partner_a,
        stops=[
            TaskInput(
                kind=TaskKind.DROP_OFF,
                hub_code="KHI-H1",
                date=timezone.localdate(),
                address=Address(line1="House 1, Street 4", city="Karachi"),
                contact_name="Sweep Recipient",
                contact_phone="+92 300 1112233",
            )
        ],
        actor=system,
    )
    parcel_return = Return.objects.create(organization=partner_a, order=order, source=ReturnSource.PARTNER_REQUEST)
    return_line = ReturnLine.objects.create(
        organization=partner_a, parcel_return=parcel_return, order_line=order.lines.get(), quantity=1
    )
    pick_list = PickList.objects.create(warehouse=warehouse)
    pick_list.orders.add(order)
    manifest = Manifest.objects.create(warehouse=warehouse, carrier="tcs")
    count = CycleCount.objects.create(
        organization=partner_a, product=product, bin=shelf, expected_quantity=1, first_count=2, status="recount"
    )

    connection = connection_create(
        organization=partner_a,
        kind="shopify",
        name="Sweep store",
        store_url="sweep.myshopify.com",
        credentials={"access_token": "shpat_sweep_token_1111", "client_secret": "shpss_sweep_secret_2222"},
        actor=Actor.system("sweep"),
    )
    webhook, _ = subscription_create(
        organization=partner_a, url="https://sweep.example.com/hooks", event_types=["order.*"], actor=owner
    )
    webhook_delivery = subscription_send_test(subscription=webhook, actor=owner)
    # Partner A's stop whose delivery failed today, and a rider's route of the day at its hub.
    hub = HubFactory()
    address = Address.given(line1="House 1", city="Karachi", area="PECHS", lat=Decimal("24.873"), lng=Decimal("67.06"))
    stop = TaskInput(
        kind="drop_off",
        hub_code=hub.code,
        date=timezone.localdate(),
        address=address,
        contact_name="Hina Baig",
        contact_phone="0300 1112233",
    )
    [failed_task] = delivery_tasks_create(organization=partner_a, stops=[stop], actor=system)
    tracking_event_record(task=failed_task, status=TrackingStatus.OUT_FOR_DELIVERY, actor=system)
    tracking_event_record(task=failed_task, status=TrackingStatus.ATTEMPT_FAILED, actor=system, reason="Not home")
    route = Route.objects.create(
        hub=hub, rider=RiderFactory(hub=hub), date=failed_task.date, starts_at=timezone.now(), ends_at=timezone.now()
    )
    rider_stop = _rider_stop(partner_a, memberships[Role.RIDER].user)
    # The last mile: a hub with a rider on shift today, one of partner A's stops on that rider's route.
    api_hub = HubFactory(code="SWEEP-H1")
    api_rider = RiderFactory(hub=api_hub)
    ShiftFactory(rider=api_rider)
    [api_stop] = delivery_tasks_create(organization=partner_a, stops=[_sweep_stop(api_hub.code)], actor=system)
    api_route = Route.objects.create(
        hub=api_hub,
        rider=api_rider,
        date=api_stop.date,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    api_stop.route, api_stop.sequence = api_route, 1
    api_stop.save(update_fields=["route", "sequence"])
    plan_run = PlanRun.objects.create(hub=api_hub, date=api_stop.date, seconds=1, status="done")
    privacy_request = DataSubjectRequest.objects.create(
        kind="correction", source="website", email="sweep-person@example.com", status="open"
    )
    retention = RetentionRun.objects.create(triggered_by="sweep")
    # The public site: a published page, and a lead from its contact form.
    site_page = page_create(slug="sweep-page", title="Sweep page", body="# Sweep", status="published", actor=system)
    lead = lead_submit(kind="inquiry", name="Sweep Visitor", email="visitor@sweep.example", message="Hello")
    courier_account = CourierAccount.objects.create(code="steadfast", name="Sweep Steadfast")
    hand_back = HandBack.objects.create(
        route=route,
        expected_cash=Decimal("0"),
        handed_cash=Decimal("0"),
        expected_parcels=0,
        handed_parcels=0,
        at=timezone.now(),
        recorded_by="sweep",
    )
    notice = notice_refresh()
    world = World(
        ids={
            "product_id": product.pk,
            "order_id": order.pk,
            "return_id": parcel_return.pk,
            "inbound_id": inbound.pk,
            "count_id": count.pk,
            "pick_list_id": pick_list.pk,
            "manifest_id": manifest.pk,
            "membership_id": target_member.pk,
            "invitation_id": invitation.pk,
            "api_key_id": target_key.pk,
            "slug": partner_a.slug,
            "token": token,
            "key": "no-such-key",  # allauth's e-mail confirmation and password reset links
            "uidb36": "0",
            "connection_id": connection.pk,
            "kind": "shopify",
            "public_id": "00000000-0000-0000-0000-000000000000",  # no such connection
            "courier": "tcs",  # a carrier with no courier adapter: no webhooks
            "webhook_id": webhook.pk,
            "delivery_id": webhook_delivery.pk,
            "tracking_code": rider_stop.tracking_code,
            "stop_id": rider_stop.public_id,
            "code": api_hub.code,
            "rider_id": api_rider.pk,
            "date": api_stop.date.isoformat(),
            "route_id": api_route.pk,
            "plan_id": str(plan_run.public_id),
            "request_id": str(privacy_request.public_id),
            "run_id": retention.pk,
            "page_id": site_page.pk,
            "page_slug": site_page.slug,
            "lead_id": lead.pk,
            "account_id": courier_account.pk,
            "hand_back_id": hand_back.pk,
            "number": notice.number,  # the privacy notice's version
        },
        sku=product.sku,
        order_line_id=order.lines.get().pk,
        return_line_id=return_line.pk,
        inbound_line_id=InboundShipment.objects.get(pk=inbound.pk).lines.get().pk,
        order_number=order.number,
        tracking_code=order.tracking_code,
        partner_slug=partner_a.slug,
        hub_code=hub.code,
        route_id=route.pk,
        failed_task_id=failed_task.pk,
    )
    for name, membership in memberships.items():
        world.sessions[name] = _sign_in(membership)
    for caller in API_CALLERS:
        if caller.kind == "key":
            _, world.keys[caller.name] = api_key_create(
                organization=operator_org if caller.is_aes_key else partner_a,
                name=caller.name,
                scopes=list(caller.scopes),
                actor=system,
            )
    world.sessions["owner-session"] = world.sessions[Role.OWNER]
    return world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module; each test runs in a savepoint inside, so writes never leak between cases."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


# Request bodies -----------------------------------------------------------------------------

Body = Callable[[World, Caller], dict[str, Any]]


def _invite(world: World, caller: Caller) -> dict[str, Any]:
    return {"email": "new-person@sweep.example", "role": Role.SUPPORT if caller.is_operator else Role.VIEWER}


def _product_form(world: World, caller: Caller) -> dict[str, Any]:
    values = {"sku": "SWEEP-NEW", "name": "A product from the sweep", "currency": "PKR", "is_active": "on"}
    return values | ({"partner": world.partner_slug} if caller.is_operator else {})


def _board(action: str, **values: Any) -> Body:
    return lambda w, c: (
        {"action": action, "hub": w.hub_code, "date": timezone.localdate().isoformat()}
        | {name: str(value(w) if callable(value) else value) for name, value in values.items()}
    )


def _failed(action: str, **values: Any) -> Body:
    return lambda w, c: (
        {"action": action, "task": w.failed_task_id}
        | {name: value() if callable(value) else value for name, value in values.items()}
    )


_CORRECTION = {"line1": "House 9, Street 4", "area": "PECHS", "city": "Karachi", "phone": "0321 4445566"}


def _tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


def _route(world: World) -> int:
    return world.route_id


def _task(world: World) -> int:
    return world.failed_task_id


_visitor = {"name": "Sweep", "email": "s@sweep.example", "message": "Hi"}  # no form stamp: refused with 400
_site_page = {"title": "Sweep", "slug": "sweep-page", "body": "y", "nav_order": "1", "status": "draft"}


PAGE_BODIES: dict[tuple[str, str], Body] = {
    ("dispatch_board", "plan"): _board("plan", seconds=1),
    ("dispatch_board", "lock"): _board("lock", route=_route),
    ("dispatch_board", "publish"): _board("publish", route=_route),
    ("dispatch_board", "move"): _board("move", route=_route, task=_task),
    ("dispatch_board", "pin"): _board("pin", task=_task, lat="24.87", lng="67.06"),
    ("ops_failed_deliveries", "reattempt"): _failed("reattempt", date=_tomorrow),
    ("ops_failed_deliveries", "contact"): _failed("contact", **_CORRECTION),
    ("ops_failed_deliveries", "return"): _failed("return"),
    ("portal_failed_deliveries", "reattempt"): _failed("reattempt", date=_tomorrow),
    ("portal_failed_deliveries", "contact"): _failed("contact", **_CORRECTION),
    ("portal_failed_deliveries", "return"): _failed("return"),
    ("ops_failed_deliveries", "book"): _failed("book"),
    ("portal_failed_deliveries", "book"): _failed("book"),
    ("courier_accounts", ""): lambda w, c: {"action": "areas", "account": w.ids["account_id"], "areas": "Dhaka"},
    ("hand_backs", ""): lambda w, c: {
        "hand_back": w.ids["hand_back_id"],
        "cash_received": "0",
        "parcels_returned": "0",
    },
    ("switch_organization", ""): lambda w, c: {"organization": w.partner_slug},
    ("profile", ""): lambda w, c: {"full_name": "Sweep Person", "language": "en", "contact_preference": "email"},
    ("cookie_settings", ""): lambda w, c: {"choice": "custom", "category": ["preferences"]},
    ("consent_choose", ""): lambda w, c: {"choice": "reject", "next": "/"},
    ("organizations", ""): lambda w, c: {
        "name": "Sweep Brand",
        "slug": "sweep-brand",
        "owner_email": "o@sweep.example",
    },
    ("organization_detail", ""): lambda w, c: {"email": "new-person@sweep.example", "role": Role.VIEWER},
    ("ops_team", ""): _invite,
    ("portal_team", ""): _invite,
    ("membership_update", "role"): lambda w, c: {"role": Role.MANAGER},
    ("membership_update", "remove"): lambda w, c: {"action": "remove"},
    ("api_keys", ""): lambda w, c: {"name": "sweep app", "scopes": ["orders:read"]},
    ("ops_product_new", ""): _product_form,
    ("portal_product_new", ""): _product_form,
    ("ops_product_edit", ""): lambda w, c: {"sku": w.sku, "name": "Renamed by the sweep", "currency": "PKR"},
    ("portal_product_edit", ""): lambda w, c: {"sku": w.sku, "name": "Renamed by the sweep", "currency": "PKR"},
    ("ops_order_detail", "cancel"): lambda w, c: {"action": "cancel", "reason": "sweep"},
    ("ops_order_detail", "split"): lambda w, c: {"action": "split"},
    ("ops_order_detail", "delivered"): lambda w, c: {"action": "delivered", "note": "sweep"},
    ("ops_order_detail", "failed"): lambda w, c: {"action": "failed", "note": "sweep"},
    ("portal_order_detail", "cancel"): lambda w, c: {"action": "cancel", "reason": "sweep"},
    ("portal_order_detail", "split"): lambda w, c: {"action": "split"},
    ("portal_order_detail", "delivered"): lambda w, c: {"action": "delivered", "note": "sweep"},
    ("portal_order_detail", "failed"): lambda w, c: {"action": "failed", "note": "sweep"},
    ("order_return_request", ""): lambda w, c: {f"return-{w.order_line_id}": "1", "reason": "sweep"},
    ("ops_return_detail", "receive"): lambda w, c: {f"condition-{w.return_line_id}": "restock"},
    ("portal_return_detail", "receive"): lambda w, c: {f"condition-{w.return_line_id}": "restock"},
    ("stock_correct", "count"): lambda w, c: {
        "action": "count",
        "count-code": w.sku,
        "count-bin": "A-01-01",
        "count-counted": "1",
    },
    ("stock_correct", "adjust"): lambda w, c: {
        "action": "adjust",
        "adjust-code": w.sku,
        "adjust-bin": "A-01-01",
        "adjust-delta": "1",
        "adjust-reason": MoveReason.ADJUST_FOUND,
    },
    ("recount", ""): lambda w, c: {"counted": "2"},
    ("inbound_receive", ""): lambda w, c: {f"good-{w.inbound_line_id}": "5", f"damaged-{w.inbound_line_id}": "0"},
    ("put_away", ""): lambda w, c: {"code": w.sku, "from_bin": "DOCK-1", "to_bin": "A-01-01", "quantity": "1"},
    ("pick_list_new", ""): lambda w, c: {"batch_size": "5"},
    ("pick_list", ""): lambda w, c: {"code": w.sku, "bin": "A-01-01"},
    ("packing_queue", ""): lambda w, c: {"code": w.order_number},
    ("pack_order", "scan"): lambda w, c: {"action": "scan", "scan-code": w.sku},
    ("pack_order", "pack"): lambda w, c: {"action": "pack", "parcel-weight_grams": "500"},
    ("handover", ""): lambda w, c: {"carrier": "tcs"},
    ("manifest", "scan"): lambda w, c: {"code": w.tracking_code},
    ("manifest", "close"): lambda w, c: {"action": "close"},
    ("portal_inbound", ""): lambda w, c: {"reference": "SWEEP-ASN-2", "lines": f"{w.sku}, 3"},
    ("track_change", "send"): lambda w, c: {"action": "send"},
    ("website_contact", ""): lambda w, c: {
        "name": "Sweep",
        "email": "s@sweep.example",
        "message": "Hi",
        "service": "other",
    },
    ("website_feedback", ""): lambda w, c: {"name": "Sweep", "email": "s@sweep.example", "message": "Hi"},
    ("ops_website_page_new", ""): lambda w, c: {
        "title": "New",
        "slug": "sweep-new",
        "body": "x",
        "nav_order": "1",
        "status": "draft",
    },
    ("ops_website_page", ""): lambda w, c: {
        "title": "Sweep",
        "slug": "sweep-page",
        "body": "y",
        "nav_order": "1",
        "status": "published",
    },
    ("ops_website_page_preview", ""): lambda w, c: {"title": "Sweep", "body": "# Preview"},
    ("ops_lead", "note"): lambda w, c: {"action": "note", "note": "Called them"},
    ("ops_lead", "status"): lambda w, c: {"action": "status", "status": "contacted"},
    ("rider_run_sheet", "start"): lambda w, c: {"client_action_id": "00000000-0000-4000-8000-000000000001"},
    ("rider_stop", "deliver"): lambda w, c: {
        "action": "deliver",
        "client_action_id": "00000000-0000-4000-8000-000000000002",
        "recipient_name": "Sweep",
    },
    ("rider_stop", "fail"): lambda w, c: {
        "action": "fail",
        "client_action_id": "00000000-0000-4000-8000-000000000003",
        "reason": "not_home",
    },
    ("rider_stop", "pickup"): lambda w, c: {
        "action": "pickup",
        "client_action_id": "00000000-0000-4000-8000-000000000004",
        "code": "NOT-A-CODE",
    },
    ("rider_stop", "code"): lambda w, c: {"action": "code"},
    ("rider_hand_back", ""): lambda w, c: {
        "handed_cash": "0",
        "handed_parcels": "1",
        "client_action_id": "00000000-0000-4000-8000-000000000005",
    },
}

# The table: every page -----------------------------------------------------------------------
# Keys are "METHOD" or "METHOD variant" (the variant picks a body from PAGE_BODIES).

_ALLAUTH_PUBLIC = {"GET": PUBLIC}
_ALLAUTH_SIGNED_IN = {"GET": SIGNED_IN}

PAGES: dict[str, dict[str, Rule]] = {
    # Public
    "website_home": {"GET": PUBLIC, "POST": GET_ONLY},
    "healthz": {"GET": PUBLIC, "POST": GET_ONLY},
    # A store's webhook: its signature is the credential (tests/integrations); no session counts
    "store_webhook": {"GET": POST_ONLY, "POST": ABSENT},
    # A courier's webhook: the secret it carries is the credential (tests/delivery/test_courier_flow.py)
    "courier_webhook": {"GET": POST_ONLY, "POST": ABSENT},
    # Store connections: the partner's owner and AES administrators
    "ops_connections": {"GET": needs(INTEGRATIONS_MANAGE), "POST": needs(INTEGRATIONS_MANAGE)},
    "portal_connections": {"GET": needs(INTEGRATIONS_MANAGE), "POST": needs(INTEGRATIONS_MANAGE)},
    "ops_connection": {"GET": needs(INTEGRATIONS_MANAGE), "POST": needs(INTEGRATIONS_MANAGE)},
    "portal_connection": {"GET": needs(INTEGRATIONS_MANAGE), "POST": needs(INTEGRATIONS_MANAGE)},
    # Partners' webhook endpoints: the partner's owner (or a webhooks:manage key) and AES administrators
    "ops_webhooks": {"GET": needs(WEBHOOKS_MANAGE), "POST": needs(WEBHOOKS_MANAGE)},
    "portal_webhooks": {"GET": needs(WEBHOOKS_MANAGE), "POST": needs(WEBHOOKS_MANAGE)},
    "ops_webhook": {"GET": needs(WEBHOOKS_MANAGE), "POST": needs(WEBHOOKS_MANAGE)},
    "portal_webhook": {"GET": needs(WEBHOOKS_MANAGE), "POST": needs(WEBHOOKS_MANAGE)},
    "invitation_accept": {"GET": PUBLIC, "POST": PUBLIC},  # the token is the credential
    # The public tracking page: the tracking code is the credential, and changes need the code
    # texted to the recipient's phone (tests/delivery/test_tracking_page.py)
    "track_lookup": {"GET": PUBLIC, "POST": GET_ONLY},
    "track": {"GET": PUBLIC, "POST": GET_ONLY},
    "track_change": {"GET": PUBLIC, "POST": PUBLIC, "POST send": PUBLIC},
    "track_stop": {"GET": PUBLIC, "POST": PUBLIC},
    # The public website: its pages, and the inquiry and feedback forms (spam checks answer 4xx)
    "website_page": {"GET": PUBLIC, "POST": GET_ONLY},
    "website_contact": {"GET": PUBLIC, "POST": PUBLIC},
    "website_feedback": {"GET": PUBLIC, "POST": PUBLIC},
    # Cookie choices: anyone, signed in or not (tests/privacy/test_consent.py)
    "cookie_settings": {"GET": PUBLIC, "POST": PUBLIC},
    "consent_choose": {"GET": POST_ONLY, "POST": PUBLIC},
    "api:api-root": {"GET": ABSENT},  # django-ninja's root: nothing lives at /api/v1/ itself
    "api:openapi-json": {"GET": PUBLIC},
    "api:openapi-view": {"GET": PUBLIC},
    # Data-subject requests: anyone may ask; a request's own pages answer only the browser that
    # entered its codes (a session mark no sweep caller has), 404 to everyone else
    # (tests/privacy/test_requests.py)
    "privacy_request_new": {"GET": PUBLIC, "POST": PUBLIC},
    "privacy_request_verify": {"GET": ABSENT, "POST": ABSENT},
    "privacy_request_status": {"GET": ABSENT, "POST": GET_ONLY},
    "privacy_request_archive": {"GET": ABSENT, "POST": GET_ONLY},
    "my_data": {"GET": SIGNED_IN, "POST": GET_ONLY},
    "my_data_archive": {"GET": SIGNED_IN, "POST": GET_ONLY},
    # The privacy officer's console
    "privacy_dashboard": {"GET": aes(PRIVACY_MANAGE), "POST": GET_ONLY},
    "privacy_request_detail": {"GET": aes(PRIVACY_MANAGE), "POST": aes(PRIVACY_MANAGE)},
    "privacy_request_archive_ops": {"GET": aes(PRIVACY_MANAGE), "POST": aes(PRIVACY_MANAGE)},
    "privacy_retention": {"GET": aes(PRIVACY_MANAGE), "POST": GET_ONLY},
    "privacy_retention_run_now": {"GET": POST_ONLY, "POST": aes(PRIVACY_MANAGE)},
    "privacy_retention_run": {"GET": aes(PRIVACY_MANAGE), "POST": aes(PRIVACY_MANAGE)},
    # Anyone signed in
    "home": {"GET": SIGNED_IN},
    "profile": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "switch_organization": {"GET": POST_ONLY, "POST": SIGNED_IN},
    # Sign-in, passwords and second factors (django-allauth, configured here)
    "account_login": _ALLAUTH_PUBLIC,
    "account_logout": _ALLAUTH_PUBLIC,
    "account_inactive": _ALLAUTH_PUBLIC,
    "account_signup": _ALLAUTH_PUBLIC,  # answers that sign-up is closed: people join by invitation
    "account_reauthenticate": _ALLAUTH_SIGNED_IN,
    "account_email": _ALLAUTH_SIGNED_IN,
    "account_email_verification_sent": _ALLAUTH_PUBLIC,
    "account_change_password": _ALLAUTH_SIGNED_IN,
    "account_set_password": _ALLAUTH_SIGNED_IN,
    "account_reset_password": _ALLAUTH_PUBLIC,
    "account_confirm_login_code": _ALLAUTH_SIGNED_IN,  # a step of a sign-in under way; else back to sign-in
    "account_confirm_email": _ALLAUTH_PUBLIC,
    "account_reset_password_from_key_done": _ALLAUTH_PUBLIC,
    "account_reset_password_from_key": _ALLAUTH_PUBLIC,
    "account_reset_password_done": _ALLAUTH_PUBLIC,
    "mfa_index": _ALLAUTH_SIGNED_IN,
    "mfa_authenticate": _ALLAUTH_SIGNED_IN,  # a step of a sign-in under way; else back to sign-in
    "mfa_reauthenticate": _ALLAUTH_SIGNED_IN,
    "mfa_activate_totp": _ALLAUTH_SIGNED_IN,
    # 404 to whoever has no authenticator; the required one cannot be switched off (tests/accounts/)
    "mfa_deactivate_totp": {"GET": WITH_AUTHENTICATOR},
    "mfa_view_recovery_codes": {"GET": WITH_AUTHENTICATOR},
    "mfa_generate_recovery_codes": _ALLAUTH_SIGNED_IN,
    "mfa_download_recovery_codes": {"GET": WITH_AUTHENTICATOR},
    # The privacy notice and its history are public; what changed is for whoever is signed in
    "privacy_notice": {"GET": PUBLIC, "POST": GET_ONLY},
    "privacy_notice_versions": {"GET": PUBLIC, "POST": GET_ONLY},
    "privacy_notice_version": {"GET": PUBLIC, "POST": GET_ONLY},
    "privacy_notice_changes": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # The records of processing and the notice's text are AES's privacy officer's; the sharing
    # register is the officer's (every row) and each partner's (its own rows)
    "ops_privacy_data_map": {"GET": needs(PRIVACY_MANAGE), "POST": GET_ONLY},
    "ops_privacy_notice": {"GET": needs(PRIVACY_MANAGE), "POST": needs(PRIVACY_MANAGE)},
    "ops_privacy_notice_preview": {"GET": POST_ONLY, "POST": needs(PRIVACY_MANAGE)},
    "ops_privacy_sharing": {"GET": aes(PRIVACY_MANAGE) | partner(PORTAL_ACCESS), "POST": GET_ONLY},
    "portal_privacy_sharing": {"GET": aes(PRIVACY_MANAGE) | partner(PORTAL_ACCESS), "POST": GET_ONLY},
    # Dashboards
    "ops_home": {"GET": needs(CONSOLE_ACCESS)},
    "portal_home": {"GET": needs(PORTAL_ACCESS)},
    # Organizations and teams
    "organizations": {"GET": needs(ORGANIZATIONS_VIEW_ALL), "POST": needs(ORGANIZATIONS_MANAGE)},
    "organization_detail": {"GET": needs(ORGANIZATIONS_VIEW_ALL), "POST": needs(ORGANIZATIONS_MANAGE)},
    "ops_team": {"GET": needs(TEAM_VIEW), "POST": MANAGES_OWN_TEAM},
    "portal_team": {"GET": needs(TEAM_VIEW), "POST": MANAGES_OWN_TEAM},
    "membership_update": {"GET": POST_ONLY, "POST role": MANAGES_PARTNER_A_TEAM, "POST remove": MANAGES_PARTNER_A_TEAM},
    "invitation_cancel": {"GET": POST_ONLY, "POST": MANAGES_PARTNER_A_TEAM},
    "api_keys": {"GET": partner(API_KEYS_MANAGE), "POST": partner(API_KEYS_MANAGE)},
    "api_key_revoke": {"GET": POST_ONLY, "POST": partner(API_KEYS_MANAGE)},
    "audit_log": {"GET": needs(AUDIT_VIEW)},
    # Catalog: partners manage their own, AES administrators anyone's
    "ops_products": {"GET": needs(CATALOG_VIEW)},
    "ops_product_new": {"GET": needs(CATALOG_MANAGE), "POST": needs(CATALOG_MANAGE)},
    "ops_product_import": {"GET": needs(CATALOG_MANAGE), "POST": needs(CATALOG_MANAGE)},
    "ops_product_export": {"GET": needs(CATALOG_VIEW)},
    "ops_product_detail": {"GET": needs(CATALOG_VIEW)},
    "ops_product_edit": {"GET": needs(CATALOG_MANAGE), "POST": needs(CATALOG_MANAGE)},
    "ops_product_deactivate": {"GET": POST_ONLY, "POST": needs(CATALOG_MANAGE)},
    "ops_product_reactivate": {"GET": POST_ONLY, "POST": needs(CATALOG_MANAGE)},
    "portal_products": {"GET": needs(CATALOG_VIEW)},
    "portal_product_new": {"GET": needs(CATALOG_MANAGE), "POST": needs(CATALOG_MANAGE)},
    "portal_product_import": {"GET": needs(CATALOG_MANAGE), "POST": needs(CATALOG_MANAGE)},
    "portal_product_export": {"GET": needs(CATALOG_VIEW)},
    "portal_product_detail": {"GET": needs(CATALOG_VIEW)},
    "portal_product_edit": {"GET": needs(CATALOG_MANAGE), "POST": needs(CATALOG_MANAGE)},
    "portal_product_deactivate": {"GET": POST_ONLY, "POST": needs(CATALOG_MANAGE)},
    "portal_product_reactivate": {"GET": POST_ONLY, "POST": needs(CATALOG_MANAGE)},
    # Orders: partners create, import and cancel their own; only AES staff record a delivery outcome
    "ops_orders": {"GET": needs(ORDERS_VIEW)},
    "ops_order_import": {"GET": needs(ORDERS_MANAGE), "POST": needs(ORDERS_MANAGE)},
    "ops_order_detail": {
        "GET": needs(ORDERS_VIEW),
        "POST cancel": needs(ORDERS_MANAGE),
        "POST split": needs(ORDERS_MANAGE),
        "POST delivered": aes(DELIVERY_RECORD, also=ORDERS_VIEW),
        "POST failed": aes(DELIVERY_RECORD, also=ORDERS_VIEW),
    },
    "portal_orders": {"GET": needs(ORDERS_VIEW)},
    "portal_order_import": {"GET": needs(ORDERS_MANAGE), "POST": needs(ORDERS_MANAGE)},
    "portal_order_detail": {
        "GET": needs(ORDERS_VIEW),
        "POST cancel": needs(ORDERS_MANAGE),
        "POST split": needs(ORDERS_MANAGE),
        "POST delivered": aes(DELIVERY_RECORD, also=ORDERS_VIEW),
        "POST failed": aes(DELIVERY_RECORD, also=ORDERS_VIEW),
    },
    "order_label": {"GET": needs(ORDERS_VIEW)},
    "order_packing_slip": {"GET": needs(ORDERS_VIEW)},
    # Returns: partners announce them; AES receives them and books failed deliveries back
    "order_return_request": {"GET": POST_ONLY, "POST": needs(ORDERS_MANAGE)},
    "order_return_failed": {"GET": POST_ONLY, "POST": aes(ORDERS_FULFIL)},
    "ops_returns": {"GET": needs(ORDERS_VIEW)},
    "ops_return_detail": {"GET": needs(ORDERS_VIEW), "POST receive": aes(ORDERS_FULFIL)},
    "portal_returns": {"GET": needs(ORDERS_VIEW)},
    "portal_return_detail": {"GET": needs(ORDERS_VIEW), "POST receive": aes(ORDERS_FULFIL)},
    # Stock: everyone with inventory.view reads; corrections and counts are AES's
    "ops_inventory": {"GET": needs(INVENTORY_VIEW)},
    "portal_inventory": {"GET": needs(INVENTORY_VIEW)},
    "ops_product_ledger": {"GET": needs(INVENTORY_VIEW)},
    "portal_product_ledger": {"GET": needs(INVENTORY_VIEW)},
    "stock_correct": {
        "GET": aes(WAREHOUSE_MANAGE),
        "POST count": aes(WAREHOUSE_MANAGE),
        "POST adjust": aes(WAREHOUSE_MANAGE),
    },
    "recount": {"GET": NOBODY, "POST": aes(WAREHOUSE_MANAGE)},  # a form's target: GET is 404 to all
    # Inbound: partners announce shipments (ASNs); AES receives and puts away
    "portal_inbound": {
        # operators are sent on to the console's inbound list
        "GET": needs(INVENTORY_VIEW),
        "POST": partner(INVENTORY_MANAGE) | aes(INVENTORY_VIEW),
    },
    "portal_inbound_detail": {"GET": needs(INVENTORY_VIEW)},
    "inbound_list": {"GET": aes(INVENTORY_VIEW)},
    "inbound_receive": {"GET": aes(WAREHOUSE_MANAGE), "POST": aes(WAREHOUSE_MANAGE)},
    "put_away": {"GET": aes(WAREHOUSE_MANAGE), "POST": aes(WAREHOUSE_MANAGE)},
    # The warehouse floor: picking, packing, manifests and handover are AES's alone
    "warehouse_home": {"GET": aes(ORDERS_VIEW)},
    "pick_list_new": {"GET": aes(ORDERS_FULFIL), "POST": aes(ORDERS_FULFIL)},
    "pick_list": {"GET": aes(ORDERS_FULFIL), "POST": aes(ORDERS_FULFIL)},
    "packing_queue": {"GET": aes(ORDERS_FULFIL), "POST": aes(ORDERS_FULFIL)},
    "pack_order": {"GET": aes(ORDERS_FULFIL), "POST scan": aes(ORDERS_FULFIL), "POST pack": aes(ORDERS_FULFIL)},
    "handover": {"GET": aes(ORDERS_FULFIL), "POST": aes(ORDERS_FULFIL)},
    "manifest": {"GET": aes(ORDERS_FULFIL), "POST scan": aes(ORDERS_FULFIL), "POST close": aes(ORDERS_FULFIL)},
    # The last mile: the dispatcher board is AES dispatch's; failed deliveries are seen by whoever sees
    # deliveries, and handled by AES dispatch (every partner's) or the partner (its own)
    "dispatch_board": {
        "GET": aes(DELIVERY_MANAGE),
        "POST plan": aes(DELIVERY_MANAGE),
        "POST lock": aes(DELIVERY_MANAGE),
        "POST publish": aes(DELIVERY_MANAGE),
        "POST move": aes(DELIVERY_MANAGE),
        "POST pin": aes(DELIVERY_MANAGE),
    },
    "ops_failed_deliveries": {
        "GET": needs(DELIVERY_VIEW),
        "POST reattempt": aes(DELIVERY_MANAGE) | partner(DELIVERY_REQUEST),
        "POST contact": aes(DELIVERY_MANAGE) | partner(DELIVERY_REQUEST),
        "POST return": aes(DELIVERY_MANAGE) | partner(DELIVERY_REQUEST),
        "POST book": aes(DELIVERY_MANAGE) | partner(DELIVERY_REQUEST),
    },
    "portal_failed_deliveries": {
        "GET": needs(DELIVERY_VIEW),
        "POST reattempt": aes(DELIVERY_MANAGE) | partner(DELIVERY_REQUEST),
        "POST contact": aes(DELIVERY_MANAGE) | partner(DELIVERY_REQUEST),
        "POST return": aes(DELIVERY_MANAGE) | partner(DELIVERY_REQUEST),
        "POST book": aes(DELIVERY_MANAGE) | partner(DELIVERY_REQUEST),
    },
    # The rider app: AES riders on their own route (the sweep's rider has the stop), and dispatch
    "rider_run_sheet": {"GET": aes(DELIVERY_RECORD), "POST start": aes(DELIVERY_RECORD)},
    "rider_stop": {
        "GET": aes(DELIVERY_RECORD),
        "POST deliver": aes(DELIVERY_RECORD),
        "POST fail": aes(DELIVERY_RECORD),
        "POST pickup": aes(DELIVERY_RECORD),
        "POST code": aes(DELIVERY_RECORD),
    },
    "rider_hand_back": {"GET": aes(DELIVERY_RECORD), "POST": aes(DELIVERY_RECORD)},
    # AES's courier accounts are dispatch's; settling riders' hand-backs is dispatch's or finance's
    "courier_accounts": {"GET": aes(DELIVERY_MANAGE), "POST": aes(DELIVERY_MANAGE)},
    "hand_backs": {
        "GET": aes(DELIVERY_MANAGE) | aes(FINANCE_MANAGE),
        "POST": aes(DELIVERY_MANAGE) | aes(FINANCE_MANAGE),
    },
    "rider_actions": {"GET": POST_ONLY, "POST": aes(DELIVERY_RECORD)},
    # The website's pages (the CMS): administrators; its leads: administrators and support
    "ops_website_pages": {"GET": aes(WEBSITE_MANAGE)},
    "ops_website_page_new": {"GET": aes(WEBSITE_MANAGE), "POST": aes(WEBSITE_MANAGE)},
    "ops_website_page": {"GET": aes(WEBSITE_MANAGE), "POST": aes(WEBSITE_MANAGE)},
    "ops_website_page_preview": {"GET": POST_ONLY, "POST": aes(WEBSITE_MANAGE)},
    "ops_leads": {"GET": aes(LEADS_MANAGE)},
    "ops_lead": {"GET": aes(LEADS_MANAGE), "POST note": aes(LEADS_MANAGE), "POST status": aes(LEADS_MANAGE)},
    # The installable app's service worker and manifest: no data, fetched before anyone signs in
    "rider_service_worker": {"GET": PUBLIC},
    "rider_manifest": {"GET": PUBLIC},
}

# The table: every API operation ---------------------------------------------------------------


def _order_body(world: World) -> dict[str, Any]:
    return {
        "external_id": "SWEEP-API-1",
        "recipient": {"name": "Hina Baig", "phone": "+92 300 1112233"},
        "shipping_address": {"line1": "House 12, Street 4", "city": "Karachi"},
        "lines": [{"sku": world.sku, "quantity": 1, "unit_price": "1500.00"}],
        "currency": "PKR",
        "payment": {"method": "prepaid"},
    }


def _stop_body(world: World) -> dict[str, Any]:
    return {
        "hub": world.ids["code"],
        "date": world.ids["date"],
        "address": {"line1": "House 9", "area": "PECHS", "city": "Karachi", "lat": 24.88, "lng": 67.08},
        "contact_name": "Sweep Recipient",
        "contact_phone": "+92 300 1112233",
    }


OPERATIONS: dict[str, Rule] = {
    "me": Rule(),  # any key: it tells the caller its own organization and scopes
    "products_list": needs(CATALOG_VIEW),
    "products_create": needs(CATALOG_MANAGE),
    "products_bulk_upsert": needs(CATALOG_MANAGE),
    "products_get": needs(CATALOG_VIEW),
    "products_update": needs(CATALOG_MANAGE),
    "inventory_levels": needs(INVENTORY_VIEW),
    "inbound_create": needs(INVENTORY_MANAGE),
    "inbound_get": needs(INVENTORY_VIEW),
    "orders_create": needs(ORDERS_MANAGE),
    "orders_list": needs(ORDERS_VIEW),
    "orders_get": needs(ORDERS_VIEW),
    "orders_cancel": needs(ORDERS_MANAGE),
    "returns_create": needs(ORDERS_MANAGE),
    "returns_get": needs(ORDERS_VIEW),
    "connections_list": needs(INTEGRATIONS_MANAGE),
    "connections_create": needs(INTEGRATIONS_MANAGE),
    "connections_get": needs(INTEGRATIONS_MANAGE),
    "connections_pause": needs(INTEGRATIONS_MANAGE),
    "connections_resume": needs(INTEGRATIONS_MANAGE),
    "connections_disconnect": needs(INTEGRATIONS_MANAGE),
    "connections_health": needs(INTEGRATIONS_MANAGE),
    "connections_check": needs(INTEGRATIONS_MANAGE),
    "connections_setup": needs(INTEGRATIONS_MANAGE),
    "connections_resync": needs(INTEGRATIONS_MANAGE),
    "webhooks_list": needs(WEBHOOKS_MANAGE),
    "webhooks_create": needs(WEBHOOKS_MANAGE),
    "webhooks_get": needs(WEBHOOKS_MANAGE),
    "webhooks_update": needs(WEBHOOKS_MANAGE),
    "webhooks_pause": needs(WEBHOOKS_MANAGE),
    "webhooks_resume": needs(WEBHOOKS_MANAGE),
    "webhooks_rotate_secret": needs(WEBHOOKS_MANAGE),
    "webhooks_delete": needs(WEBHOOKS_MANAGE),
    "webhooks_test": needs(WEBHOOKS_MANAGE),
    "webhooks_deliveries": needs(WEBHOOKS_MANAGE),
    "webhooks_delivery_replay": needs(WEBHOOKS_MANAGE),
    # The last mile: partners ask for and follow their own stops; the network, plans and routes are
    # AES dispatch's (its own `dispatch:manage` keys), which also asks for stops for any partner
    "hubs_list": aes(DELIVERY_MANAGE),
    "hubs_create": aes(DELIVERY_MANAGE),
    "hubs_get": aes(DELIVERY_MANAGE),
    "hubs_update": aes(DELIVERY_MANAGE),
    "riders_list": aes(DELIVERY_MANAGE),
    "riders_create": aes(DELIVERY_MANAGE),
    "riders_shift_set": aes(DELIVERY_MANAGE),
    "riders_shifts_list": aes(DELIVERY_MANAGE),
    "delivery_tasks_create": partner(DELIVERY_REQUEST) | aes(DELIVERY_MANAGE),
    "delivery_tasks_bulk_create": partner(DELIVERY_REQUEST) | aes(DELIVERY_MANAGE),
    "delivery_tasks_list": needs(DELIVERY_VIEW),
    "delivery_tasks_get": needs(DELIVERY_VIEW),
    "delivery_tasks_move": aes(DELIVERY_MANAGE),
    "plans_create": aes(DELIVERY_MANAGE),
    "plans_get": aes(DELIVERY_MANAGE),
    "routes_list": aes(DELIVERY_MANAGE),
    "routes_publish": aes(DELIVERY_MANAGE),
    "routes_lock": aes(DELIVERY_MANAGE),
    "routes_unlock": aes(DELIVERY_MANAGE),
    "delivery_tasks_book_again": partner(DELIVERY_REQUEST) | aes(DELIVERY_MANAGE),
    "courier_accounts_list": aes(DELIVERY_MANAGE),
    "courier_accounts_create": aes(DELIVERY_MANAGE),
    "courier_accounts_update": aes(DELIVERY_MANAGE),
    "courier_accounts_delete": aes(DELIVERY_MANAGE),
    # The records of processing, for AES's own tools (a `privacy:manage` key)
    "privacy_data_map": aes(PRIVACY_MANAGE),
}

API_BODIES: dict[str, Callable[[World], dict[str, Any]]] = {
    "products_create": lambda w: {"sku": "SWEEP-API-NEW", "name": "A product from the sweep"},
    "products_bulk_upsert": lambda w: {"items": [{"sku": "SWEEP-API-BULK", "name": "Bulk from the sweep"}]},
    "products_update": lambda w: {"name": "Renamed by the sweep"},
    "inbound_create": lambda w: {"reference": "SWEEP-API-ASN", "lines": [{"sku": w.sku, "quantity": 2}]},
    "orders_create": _order_body,
    "orders_cancel": lambda w: {"reason": "sweep"},
    "returns_create": lambda w: {"order_id": w.ids["order_id"], "lines": [{"sku": w.sku, "quantity": 1}]},
    "connections_create": lambda w: {
        "kind": "shopify",
        "name": "Sweep API store",
        "store_url": "sweep-api.myshopify.com",
        "credentials": {"access_token": "shpat_sweep_api_1111", "client_secret": "shpss_sweep_api_2222"},
    },
    "webhooks_create": lambda w: {"url": "https://sweep-api.example.com/hooks", "event_types": ["inventory.*"]},
    "webhooks_update": lambda w: {"event_types": ["product.*"]},
    "hubs_create": lambda w: {
        "code": "SWEEP-H2",
        "name": "Sweep East",
        "address_line1": "University Road",
        "city": "Karachi",
        "lat": 24.92,
        "lng": 67.1,
    },
    "hubs_update": lambda w: {"name": "Renamed by the sweep"},
    "riders_create": lambda w: {
        "email": "sweep-rider@aes.example",
        "full_name": "Sweep Rider",
        "hub": w.ids["code"],
        "vehicle_type": "motorbike",
    },
    "riders_shift_set": lambda w: {"start": "09:00", "end": "17:00"},
    "delivery_tasks_create": lambda w: _stop_body(w) | {"organization": w.partner_slug},
    "delivery_tasks_bulk_create": lambda w: {
        "organization": w.partner_slug,
        "stops": [_stop_body(w), {"pickup": _stop_body(w), "drop_off": _stop_body(w)}],
    },
    "delivery_tasks_move": lambda w: {"route_id": w.ids["route_id"]},
    "plans_create": lambda w: {"date": w.ids["date"], "seconds": 1},
    "courier_accounts_create": lambda w: {"code": "steadfast", "name": "Sweep", "credentials": {}},
    "courier_accounts_update": lambda w: {"areas": ["Dhaka"]},
}

# Where today's code and the policy disagree ----------------------------------------------------
# (route or operation id, request, caller) -> what happens today. Each is a strict xfail.

_NOT_TEAM_MANAGERS = ("manager", "viewer", "dispatcher", "warehouse", "finance", "privacy_officer", "support")
_NOT_ORDER_MANAGERS = ("viewer", "finance", "privacy_officer", "support")
_NOT_AES_ORDER_MANAGERS = ("owner", "manager", *_NOT_ORDER_MANAGERS)

# Refused by the service, but the page catches the PermissionDenied with the other domain errors
# and shows it as a message (302 back, or the form again with 200) instead of a 403 page.
REFUSED_AS_MESSAGE_TODAY: dict[tuple[str, str], tuple[str, ...]] = {}

KNOWN_MISMATCHES: dict[tuple[str, str, str], str] = {
    (route, request_label, caller): "refused, but answered with a message and 200/302, not 403"
    for (route, request_label), callers in REFUSED_AS_MESSAGE_TODAY.items()
    for caller in callers
}


# Walking what exists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRoute:
    name: str
    kwargs: tuple[str, ...]


def _walk(patterns: list, prefix: str, namespace: str) -> Iterator[tuple[str, str, URLPattern]]:
    """(namespace, full regex, pattern) for every pattern under the resolver."""
    for pattern in patterns:
        regex = prefix + pattern.pattern.regex.pattern.lstrip("^").rstrip("$").replace(r"\Z", "")
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, regex, inner)
        elif isinstance(pattern, URLPattern):
            yield namespace, regex, pattern


@functools.cache
def page_routes() -> tuple[PageRoute, ...]:
    """Every URL pattern but the admin's (ADMIN_ACCESS with MFA, checked by the admin site, tested
    below) and the API's operations (swept through the OpenAPI schema)."""
    operation_paths = {path.lstrip("/") for path in api.get_openapi_schema()["paths"]}
    routes = []
    for namespace, regex, pattern in _walk(get_resolver().url_patterns, "", ""):
        if namespace.startswith("admin:"):
            continue
        assert pattern.name, f"the URL pattern {regex!r} needs a name for the permission sweep"
        if namespace == "api:" and _plain_path(regex) in operation_paths:
            continue
        routes.append(PageRoute(namespace + pattern.name, tuple(re.compile(regex).groupindex)))
    return tuple(routes)


def _plain_path(regex: str) -> str:
    """`api/v1/orders/(?P<order_id>[^/]+)` as the OpenAPI schema writes it: `api/v1/orders/{order_id}`."""
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", regex).replace("\\", "")


@functools.cache
def api_operations() -> dict[str, tuple[str, str]]:
    operations = {}
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            operations[operation["operationId"]] = (method.upper(), path)
    return operations


# Calling and judging -----------------------------------------------------------------------------


class RefusalRecorder:
    """Notes each permission refusal raised while a request is handled, also when a page turns it
    into a message instead of a 403, so that such a refusal is not mistaken for a success."""

    def __init__(self) -> None:
        self.refusals: list[str] = []
        self._original = errors.PermissionDenied.__init__

    def __enter__(self) -> "RefusalRecorder":
        recorder, original = self, self._original

        def record(self: errors.PermissionDenied, detail: str, **kwargs: Any) -> None:
            recorder.refusals.append(detail)
            original(self, detail, **kwargs)

        self._patch = mock.patch.object(errors.PermissionDenied, "__init__", record)
        self._patch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.stop()


def judge(response: HttpResponse, refusals: list[str], *, api_call: bool) -> tuple[str, str]:
    """The outcome class and how it showed (the status, and a swallowed refusal's message)."""
    status = response.status_code
    shown = str(status)
    assert status < 500, f"answered {status}: {response.content[:300]!r}"
    if api_call and status == 401:
        return SIGN_IN, shown
    if not api_call and status in {301, 302, 303} and response["Location"].startswith(LOGIN_PATH):
        return SIGN_IN, f"{status} to sign-in"
    if status in {401, 403, 404}:
        return REFUSED, shown
    if status == 405:
        return NOT_ALLOWED, shown
    if refusals:
        return REFUSED_AS_MESSAGE, f"{status}, with {refusals[0]!r}"
    return OK, shown


def client_for(world: World, caller: Caller) -> Client:
    """The caller's client with only its session cookie: whatever a case did to the session (even
    signing out) is undone by the rollback. One client per caller, since each new client loads
    the middleware again, and WhiteNoise's reads every static file: most of a case's time."""
    client = world.clients.get(caller.name)
    if client is None:
        headers = {"Authorization": f"Bearer {world.keys[caller.name]}"} if caller.kind == "key" else {}
        client = world.clients[caller.name] = Client(headers=headers)
    client.cookies = SimpleCookie()
    if caller.name in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[caller.name]
    return client


def _case_marks(key: tuple[str, str, str]) -> list[pytest.MarkDecorator]:
    reason = KNOWN_MISMATCHES.get(key)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


PAGE_CASES = [
    pytest.param(
        route,
        request_label,
        caller,
        id=f"{route}|{request_label}|{caller.name}",
        marks=_case_marks((route, request_label, caller.name)),
    )
    for route, requests in PAGES.items()
    for request_label in requests
    for caller in PAGE_CALLERS
]

API_CASES = [
    pytest.param(
        operation_id, caller, id=f"{operation_id}|{caller.name}", marks=_case_marks((operation_id, "", caller.name))
    )
    for operation_id in OPERATIONS
    for caller in API_CALLERS
]


# The tests ---------------------------------------------------------------------------------------


def test_every_page_has_an_expectation_and_every_expectation_a_page() -> None:
    names = [route.name for route in page_routes()]
    routes = set(names)

    assert len(names) == len(routes), "two URL patterns share a name: the table could not tell them apart"

    assert sorted(routes - PAGES.keys()) == [], "add these routes to PAGES, saying who may call them"
    assert sorted(PAGES.keys() - routes) == [], "these routes are gone: remove them from PAGES"


def test_every_api_operation_has_an_expectation_and_every_expectation_an_operation() -> None:
    operations = set(api_operations())

    assert sorted(operations - OPERATIONS.keys()) == [], "add these operations to OPERATIONS"
    assert sorted(OPERATIONS.keys() - operations) == [], "these operations are gone: remove them from OPERATIONS"


def test_every_known_mismatch_names_a_case_of_the_sweep() -> None:
    cases = {(r, label, c.name) for r, labels in PAGES.items() for label in labels for c in PAGE_CALLERS}
    cases |= {(op, "", c.name) for op in OPERATIONS for c in API_CALLERS}

    assert sorted(KNOWN_MISMATCHES.keys() - cases) == []


def test_every_page_method_has_a_body_where_it_needs_one() -> None:
    variants = {(route, label.partition(" ")[2]) for route, requests in PAGES.items() for label in requests}

    assert sorted(PAGE_BODIES.keys() - variants) == [], "bodies for requests the table does not make"


@pytest.mark.parametrize(("route", "request_label", "caller"), PAGE_CASES)
def test_page_answers_as_the_policy_says(world: World, route: str, request_label: str, caller: Caller) -> None:
    rule = PAGES[route][request_label]
    method, _, variant = request_label.partition(" ")
    url = _url(world, route)
    client = client_for(world, caller)
    body = PAGE_BODIES.get((route, variant), lambda w, c: {})(world, caller)

    with RefusalRecorder() as recorder:
        response = client.get(url) if method == "GET" else client.post(url, body)
    outcome, shown = judge(response, recorder.refusals, api_call=False)

    expected = rule.expect_page(caller)
    assert outcome == expected, f"{request_label} {url} as {caller.name}: expected {expected}, got {outcome} ({shown})"


def _url(world: World, route: str) -> str:
    kwargs = next(r.kwargs for r in page_routes() if r.name == route)
    return reverse(route, kwargs={name: world.ids[name] for name in kwargs})


@pytest.mark.parametrize(("operation_id", "caller"), API_CASES)
def test_api_operation_answers_as_the_policy_says(world: World, operation_id: str, caller: Caller) -> None:
    method, path = api_operations()[operation_id]
    url = re.sub(r"\{(\w+)\}", lambda m: str(world.ids[m.group(1)]), path)
    client = client_for(world, caller)

    with RefusalRecorder() as recorder:
        if method == "GET":
            response = client.get(url)
        else:
            body = json.dumps(API_BODIES.get(operation_id, lambda w: {})(world))
            response = client.generic(method, url, body, content_type="application/json")
    outcome, shown = judge(response, recorder.refusals, api_call=True)

    expected = OPERATIONS[operation_id].expect_api(caller)
    assert outcome == expected, f"{method} {url} as {caller.name}: expected {expected}, got {outcome} ({shown})"


@pytest.mark.parametrize("caller", PAGE_CALLERS, ids=lambda c: c.name)
def test_only_aes_administrators_reach_the_admin(world: World, caller: Caller) -> None:
    """The admin's own patterns are left out of the tables: the admin site checks ADMIN_ACCESS and
    a second factor for all of them at once, so its index stands for them."""
    client = client_for(world, caller)

    response = client.get("/admin/")

    if policy.ADMIN_ACCESS in caller.permissions:
        assert response.status_code == 200
    elif caller.signed_in:
        assert client.get(response["Location"]).status_code == 403
    else:
        assert response.status_code == 302
        assert client.get(response["Location"])["Location"].startswith(LOGIN_PATH), "sent to sign in"


@pytest.mark.parametrize(
    "caller",
    [c for c in PAGE_CALLERS if c.signed_in and policy.ADMIN_ACCESS not in c.permissions],
    ids=lambda c: c.name,
)
def test_signed_in_people_without_admin_access_are_refused_by_the_admin(world: World, caller: Caller) -> None:
    response = client_for(world, caller).get("/admin/", follow=True)

    assert response.status_code == 403
