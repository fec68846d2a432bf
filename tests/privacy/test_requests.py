"""Data-subject requests through the doors people use: the public form and its codes, the
request's page and download, the signed-in profile, the privacy officer's console, a store
platform's request, and the daily reminder. Bad input stores nothing; a wrong code counts."""

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from allied.accounts.models import User
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.models import AuditEntry
from allied.core.privacy import sharing_record
from allied.delivery.models import RecipientOptOut
from allied.orders.services.intake import order_create
from allied.privacy.models import ConsentRecord, DataSubjectRequest
from allied.privacy.selectors import notice_current
from allied.privacy.services.requests import (
    MAX_CODE_ATTEMPTS,
    privacy_request_access_from_store,
    privacy_requests_remind,
)
from allied.privacy.services.retention import retention_run
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ProductFactory
from tests.orders.factories import order_input

pytestmark = pytest.mark.django_db
NEW = "/privacy/requests/new"
SYSTEM = Actor.system("retention test")
Status = DataSubjectRequest.Status


def _codes(caplog) -> tuple[str, str]:
    email_code = re.search(r"Your code is (\d{6})", mail.outbox[-1].body)
    sms_code = re.search(r"Allied privacy request code: (\d{6})", caplog.text)
    return (email_code.group(1) if email_code else "", sms_code.group(1) if sms_code else "")


def _submit(client, django_capture_on_commit_callbacks, **fields):
    data = {"kind": "access", "email": "hina@example.com", "phone": "", "details": "", "website": ""} | fields
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(NEW, data)


@pytest.fixture
def sms_log(caplog):
    caplog.set_level("INFO", logger="allied.sms")
    return caplog


def test_an_access_request_is_verified_by_both_codes_and_the_archive_downloads(
    client, django_capture_on_commit_callbacks, sms_log, operator_org
) -> None:
    response = _submit(client, django_capture_on_commit_callbacks, phone="0300 1112233")
    made = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/privacy/requests/{made.public_id}/verify"
    assert (made.status, made.email, made.phone) == (Status.UNVERIFIED, "hina@example.com", "+923001112233")
    email_code, sms_code = _codes(sms_log)

    half = client.post(response["Location"], {"email_code": email_code, "phone_code": "000000"})
    assert half.status_code == 400
    assert "That is not the code we texted" in half.content.decode()
    assert DataSubjectRequest.objects.get().status == Status.UNVERIFIED, "both codes are needed"

    done = client.post(response["Location"], {"email_code": email_code, "phone_code": sms_code})
    assert done.status_code == 302
    made.refresh_from_db()
    assert made.status == Status.DONE
    assert made.due_at - made.verified_at == timedelta(days=30)
    page = client.get(f"/privacy/requests/{made.public_id}/").content.decode()
    assert "Download my data" in page
    archive = client.get(f"/privacy/requests/{made.public_id}/archive")
    assert archive["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "data.json" in names
    assert {"privacy.request_received", "privacy.request_verified", "privacy.request_completed"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


def test_a_request_page_shows_nothing_to_another_browser(client, django_capture_on_commit_callbacks, sms_log) -> None:
    _submit(client, django_capture_on_commit_callbacks)
    made = DataSubjectRequest.objects.get()
    stranger = Client()

    for path in ("verify", "", "archive"):
        assert stranger.get(f"/privacy/requests/{made.public_id}/{path}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "sell"}, "Select a valid choice"),
        ({"email": "not-an-address"}, "is not a valid e-mail address"),
        ({"email": "", "phone": ""}, "Give the e-mail address or the phone number"),
        ({"phone": "12"}, "is not a valid phone number"),
        ({"kind": "correction", "details": ""}, "Say what is wrong"),
    ],
)
def test_bad_input_shows_the_problem_and_stores_nothing(
    client, django_capture_on_commit_callbacks, fields, message
) -> None:
    response = _submit(client, django_capture_on_commit_callbacks, **fields)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DataSubjectRequest.objects.exists()
    assert not mail.outbox


def test_a_filled_honeypot_stores_nothing(client, django_capture_on_commit_callbacks) -> None:
    _submit(client, django_capture_on_commit_callbacks, website="http://spam.example")

    assert not DataSubjectRequest.objects.exists()
    assert not mail.outbox


def test_wrong_codes_run_out(client, django_capture_on_commit_callbacks, sms_log) -> None:
    response = _submit(client, django_capture_on_commit_callbacks)
    email_code, _ = _codes(sms_log)
    for _ in range(MAX_CODE_ATTEMPTS):
        assert client.post(response["Location"], {"email_code": "999999"}).status_code == 400

    last = client.post(response["Location"], {"email_code": email_code})

    assert "Too many wrong codes" in last.content.decode()
    assert DataSubjectRequest.objects.get().status == Status.UNVERIFIED


def test_an_opt_out_stops_delivery_texts_and_notification_mail(
    client, django_capture_on_commit_callbacks, sms_log, partner_a, member
) -> None:
    account = member(partner_a, Role.OWNER).user
    User.objects.filter(pk=account.pk).update(notify_by_sms=True, phone="+923001112233")
    response = _submit(
        client, django_capture_on_commit_callbacks, kind="opt_out", email=account.email, phone="+92 300 1112233"
    )
    email_code, sms_code = _codes(sms_log)

    client.post(response["Location"], {"email_code": email_code, "phone_code": sms_code})

    assert RecipientOptOut.objects.filter(phone="+923001112233").exists()
    account.refresh_from_db()
    assert (account.notify_by_email, account.notify_by_sms) == (False, False)
    assert DataSubjectRequest.objects.get().status == Status.DONE


def test_the_privacy_officer_erases_or_refuses_an_open_request(
    client, django_capture_on_commit_callbacks, sms_log, operator_org, member, client_for, partner_a
) -> None:
    person = member(partner_a, Role.OWNER, email="leaving@example.com").user
    response = _submit(client, django_capture_on_commit_callbacks, kind="deletion", email="leaving@example.com")
    client.post(response["Location"], {"email_code": _codes(sms_log)[0]})
    made = DataSubjectRequest.objects.get()
    assert made.status == Status.OPEN, "an erasure waits for the privacy officer"
    officer = client_for(member(operator_org, Role.PRIVACY_OFFICER))
    dashboard = officer.get("/ops/privacy/").content.decode()
    assert f"/ops/privacy/requests/{made.public_id}/" in dashboard

    no_reason = officer.post(f"/ops/privacy/requests/{made.public_id}/", {"action": "reject", "outcome": ""})
    assert no_reason.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        erased = officer.post(f"/ops/privacy/requests/{made.public_id}/", {"action": "erase"})
    again = officer.post(f"/ops/privacy/requests/{made.public_id}/", {"action": "erase"})

    assert erased.status_code == 302
    made.refresh_from_db()
    assert made.status == Status.DONE
    assert made.result["accounts"] >= 1
    person.refresh_from_db()
    assert person.email == f"erased-{person.pk}@erased.invalid"
    assert not person.is_active
    assert again.status_code == 400
    assert "not open" in again.content.decode()
    assert mail.outbox[-1].to == ["leaving@example.com"]
    assert "erased" in mail.outbox[-1].body


def test_others_cannot_reach_the_officers_pages(client_for, member, operator_org, partner_a) -> None:
    for membership in (member(operator_org, Role.DISPATCHER), member(partner_a, Role.OWNER)):
        assert client_for(membership).get("/ops/privacy/").status_code in {403, 404}


def test_a_signed_in_person_sees_and_downloads_their_data(client_for, member, partner_a) -> None:
    membership = member(partner_a, Role.OWNER, email="me@example.com")
    client = client_for(membership)

    page = client.get("/me/data/").content.decode()
    archive = client.get("/me/data/archive")

    assert "me@example.com" in page
    data = json.loads(zipfile.ZipFile(io.BytesIO(archive.content)).read("data.json"))
    assert data["accounts"]["profile"]["email"] == "me@example.com"
    assert "accounts/memberships.csv" in zipfile.ZipFile(io.BytesIO(archive.content)).namelist()


def test_a_store_platforms_access_request_covers_only_that_partners_records(
    partner_a, partner_b, floor, stock_in, client_for, member, operator_org
) -> None:
    for partner in (partner_a, partner_b):
        ProductFactory(organization=partner, sku="TEE")
        order_create(
            organization=partner,
            data=order_input(("TEE", 1), recipient_email="shopper@example.com"),
            actor=SYSTEM,
        )
    UserFactory(email="shopper@example.com")

    first = privacy_request_access_from_store(
        organization=partner_a, email="shopper@example.com", phone="", store_reference="data_request:9"
    )
    again = privacy_request_access_from_store(
        organization=partner_a, email="shopper@example.com", phone="", store_reference="data_request:9"
    )
    officer = client_for(member(operator_org, Role.PRIVACY_OFFICER))
    archive = officer.get(f"/ops/privacy/requests/{first.public_id}/archive")

    assert first.pk == again.pk
    assert first.status == Status.OPEN
    data = json.loads(zipfile.ZipFile(io.BytesIO(archive.content)).read("data.json"))
    assert len(data["orders"]["orders"]) == 1, "partner B's order is not partner A's to hand over"
    assert "accounts" not in data, "AES's own relationship with the person is not the store's"


def test_the_officers_are_reminded_once_a_day_of_requests_due_within_a_week(operator_org, member) -> None:
    officer = member(operator_org, Role.PRIVACY_OFFICER).user
    now = timezone.now()
    due = DataSubjectRequest.objects.create(
        kind="correction", source="website", email="a@example.com", status=Status.OPEN, due_at=now + timedelta(days=3)
    )
    DataSubjectRequest.objects.create(
        kind="correction", source="website", email="b@example.com", status=Status.OPEN, due_at=now + timedelta(days=20)
    )
    stale = DataSubjectRequest.objects.create(kind="access", source="website", email="c@example.com")
    DataSubjectRequest.objects.filter(pk=stale.pk).update(received_at=now - timedelta(days=8))

    assert privacy_requests_remind() == 1
    assert privacy_requests_remind() == 0, "once a day"
    assert mail.outbox[0].to == [officer.email]
    assert str(due.public_id) in mail.outbox[0].body
    assert DataSubjectRequest.objects.get(pk=stale.pk).status == Status.REJECTED


def test_too_many_requests_for_one_address_are_refused(client, django_capture_on_commit_callbacks) -> None:
    for _ in range(5):
        _submit(client, django_capture_on_commit_callbacks)

    refused = _submit(client, django_capture_on_commit_callbacks)

    assert refused.status_code == 400
    assert "Too many requests" in refused.content.decode()
    assert DataSubjectRequest.objects.count() == 5


def test_the_dashboard_shows_deadlines_retention_sharing_and_consent(
    client_for, member, operator_org, partner_a
) -> None:
    overdue = DataSubjectRequest.objects.create(
        kind="correction",
        source="website",
        email="late@example.com",
        status=Status.OPEN,
        due_at=timezone.now() - timedelta(days=1),
    )
    retention_run(actor=SYSTEM)
    sharing_record(
        organization_id=partner_a.pk,
        recipient="api.courier.example",
        recipient_category="delivery_partners",
        data_categories=["user.name"],
        purpose="last_mile_delivery",
    )
    ConsentRecord.objects.create(notice_version=notice_current(), source="gpc")

    page = client_for(member(operator_org, Role.PRIVACY_OFFICER)).get("/ops/privacy/").content.decode()

    assert f"/ops/privacy/requests/{overdue.public_id}/" in page
    assert "overdue</span>" in page
    assert "by retention test" in page
    assert "Delivery partners: 1" in page
    assert "Refused all: 1" in page
