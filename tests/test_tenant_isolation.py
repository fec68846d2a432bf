"""A member or API key of partner A can reach nothing of partner B, through any page or endpoint.

The walk enumerates every URL pattern and every API operation, so a new page or endpoint is
covered the day it is added: a URL parameter this file does not know fails the test.
"""

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from allied.accounts.models import ApiKey, Invitation, Membership, Organization
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.accounts.services import api_key_create, invitation_create
from allied.api import api
from allied.catalog.models import Product
from allied.core.address import Address
from allied.core.models import EventDelivery, Subscription
from allied.core.privacy import sharing_record
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, PlanRun, Rider, Route, TaskKind
from allied.delivery.services.tasks import TaskInput, delivery_tasks_create
from allied.delivery.services.tracking import tracking_event_record
from allied.fulfillment.models import Manifest, PickList, Return, ReturnSource
from allied.integrations.models import Connection
from allied.integrations.services.connections import connection_create
from allied.integrations.services.subscriptions import subscription_create, subscription_send_test
from allied.inventory.models import CycleCount, InboundShipment
from allied.inventory.services import inbound_create
from allied.orders.models import Order
from allied.orders.services.intake import order_create
from allied.orders.tracking import tracking_code_generate
from allied.website.models import Lead, Page
from allied.website.services import lead_submit, page_create
from tests.catalog.factories import ProductFactory
from tests.delivery.factories import HubFactory, RiderFactory, ShiftFactory
from tests.inventory.factories import BinFactory, WarehouseFactory
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db

# Areas that are not tenant data: sign-in pages, the admin (operators only), the public API docs.
# Not reached with a session: the API (its own tenant walk), and stores' and couriers' webhooks,
# whose signature is the credential (tests/integrations, tests/delivery/test_courier_flow.py).
# The public tracking page: the tracking code is the credential, and it shows no partner's data but
# the stop's journey and the brand's name (tests/delivery/test_tracking_page.py).
# The public website's pages are AES's own content, the same for everyone (tests/website/).
# The public privacy notice and its versions are the same for everyone, and a person's privacy
# requests are bound to the browser that verified them, not to a tenant (tests/privacy/).
NOT_TENANT_SCOPED = (
    "accounts/", "admin/", "api/v1/", "couriers/", "integrations/", "invitations/", "static/", "track/",
    "privacy/", "<slug:page_slug>/",
)  # fmt: skip
# Ids of AES's own rows, no partner's: hubs, riders (and a day of their shifts), routes and plans.
# A partner's key is refused outright (403) wherever only these name the object.
AES_OWN_IDS = frozenset({"code", "rider_id", "date", "route_id", "plan_id", "account_id"})


@dataclass
class Tenant:
    organization: Organization
    owner: Membership
    viewer: Membership
    product: Product
    invitation: Invitation
    api_key: ApiKey
    raw_key: str
    order: Order
    inbound: InboundShipment
    parcel_return: Return
    pick_list: PickList
    manifest: Manifest
    count: CycleCount
    connection: Connection
    webhook: Subscription
    webhook_delivery: EventDelivery
    failed_stop: DeliveryTask
    rider_stop: DeliveryTask
    stop: DeliveryTask
    rider: Rider
    route: Route
    plan_run: PlanRun
    page: Page
    lead: Lead

    def ids(self) -> dict[str, object]:
        return {
            "product_id": self.product.pk,
            "membership_id": self.viewer.pk,
            "invitation_id": self.invitation.pk,
            "api_key_id": self.api_key.pk,
            "slug": self.organization.slug,
            "order_id": self.order.pk,
            "inbound_id": self.inbound.pk,
            "return_id": self.parcel_return.pk,
            "pick_list_id": self.pick_list.pk,
            "manifest_id": self.manifest.pk,
            "count_id": self.count.pk,
            "connection_id": self.connection.pk,
            "webhook_id": self.webhook.pk,
            "delivery_id": self.webhook_delivery.pk,
            "stop_id": self.rider_stop.public_id,
            "tracking_code": self.stop.tracking_code,
            "code": self.stop.hub.code,
            "rider_id": self.rider.pk,
            "date": self.stop.date.isoformat(),
            "route_id": self.route.pk,
            "account_id": 1,  # AES's courier accounts: a partner's key is refused before any lookup
            "plan_id": self.plan_run.public_id,
            # The privacy officer's pages: AES's alone, a partner's member gets 404 for any id.
            "request_id": "00000000-0000-4000-8000-000000000000",
            "run_id": 1,
            # AES's own rows, no partner's: a partner's member gets 404 for any of them
            "page_id": self.page.pk,
            "lead_id": self.lead.pk,
        }

    def secrets_on_pages(self) -> list[str]:
        return [
            self.product.sku,
            self.viewer.user.email,
            self.invitation.email,
            self.api_key.prefix,
            self.organization.name,
            self.connection.name,
            self.webhook.description,
            self.webhook.url,
            self.failed_stop.tracking_code,
            self.failed_stop.contact_name,
            self.stop.contact_name,
            self.stop.address_line1,
            sharing_recipient(self.organization),
        ]


def make_tenant(organization: Organization, member: object, tag: str) -> Tenant:
    owner = member(organization, Role.OWNER)  # type: ignore[operator]
    viewer = member(organization, Role.VIEWER)  # type: ignore[operator]
    actor = Actor(user=owner.user, organization=organization, role=Role.OWNER)
    invitation, _ = invitation_create(
        organization=organization, email=f"invitee-{tag}@example.com", role=Role.VIEWER, actor=actor
    )
    api_key, raw_key = api_key_create(
        organization=organization,
        name=f"{tag} app",
        scopes=[
            "inventory:read",
            "inventory:write",
            "orders:read",
            "integrations:manage",
            "webhooks:manage",
            "delivery:read",
            "delivery:write",
        ],
        actor=actor,
    )
    product = ProductFactory(organization=organization, sku=f"SECRET-{tag.upper()}-SKU")
    warehouse = WarehouseFactory()
    order = order_create(
        organization=organization,
        actor=actor,
        warehouse=warehouse,
        data=order_input((product.sku, 1), recipient_name=f"Recipient of {tag.upper()}", external_id=f"SECRET-{tag}"),
    ).order
    inbound = inbound_create(
        organization=organization,
        warehouse=warehouse,
        reference=f"SECRET-ASN-{tag.upper()}",
        lines=[(product, 5)],
        actor=actor,
    )
    Order.objects.filter(pk=order.pk).update(tracking_code=tracking_code_generate())
    order.refresh_from_db()
    parcel_return = Return.objects.create(organization=organization, order=order, source=ReturnSource.PARTNER_REQUEST)
    pick_list = PickList.objects.create(warehouse=warehouse)
    pick_list.orders.add(order)
    manifest = Manifest.objects.create(warehouse=warehouse, carrier="tcs")
    count = CycleCount.objects.create(
        organization=organization,
        product=product,
        bin=BinFactory(warehouse=warehouse, code=f"A-0{tag}"),
        expected_quantity=1,
        first_count=2,
        status="recount",
    )
    connection = connection_create(
        organization=organization,
        kind="shopify",
        name=f"SECRET-STORE-{tag.upper()}",
        store_url=f"secret-{tag}.myshopify.com",
        credentials={"access_token": f"shpat_{tag}_token_1234", "client_secret": f"shpss_{tag}_secret_5678"},
        actor=actor,
    )
    webhook, _ = subscription_create(
        organization=organization,
        url=f"https://secret-hooks-{tag}.example.com/in",
        event_types=["order.*"],
        description=f"SECRET-HOOK-{tag.upper()}",
        actor=actor,
    )
    hub = HubFactory()
    stop = TaskInput(
        kind="drop_off",
        hub_code=hub.code,
        date=timezone.localdate(),
        address=Address(line1=f"House {tag}", city=hub.city, area="PECHS"),
        contact_name=f"SECRET-RECIPIENT-{tag.upper()}",
        contact_phone="0300 1112233",
    )
    [failed_stop] = delivery_tasks_create(organization=organization, stops=[stop], actor=actor)
    system = Actor.system("tests")
    tracking_event_record(task=failed_stop, status=TrackingStatus.OUT_FOR_DELIVERY, actor=system)
    tracking_event_record(task=failed_stop, status=TrackingStatus.ATTEMPT_FAILED, actor=system, reason="Not home")
    [stop] = delivery_tasks_create(
        organization=organization,
        stops=[
            TaskInput(
                kind="drop_off",
                hub_code=HubFactory().code,
                date=timezone.localdate(),
                address=Address.given(
                    line1=f"SECRET-DOOR-{tag.upper()}", city="Karachi", lat=Decimal("24.87"), lng=Decimal("67.06")
                ),
                contact_name=f"SECRET-RECIPIENT-{tag.upper()}",
                contact_phone="+92 300 1112233",
            )
        ],
        actor=actor,
    )
    rider = ShiftFactory(rider=RiderFactory(hub=stop.hub)).rider
    route = Route.objects.create(
        hub=stop.hub, rider=rider, date=stop.date, starts_at=timezone.now(), ends_at=timezone.now()
    )
    DeliveryTask.objects.filter(pk=stop.pk).update(route=route, sequence=1)
    plan_run = PlanRun.objects.create(hub=stop.hub, date=stop.date, seconds=1)
    sharing_record(
        organization_id=organization.pk,
        recipient=sharing_recipient(organization),
        recipient_category="store_platforms",
        data_categories=["user.name", "user.contact.address"],
        purpose="order_fulfillment",
        reference=order.number,
    )
    return Tenant(
        organization,
        owner,
        viewer,
        product,
        invitation,
        api_key,
        raw_key,
        order,
        inbound,
        parcel_return,
        pick_list,
        manifest,
        count,
        connection,
        webhook,
        subscription_send_test(subscription=webhook, actor=actor),
        failed_stop,
        delivery_stop(organization, tag),
        stop,
        rider,
        route,
        plan_run,
        page_create(slug=f"page-{tag}", title=f"Page {tag}", body="x", actor=system),
        lead_submit(kind="inquiry", name=f"Visitor {tag}", email=f"visitor-{tag}@example.com", message="Hello"),
    )


def sharing_recipient(organization: Organization) -> str:
    """Where the tenant's row of the sharing register says its data went."""
    return f"secret-share-{organization.slug}.example"


def delivery_stop(organization: Organization, tag: str) -> DeliveryTask:
    hub = HubFactory()
    [stop] = delivery_tasks_create(
        organization=organization,
        stops=[
            TaskInput(
                kind=TaskKind.DROP_OFF,
                hub_code=hub.code,
                date=timezone.localdate(),
                address=Address.given(line1=f"House {tag}, Street 4", city=hub.city, area="PECHS"),
                contact_name=f"SECRET-RECIPIENT-{tag.upper()}",
                contact_phone="0300 1112233",
            )
        ],
        actor=Actor.system("tests"),
    )
    return stop


@pytest.fixture
def tenants(partner_a: Organization, partner_b: Organization, member: object) -> tuple[Tenant, Tenant]:
    partner_b.name = "Hidden Brand B"
    partner_b.save()
    return make_tenant(partner_a, member, "a"), make_tenant(partner_b, member, "b")


def page_routes() -> list[str]:
    routes: list[str] = []

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    return [r for r in routes if not r.startswith(NOT_TENANT_SCOPED)]


def fill(route: str, ids: dict[str, object]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in ids:
            raise AssertionError(f"{route}: teach the isolation walk what a foreign {name!r} is")
        return str(ids[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", substitute, route)


def test_every_page_with_a_foreign_id_answers_404(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    client = Client()
    client.force_login(a.owner.user)
    object_routes = [r for r in page_routes() if "<" in r]
    assert len(object_routes) >= 6

    for route in object_routes:
        own, foreign = fill(route, a.ids()), fill(route, b.ids())
        own_get = client.get(own).status_code
        if not route.startswith("ops/"):  # the console is AES's; a partner gets 404 for any of its objects
            assert own_get in {200, 405}, f"control: {own} works for its own tenant"
        post_only = own_get == 405  # answered before any lookup, the same for every id
        assert client.get(foreign).status_code == (405 if post_only else 404), f"GET {foreign}"
        assert client.post(foreign).status_code == 404, f"POST {foreign}"

    b.viewer.refresh_from_db()
    b.invitation.refresh_from_db()
    b.api_key.refresh_from_db()
    assert (b.viewer.role, b.invitation.revoked_at, b.api_key.revoked_at) == (Role.VIEWER, None, None)


def test_no_page_shows_anything_of_another_tenant(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    client = Client()
    client.force_login(a.owner.user)

    for route in page_routes():
        if "<" in route:
            continue
        for query in ("", "?q=SECRET", "?partner=partner-b"):
            response = client.get(f"/{route}{query}")
            body = response.content.decode(errors="replace")
            leaked = [secret for secret in b.secrets_on_pages() if secret in body]
            assert not leaked, f"/{route}{query} shows {leaked}"


def api_operations() -> list[tuple[str, str]]:
    operations = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        operations.extend((method.upper(), path) for method in methods)
    return operations


def _bodies(tenant: Tenant) -> dict[tuple[str, str], dict[str, object]]:
    """Valid bodies for the operations that refuse an empty one, so that the id is what is refused."""
    return {
        ("POST", "/api/v1/delivery-tasks/{tracking_code}/move"): {"route_id": tenant.route.pk},
        ("POST", "/api/v1/hubs/{code}/plans"): {"date": tenant.stop.date.isoformat(), "seconds": 1},
        ("PUT", "/api/v1/riders/{rider_id}/shifts/{date}"): {"start": "08:00", "end": "09:00"},
    }


def test_every_api_operation_is_blind_to_other_tenants(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    client = Client(headers={"Authorization": f"Bearer {a.raw_key}"})
    operations = api_operations()
    assert ("GET", "/api/v1/products/{product_id}") in operations
    bodies = _bodies(b)

    for method, path in operations:
        foreign = re.sub(r"\{(\w+)\}", lambda m: str(b.ids()[m.group(1)]), path)
        if method == "GET":
            response = client.get(foreign)
        else:
            body = json.dumps(bodies.get((method, path), {}))
            response = client.generic(method, foreign, data=body, content_type="application/json")
        body = response.content.decode()
        names = set(re.findall(r"\{(\w+)\}", path))
        if names and names <= AES_OWN_IDS:  # AES's own objects: a partner's key may not ask at all
            assert response.status_code == 403, f"{method} {foreign} answered {response.status_code}"
        elif names:
            assert response.status_code == 404, f"{method} {foreign} answered {response.status_code}"
        assert not [s for s in b.secrets_on_pages() if s in body], f"{method} {foreign} leaked {body[:200]}"


def test_operator_staff_see_every_partner(
    tenants: tuple[Tenant, Tenant], operator_org: Organization, member: object
) -> None:
    a, b = tenants
    client = Client()
    client.force_login(member(operator_org, Role.DISPATCHER).user)  # type: ignore[operator]

    assert client.get(f"/ops/products/{b.product.pk}/").status_code == 200
    body = client.get("/ops/products/").content.decode()
    assert a.product.sku in body
    assert b.product.sku in body


def test_failed_delivery_actions_on_another_tenants_stop_answer_404(tenants: tuple[Tenant, Tenant]) -> None:
    """The failed-deliveries page names its stop in the form, not the URL: the walk above cannot
    reach it, so each action is tried here with B's stop."""
    a, b = tenants
    client = Client()
    client.force_login(a.owner.user)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    bodies = [
        {"action": "reattempt", "date": tomorrow},
        {"action": "contact", "line1": "House 9", "city": "Karachi", "phone": "0300 1112233"},
        {"action": "return"},
        {"action": "book"},
    ]

    for area in ("ops", "portal"):
        for body in bodies:
            response = client.post(f"/{area}/failed-deliveries/", {"task": b.failed_stop.pk} | body)
            assert response.status_code == 404, f"{area} {body['action']}"

    b.failed_stop.refresh_from_db()
    assert (b.failed_stop.status, b.failed_stop.address_line1) == (TrackingStatus.ATTEMPT_FAILED, "House b")


def test_the_sharing_register_shows_a_partner_only_its_own_rows(tenants: tuple[Tenant, Tenant]) -> None:
    """A partner's register holds its own rows whatever it asks for, under either prefix."""
    a, b = tenants
    client = Client()
    client.force_login(a.viewer.user)

    for area in ("portal", "ops"):
        for query in ("", "?organization=partner-b", "?format=csv", "?format=csv&organization=partner-b"):
            response = client.get(f"/{area}/privacy/sharing/{query}")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert sharing_recipient(a.organization).encode() in body, f"{area} {query}"
            assert sharing_recipient(b.organization).encode() not in body, f"{area} {query}"
