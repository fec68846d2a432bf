"""Partners connect their stores and watch their health in the portal."""

import json

import pytest

from allied.accounts.roles import Role
from allied.integrations.models import Connection, ConnectionStatus, InboxMessage, InboxStatus
from allied.orders.models import Order
from tests.catalog.factories import ProductFactory
from tests.integrations.test_store_webhooks import deliver, run_tasks, shopify_order

pytestmark = pytest.mark.django_db(transaction=True)

FORM = {
    "kind": "shopify",
    "name": "Main store",
    "store_url": "kohsar.myshopify.com",
    "access_token": "shpat_page_token_wxyz",
    "client_secret": "shpss_test_client_secret_1234",
}


def test_an_owner_connects_a_store_and_sees_only_the_last_four_characters(partner_a, member, client_for) -> None:
    owner = client_for(member(partner_a, Role.OWNER))

    response = owner.post("/portal/integrations/", FORM, follow=True)

    page = response.content.decode()
    connection = Connection.objects.get()
    assert response.redirect_chain[-1][0] == f"/portal/integrations/{connection.pk}/"
    assert f"/integrations/shopify/{connection.public_id}/webhooks" in page
    assert "…wxyz" in page
    assert "shpat_page_token_wxyz" not in page
    assert "shpss_test_client_secret_1234" not in json.dumps(connection.credentials)


def test_missing_tokens_and_a_wrong_domain_are_form_errors_and_nothing_is_stored(partner_a, member, client_for) -> None:
    owner = client_for(member(partner_a, Role.OWNER))

    response = owner.post("/portal/integrations/", {**FORM, "store_url": "kohsar.com", "client_secret": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert "myshopify.com" in page
    assert not Connection.objects.exists()


def test_a_viewer_cannot_reach_the_connections(partner_a, member, client_for) -> None:
    viewer = client_for(member(partner_a, Role.VIEWER))

    assert viewer.get("/portal/integrations/").status_code == 403


def test_health_shows_a_held_order_and_processing_it_again_takes_it_in(
    partner_a, member, client_for, floor, stock_in
) -> None:
    owner = client_for(member(partner_a, Role.OWNER))
    owner.post("/portal/integrations/", FORM)
    connection = Connection.objects.get()
    deliver(
        connection, "orders/create", shopify_order(line_items=[{"sku": "MUG-NEW", "quantity": 1, "price": "900.00"}])
    )
    run_tasks()

    health = owner.get(f"/portal/integrations/{connection.pk}/").content.decode()
    assert "MUG-NEW" in health
    assert "On hold" in health

    stock_in(ProductFactory(organization=partner_a, sku="MUG-NEW"), 3)  # the partner adds the product
    message = InboxMessage.objects.get()
    owner.post(f"/portal/integrations/{connection.pk}/", {"action": "replay", "message": message.pk})
    run_tasks()

    message.refresh_from_db()
    assert message.status == InboxStatus.PROCESSED
    assert Order.objects.get().external_id == "820982911946154508"


def test_pause_resume_and_disconnect_from_the_page(partner_a, member, client_for) -> None:
    owner = client_for(member(partner_a, Role.OWNER))
    owner.post("/portal/integrations/", FORM)
    connection = Connection.objects.get()
    page = f"/portal/integrations/{connection.pk}/"

    owner.post(page, {"action": "pause"})
    paused = Connection.objects.get().status
    owner.post(page, {"action": "resume"})
    resumed = Connection.objects.get().status
    owner.post(page, {"action": "disconnect"})
    gone = Connection.objects.get()

    assert (paused, resumed, gone.status) == (
        ConnectionStatus.PAUSED,
        ConnectionStatus.ACTIVE,
        ConnectionStatus.DISCONNECTED,
    )
    assert gone.credentials == {}
    assert deliver(gone, "orders/create", shopify_order()).status_code == 404
