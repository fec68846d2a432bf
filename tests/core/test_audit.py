import pytest

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.accounts.services import api_key_create
from allied.core.context import truncate_ip
from allied.core.models import AppendOnlyError, AuditEntry


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("not an ip", ""),
        (None, ""),
    ],
)
def test_ip_addresses_are_kept_only_as_their_network(address: str | None, network: str) -> None:
    assert truncate_ip(address) == network


@pytest.mark.django_db
def test_audit_entries_cannot_be_changed_or_deleted(partner_a: object) -> None:
    api_key_create(organization=partner_a, name="shop", scopes=["orders:read"], actor=Actor.system("tests"))
    entry = AuditEntry.objects.get(action="api_key.created")

    entry.action = "something.else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "api_key.created"


@pytest.mark.django_db
def test_audit_row_records_actor_request_id_and_network(client: object, partner_a: object, member: object) -> None:
    owner = member(partner_a, Role.OWNER)  # type: ignore[operator]
    client.force_login(owner.user)  # type: ignore[attr-defined]

    client.post(  # type: ignore[attr-defined]
        "/portal/api-keys/",
        {"name": "Storefront", "scopes": ["orders:read"]},
        headers={"X-Request-ID": "audit-req-0001"},
        REMOTE_ADDR="198.51.100.23",
    )

    entry = AuditEntry.objects.get(action="api_key.created")
    assert entry.actor == owner.user
    assert entry.actor_label == owner.user.email
    assert entry.organization == partner_a
    assert entry.request_id == "audit-req-0001"
    assert entry.ip_prefix == "198.51.100.0/24"
    assert entry.changes == {"scopes": ["orders:read"]}
