"""The demo: AES, three brand partners with their catalogs, a warehouse with stock on its
shelves, a dozen orders and an announced delivery per partner, a hub, riders, and one account
for every role. Seeded, so the catalogs, stock and orders are the same on every run (order
numbers and tracking codes are random by design); loading it twice changes nothing.
"""

import base64
import hashlib
import random
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from allied.accounts.models import Membership, Organization, User
from allied.accounts.policy import Actor, role_requires_mfa
from allied.accounts.roles import OrganizationKind, Role
from allied.catalog.models import Product
from allied.core.address import Address
from allied.delivery.models import DeliveryTask, Hub, Rider, Shift, TaskKind, VehicleType
from allied.delivery.services.tasks import PairInput, TaskInput, delivery_tasks_create, service_day
from allied.inventory.models import Bin, BinKind, InboundShipment, Warehouse
from allied.inventory.services import inbound_create, inbound_receive, stock_put_away
from allied.orders.models import Order
from allied.orders.services.intake import LineInput, OrderInput, order_create
from allied.privacy.models import DataSubjectRequest
from allied.website.models import Lead
from allied.website.services import lead_submit

DEMO_PASSWORD = "allied-demo-2026"
DEMO_SEED = 2026

OPERATOR = ("Allied E-Commerce Solutions", "aes", "aes.example")
PARTNERS = [
    ("Kohsar Apparel", "kohsar", "kohsar.example", "apparel"),
    ("Indus Organics", "indus", "indus.example", "grocery"),
    ("Ravi Home & Living", "ravi", "ravi.example", "home"),
]
STAFF = [
    (Role.ADMIN, "admin", "Ayesha Khan"),
    (Role.DISPATCHER, "dispatch", "Bilal Ahmed"),
    (Role.WAREHOUSE, "warehouse", "Kamran Siddiqui"),
    (Role.FINANCE, "finance", "Sana Malik"),
    (Role.PRIVACY_OFFICER, "privacy", "Fatima Raza"),
    (Role.SUPPORT, "support", "Omar Farooq"),
]
RIDERS = ["Imran Ali", "Zeeshan Haider", "Naveed Iqbal", "Asad Mehmood", "Usman Tariq"]
PARTNER_STAFF = [(Role.OWNER, "owner"), (Role.MANAGER, "manager"), (Role.VIEWER, "viewer")]
PRODUCT_WORDS = {
    "apparel": (
        ["Tee", "Kurta", "Hoodie", "Polo", "Shalwar", "Dupatta", "Jacket"],
        ["Black", "White", "Indigo", "Olive", "Maroon"],
        ["S", "M", "L", "XL"],
    ),
    "grocery": (
        ["Honey", "Pink Salt", "Dates", "Olive Oil", "Green Tea", "Almonds", "Ghee"],
        ["Classic", "Organic", "Wild", "Premium", "Family"],
        ["250g", "500g", "1kg"],
    ),
    "home": (
        ["Cushion", "Throw", "Mug", "Lamp", "Rug", "Vase", "Towel"],
        ["Sand", "Teal", "Rust", "Ivory", "Slate"],
        ["Small", "Medium", "Large"],
    ),
}


@dataclass
class DemoSummary:
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    product_count: int = 0

    def as_text(self) -> str:
        lines = [
            f"Demo loaded: {self.product_count} products across {len(PARTNERS)} brand partners.",
            f"Every demo account's password: {DEMO_PASSWORD}",
            "Roles marked * need a two-factor code: run `.venv/bin/allied democode <address>`",
            "or add the printed secret to an authenticator app.",
            "",
        ]
        width = max(len(email) for email, _, _ in self.logins)
        for email, role, secret in self.logins:
            mark = f"*  TOTP secret {secret}" if secret else ""
            lines.append(f"  {email.ljust(width)}  {role:<16} {mark}")
        return "\n".join(lines)


def demo_totp_secret(email: str) -> str:
    """A fixed secret per demo account, so the demo's two-factor codes can be computed."""
    return base64.b32encode(hashlib.sha1(f"allied-demo:{email}".encode()).digest()).decode()


def _member(organization: Organization, email: str, full_name: str, role: str) -> tuple[User, str]:
    user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": role})
    secret = ""
    if role_requires_mfa(role):
        secret = demo_totp_secret(email)
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, secret)
            RecoveryCodes.activate(user)
    return user, secret


def _catalog(organization: Organization, kind: str, rng: random.Random) -> int:
    nouns, styles, sizes = PRODUCT_WORDS[kind]
    products = []
    for noun in nouns:
        for style in styles[:3]:
            for size in sizes[:3]:
                sku = f"{noun[:4].upper().replace(' ', '')}-{style[:3].upper()}-{size.upper()}"
                products.append(
                    Product(
                        organization=organization,
                        sku=sku,
                        name=f"{style} {noun}, {size}",
                        barcodes=[f"{rng.randrange(10**12, 10**13)}"],
                        weight_grams=rng.randrange(80, 2500, 10),
                        length_mm=rng.randrange(100, 600, 10),
                        width_mm=rng.randrange(80, 400, 10),
                        height_mm=rng.randrange(20, 300, 10),
                        declared_value=Decimal(rng.randrange(300, 12000, 50)),
                        currency="PKR",
                        tracks_expiry=kind == "grocery",
                        tracks_lots=kind == "grocery",
                    )
                )
    existing = set(Product.objects.filter(organization=organization).values_list("sku", flat=True))
    Product.objects.bulk_create([p for p in products if p.sku not in existing])
    return len(products)


# Where each area of Karachi is, roughly: the demo's stops are spread around these.
AREAS = {
    "Gulshan-e-Iqbal": (Decimal("24.920400"), Decimal("67.093200")),
    "Clifton": (Decimal("24.813800"), Decimal("67.030000")),
    "DHA Phase 6": (Decimal("24.793200"), Decimal("67.064300")),
    "North Karachi": (Decimal("24.974400"), Decimal("67.064000")),
    "PECHS": (Decimal("24.869700"), Decimal("67.064000")),
}


def _near(area: str, number: int) -> tuple[Decimal, Decimal]:
    """A point a few hundred metres from the area's centre, different for each number."""
    lat, lng = AREAS[area]
    return lat + Decimal((number * 37) % 11 - 5) / 1000, lng + Decimal((number * 53) % 11 - 5) / 1000


RECIPIENTS = [
    ("Hina Baig", "+92 300 1112233", "House 12, Street 4, Block 7", "Gulshan-e-Iqbal"),
    ("Ahmed Raza", "+92 321 4445566", "Flat 3B, Al-Noor Heights", "Clifton"),
    ("Maryam Qureshi", "+92 333 7778899", "Plot 88, Khayaban-e-Ittehad", "DHA Phase 6"),
    ("Faisal Shaikh", "+92 345 2223344", "House 5, Lane 2, Sector 11-A", "North Karachi"),
    ("Sadia Anwar", "+92 312 5556677", "B-14, Block 13-D", "Gulshan-e-Iqbal"),
    ("Usman Ghani", "+92 301 8889900", "Shop 4, Tariq Road", "PECHS"),
]


def _warehouse_floor(warehouse: Warehouse) -> tuple[Bin, list[Bin]]:
    dock, _ = Bin.objects.get_or_create(warehouse=warehouse, code="DOCK-1", defaults={"kind": BinKind.RECEIVING})
    Bin.objects.get_or_create(warehouse=warehouse, code="Q-1", defaults={"kind": BinKind.QUARANTINE})
    shelves = [
        Bin.objects.get_or_create(warehouse=warehouse, code=f"{zone}-{aisle:02d}-{level:02d}")[0]
        for zone in "ABC"
        for aisle in (1, 2, 3)
        for level in (1, 2)
    ]
    return dock, shelves


def _stock_and_orders(
    partner: Organization, warehouse: Warehouse, dock: Bin, shelves: list[Bin], rng: random.Random
) -> None:
    """Receive a first delivery, shelve it, take a dozen orders and announce the next delivery."""
    operator = Actor.system("demo")
    products = list(Product.objects.filter(organization=partner).order_by("sku"))
    if not InboundShipment.objects.filter(organization=partner, reference=f"{partner.slug.upper()}-PO-001").exists():
        quantities = {p.pk: rng.choice([0, 4, 8, 12, 20, 30]) for p in products}
        stocked = [(p, quantities[p.pk]) for p in products if quantities[p.pk]]
        first = inbound_create(
            organization=partner,
            warehouse=warehouse,
            reference=f"{partner.slug.upper()}-PO-001",
            lines=stocked,
            actor=operator,
        )
        inbound_receive(
            inbound=first, received={line.pk: (line.expected_quantity, 0) for line in first.lines.all()}, actor=operator
        )
        for index, (product, quantity) in enumerate(stocked):
            stock_put_away(
                product=product,
                from_bin=dock,
                to_bin=shelves[(index * 7 + partner.pk) % len(shelves)],
                quantity=quantity,
                actor=operator,
            )
    if not Order.objects.filter(organization=partner).exists():
        for number in range(1, 13):
            name, phone, street, area = RECIPIENTS[(number + partner.pk) % len(RECIPIENTS)]
            chosen = rng.sample(products, k=rng.choice([1, 1, 2, 3]))
            lines = [LineInput(sku=p.sku, quantity=rng.choice([1, 1, 2]), unit_price=p.declared_value) for p in chosen]
            cod = number % 3 != 0
            near = _near(area, number)
            subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
            order_create(
                organization=partner,
                actor=operator,
                warehouse=warehouse,
                data=OrderInput(
                    channel=["shopify", "woocommerce", "api", "manual"][number % 4],
                    external_id=f"{partner.slug.upper()}-{1000 + number}",
                    recipient_name=name,
                    recipient_phone=phone,
                    address=Address.given(
                        line1=street,
                        area=area,
                        city="Karachi",
                        region="Sindh",
                        lat=near[0],
                        lng=near[1],
                    ),
                    currency="PKR",
                    payment_method="cod" if cod else "prepaid",
                    shipping_fee=Decimal("200"),
                    cod_amount=subtotal + Decimal("200") if cod else Decimal("0"),
                    lines=lines,
                ),
            )
    if not InboundShipment.objects.filter(organization=partner, reference=f"{partner.slug.upper()}-PO-002").exists():
        inbound_create(
            organization=partner,
            warehouse=warehouse,
            reference=f"{partner.slug.upper()}-PO-002",
            lines=[(p, 24) for p in products[:6]],
            actor=operator,
        )


@transaction.atomic
def demo_load() -> DemoSummary:
    rng = random.Random(DEMO_SEED)
    summary = DemoSummary()
    name, slug, domain = OPERATOR
    aes, _ = Organization.objects.get_or_create(kind=OrganizationKind.OPERATOR, defaults={"name": name, "slug": slug})
    for role, local, full_name in STAFF:
        email = f"{local}@{domain}"
        _, secret = _member(aes, email, full_name, role)
        summary.logins.append((email, Role(role).label, secret))
    warehouse, _ = Warehouse.objects.get_or_create(
        code="KHI-W1",
        defaults={
            "name": "Karachi Fulfilment Centre",
            "address_line1": "Plot 14, Sector 23, Korangi Industrial Area",
            "city": "Karachi",
        },
    )
    hub, _ = Hub.objects.get_or_create(
        code="KHI-H1",
        defaults={
            "name": "Karachi Central Hub",
            "address_line1": "Shahrah-e-Faisal, Block 6, PECHS",
            "city": "Karachi",
            "lat": Decimal("24.861500"),
            "lng": Decimal("67.069900"),
        },
    )
    motorbikes, _ = VehicleType.objects.get_or_create(
        code="motorbike",
        defaults={
            "name": "Motorbike",
            "speed_kmh": Decimal("22"),
            "capacity_parcels": 30,
            "capacity_kg": Decimal("40"),
        },
    )
    vans, _ = VehicleType.objects.get_or_create(
        code="van", defaults={"name": "Van", "speed_kmh": Decimal("18"), "capacity_parcels": 150, "capacity_kg": 600}
    )
    for number, full_name in enumerate(RIDERS, start=1):
        email = f"rider{number}@{domain}"
        user, _ = _member(aes, email, full_name, Role.RIDER)
        vehicle = vans if number == 5 else motorbikes
        Rider.objects.get_or_create(
            user=user,
            defaults={
                "hub": hub,
                "vehicle_type": vehicle,
                "capacity_parcels": vehicle.capacity_parcels,
                "capacity_kg": vehicle.capacity_kg,
            },
        )
        if number == 1:
            summary.logins.append((email, Role.RIDER.label, ""))
    for partner_name, partner_slug, partner_domain, kind in PARTNERS:
        partner, _ = Organization.objects.get_or_create(
            slug=partner_slug, defaults={"name": partner_name, "kind": OrganizationKind.PARTNER}
        )
        for role, local in PARTNER_STAFF:
            email = f"{local}@{partner_domain}"
            _member(partner, email, f"{partner_name.split()[0]} {Role(role).label}", role)
            summary.logins.append((email, f"{Role(role).label} ({partner_name})", ""))
        summary.product_count += _catalog(partner, kind, rng)
    dock, shelves = _warehouse_floor(warehouse)
    for partner in Organization.objects.filter(kind=OrganizationKind.PARTNER).order_by("slug"):
        _stock_and_orders(partner, warehouse, dock, shelves, rng)
    _last_mile_day(hub)
    _leads_and_requests()
    return summary


def _leads_and_requests() -> None:
    """Two inquiries in the leads pipeline and one data-subject request for the privacy officer."""
    if Lead.objects.exists():
        return
    lead_submit(
        kind="inquiry",
        name="Rabia Sheikh",
        email="rabia@lawnhouse.example",
        phone="+92 321 5550101",
        company="Lawn House",
        relationship="Founder",
        service="fulfilment",
        message="We sell lawn suits on Shopify, about 40 orders a day. Can you store our stock and deliver in Karachi?",
    )
    lead_submit(
        kind="feedback",
        name="Imran Qureshi",
        email="imran.q@example.com",
        message="The rider called before coming and the parcel arrived on time. Thank you!",
    )
    DataSubjectRequest.objects.create(
        kind=DataSubjectRequest.Kind.CORRECTION,
        source=DataSubjectRequest.Source.WEBSITE,
        email="hina.baig@example.com",
        details="My address on the last parcel was House 12, but it is House 21, Street 4, PECHS.",
        status=DataSubjectRequest.Status.OPEN,
        verified_at=timezone.now(),
        due_at=timezone.now() + timedelta(days=settings.ALLIED_PRIVACY_REQUEST_DAYS),
    )


def _last_mile_day(hub: Hub) -> None:
    """The hub's day (tomorrow once today's is over, as the dispatch board opens on it): every rider
    on shift, and each partner's stops waiting to be planned (drop-offs with windows and cash to
    collect, and one paired shop-to-customer job)."""
    day = service_day(hub)
    for rider in Rider.objects.filter(hub=hub):
        late = rider.pk % 2 == 0
        Shift.objects.get_or_create(
            rider=rider, date=day, defaults={"start": time(12 if late else 8), "end": time(20 if late else 16)}
        )
    if DeliveryTask.objects.exists():
        return
    operator = Actor.system("demo")
    for partner in Organization.objects.filter(kind=OrganizationKind.PARTNER).order_by("slug"):
        stops: list[TaskInput | PairInput] = []
        for number in range(1, 9):
            name, phone, street, area = RECIPIENTS[(number + partner.pk) % len(RECIPIENTS)]
            lat, lng = _near(area, number + partner.pk * 10)
            morning = number % 3 == 0
            stops.append(
                TaskInput(
                    kind=TaskKind.DROP_OFF,
                    hub_code=hub.code,
                    date=day,
                    address=Address.given(line1=street, area=area, city="Karachi", lat=lat, lng=lng),
                    contact_name=name,
                    contact_phone=phone,
                    window_start=time(9) if morning else None,
                    window_end=time(13) if morning else None,
                    cod_amount=Decimal(1500 + 250 * number) if number % 2 else Decimal("0"),
                    weight_grams=400 + 150 * number,
                    reference=f"{partner.slug.upper()}-D{number:02d}",
                )
            )
        shop_lat, shop_lng = _near("PECHS", partner.pk)
        name, phone, street, area = RECIPIENTS[partner.pk % len(RECIPIENTS)]
        lat, lng = _near(area, partner.pk + 99)
        stops.append(
            PairInput(
                pickup=TaskInput(
                    kind=TaskKind.PICKUP,
                    hub_code=hub.code,
                    date=day,
                    address=Address.given(
                        line1="Shop 4, Tariq Road", area="PECHS", city="Karachi", lat=shop_lat, lng=shop_lng
                    ),
                    contact_name=f"{partner.name} counter",
                    contact_phone="+92 21 34567890",
                    reference=f"{partner.slug.upper()}-SAME-DAY",
                ),
                drop_off=TaskInput(
                    kind=TaskKind.DROP_OFF,
                    hub_code=hub.code,
                    date=day,
                    address=Address.given(line1=street, area=area, city="Karachi", lat=lat, lng=lng),
                    contact_name=name,
                    contact_phone=phone,
                    cod_amount=Decimal("2400"),
                    reference=f"{partner.slug.upper()}-SAME-DAY",
                ),
            )
        )
        delivery_tasks_create(organization=partner, stops=stops, actor=operator)
