"""Partners manage their webhook endpoints in the portal; AES staff see every partner's."""

import re
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.models import DeliveryStatus, EventDelivery, Subscription
from allied.core.outbox import outbox_relay
from allied.integrations.services.subscriptions import subscription_create
from tests.core.test_outbox import Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint() -> Any:
    served = Endpoint()
    yield served
    served.server.shutdown()


def add(client: Any, url: str, event_types: list[str]) -> Any:
    return client.post("/portal/webhooks/", {"description": "Our ERP", "url": url, "event_types": event_types})


def test_an_owner_adds_an_endpoint_sees_the_secret_once_and_a_test_event_in_the_log(
    partner_a, member, client_for, endpoint
) -> None:
    owner = client_for(member(partner_a, Role.OWNER))

    added = add(owner, endpoint.url, ["order.*", "inventory.level_changed"])

    page = added.content.decode()
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", page)
    assert secret, page
    subscription = Subscription.objects.get(kind=Subscription.Kind.WEBHOOK)
    detail = f"/portal/webhooks/{subscription.pk}/"
    assert secret.group() not in owner.get(detail).content.decode()
    assert f"…{secret.group()[-4:]}" in owner.get(detail).content.decode()

    assert owner.post(detail, {"action": "test"}).status_code == 302
    outbox_relay()

    log = owner.get(detail).content.decode()
    for shown in ("webhook.test", "Delivered", " ms", "<td>200</td>"):
        assert shown in log
    headers, body = endpoint.received[0]
    assert Webhook(secret.group()).verify(body, headers)["type"] == "webhook.test"


def test_bad_input_is_shown_beside_the_form_and_nothing_is_stored(partner_a, member, client_for) -> None:
    owner = client_for(member(partner_a, Role.OWNER))

    public_http = add(owner, "http://hooks.example.com/in", ["order.*"])
    nothing_chosen = add(owner, "https://hooks.example.com/in", [])
    unknown = add(owner, "https://hooks.example.com/in", ["order.teleported"])

    assert "https://" in public_http.content.decode()
    assert nothing_chosen.status_code == unknown.status_code == 200
    assert "order.teleported" in unknown.content.decode()  # "not one of the available choices"
    assert not Subscription.objects.filter(kind=Subscription.Kind.WEBHOOK).exists()


def test_a_failed_delivery_is_sent_again_and_the_endpoint_paused_rotated_and_deleted(
    partner_a, member, client_for, endpoint
) -> None:
    owner = client_for(member(partner_a, Role.OWNER))
    add(owner, endpoint.url, ["order.*"])
    subscription = Subscription.objects.get(kind=Subscription.Kind.WEBHOOK)
    detail = f"/portal/webhooks/{subscription.pk}/"
    endpoint.answers.append((404, {}))
    owner.post(detail, {"action": "test"})
    outbox_relay()
    delivery = EventDelivery.objects.get(subscription=subscription)
    assert delivery.status == DeliveryStatus.FAILED
    assert "Send again" in owner.get(detail).content.decode()

    owner.post(detail, {"action": "replay", "delivery": delivery.pk})
    outbox_relay()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED

    owner.post(detail, {"action": "pause"})
    assert "Resume" in owner.get(detail).content.decode()
    owner.post(detail, {"action": "resume"})
    rotated = owner.post(detail, {"action": "rotate"}).content.decode()
    assert re.search(r"whsec_[A-Za-z0-9+/=]+", rotated)
    deleted = owner.post(detail, {"action": "delete"})
    assert (deleted.status_code, deleted["Location"]) == (302, "/portal/webhooks/")
    assert owner.get(detail).status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == "deleted"


def test_a_disabled_endpoint_shows_why_and_is_re_enabled(partner_a, member, client_for) -> None:
    owner = client_for(member(partner_a, Role.OWNER))
    subscription, _ = subscription_create(
        organization=partner_a, url="https://hooks.example.com/in", event_types=["order.*"], actor=Actor.system()
    )
    Subscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_at=subscription.created_at, disabled_reason="No delivery succeeded since yesterday."
    )
    detail = f"/portal/webhooks/{subscription.pk}/"

    page = owner.get(detail).content.decode()
    owner.post(detail, {"action": "resume"})

    assert "No delivery succeeded since yesterday." in page
    assert "Re-enable" in page
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_partners_see_only_their_own_and_aes_sees_every_partners(
    partner_a, partner_b, operator_org, member, client_for
) -> None:
    theirs, _ = subscription_create(
        organization=partner_b,
        url="https://b-hooks.example.com/in",
        event_types=["order.*"],
        description="B's ERP",
        actor=Actor.system(),
    )
    owner_a = client_for(member(partner_a, Role.OWNER))
    admin = client_for(member(operator_org, Role.ADMIN))

    assert "b-hooks.example.com" not in owner_a.get("/portal/webhooks/").content.decode()
    assert owner_a.get(f"/portal/webhooks/{theirs.pk}/").status_code == 404
    assert owner_a.post(f"/portal/webhooks/{theirs.pk}/", {"action": "delete"}).status_code == 404
    assert "b-hooks.example.com" in admin.get("/ops/webhooks/").content.decode()
    assert admin.get(f"/ops/webhooks/{theirs.pk}/").status_code == 200
    theirs.refresh_from_db()
    assert theirs.status == "active"


def test_a_viewer_cannot_reach_the_webhooks(partner_a, member, client_for) -> None:
    viewer = client_for(member(partner_a, Role.VIEWER))

    assert viewer.get("/portal/webhooks/").status_code == 403
