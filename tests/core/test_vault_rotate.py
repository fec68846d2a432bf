"""`allied vault rotate` as operators run it: a new key in front, every stored secret re-sealed
under it, the old key removed, and everything still opens."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from cryptography.fernet import Fernet
from django.test import override_settings

from allied.accounts.policy import Actor
from allied.core.models import Subscription
from allied.core.outbox import WEBHOOK_SECRET_PURPOSE, webhook_subscription_create
from allied.core.vault import vault_decrypt, vault_encrypt
from allied.couriers.models import CourierAccount
from allied.couriers.services import courier_account_create
from allied.integrations.models import Connection, ConnectionKind, credential_purpose
from allied.integrations.services.connections import connection_create, connection_rotate_webhook_secret
from tests.conftest import current_totp_code, enable_totp
from tests.processes import run_allied

pytestmark = pytest.mark.django_db(transaction=True)

K1, K2, K3 = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture
def sealed_under_k1(partner_a, member) -> dict[str, str]:
    """One of each kind of stored secret, sealed under K1; returns what they must open to."""
    membership = member(partner_a)
    owner = Actor(user=membership.user, organization=partner_a, role=membership.role)
    with override_settings(VAULT_KEYS=[K1]):
        connection = connection_create(
            organization=partner_a,
            kind=ConnectionKind.SHOPIFY,
            name="Kohsar",
            store_url="kohsar.myshopify.com",
            credentials={"access_token": "shpat_rotate_token_0001", "client_secret": "shpss_rotate_first_0002"},
            actor=owner,
        )
        connection_rotate_webhook_secret(connection=connection, secret="shpss_rotate_second_0003", actor=owner)
        webhook_subscription_create(
            name="partner hook",
            url="https://hooks.partner-a.example/allied",
            secret="whsec_rotate_outbox_0004",
            event_types=["*"],
            organization=partner_a,
        )
        courier_account_create(
            code="steadfast",
            name="Steadfast",
            credentials={
                "api_key": "sf_rotate_key_0005",
                "secret_key": "sf_rotate_secret_0006",
                "webhook_token": "sf_rotate_webhook_0007",
            },
            actor=Actor.system("tests"),
        )
        totp_secret = enable_totp(membership.user)
        codes = RecoveryCodes.activate(membership.user).generate_codes()
    return {"totp": totp_secret, "first_code": codes[0]}


def test_rotation_reseals_every_stored_secret_under_the_new_key_and_the_old_key_can_go(sealed_under_k1) -> None:
    result = run_allied("vault", "rotate", ALLIED_VAULT_KEYS=f"{K2},{K1}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "core.Subscription.previous_secret: 0 rotated, 0 already current, 0 unreadable",
        "core.Subscription.secret: 1 rotated, 0 already current, 0 unreadable",
        "couriers.CourierAccount.credentials: 3 rotated, 0 already current, 0 unreadable",
        "integrations.Connection.credentials: 2 rotated, 0 already current, 0 unreadable",
        "integrations.Connection.previous_webhook_secret: 1 rotated, 0 already current, 0 unreadable",
        "mfa.Authenticator.data: 2 rotated, 0 already current, 0 unreadable",  # the TOTP secret, the recovery seed
        "9 sealed value(s) re-sealed under the newest key.",
    ]
    with override_settings(VAULT_KEYS=[K2]):
        connection = Connection.objects.get()
        assert connection.credential("access_token") == "shpat_rotate_token_0001"
        assert connection.credential("client_secret") == "shpss_rotate_second_0003"
        purpose = credential_purpose(connection.kind, "client_secret")
        assert vault_decrypt(connection.previous_webhook_secret, purpose=purpose) == "shpss_rotate_first_0002"
        subscription = Subscription.objects.get(kind=Subscription.Kind.WEBHOOK)
        assert vault_decrypt(subscription.secret, purpose=WEBHOOK_SECRET_PURPOSE) == "whsec_rotate_outbox_0004"
        courier = CourierAccount.objects.get().credentials_open()
        assert courier == {
            "api_key": "sf_rotate_key_0005",
            "secret_key": "sf_rotate_secret_0006",
            "webhook_token": "sf_rotate_webhook_0007",
        }
        totp = Authenticator.objects.get(type=Authenticator.Type.TOTP)
        assert vault_decrypt(totp.data["secret"], purpose="mfa") == sealed_under_k1["totp"]
        assert TOTP(totp).validate_code(current_totp_code(sealed_under_k1["totp"]))
        recovery = Authenticator.objects.get(type=Authenticator.Type.RECOVERY_CODES)
        assert RecoveryCodes(recovery).generate_codes()[0] == sealed_under_k1["first_code"]


def test_rotating_again_changes_nothing_and_the_check_finds_everything_current(sealed_under_k1) -> None:
    assert run_allied("vault", "rotate", ALLIED_VAULT_KEYS=f"{K2},{K1}").returncode == 0
    stored = Connection.objects.values_list("credentials", flat=True).get()

    again = run_allied("vault", "rotate", ALLIED_VAULT_KEYS=f"{K2},{K1}")
    check = run_allied("vault", "rotate", "--check", ALLIED_VAULT_KEYS=K2)

    assert again.returncode == 0, again.stderr
    assert "integrations.Connection.credentials: 0 rotated, 2 already current, 0 unreadable" in again.stdout
    assert Connection.objects.values_list("credentials", flat=True).get() == stored
    assert check.returncode == 0, check.stderr
    assert "mfa.Authenticator.data: 0 to rotate, 2 already current, 0 unreadable" in check.stdout
    assert "0 sealed value(s) are not under the newest key yet; nothing was changed." in check.stdout


def test_the_check_counts_without_changing_anything(sealed_under_k1) -> None:
    stored = Subscription.objects.values_list("secret", flat=True).get(kind=Subscription.Kind.WEBHOOK)

    check = run_allied("vault", "rotate", "--check", ALLIED_VAULT_KEYS=f"{K2},{K1}")

    assert check.returncode == 0, check.stderr
    assert "core.Subscription.secret: 1 to rotate, 0 already current, 0 unreadable" in check.stdout
    assert Subscription.objects.values_list("secret", flat=True).get(kind=Subscription.Kind.WEBHOOK) == stored


def test_a_secret_no_configured_key_opens_is_reported_and_left_as_it_was(sealed_under_k1) -> None:
    with override_settings(VAULT_KEYS=[K3]):
        lost = vault_encrypt("whsec_sealed_with_a_lost_key", purpose=WEBHOOK_SECRET_PURPOSE)
    subscription = Subscription.objects.get(kind=Subscription.Kind.WEBHOOK)
    Subscription.objects.filter(pk=subscription.pk).update(secret=lost)

    result = run_allied("vault", "rotate", ALLIED_VAULT_KEYS=f"{K2},{K1}")

    assert result.returncode == 1
    assert "core.Subscription.secret: 0 rotated, 0 already current, 1 unreadable" in result.stdout
    assert f"unreadable: core.Subscription.secret pk {subscription.pk} secret" in result.stderr
    assert "integrations.Connection.credentials: 2 rotated" in result.stdout  # the rest is rotated all the same
    assert Subscription.objects.values_list("secret", flat=True).get(pk=subscription.pk) == lost
