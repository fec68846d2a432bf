"""AES's courier accounts: connected with tokens sealed per purpose (Pathao's password exchanged once
and kept nowhere), refreshed tokens stored back, webhook secrets rotated, the account serving an
area, and `allied couriers connect`."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.cli import main
from allied.core.errors import PermissionDenied, ValidationFailed
from allied.core.models import AuditEntry
from allied.couriers.base import CourierParcel, CourierWebhookRefused
from allied.couriers.models import CourierAccount, credential_purpose
from allied.couriers.pathao import SIGNATURE_HEADER
from allied.couriers.services import (
    courier_account_connect_pathao,
    courier_account_create,
    courier_account_for,
    courier_account_rotate_webhook_secret,
    courier_adapter,
    courier_webhook_verify,
)
from tests.core.test_no_plaintext_secrets import database_dump
from tests.fakes.pathao import CREDENTIALS as PATHAO
from tests.fakes.pathao import FakePathao
from tests.fakes.pathao import fake_pathao as fake_pathao  # the fixture
from tests.fakes.steadfast import CREDENTIALS as STEADFAST

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def connect_pathao(**changes: object) -> CourierAccount:
    values: dict[str, object] = {
        "name": "Pathao Dhaka",
        "client_id": PATHAO["client_id"],
        "client_secret": PATHAO["client_secret"],
        "username": PATHAO["username"],
        "password": PATHAO["password"],
        "store_id": PATHAO["store_id"],
        "webhook_secret": PATHAO["webhook_secret"],
        "actor": SYSTEM,
    }
    return courier_account_connect_pathao(**{**values, **changes})  # type: ignore[arg-type]


def steadfast(**changes: object) -> CourierAccount:
    values: dict[str, object] = {"code": "steadfast", "name": "Steadfast", "credentials": STEADFAST, "actor": SYSTEM}
    return courier_account_create(**{**values, **changes})  # type: ignore[arg-type]


def test_connecting_pathao_keeps_tokens_sealed_and_the_password_nowhere(fake_pathao: FakePathao) -> None:
    account = connect_pathao()

    assert set(account.credentials) == {
        "client_id",
        "client_secret",
        "access_token",
        "refresh_token",
        "expires_at",
        "store_id",
        "webhook_secret",
    }
    opened = account.credentials_open()
    assert opened["access_token"] in fake_pathao.access_tokens
    assert opened["webhook_secret"] == PATHAO["webhook_secret"]
    assert account.credential_hints["client_secret"] == "…" + PATHAO["client_secret"][-4:]
    assert AuditEntry.objects.filter(action="courier.account_connected").exists()
    stored = database_dump()
    for secret in (PATHAO["password"], PATHAO["client_secret"], PATHAO["webhook_secret"], opened["access_token"]):
        assert secret not in stored


def test_a_wrong_pathao_password_stores_nothing(fake_pathao: FakePathao) -> None:
    with pytest.raises(Exception, match="The user credentials were incorrect"):
        connect_pathao(password="not-the-password")

    assert not CourierAccount.objects.exists()


def test_a_password_or_an_unknown_credential_is_refused_by_name() -> None:
    with pytest.raises(ValidationFailed) as refused, transaction.atomic():
        steadfast(credentials={**STEADFAST, "password": "hunter2", "api_key": ""})

    assert {(e.field, e.message) for e in refused.value.errors} == {
        ("api_key", "Required."),
        ("password", "Not kept: only tokens and keys are."),
    }
    assert not CourierAccount.objects.exists()


def test_a_carrier_without_an_adapter_has_no_account() -> None:
    with pytest.raises(ValidationFailed), transaction.atomic():
        steadfast(code="tcs")


def test_only_aes_dispatch_connects_couriers(partner_a, operator_org, member) -> None:
    owner = member(partner_a, Role.OWNER)
    dispatcher = member(operator_org, Role.DISPATCHER)

    with pytest.raises(PermissionDenied), transaction.atomic():
        steadfast(actor=Actor(user=owner.user, organization=partner_a, role=owner.role))
    account = steadfast(actor=Actor(user=dispatcher.user, organization=operator_org, role=dispatcher.role))

    assert account.code == "steadfast"


def test_tokens_pathao_refreshes_are_stored_back_sealed(fake_pathao: FakePathao, partner_a) -> None:
    account = connect_pathao()
    first = account.credentials_open()["access_token"]
    fake_pathao.expire_tokens()

    adapter = courier_adapter(account, organization_id=partner_a.pk)
    booking = adapter.book(
        CourierParcel(
            merchant_order_ref="AL-1",
            recipient_name="Nusrat Jahan",
            phone="+8801712345678",
            address="House 12, Road 4, Dhanmondi",
            city="Dhaka",
            cod_amount=Decimal("100"),
        )
    )
    adapter.close()

    account.refresh_from_db()
    assert booking.consignment_id in fake_pathao.orders
    refreshed = account.credentials_open()
    assert refreshed["access_token"] != first
    assert refreshed["access_token"] in fake_pathao.access_tokens
    assert refreshed["refresh_token"] in fake_pathao.refresh_tokens
    assert refreshed["access_token"] not in database_dump()


def test_a_rotated_webhook_secret_still_takes_the_old_one_for_a_day() -> None:
    account = steadfast()

    new = courier_account_rotate_webhook_secret(account=account, actor=SYSTEM)

    account.refresh_from_db()
    assert len(new) >= 32
    assert account.credential_hints["webhook_token"] == "…" + new[-4:]
    assert "previous_webhook_token" not in account.credential_hints
    body = b'{"notification_type": "tracking_update", "consignment_id": 7, "tracking_message": "At hub"}'
    for token in (new, STEADFAST["webhook_token"]):
        found, events, _ = courier_webhook_verify(
            code="steadfast", headers={"Authorization": f"Bearer {token}"}, body=body
        )
        assert (found, events[0].consignment_id) == (account, "7")
    CourierAccount.objects.filter(pk=account.pk).update(previous_secret_until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(CourierWebhookRefused):
        courier_webhook_verify(
            code="steadfast", headers={"Authorization": f"Bearer {STEADFAST['webhook_token']}"}, body=body
        )


def test_each_credential_opens_only_for_its_own_purpose() -> None:
    account = steadfast()

    assert credential_purpose("steadfast", "api_key") == "couriers.steadfast.api_key"
    assert account.credentials["api_key"] != account.credentials["secret_key"]
    CourierAccount.objects.filter(pk=account.pk).update(
        credentials={**account.credentials, "api_key": account.credentials["secret_key"]}
    )
    account.refresh_from_db()
    with pytest.raises(Exception, match="another purpose"):
        account.credentials_open()


def test_a_webhook_is_matched_to_the_account_whose_secret_it_carries(fake_pathao: FakePathao) -> None:
    dhaka = connect_pathao(areas=["Dhaka"])
    chattogram = connect_pathao(name="Pathao Chattogram", areas=["Chattogram"], webhook_secret="ctg-secret-5555")
    body = b'{"event": "order.picked", "consignment_id": "DL1", "timestamp": "2026-12-05T10:00:00+00:00"}'

    found, _, reply = courier_webhook_verify(code="pathao", headers={SIGNATURE_HEADER: "ctg-secret-5555"}, body=body)

    assert found == chattogram
    assert reply.status == 202
    assert courier_account_for("pathao", "Mirpur", "Dhaka") == dhaka
    assert courier_account_for("pathao", "", "Sylhet") is None  # both name their areas


def test_the_command_connects_pathao_and_prints_the_account_and_webhook_address(
    fake_pathao: FakePathao, capsys, monkeypatch, settings
) -> None:
    settings.ALLIED_BASE_URL = "https://allied.example"
    monkeypatch.setenv("ALLIED_CONNECT_PASSWORD", PATHAO["password"])
    monkeypatch.setenv("ALLIED_CONNECT_CLIENT_SECRET", PATHAO["client_secret"])

    code = main(
        [
            *("couriers", "connect", "pathao", "--name", "Pathao Dhaka", "--areas", "Dhaka, Gazipur"),
            *("--client-id", PATHAO["client_id"], "--username", PATHAO["username"]),
            *("--store-id", PATHAO["store_id"], "--webhook-secret", PATHAO["webhook_secret"]),
        ]
    )

    out = capsys.readouterr().out
    account = CourierAccount.objects.get()
    assert code == 0
    assert out.splitlines() == [
        f"courier account {account.pk}: pathao: Pathao Dhaka",
        "webhook address: https://allied.example/couriers/pathao/webhooks",
    ]
    assert account.areas == ["Dhaka", "Gazipur"]
    assert PATHAO["password"] not in database_dump()


def test_the_command_makes_up_a_webhook_token_when_none_is_given(capsys) -> None:
    code = main(
        ["couriers", "connect", "steadfast", "--api-key", STEADFAST["api_key"], "--secret-key", STEADFAST["secret_key"]]
    )

    lines = capsys.readouterr().out.splitlines()
    account = CourierAccount.objects.get()
    assert code == 0
    assert lines[2].startswith("webhook secret (shown only now")
    assert lines[2].rsplit(" ", 1)[1] == account.credentials_open()["webhook_token"]


def test_the_command_names_what_is_missing(capsys) -> None:
    code = main(["couriers", "connect", "steadfast", "--api-key", STEADFAST["api_key"]])

    assert code == 2
    assert "secret_key: Required." in capsys.readouterr().err
    assert not CourierAccount.objects.exists()
