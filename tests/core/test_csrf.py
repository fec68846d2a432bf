import json

import pytest
from django.test import Client

from allied.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_bearer_token_api_calls_need_no_csrf_token(partner_a: object, api_client_for: object) -> None:
    key_client = api_client_for(partner_a)  # type: ignore[operator]
    strict = Client(enforce_csrf_checks=True, headers={"Authorization": key_client.defaults["HTTP_AUTHORIZATION"]})

    response = strict.post("/api/v1/products", json.dumps({"sku": "A-1", "name": "A"}), content_type="application/json")

    assert response.status_code == 201


def test_page_posts_without_csrf_token_are_refused(partner_a: object, member: object) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member(partner_a, Role.OWNER).user)  # type: ignore[operator]

    response = strict.post("/portal/api-keys/", {"name": "x", "scopes": ["orders:read"]})

    assert response.status_code == 403
