import hashlib
import re

import pytest
from django.test import Client

from allied.accounts.models import ApiKey
from allied.accounts.roles import Role
from allied.core.models import AuditEntry
from tests.processes import run_allied

pytestmark = pytest.mark.django_db

KEY_PATTERN = re.compile(r"allied_[0-9a-f]{8}_[A-Za-z0-9_-]{40}")


def create_key_in_portal(
    client: Client, name: str = "Storefront", scopes: tuple[str, ...] = ("inventory:read",)
) -> str:
    response = client.post("/portal/api-keys/", {"name": name, "scopes": list(scopes)})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    keys = KEY_PATTERN.findall(response.content.decode())
    assert len(keys) == 1, "the new key is shown exactly once on the page"
    return keys[0]


def test_owner_creates_key_shown_once_and_stored_only_as_hash(
    partner_a: object, member: object, client_for: object
) -> None:
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]

    raw_key = create_key_in_portal(owner)

    stored = ApiKey.objects.get()
    assert stored.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert raw_key not in str(list(ApiKey.objects.values()))
    assert raw_key.split("_")[1] == stored.prefix
    assert not KEY_PATTERN.search(owner.get("/portal/api-keys/").content.decode()), "never shown again"
    assert AuditEntry.objects.filter(action="api_key.created", object_id=str(stored.pk)).exists()


def test_key_authenticates_records_last_use_and_stops_working_when_revoked(
    partner_a: object, member: object, client_for: object
) -> None:
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]
    raw_key = create_key_in_portal(owner, scopes=("inventory:read", "orders:read"))
    api = Client(headers={"Authorization": f"Bearer {raw_key}"})

    me = api.get("/api/v1/me")

    assert me.status_code == 200
    assert me.json()["organization"]["slug"] == "partner-a"
    assert me.json()["scopes"] == ["inventory:read", "orders:read"]
    assert ApiKey.objects.get().last_used_at is not None

    owner.post(f"/portal/api-keys/{ApiKey.objects.get().pk}/revoke/")
    revoked = api.get("/api/v1/me")

    assert revoked.status_code == 401
    assert revoked["Content-Type"] == "application/problem+json"
    assert revoked["WWW-Authenticate"].startswith("Bearer")
    assert revoked.json()["code"] == "not_authenticated"
    assert AuditEntry.objects.filter(action="api_key.revoked").count() == 1


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer",
        "Bearer allied_00000000_" + "x" * 40,
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_missing_or_wrong_key_is_401_problem(authorization: str, partner_a: object, api_client_for: object) -> None:
    api_client_for(partner_a)  # a real key exists; the request does not use it  # type: ignore[operator]
    headers = {"Authorization": authorization} if authorization else {}

    response = Client(headers=headers).get("/api/v1/products")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_right_prefix_with_wrong_secret_is_rejected(partner_a: object, member: object, client_for: object) -> None:
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]
    raw_key = create_key_in_portal(owner)
    forged = raw_key[:-4] + ("AAAA" if not raw_key.endswith("AAAA") else "BBBB")

    assert Client(headers={"Authorization": f"Bearer {forged}"}).get("/api/v1/me").status_code == 401


def test_key_without_scope_is_403_problem(partner_a: object, api_client_for: object) -> None:
    api = api_client_for(partner_a, scopes=["orders:read"])  # type: ignore[operator]

    response = api.get("/api/v1/products")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.VIEWER])
def test_only_owners_manage_keys(role: str, partner_a: object, member: object, client_for: object) -> None:
    client = client_for(member(partner_a, role))  # type: ignore[operator]

    assert client.get("/portal/api-keys/").status_code == 403
    assert client.post("/portal/api-keys/", {"name": "x", "scopes": ["orders:read"]}).status_code == 403
    assert not ApiKey.objects.exists()


def test_invalid_key_form_shows_messages_and_stores_nothing(
    partner_a: object, member: object, client_for: object
) -> None:
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]

    response = owner.post("/portal/api-keys/", {"name": "", "scopes": []})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ApiKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_cli_creates_a_key_and_prints_it_once(partner_a: object) -> None:
    result = run_allied("apikey", "create", "--org", "partner-a", "--scopes", "orders:read,orders:write")

    assert result.returncode == 0, result.stderr
    printed = KEY_PATTERN.findall(result.stdout)
    assert len(printed) == 1
    stored = ApiKey.objects.get()
    assert stored.scopes == ["orders:read", "orders:write"]
    assert stored.key_hash == hashlib.sha256(printed[0].encode()).hexdigest()
    assert Client(headers={"Authorization": f"Bearer {printed[0]}"}).get("/api/v1/me").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_cli_rejects_unknown_scope_and_stores_nothing(partner_a: object) -> None:
    result = run_allied("apikey", "create", "--org", "partner-a", "--scopes", "orders:read,admin:all")

    assert result.returncode == 2
    assert "Unknown scopes: admin:all" in result.stderr
    assert not ApiKey.objects.exists()
