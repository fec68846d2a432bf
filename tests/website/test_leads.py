"""Inquiries and feedback from the website become leads; operators take them through the pipeline."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.db.models import Q
from django.test import Client

from allied.accounts.models import Invitation, Organization
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.errors import IllegalTransition, PermissionDenied, ValidationFailed
from allied.core.privacy import DELETE, DataSubject, declarations, subject_erase, subject_export
from allied.website.models import Lead, LeadActivity, LeadStatus
from allied.website.services import lead_note_add, lead_status_change, lead_submit
from allied.website.spam import STAMP
from tests.website.conftest import INQUIRY, stamp
from tests.worker import run_until_quiet

pytestmark = pytest.mark.django_db


def _lead(**changes: Any) -> Lead:
    return lead_submit(kind="inquiry", **{**INQUIRY, **changes})


# Visitors send them -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_inquiry_becomes_a_new_lead_and_the_visitor_gets_an_acknowledgement(
    inquiry: Callable[..., dict[str, Any]],
) -> None:
    response = Client(REMOTE_ADDR="203.0.113.9").post("/contact/", inquiry())
    run_until_quiet()

    assert response.status_code == 302
    assert response["Location"] == "/contact/?sent=1"
    lead = Lead.objects.get()
    assert (lead.kind, lead.status, lead.name, lead.phone, lead.service, lead.contact_preference) == (
        "inquiry", "new", "Sana Qureshi", "+923001234567", "fulfilment", "either",
    )  # fmt: skip
    assert "203.0.113" not in str(Lead.objects.values().get()), "the sender's address is not kept"
    [email] = mail.outbox
    assert email.to == ["sana@kohsar-crafts.example"]
    assert "We received your message" in email.subject
    assert "800 orders a month" in email.body
    assert "Thank you" in Client().get("/contact/?sent=1").content.decode()


def test_feedback_becomes_a_lead_of_its_kind(inquiry: Callable[..., dict[str, Any]]) -> None:
    response = Client().post(
        "/feedback/",
        inquiry(
            message="The rider was kind.", relationship="I received a parcel", phone="", contact_preference="email"
        ),
    )

    assert response.status_code == 302
    assert Lead.objects.get().kind == "feedback"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"name": ""}, "name", "This field is required."),
        ({"message": ""}, "message", "This field is required."),
        ({"service": "teleportation"}, "service", "Select a valid choice. teleportation is not one of the "
                                                  "available choices."),
        ({"phone": "12"}, "phone", "'12' is not a valid phone number. Use the international form (+92 300 1112233) "
                                   "or a number of PK as it is dialled there."),
        ({"phone": "", "contact_preference": "phone"}, "phone", "Give a phone number, or choose to be contacted "
                                                                "by e-mail."),
    ],
)  # fmt: skip
def test_bad_input_shows_a_form_error_and_stores_nothing(
    inquiry: Callable[..., dict[str, Any]], changes: dict[str, str], field: str, message: str
) -> None:
    response = Client().post("/contact/", inquiry(**changes))

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert "Please check the fields marked below" in response.content.decode()
    assert not Lead.objects.exists()
    assert not mail.outbox


# Spam protection --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"website": "http://cheap-pills.example"}, "could not be sent"),  # the honeypot
        ({STAMP: 0.5}, "quicker than we expected"),  # the time trap: shown half a second ago
        ({STAMP: 3 * 3600}, "has expired"),  # and three hours ago
        ({STAMP: "forged"}, "could not be sent"),
    ],
)
def test_robots_are_refused_politely_and_nothing_is_stored(
    inquiry: Callable[..., dict[str, Any]], changes: dict[str, Any], words: str
) -> None:
    if isinstance(changes.get(STAMP), float | int):
        changes = {STAMP: stamp(seconds_ago=changes[STAMP])}

    response = Client().post("/contact/", inquiry(**changes))

    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Lead.objects.exists()
    assert not mail.outbox


def test_a_form_without_its_stamp_is_refused(inquiry: Callable[..., dict[str, Any]]) -> None:
    body = inquiry()
    del body[STAMP]

    assert Client().post("/contact/", body).status_code == 400
    assert not Lead.objects.exists()


def test_one_address_sending_too_often_is_limited(inquiry: Callable[..., dict[str, Any]], settings: Any) -> None:
    settings.ALLIED_LEAD_SUBMISSIONS = 2
    client = Client(REMOTE_ADDR="198.51.100.7")

    statuses = [client.post("/contact/", inquiry(email=f"v{n}@example.com")).status_code for n in range(3)]
    other = Client(REMOTE_ADDR="198.51.100.8").post("/contact/", inquiry(email="other@example.com"))

    assert statuses == [302, 302, 429]
    assert other.status_code == 302, "another address has its own limit"
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "other@example.com",
        "v0@example.com",
        "v1@example.com",
    ]


def test_the_form_page_carries_a_fresh_stamp_and_a_hidden_honeypot() -> None:
    body = Client().get("/contact/").content.decode()

    assert f'name="{STAMP}"' in body
    assert 'name="website" type="text" tabindex="-1"' in body


# The pipeline -------------------------------------------------------------------------------------------


def test_a_lead_moves_along_the_pipeline_and_each_move_is_recorded(support_actor: Actor) -> None:
    lead = _lead()

    lead_status_change(lead=lead, status="contacted", actor=support_actor, note="Called, will send prices")
    lead_status_change(lead=lead, status="qualified", actor=support_actor)
    lead_status_change(lead=lead, status="qualified", actor=support_actor)  # already there: nothing recorded

    moves = list(LeadActivity.objects.filter(lead=lead).values_list("from_status", "to_status", "note", "actor_label"))
    assert moves == [
        ("new", "contacted", "Called, will send prices", support_actor.label),
        ("contacted", "qualified", "", support_actor.label),
    ]


def test_a_lead_cannot_skip_or_leave_a_final_status(support_actor: Actor) -> None:
    lead = _lead()

    with pytest.raises(IllegalTransition), transaction.atomic():
        lead_status_change(lead=lead, status="won", actor=support_actor)
    lead_status_change(lead=lead, status="lost", actor=support_actor)
    with pytest.raises(IllegalTransition), transaction.atomic():
        lead_status_change(lead=lead, status="contacted", actor=support_actor)


@pytest.mark.django_db(transaction=True)
def test_won_invites_the_company_to_onboard_as_a_partner(admin_actor: Actor) -> None:
    lead = _lead()
    lead_status_change(lead=lead, status="contacted", actor=admin_actor)
    lead_status_change(lead=lead, status="qualified", actor=admin_actor)

    lead_status_change(lead=lead, status="won", actor=admin_actor)
    run_until_quiet()

    partner = Organization.objects.get(name="Kohsar Crafts")
    invitation = Invitation.objects.get(organization=partner)
    assert (partner.slug, partner.kind) == ("kohsar-crafts", "partner")
    assert (invitation.email, invitation.role) == ("sana@kohsar-crafts.example", Role.OWNER)
    lead.refresh_from_db()
    assert (lead.status, lead.partner) == (LeadStatus.WON, partner)
    assert [m.to for m in mail.outbox if "Join Kohsar Crafts" in m.subject] == [["sana@kohsar-crafts.example"]]


def test_only_those_who_onboard_partners_can_win_a_lead(support_actor: Actor) -> None:
    lead = _lead()
    lead_status_change(lead=lead, status="contacted", actor=support_actor)
    lead_status_change(lead=lead, status="qualified", actor=support_actor)

    with pytest.raises(PermissionDenied), transaction.atomic():
        lead_status_change(lead=lead, status="won", actor=support_actor)
    assert not Organization.objects.filter(name="Kohsar Crafts").exists()


def test_a_lead_without_a_company_cannot_be_won(admin_client: Client, admin_actor: Actor) -> None:
    lead = _lead(company="")
    lead_status_change(lead=lead, status="contacted", actor=admin_actor)
    lead_status_change(lead=lead, status="qualified", actor=admin_actor)

    response = admin_client.post(f"/ops/leads/{lead.pk}/", {"action": "status", "status": "won"})

    assert response.status_code == 400
    assert "no company" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


def test_operators_filter_the_list_and_work_a_lead_from_its_page(support, client_for: Callable) -> None:
    client = client_for(support)
    new, feedback = _lead(), lead_submit(kind="feedback", name="Omar", email="omar@example.com", message="Quick!")
    Lead.objects.filter(pk=feedback.pk).update(status="lost")

    listed = client.get("/ops/leads/", {"status": "new", "kind": "inquiry"})
    assert list(listed.context["page_obj"]) == [new]

    noted = client.post(f"/ops/leads/{new.pk}/", {"action": "note", "note": "Asked for their volumes"})
    moved = client.post(f"/ops/leads/{new.pk}/", {"action": "status", "status": "contacted"})
    empty_note = client.post(f"/ops/leads/{new.pk}/", {"action": "note", "note": ""})

    assert (noted.status_code, moved.status_code, empty_note.status_code) == (302, 302, 400)
    page = client.get(f"/ops/leads/{new.pk}/").content.decode()
    assert "Asked for their volumes" in page
    assert "New → Contacted" in page
    assert "800 orders a month" in page


def test_a_note_needs_text(support_actor: Actor) -> None:
    with pytest.raises(ValidationFailed), transaction.atomic():
        lead_note_add(lead=_lead(), note="  ", actor=support_actor)


# Privacy ---------------------------------------------------------------------------------------------------


def test_unconverted_leads_are_declared_for_deletion_after_the_configured_period(settings: Any) -> None:
    declaration = declarations()["website.Lead"]
    rule = declaration.personal["email"].retention

    assert declaration.on_expiry == DELETE
    assert rule.period == timedelta(days=settings.ALLIED_LEAD_RETENTION_DAYS)
    assert rule.counts_from == ("updated_at",)
    assert rule.kept_while == Q(status=LeadStatus.WON)
    assert declarations()["website.LeadActivity"].on_expiry == DELETE


def test_a_person_exports_their_leads_by_email_or_phone(support_actor: Actor) -> None:
    lead = _lead()
    lead_status_change(lead=lead, status="contacted", actor=support_actor)
    _lead(email="someone.else@example.com", phone="", contact_preference="email")

    by_email = subject_export(subject=DataSubject(email="SANA@kohsar-crafts.example"), actor=support_actor)["leads"]
    by_phone = subject_export(subject=DataSubject(email="", phone="+92 300 1234567"), actor=support_actor)["leads"]

    assert by_email == by_phone
    [exported] = by_email["leads"]
    assert exported["message"] == INQUIRY["message"]
    assert exported["history"][0]["to"] == "contacted"


def test_erasing_a_person_blanks_their_leads_and_keeps_the_pipeline(support_actor: Actor) -> None:
    lead = _lead()
    lead_note_add(lead=lead, note="Sana wants a call after 5", actor=support_actor)
    lead_status_change(lead=lead, status="contacted", actor=support_actor)
    subject = DataSubject(email="sana@kohsar-crafts.example", phone="0300 1234567")

    first = subject_erase(subject=subject, actor=support_actor)
    second = subject_erase(subject=subject, actor=support_actor)

    lead.refresh_from_db()
    assert (lead.name, lead.email, lead.phone, lead.company, lead.relationship, lead.message) == ("",) * 6
    assert (lead.kind, lead.service, lead.status) == ("inquiry", "fulfilment", "contacted")
    assert not LeadActivity.objects.exclude(note="").exists()
    assert LeadActivity.objects.filter(to_status="contacted").exists(), "the pipeline's history stays"
    assert (first["leads"], second["leads"]) == (1, 0)
