"""AES's courier accounts through the doors people use: the console page `/ops/couriers/` and the
REST API `/api/v1/courier-accounts` with AES's `dispatch:manage` key, against the local fakes of
Pathao and Steadfast. The courier checks the details before anything is stored; its refusal or
its silence is a form error (422 in the API) with nothing stored; no credential shows again."""

import json

import pytest
from django.test import Client

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.accounts.services import api_key_create
from allied.core.models import AuditEntry
from allied.couriers.models import CourierAccount
from tests.core.test_no_plaintext_secrets import database_dump
from tests.fakes.pathao import CREDENTIALS as PATHAO
from tests.fakes.pathao import FakePathao
from tests.fakes.pathao import fake_pathao as fake_pathao  # the fixture
from tests.fakes.steadfast import CREDENTIALS as STEADFAST
from tests.fakes.steadfast import FakeSteadfast
from tests.fakes.steadfast import fake_steadfast as fake_steadfast  # the fixture

pytestmark = pytest.mark.django_db
PAGE, API = "/ops/couriers/", "/api/v1/courier-accounts"
SECRETS = (
    PATHAO["password"],
    PATHAO["client_secret"],
    PATHAO["webhook_secret"],
    STEADFAST["api_key"],
    STEADFAST["secret_key"],
    STEADFAST["webhook_token"],
)


@pytest.fixture
def dispatcher(operator_org, member, client_for) -> Client:
    return client_for(member(operator_org, Role.DISPATCHER))


@pytest.fixture
def dispatch_key(operator_org) -> Client:
    _, raw_key = api_key_create(
        organization=operator_org, name="dispatch script", scopes=["dispatch:manage"], actor=Actor.system("tests")
    )
    return Client(headers={"Authorization": f"Bearer {raw_key}"})


def pathao_form(**changes: str) -> dict[str, str]:
    values = {
        "action": "connect_pathao",
        "pathao-name": "Pathao Dhaka",
        "pathao-areas": "Dhaka, Gazipur",
        "pathao-client_id": PATHAO["client_id"],
        "pathao-client_secret": PATHAO["client_secret"],
        "pathao-username": PATHAO["username"],
        "pathao-password": PATHAO["password"],
        "pathao-store_id": PATHAO["store_id"],
        "pathao-webhook_secret": PATHAO["webhook_secret"],
    }
    return values | changes


def steadfast_form(**changes: str) -> dict[str, str]:
    values = {
        "action": "connect_steadfast",
        "steadfast-name": "Steadfast",
        "steadfast-areas": "",
        "steadfast-api_key": STEADFAST["api_key"],
        "steadfast-secret_key": STEADFAST["secret_key"],
        "steadfast-webhook_token": STEADFAST["webhook_token"],
    }
    return values | changes


def assert_no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# The console page ------------------------------------------------------------------------------


def test_a_dispatcher_connects_pathao_on_the_page_and_the_password_is_kept_nowhere(
    dispatcher: Client, fake_pathao: FakePathao
) -> None:
    answer = dispatcher.post(PAGE, pathao_form())

    assert answer.status_code == 302
    account = CourierAccount.objects.get()
    assert (account.code, account.name, account.areas, account.status) == (
        "pathao",
        "Pathao Dhaka",
        ["Dhaka", "Gazipur"],
        "active",
    )
    assert account.last_success_at is not None
    assert "password" not in account.credentials
    page = dispatcher.get(PAGE).content.decode()
    assert "Pathao Dhaka" in page
    assert "Dhaka, Gazipur" in page
    assert_no_secret_in(page)
    assert_no_secret_in(database_dump())


def test_a_password_pathao_refuses_is_a_form_error_and_nothing_is_stored(
    dispatcher: Client, fake_pathao: FakePathao
) -> None:
    answer = dispatcher.post(PAGE, pathao_form(**{"pathao-password": "not-the-password"}))

    assert answer.status_code == 200
    page = answer.content.decode()
    assert "The courier refused these details." in page
    assert "not-the-password" not in page
    assert not CourierAccount.objects.exists()


def test_steadfast_keys_are_tried_before_they_are_stored(dispatcher: Client, fake_steadfast: FakeSteadfast) -> None:
    refused = dispatcher.post(PAGE, steadfast_form(**{"steadfast-secret_key": "wrong-secret"}))
    assert refused.status_code == 200
    assert "The courier refused these details." in refused.content.decode()
    assert not CourierAccount.objects.exists()

    for _ in range(4):
        fake_steadfast.fail_next(503, retry_after=0)
    unreachable = dispatcher.post(PAGE, steadfast_form())
    assert unreachable.status_code == 200
    assert "Nothing was stored; try again in a moment." in unreachable.content.decode()
    assert not CourierAccount.objects.exists()

    assert dispatcher.post(PAGE, steadfast_form()).status_code == 302
    account = CourierAccount.objects.get()
    assert account.credentials_open()["api_key"] == STEADFAST["api_key"]
    assert any(received.path.endswith("/get_balance") for received in fake_steadfast.received)


def test_missing_fields_are_form_errors_before_anything_is_sent(dispatcher: Client, fake_pathao: FakePathao) -> None:
    answer = dispatcher.post(PAGE, pathao_form(**{"pathao-webhook_secret": "", "pathao-name": ""}))

    assert answer.status_code == 200
    assert answer.content.decode().count("This field is required.") == 2
    assert fake_pathao.received == []
    assert not CourierAccount.objects.exists()


def test_areas_pause_resume_and_disconnect_on_the_page(dispatcher: Client, fake_steadfast: FakeSteadfast) -> None:
    dispatcher.post(PAGE, steadfast_form())
    account = CourierAccount.objects.get()

    dispatcher.post(PAGE, {"action": "areas", "account": account.pk, "areas": "Chattogram, Dhaka , dhaka2"})
    account.refresh_from_db()
    assert account.areas == ["Chattogram", "Dhaka", "dhaka2"]

    dispatcher.post(PAGE, {"action": "pause", "account": account.pk})
    account.refresh_from_db()
    assert account.status == "paused"
    assert "Paused" in dispatcher.get(PAGE).content.decode()
    dispatcher.post(PAGE, {"action": "resume", "account": account.pk})
    account.refresh_from_db()
    assert account.status == "active"

    dispatcher.post(PAGE, {"action": "disconnect", "account": account.pk})
    account.refresh_from_db()
    assert (account.status, account.credentials, account.credential_hints) == ("disconnected", {}, {})
    assert "Chattogram" not in dispatcher.get(PAGE).content.decode()
    assert dispatcher.post(PAGE, {"action": "pause", "account": account.pk}).status_code == 404
    assert set(AuditEntry.objects.filter(action__startswith="courier.").values_list("action", flat=True)) == {
        "courier.account_connected",
        "courier.account_updated",
        "courier.account_disconnected",
    }


def test_an_area_name_too_long_is_a_form_error(dispatcher: Client, fake_steadfast: FakeSteadfast) -> None:
    dispatcher.post(PAGE, steadfast_form())
    account = CourierAccount.objects.get()

    answer = dispatcher.post(PAGE, {"action": "areas", "account": account.pk, "areas": "x" * 101})

    assert answer.status_code == 200
    assert "at most 100 characters" in answer.content.decode()
    account.refresh_from_db()
    assert account.areas == []


def test_a_partner_cannot_open_the_page(partner_a, member, client_for) -> None:
    owner = client_for(member(partner_a, Role.OWNER))
    assert owner.get(PAGE).status_code == 403


# The API -----------------------------------------------------------------------------------------


def test_the_api_connects_lists_changes_and_disconnects(dispatch_key: Client, fake_pathao: FakePathao) -> None:
    body = {
        "code": "pathao",
        "name": "Pathao Dhaka",
        "areas": ["Dhaka"],
        "credentials": {name: PATHAO[name] for name in ("client_id", "client_secret", "username", "password")}
        | {"store_id": PATHAO["store_id"], "webhook_secret": PATHAO["webhook_secret"]},
    }
    created = dispatch_key.post(API, body, content_type="application/json")
    assert created.status_code == 201, created.content
    account = created.json()
    assert (account["code"], account["areas"], account["status"]) == ("pathao", ["Dhaka"], "active")
    assert account["last_success_at"]
    assert_no_secret_in(created.content.decode())

    listed = dispatch_key.get(API)
    assert [one["id"] for one in listed.json()] == [account["id"]]
    assert_no_secret_in(listed.content.decode())

    changed = dispatch_key.patch(
        f"{API}/{account['id']}", {"areas": ["Gazipur"], "active": False}, content_type="application/json"
    )
    assert (changed.json()["areas"], changed.json()["status"]) == (["Gazipur"], "paused")

    assert dispatch_key.delete(f"{API}/{account['id']}").status_code == 204
    assert dispatch_key.get(API).json() == []
    assert dispatch_key.delete(f"{API}/{account['id']}").status_code == 404
    assert CourierAccount.objects.get().credentials == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "tcs", "name": "TCS", "credentials": {}}, "code"),
        ({"code": "steadfast", "name": "Steadfast", "credentials": {"api_key": "k"}}, "secret_key"),
        ({"code": "steadfast", "name": "S", "credentials": dict(STEADFAST) | {"password": "p"}}, "password"),
        ({"code": "steadfast", "name": "", "credentials": dict(STEADFAST)}, "name"),
        ({"code": "steadfast", "name": "S", "credentials": dict(STEADFAST), "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_problem_and_stores_nothing(
    dispatch_key: Client, fake_steadfast: FakeSteadfast, body: dict, field: str
) -> None:
    answer = dispatch_key.post(API, body, content_type="application/json")

    assert answer.status_code in (400, 422), answer.content
    assert answer["Content-Type"].startswith("application/problem+json")
    assert field in json.dumps(answer.json())
    assert not CourierAccount.objects.exists()


def test_details_the_courier_refuses_are_422_and_an_unreachable_courier_502(
    dispatch_key: Client, fake_steadfast: FakeSteadfast
) -> None:
    body = {"code": "steadfast", "name": "Steadfast", "credentials": dict(STEADFAST) | {"api_key": "wrong"}}
    refused = dispatch_key.post(API, body, content_type="application/json")
    assert refused.status_code == 422
    assert {error["field"] for error in refused.json()["errors"]} == {"api_key", "secret_key"}
    assert "wrong" not in refused.content.decode()

    for _ in range(4):
        fake_steadfast.fail_next(503, retry_after=0)
    body["credentials"] = dict(STEADFAST)
    unreachable = dispatch_key.post(API, body, content_type="application/json")
    assert unreachable.status_code == 502
    assert not CourierAccount.objects.exists()


def test_a_partners_key_is_refused(partner_a, api_client_for) -> None:
    partner = api_client_for(partner_a, ["delivery:read", "delivery:write"])
    assert partner.get(API).status_code == 403
