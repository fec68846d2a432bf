"""`allied integrations connect` as operators and scripts run it."""

import json
import re

import pytest
from django.test import Client

from allied.integrations.models import Connection, InboxMessage
from tests.integrations.test_store_webhooks import shopify_order, sign
from tests.processes import run_allied

pytestmark = pytest.mark.django_db(transaction=True)


def test_connect_prints_the_id_and_a_webhook_address_that_takes_signed_deliveries(partner_a) -> None:
    result = run_allied(
        "integrations", "connect", "shopify", "--org", "partner-a", "--store", "Kohsar.myshopify.com",
        "--access-token", "shpat_cli_token_aaaa", "--client-secret", "shpss_cli_secret_bbbb",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    connection = Connection.objects.get()
    assert f"connection {connection.pk} for Partner A" in result.stdout
    path = re.search(r"webhook address: https?://[^/]+(/\S+)", result.stdout)[1]
    body = json.dumps(shopify_order()).encode()
    delivered = Client().post(
        path,
        body,
        content_type="application/json",
        headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Hmac-Sha256": sign(body, "shpss_cli_secret_bbbb"),
                 "X-Shopify-Event-Id": "e-1"},
    )  # fmt: skip
    assert delivered.status_code == 200
    assert InboxMessage.objects.get().connection == connection
    assert "shpss_cli_secret_bbbb" not in json.dumps(connection.credentials)


def test_connect_refuses_what_is_not_a_shopify_store_and_stores_nothing(partner_a) -> None:
    result = run_allied(
        "integrations", "connect", "shopify", "--org", "partner-a", "--store", "kohsar.example.com",
        "--access-token", "shpat_cli_token_aaaa", "--client-secret", "shpss_cli_secret_bbbb",
    )  # fmt: skip

    assert result.returncode == 2
    assert "store_url" in result.stderr
    assert not Connection.objects.exists()
