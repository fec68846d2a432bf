"""One person's data from end to end: a recipient with two orders, a delivery with proof, a lead
from the website, an account with consent records. They ask for their data through the public
form and receive every item; they ask for erasure and every personal value is gone from every
table Allied declares (the scan reads every text and JSON column, not only the declared ones),
while order totals, the stock ledger and the cash collected stay as they were. A second erasure
changes nothing."""

import io
import json
import re
import zipfile
from decimal import Decimal

import pytest
from django.core import mail
from django.db import models
from django.db.models.functions import Cast
from django.http import HttpResponse

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.address import Address
from allied.core.privacy import DataSubject, declarations, sharing_record, subject_erase
from allied.delivery.models import DeliveryTask, Proof, TrackingEvent
from allied.inventory.models import StockMove
from allied.inventory.selectors import inventory_verify
from allied.orders.models import Order
from allied.orders.services.intake import order_create
from allied.orders.services.lifecycle import (
    order_cancel,
    order_hand_over,
    order_pack,
    order_pick,
    order_record_delivery,
    order_start_picking,
)
from allied.privacy.models import ConsentRecord, DataSubjectRequest
from allied.privacy.selectors import notice_current
from allied.privacy.services.notice import notice_acknowledge
from allied.website.services import lead_submit
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ProductFactory
from tests.delivery.test_rider import deliver, rider_day, stop_input
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
NAME, EMAIL, PHONE, STREET = "Zubaida Khanum", "zubaida@example.com", "+923214445566", "Flat 12, Rosewood Heights"
VALUES = (NAME, EMAIL, PHONE, STREET, "Rosewood")
# The request itself is kept as evidence that the person's rights were honoured (legal obligation).
KEPT_AS_EVIDENCE = {"privacy.DataSubjectRequest"}


def _recipient(**more: object) -> dict[str, object]:
    return {
        "recipient_name": NAME,
        "recipient_email": EMAIL,
        "recipient_phone": "0321 4445566",
        "address": Address(line1=STREET, city="Karachi", area="PECHS"),
        **more,
    }


@pytest.fixture
def person(partner_a, floor, stock_in, operator_org, member):
    product = ProductFactory(organization=partner_a, sku="TEE")
    stock_in(product, 5)
    delivered = order_create(organization=partner_a, data=order_input(("TEE", 2), **_recipient()), actor=SYSTEM).order
    order_start_picking(order=delivered, actor=SYSTEM)
    order_pick(order=delivered, code="TEE", quantity=2, bin_code=floor.shelf_a.code, actor=SYSTEM)
    order_pack(order=delivered, scanned_codes=["TEE", "TEE"], weight_grams=400, dimensions_mm="", actor=SYSTEM)
    order_hand_over(order=delivered, carrier="tcs", actor=SYSTEM)
    order_record_delivery(order=delivered, delivered=True, note=f"Given to {NAME}", actor=SYSTEM)
    sharing_record(
        organization_id=partner_a.pk,
        recipient="portal.packzy.example",
        recipient_category="delivery_partners",
        data_categories=["user.name", "user.contact.address"],
        purpose="last_mile_delivery",
        reference=delivered.number,
    )
    cancelled = order_create(organization=partner_a, data=order_input(("TEE", 1), **_recipient()), actor=SYSTEM).order
    order_cancel(order=cancelled, reason=f"{NAME} changed her mind", actor=SYSTEM)
    day = rider_day(
        partner_a,
        [stop_input(0, cod="1500", contact_name=NAME, contact_phone="0321 4445566", instructions=f"Ring {NAME}")],
    )
    deliver(
        day,
        recipient_name=NAME,
        signature_svg="M 10 10 L 20 20",
        cod_collected=Decimal("1500"),
        lat=Decimal("24.87"),
        lng=Decimal("67.06"),
    )
    lead_submit(kind="inquiry", name=NAME, email=EMAIL, phone="0321 4445566", message=f"I am {NAME}, call me")
    account = UserFactory(email=EMAIL, full_name=NAME, phone=PHONE)
    ConsentRecord.objects.create(user=account, notice_version=notice_current(), source="banner", analytics=True)
    notice_acknowledge(user_id=account.pk, version=notice_current())
    return {"orders": [delivered, cancelled], "stop": day.stops[0], "account": account}


def _scan() -> list[str]:
    """Every text and JSON column of every declared table that still holds one of the person's values."""
    found = []
    for label, declaration in sorted(declarations().items()):
        if label in KEPT_AS_EVIDENCE:
            continue
        model = declaration.model
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField | models.JSONField):
                continue
            rows = model._default_manager.annotate(_text=Cast(field.name, models.TextField()))
            for value in VALUES:
                if rows.filter(_text__icontains=value).exists():
                    found.append(f"{label}.{field.name} holds {value!r}")
    return found


def _ask(client, captured, kind: str) -> tuple[HttpResponse, str]:
    """Post the public form; the answer (to the code page) and the code e-mailed."""
    with captured(execute=True):
        response = client.post(
            "/privacy/requests/new", {"kind": kind, "email": EMAIL, "phone": "0321 4445566", "details": ""}
        )
    email_code = re.search(r"Your code is (\d{6})", mail.outbox[-1].body).group(1)
    return response, email_code


def test_a_person_gets_every_item_then_is_erased_everywhere_and_the_books_still_balance(
    person, client, django_capture_on_commit_callbacks, caplog, operator_org, member, client_for
) -> None:
    caplog.set_level("INFO", logger="allied.sms")
    assert len(_scan()) > 10, "the scan sees the person before the erasure"
    totals = sorted(Order.objects.values_list("total", "cod_amount"))
    movements = StockMove.objects.count()
    cash = Proof.objects.get(task=person["stop"]).cod_collected

    # Export, through the public form and its two codes.
    response, email_code = _ask(client, django_capture_on_commit_callbacks, "access")
    sms_code = re.findall(r"Allied privacy request code: (\d{6})", caplog.text)[-1]
    client.post(response["Location"], {"email_code": email_code, "phone_code": sms_code})
    access = DataSubjectRequest.objects.get(kind="access")
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/privacy/requests/{access.public_id}/archive").content))
    data = json.loads(archive.read("data.json"))
    assert {o["number"] for o in data["orders"]["orders"]} == {o.number for o in person["orders"]}
    [shared] = data["orders"]["shared_with_service_providers"]
    assert (shared["recipient"], shared["reference"]) == ("portal.packzy.example", person["orders"][0].number)
    [stop] = data["delivery"]["delivery_stops"]
    assert stop["tracking_code"] == person["stop"].tracking_code
    assert stop["proof"]["recipient_name"] == NAME
    assert [event["status"] for event in stop["events"]][-1] == "delivered"
    assert data["leads"]["leads"][0]["message"] == f"I am {NAME}, call me"
    assert data["accounts"]["profile"]["full_name"] == NAME
    assert data["privacy"]["consent_records"][0]["analytics"] is True
    assert data["privacy"]["notice_acknowledgements"][0]["version"] == notice_current().number
    assert "audit" in data
    assert {"orders/orders.csv", "delivery/delivery_stops.csv", "leads/leads.csv"} <= set(archive.namelist())

    # Erasure, asked the same way and carried out by the privacy officer.
    client.cookies.clear()
    mail.outbox.clear()
    response, email_code = _ask(client, django_capture_on_commit_callbacks, "deletion")
    sms_code = re.findall(r"Allied privacy request code: (\d{6})", caplog.text)[-1]
    client.post(response["Location"], {"email_code": email_code, "phone_code": sms_code})
    erasure = DataSubjectRequest.objects.get(kind="deletion")
    officer = client_for(member(operator_org, Role.PRIVACY_OFFICER))
    assert officer.post(f"/ops/privacy/requests/{erasure.public_id}/", {"action": "erase"}).status_code == 302

    assert _scan() == []
    stop_after = DeliveryTask.objects.get(pk=person["stop"].pk)
    assert (stop_after.address_lat, stop_after.address_lng) == (None, None)
    assert not TrackingEvent.objects.filter(task=stop_after, lat__isnull=False).exists()
    assert sorted(Order.objects.values_list("total", "cod_amount")) == totals
    assert StockMove.objects.count() == movements
    assert Proof.objects.get(task=person["stop"]).cod_collected == cash
    assert inventory_verify() == []

    subject = DataSubject(email=EMAIL, user_id=person["account"].pk, phone=PHONE)
    again = subject_erase(subject=subject, actor=SYSTEM)
    assert set(again.values()) == {0}, again
