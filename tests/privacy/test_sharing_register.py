"""The sharing register's pages: the privacy officer sees every transmission, a partner its own."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from allied.accounts.roles import Role
from allied.core.models import PersonalDataShared
from allied.core.privacy import SharingRefused, sharing_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(partner_a, partner_b):
    sharing_record(
        organization_id=partner_a.pk,
        recipient="shop-a.myshopify.com",
        recipient_category="store_platforms",
        data_categories=["user.name", "user.contact.address"],
        purpose="order_fulfillment",
        reference="A-1001",
    )
    sharing_record(
        organization_id=partner_a.pk,
        recipient="api.leopards.example",
        recipient_category="delivery_partners",
        data_categories=["user.name", "user.contact.phone_number"],
        purpose="last_mile_delivery",
        reference="A-1002",
    )
    sharing_record(
        organization_id=partner_b.pk,
        recipient="shop-b.myshopify.com",
        recipient_category="store_platforms",
        data_categories=["user.name"],
        purpose="order_fulfillment",
        reference="B-2001",
    )
    sharing_record(
        organization_id=None,
        recipient="mail.hosting.example",
        recipient_category="hosting_providers",
        data_categories=["user.contact.email"],
        purpose="account_access",
    )
    old = PersonalDataShared.objects.get(reference="A-1001")
    PersonalDataShared.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))


@pytest.fixture
def officer_client(client_for, member, operator_org):
    return client_for(member(operator_org, Role.PRIVACY_OFFICER))


def test_the_officer_sees_every_transmission_with_its_details(officer_client, register) -> None:
    response = officer_client.get("/ops/privacy/sharing/")

    body = response.content.decode()
    assert response.status_code == 200
    for recipient in ("shop-a.myshopify.com", "api.leopards.example", "shop-b.myshopify.com", "mail.hosting.example"):
        assert recipient in body
    assert "Partner B" in body
    assert "phone numbers, names" in body  # the data categories in words
    assert "Delivering parcels" in body  # the purpose
    assert "<code>A-1002</code>" in body


def test_the_officer_filters_by_category_partner_and_date(officer_client, register) -> None:
    body = officer_client.get("/ops/privacy/sharing/?recipient_category=delivery_partners").content.decode()
    assert "api.leopards.example" in body
    assert "shop-a.myshopify.com" not in body

    body = officer_client.get("/ops/privacy/sharing/?organization=partner-b").content.decode()
    assert "shop-b.myshopify.com" in body
    assert "api.leopards.example" not in body

    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    body = officer_client.get(f"/ops/privacy/sharing/?since={since}").content.decode()
    assert "api.leopards.example" in body
    assert "shop-a.myshopify.com" not in body


def test_a_bad_date_filter_is_a_form_error(officer_client, register) -> None:
    body = officer_client.get("/ops/privacy/sharing/?since=yesterday").content.decode()

    assert "Enter a valid date." in body


def test_the_officer_downloads_the_register_as_csv(officer_client, register) -> None:
    response = officer_client.get("/ops/privacy/sharing/?format=csv&recipient_category=store_platforms")

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["recipient"] for r in rows) == ["shop-a.myshopify.com", "shop-b.myshopify.com"]
    shop_a = next(r for r in rows if r["reference"] == "A-1001")
    assert shop_a["organization"] == "Partner A"
    assert shop_a["data_categories"] == "user.contact.address user.name"
    assert shop_a["purpose"] == "order_fulfillment"


def test_a_partner_sees_only_its_own_transmissions(client_for, member, partner_a, register) -> None:
    client = client_for(member(partner_a, Role.VIEWER))

    for query in ("", "?organization=partner-b"):
        body = client.get(f"/portal/privacy/sharing/{query}").content.decode()
        assert "shop-a.myshopify.com" in body
        assert "api.leopards.example" in body
        assert "shop-b.myshopify.com" not in body
        assert "mail.hosting.example" not in body

    response = client.get("/portal/privacy/sharing/?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["reference"] for r in rows) == ["A-1001", "A-1002"]


def test_operators_other_than_the_privacy_officer_are_refused(client_for, member, operator_org, register) -> None:
    response = client_for(member(operator_org, Role.DISPATCHER)).get("/ops/privacy/sharing/")

    assert response.status_code == 403
    assert "shop-b.myshopify.com" not in response.content.decode()


def test_a_recipient_outside_the_permitted_categories_is_refused_and_nothing_recorded(partner_a) -> None:
    with pytest.raises(SharingRefused):
        sharing_record(
            organization_id=partner_a.pk,
            recipient="ads.example",
            recipient_category="advertisers",
            data_categories=["user.contact.email"],
            purpose="customer_contact",
        )

    assert not PersonalDataShared.objects.filter(recipient="ads.example").exists()
