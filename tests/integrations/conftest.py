"""Fixtures the store integrations' tests share: partner A's owner, and its Shopify connection."""

import pytest

from allied.accounts.policy import Actor
from allied.integrations.models import Connection, ConnectionKind
from allied.integrations.services.connections import connection_create

CLIENT_SECRET = "shpss_test_client_secret_1234"  # signs the fake shop's webhooks


@pytest.fixture
def owner(partner_a, member) -> Actor:
    membership = member(partner_a)
    return Actor(user=membership.user, organization=partner_a, role=membership.role)


@pytest.fixture
def shop(partner_a, owner) -> Connection:
    return connection_create(
        organization=partner_a,
        kind=ConnectionKind.SHOPIFY,
        name="Kohsar Shopify",
        store_url="kohsar.myshopify.com",
        credentials={"access_token": "shpat_test_access_token_abcd", "client_secret": CLIENT_SECRET},
        actor=owner,
    )
