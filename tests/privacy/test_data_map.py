"""The data map: the privacy officer's page, its JSON and CSV exports, and the API operation for
AES's own tools, each giving every entry of `core.privacy.data_map()`."""

import csv
import io
import json

import pytest

from allied.accounts.roles import Role
from allied.core.errors import ValidationFailed
from allied.core.privacy import data_map, declarations, undeclared_personal_fields
from allied.privacy.selectors import data_map_coverage

pytestmark = pytest.mark.django_db

EVERY_ENTRY = {(entry.model_label, entry.field) for entry in data_map()}


@pytest.fixture
def officer_client(client_for, member, operator_org):
    return client_for(member(operator_org, Role.PRIVACY_OFFICER))


def test_every_personal_field_is_declared() -> None:
    coverage = data_map_coverage()

    assert undeclared_personal_fields() == []
    assert coverage.declared == sum(len(d.personal) for d in declarations().values()) == len(data_map())
    assert coverage.percent == 100


def test_the_page_shows_every_field_grouped_by_app_and_the_coverage(officer_client) -> None:
    response = officer_client.get("/ops/privacy/data-map/")

    body = response.content.decode()
    assert response.status_code == 200
    count = len(EVERY_ENTRY)
    assert f"{count} of {count} personal fields declared — 100 %" in body
    for app in {label.partition(".")[0] for label, _ in EVERY_ENTRY}:
        assert f'id="app-{app}"' in body
    for label, field in EVERY_ENTRY:
        assert f"<code>{field}</code>" in body, label
    assert "e-mail addresses" in body  # categories in words beside their fideslang key
    assert "user.contact.email" in body


def test_the_page_filters_by_purpose_and_category(officer_client) -> None:
    body = officer_client.get("/ops/privacy/data-map/?purpose=preferences").content.decode()

    preferences = [e for e in data_map() if e.purpose == "preferences"]
    assert f"{len(preferences)} field{'s' if len(preferences) != 1 else ''} shown" in body
    assert "<code>language</code>" in body
    assert "<code>contact_phone</code>" not in body

    body = officer_client.get("/ops/privacy/data-map/?category=user.location.precise").content.decode()
    assert "<code>address_lat</code>" in body
    assert "<code>full_name</code>" not in body


def test_an_unknown_filter_value_is_a_form_error(officer_client) -> None:
    body = officer_client.get("/ops/privacy/data-map/?purpose=advertising").content.decode()

    assert "Select a valid choice" in body


def test_the_json_export_has_every_entry_and_the_coverage(officer_client) -> None:
    response = officer_client.get("/ops/privacy/data-map/?format=json")

    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="allied-data-map-')
    body = json.loads(response.content)
    assert {(f"{e['app']}.{e['model']}", e["field"]) for e in body["entries"]} == EVERY_ENTRY
    assert len(body["entries"]) == len(EVERY_ENTRY)
    assert body["coverage"] == {"declared": len(EVERY_ENTRY), "undeclared": [], "percent": 100}
    order = next(e for e in body["entries"] if (e["model"], e["field"]) == ("Order", "recipient_phone"))
    assert order["purpose"] == "last_mile_delivery"
    assert order["shared_with"] == ["delivery_partners", "hosting_providers"]
    assert order["category_words"] == "phone numbers"


def test_the_csv_export_has_every_entry(officer_client) -> None:
    response = officer_client.get("/ops/privacy/data-map/?format=csv")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(f"{r['app']}.{r['model']}", r["field"]) for r in rows} == EVERY_ENTRY
    assert len(rows) == len(EVERY_ENTRY)
    user_email = next(r for r in rows if (r["model"], r["field"]) == ("User", "email"))
    assert user_email["legal_basis"] == "contract"
    assert user_email["shared_with"] == "hosting_providers"


def test_the_page_is_the_privacy_officers(client_for, member, operator_org, partner_a) -> None:
    assert client_for(member(operator_org, Role.ADMIN)).get("/ops/privacy/data-map/").status_code == 403
    owner = client_for(member(partner_a, Role.OWNER))
    assert owner.get("/ops/privacy/data-map/?format=json").status_code == 403


def test_the_api_gives_an_aes_privacy_key_every_entry(api_client_for, operator_org) -> None:
    client = api_client_for(operator_org, ["privacy:manage"])

    response = client.get("/api/v1/privacy/data-map")

    assert response.status_code == 200
    body = response.json()
    assert {(f"{e['app']}.{e['model']}", e["field"]) for e in body["entries"]} == EVERY_ENTRY
    assert body["coverage"]["percent"] == 100


def test_the_api_refuses_other_keys_and_no_key(api_client_for, operator_org, client) -> None:
    dispatch = api_client_for(operator_org, ["dispatch:manage"])

    assert dispatch.get("/api/v1/privacy/data-map").status_code == 403
    assert client.get("/api/v1/privacy/data-map").status_code == 401


def test_a_partner_cannot_hold_the_privacy_scope(api_client_for, partner_a) -> None:
    with pytest.raises(ValidationFailed) as refused:
        api_client_for(partner_a, ["privacy:manage"])

    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("scopes", "Only AES's own keys hold dispatch:manage, privacy:manage.")
    ]
