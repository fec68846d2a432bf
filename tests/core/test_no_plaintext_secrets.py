"""No plaintext secret anywhere: after a full flow through the real doors (stores connected by the
portal page and the API, signed webhooks, an outbox webhook delivered, a failing view that logs and
renders both 500 pages), every table of the database, every captured log line and both error
pages are searched for the secrets that went in, and none is there. Pages show the last four."""

import base64
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from django.apps import apps
from django.conf import settings
from django.db import connection as db
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from allied.accounts.roles import Role
from allied.core.logging import StructuredFormatter
from allied.core.outbox import outbox_relay, webhook_subscription_create
from allied.core.secret_masking import SecretMaskingFilter
from allied.integrations.models import Connection
from allied.urls import urlpatterns as allied_urlpatterns
from tests.catalog.factories import ProductFactory
from tests.conftest import enable_totp
from tests.core.test_outbox import Endpoint
from tests.integrations.test_store_webhooks import deliver, run_tasks, shopify_order, sign

pytestmark = pytest.mark.django_db(transaction=True)

SHOP_TOKEN = "shpat_grep_access_9f3k2m"
SHOP_SECRET = "shpss_grep_client_7h2p4q"
WOO_KEY = "ck_grep_consumer_key_5r8t"
WOO_SECRET = "cs_grep_consumer_secret_3w6y"
WOO_WEBHOOK = "whk_grep_woo_webhook&<1z4x>"  # characters that pages and JSON escape
OUTBOX_SECRET = "whsec_" + base64.b64encode(b"grep-outbox-signing-key-0042").decode()

logger = logging.getLogger("allied.tests.secrets")


def failing_view(request: HttpRequest) -> HttpResponse:
    """A view that, like a careless connector, logs a store's secret and fails with it in hand."""
    connection = Connection.objects.get(kind="shopify")
    store_secret = connection.credential("client_secret")
    value = f"signed with {store_secret}"
    logger.warning("the store refused %s", value)
    structlog.get_logger("allied.tests.secrets").error("store call failed", detail=value, hint=store_secret)
    raise RuntimeError(f"Shopify said no to {store_secret}")


urlpatterns = [path("boom/", failing_view), *allied_urlpatterns]


@pytest.fixture
def log_output(caplog: pytest.LogCaptureFixture) -> Iterator[list[io.StringIO]]:
    """What the configured handlers (settings.LOGGING) write, and caplog's records: the standard
    library's path with the masking filter a handler of Allied's carries."""
    captured = []
    handlers = {
        handler
        for name in ("", "django")
        for handler in logging.getLogger(name).handlers
        if isinstance(handler.formatter, StructuredFormatter) and isinstance(handler, logging.StreamHandler)
    }
    assert handlers, "settings.LOGGING has no structured handler"
    previous = {}
    for handler in handlers:
        buffer = io.StringIO()
        # Swapped without setStream, which flushes the old stream: an earlier test's captured
        # stderr may be closed by now.
        previous[handler], handler.stream = handler.stream, buffer
        captured.append(buffer)
    masking = SecretMaskingFilter()
    caplog.handler.addFilter(masking)
    logging.getLogger("django").addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        yield captured
    finally:
        logging.getLogger("django").removeHandler(caplog.handler)
        caplog.handler.removeFilter(masking)
        for handler, stream in previous.items():
            handler.stream = stream


def database_dump() -> str:
    """Every row of every table, read raw, and every text and JSON column through the models."""
    parts = []
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")  # table names from the schema
            parts.extend(repr(row) for row in cursor.fetchall())
    for model in apps.get_models(include_auto_created=True):
        columns = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField | models.JSONField)
        ]
        if columns:
            parts.extend(json.dumps(row, default=str) for row in model._default_manager.values_list(*columns))
    return "\n".join(parts)


def test_no_secret_reaches_the_database_the_logs_or_the_error_pages(
    partner_a, member, client_for, api_client_for, floor, stock_in, log_output, caplog
) -> None:
    for sku in ("TEE-BLK-M", "CAP-RED"):
        stock_in(ProductFactory(organization=partner_a, sku=sku), 10)
    membership = member(partner_a, Role.OWNER)
    totp_secret = enable_totp(membership.user)
    owner = client_for(membership)
    endpoint = Endpoint()
    webhook_subscription_create(
        name="partner hook", url=endpoint.url, secret=OUTBOX_SECRET, event_types=["*"], organization=partner_a
    )

    # Shopify through the portal page, WooCommerce through the API.
    connected = owner.post(
        "/portal/integrations/",
        {
            "kind": "shopify",
            "name": "Main store",
            "store_url": "kohsar.myshopify.com",
            "access_token": SHOP_TOKEN,
            "client_secret": SHOP_SECRET,
        },
        follow=True,
    )
    api = api_client_for(partner_a, scopes=["integrations:manage"])
    woo_answer = api.post(
        "/api/v1/connections",
        json.dumps(
            {
                "kind": "woocommerce",
                "name": "Woo store",
                "store_url": "https://shop.kohsar.example/",
                "credentials": {"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET, "webhook_secret": WOO_WEBHOOK},
            }
        ),
        content_type="application/json",
    )
    assert connected.status_code == 200
    assert woo_answer.status_code == 201, woo_answer.content
    shop = Connection.objects.get(kind="shopify")
    woo = Connection.objects.get(kind="woocommerce")

    # Signed webhooks from both stores; the order they bring is delivered to the partner's endpoint.
    assert deliver(shop, "orders/create", shopify_order(), secret=SHOP_SECRET).status_code == 200
    woo_body = json.dumps({"id": 727, "status": "processing", "line_items": []}).encode()
    woo_delivered = Client().post(
        f"/integrations/woocommerce/{woo.public_id}/webhooks",
        woo_body,
        content_type="application/json",
        headers={
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": sign(woo_body, WOO_WEBHOOK),
            "X-WC-Webhook-Delivery-ID": "d-grep-1",
        },
    )
    assert woo_delivered.status_code == 200, woo_delivered.content
    run_tasks()
    outbox_relay()
    endpoint.server.shutdown()
    assert endpoint.received, "the outbox webhook was not delivered"

    # A view fails with a secret in hand: the development page, then the production one.
    failing = Client(raise_request_exception=False)
    failing.force_login(membership.user)
    form = {"client_secret": SHOP_SECRET, "note": f"pasted {WOO_SECRET} here", "totp": totp_secret}
    with override_settings(ROOT_URLCONF=__name__, DEBUG=True):
        debug_page = failing.post(f"/boom/?access_token={SHOP_TOKEN}&shop=kohsar", form)
        debug_text = failing.post("/boom/", form, headers={"Accept": "text/plain"})
    with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
        production_page = failing.post(f"/boom/?access_token={SHOP_TOKEN}", form)
    assert debug_page.status_code == debug_text.status_code == production_page.status_code == 500
    assert "RuntimeError" in debug_page.content.decode()
    assert "Shopify said no to" in debug_text.content.decode()

    # Pages show only the last four characters.
    health = owner.get(f"/portal/integrations/{shop.pk}/").content.decode()
    assert f"…{SHOP_TOKEN[-4:]}" in health
    assert woo_answer.json()["credential_hints"]["consumer_secret"] == f"…{WOO_SECRET[-4:]}"

    secrets = [SHOP_TOKEN, SHOP_SECRET, WOO_KEY, WOO_SECRET, WOO_WEBHOOK, OUTBOX_SECRET, totp_secret]
    logs = "\n".join(buffer.getvalue() for buffer in log_output) + "\n" + caplog.text
    assert "the store refused" in logs
    assert "store call failed" in logs
    assert "Internal Server Error" in logs
    assert "Shopify said no to" in logs  # the exception was logged, its secret masked
    where = {
        "database": database_dump(),
        "logs": logs,
        "development error page": debug_page.content.decode() + debug_text.content.decode(),
        "production error page": production_page.content.decode(),
        "pages": connected.content.decode() + health + woo_answer.content.decode(),
    }
    for secret in secrets:
        for spelling in {secret, json.dumps(secret)[1:-1], secret.replace("&", "&amp;").replace("<", "&lt;")}:
            found = [name for name, text in where.items() if spelling in text]
            assert not found, f"{secret!r} in plaintext in the {', '.join(found)}"
    for configured in [settings.SECRET_KEY, *settings.VAULT_KEYS]:  # the deployment's own keys
        assert not [name for name, text in where.items() if configured in text], "a configured key is shown"
