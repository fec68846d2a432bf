"""Personal data goes only to the service providers the privacy notice names, and never is sold:
every outbound client writes the sharing register before sending, and a recipient outside the
permitted categories is refused in code, before a byte leaves."""

from datetime import timedelta

import pytest

from allied.core.models import PersonalDataShared
from allied.core.outbound import OutboundHttp
from allied.core.privacy import PURPOSES, SERVICE_PROVIDERS, PersonalField, SharingRefused, data_map, kept_for
from tests.fakes.serving import json_api_served

pytestmark = pytest.mark.django_db


@pytest.fixture
def remote():
    received: list[str] = []

    def answer(method: str, path: str, headers: dict[str, str], body: bytes):
        received.append(path)
        return 200, {}, {"ok": True}

    server, url = json_api_served(answer)
    yield url, received
    server.shutdown()


def test_the_permitted_recipients_are_exactly_the_service_providers_and_the_partners_stores() -> None:
    assert {"delivery_partners", "payment_processors", "hosting_providers", "store_platforms"} == SERVICE_PROVIDERS
    assert all(set(entry.shared_with) <= SERVICE_PROVIDERS for entry in data_map())


@pytest.mark.parametrize("category", ["advertisers", "data_brokers", "analytics_vendors", ""])
def test_personal_data_for_anyone_else_is_refused_before_it_leaves(remote, partner_a, category) -> None:
    url, received = remote
    client = OutboundHttp(base_url=url, organization_id=partner_a.pk, recipient_category=category)

    with pytest.raises(SharingRefused):
        client.request("POST", "/audience", json={"email": "hina@example.com"}, shares=["user.contact.email"])

    assert received == []
    assert not PersonalDataShared.objects.exists()


def test_a_permitted_transmission_is_in_the_register_with_what_went_and_why(remote, partner_a) -> None:
    url, received = remote
    client = OutboundHttp(base_url=url, organization_id=partner_a.pk, recipient_category="delivery_partners")

    client.request(
        "POST", "/parcels", json={"name": "Hina"}, shares=["user.name"], purpose="last_mile_delivery", reference="A-1"
    )

    assert received == ["/parcels"]
    row = PersonalDataShared.objects.get()
    assert (row.recipient_category, row.data_categories, row.purpose, row.reference) == (
        "delivery_partners",
        ["user.name"],
        "last_mile_delivery",
        "A-1",
    )


def test_no_app_can_declare_a_field_shared_with_anyone_else() -> None:
    with pytest.raises(ValueError, match="service-provider categories"):
        PersonalField(
            "user.contact.email",
            "customer_contact",
            kept_for(timedelta(days=1), counts_from="created_at"),
            legal_basis="consent",
            shared_with=frozenset({"advertisers"}),
        )


def test_no_purpose_allied_may_declare_is_profiling_advertising_or_sale() -> None:
    assert not {"profiling", "advertising", "marketing", "sale", "data_sale"} & PURPOSES
    assert {entry.purpose for entry in data_map()} <= PURPOSES
