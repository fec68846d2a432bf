"""Store connections through the REST API, for integrators' scripts."""

import json

import pytest

from allied.integrations.models import Connection, ConnectionStatus

pytestmark = pytest.mark.django_db

BODY = {
    "kind": "woocommerce",
    "name": "Woo store",
    "store_url": "https://shop.kohsar.example/",
    "credentials": {
        "consumer_key": "ck_api_key_1111",
        "consumer_secret": "cs_api_secret_2222",
        "webhook_secret": "whk_3333",
    },
}


@pytest.fixture
def api(partner_a, api_client_for):
    return api_client_for(partner_a, scopes=["integrations:manage"])


def test_connect_read_pause_and_disconnect_a_store(api) -> None:
    created = api.post("/api/v1/connections", json.dumps(BODY), content_type="application/json")

    assert created.status_code == 201, created.content
    answer = created.json()
    assert answer["credential_hints"] == {
        "consumer_key": "…1111",
        "consumer_secret": "…2222",
        "webhook_secret": "…3333",
    }
    assert answer["webhook_url"].endswith(f"/integrations/woocommerce/{answer['public_id']}/webhooks")
    assert "cs_api_secret_2222" not in created.content.decode()
    connection_id = answer["id"]
    assert api.get(f"/api/v1/connections/{connection_id}").json() == answer
    assert (
        api.post(f"/api/v1/connections/{connection_id}/pause", content_type="application/json").json()["status"]
        == "paused"
    )
    assert (
        api.post(f"/api/v1/connections/{connection_id}/resume", content_type="application/json").json()["status"]
        == "active"
    )
    assert api.delete(f"/api/v1/connections/{connection_id}").json()["status"] == "disconnected"
    assert Connection.objects.get().credentials == {}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "kind": "shopify",
                "store_url": "kohsar.example.com",
                "credentials": {"access_token": "a", "client_secret": "b"},
            },
            "store_url",
        ),
        ({"credentials": {"consumer_key": "ck_only"}}, "consumer_secret"),
        ({"credentials": {"password": "hunter2"}}, "credentials.password"),
    ],
)
def test_a_bad_connection_is_422_naming_the_field_and_stores_nothing(api, change, field) -> None:
    response = api.post("/api/v1/connections", json.dumps({**BODY, **change}), content_type="application/json")

    assert response.status_code == 422, response.content
    assert any(error["field"].startswith(field) for error in response.json()["errors"]), response.json()
    assert not Connection.objects.exists()


def test_another_partners_connection_is_not_found(api, partner_b, api_client_for) -> None:
    other = api_client_for(partner_b, scopes=["integrations:manage"])
    connection_id = other.post("/api/v1/connections", json.dumps(BODY), content_type="application/json").json()["id"]

    assert api.get(f"/api/v1/connections/{connection_id}").status_code == 404
    assert api.post(f"/api/v1/connections/{connection_id}/pause", content_type="application/json").status_code == 404
    assert Connection.objects.get().status == ConnectionStatus.ACTIVE


def test_a_key_without_the_scope_is_refused(partner_a, api_client_for) -> None:
    reader = api_client_for(partner_a, scopes=["orders:read"])

    assert reader.get("/api/v1/connections").status_code == 403
