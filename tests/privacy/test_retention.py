"""The retention job applies every app's declared rule: a row past its period loses its personal
fields (or the row itself, where the app said nothing in it outlives the person), rows still kept
by their rule are untouched, what it did is recorded, and a second run has nothing left to do."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.core.models import AuditEntry
from allied.core.tracking import TrackingStatus
from allied.delivery.models import DeliveryTask, Proof
from allied.delivery.services.tasks import delivery_tasks_create
from allied.privacy.models import ConsentRecord, RetentionRun
from allied.privacy.selectors import notice_current
from allied.privacy.services.retention import retention_run
from allied.website.models import Lead, LeadStatus
from allied.website.services import lead_submit
from tests.delivery.factories import HubFactory
from tests.delivery.test_tasks_and_planning import stop
from tests.domain import refused
from tests.processes import run_allied

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("retention test")


@pytest.fixture
def stops(partner_a):
    HubFactory()
    old_closed, recent_closed, old_open = delivery_tasks_create(
        organization=partner_a, stops=[stop(0), stop(1), stop(2)], actor=SYSTEM
    )
    now = timezone.now()
    DeliveryTask.objects.filter(pk__in=[old_closed.pk, recent_closed.pk]).update(status=TrackingStatus.DELIVERED)
    DeliveryTask.objects.filter(pk__in=[old_closed.pk, old_open.pk]).update(updated_at=now - timedelta(days=91))
    return old_closed, recent_closed, old_open


def _result(run: RetentionRun, model: str) -> int:
    return sum(result["rows"] for result in run.results if result["model"] == model)


def test_retention_run_redacts_closed_stops_past_their_period_and_keeps_the_rest(stops) -> None:
    old_closed, recent_closed, old_open = stops

    run = retention_run(actor=SYSTEM)

    old_closed.refresh_from_db()
    assert (old_closed.contact_name, old_closed.contact_phone, old_closed.address_line1) == ("", "", "")
    assert (old_closed.address_lat, old_closed.address_lng) == (None, None)
    assert old_closed.cod_amount == stops[1].cod_amount, "the business record stays"
    for kept in (recent_closed, old_open):
        fresh = DeliveryTask.objects.get(pk=kept.pk)
        assert (fresh.contact_name, fresh.contact_phone) == (kept.contact_name, kept.contact_phone)
    assert _result(run, "delivery.DeliveryTask") == 1
    assert run.finished_at is not None
    assert not run.dry_run
    assert AuditEntry.objects.filter(action="privacy.retention_applied").count() == 1


def test_a_second_retention_run_finds_nothing_left_to_do(stops) -> None:
    retention_run(actor=SYSTEM)

    again = retention_run(actor=SYSTEM)

    assert again.rows == 0, [result for result in again.results if result["rows"]]


def test_a_dry_run_counts_what_it_would_do_and_changes_nothing(stops) -> None:
    old_closed = stops[0]

    run = retention_run(actor=SYSTEM, dry_run=True)

    assert _result(run, "delivery.DeliveryTask") == 1
    assert DeliveryTask.objects.get(pk=old_closed.pk).contact_name == old_closed.contact_name
    assert not AuditEntry.objects.filter(action="privacy.retention_applied").exists()


def test_proof_photos_are_deleted_from_storage_with_the_stop_past_retention(stops, settings, tmp_path) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = tmp_path
    old_closed = stops[0]
    proof = Proof(organization=old_closed.organization, task=old_closed, recipient_name="Hina Baig", at=timezone.now())
    proof.photo.save("door.jpg", ContentFile(b"\xff\xd8 a photo of the door"), save=True)
    stored = proof.photo.path

    retention_run(actor=SYSTEM)

    proof.refresh_from_db()
    assert (proof.recipient_name, proof.photo.name) == ("", "")
    assert not (tmp_path / stored).exists()


def test_ip_networks_in_the_audit_log_are_cut_after_the_technical_data_period(settings) -> None:
    now = timezone.now()
    for label, age in {"old": timedelta(days=31), "recent": timedelta(days=29)}.items():
        AuditEntry.objects.create(action="auth.login", actor_label=label, ip_prefix="203.0.113.0/24")
        AuditEntry.objects.filter(actor_label=label).update(at=now - age)

    retention_run(actor=SYSTEM)

    assert dict(AuditEntry.objects.filter(action="auth.login").values_list("actor_label", "ip_prefix")) == {
        "old": "",
        "recent": "203.0.113.0/24",
    }, "the entry stays as evidence for two years, its network only for thirty days"


def test_consent_records_are_deleted_whole_three_years_after_the_choice() -> None:
    version = notice_current()
    old = ConsentRecord.objects.create(notice_version=version, source="banner", analytics=True)
    recent = ConsentRecord.objects.create(notice_version=version, source="banner")
    ConsentRecord.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=3 * 365 + 1))

    run = retention_run(actor=SYSTEM)

    assert list(ConsentRecord.objects.values_list("pk", flat=True)) == [recent.pk]
    assert _result(run, "privacy.ConsentRecord") == 1


def test_only_the_privacy_officer_or_the_schedule_runs_retention(operator_org, member) -> None:
    dispatcher = member(operator_org, Role.DISPATCHER)
    officer = member(operator_org, Role.PRIVACY_OFFICER)

    refused(lambda: retention_run(actor=Actor(user=dispatcher.user, organization=operator_org, role=Role.DISPATCHER)))
    run = retention_run(actor=Actor(user=officer.user, organization=operator_org, role=Role.PRIVACY_OFFICER))

    assert run.triggered_by == officer.user.email
    assert RetentionRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_retention_command_reports_what_it_did(stops) -> None:
    dry = run_allied("privacy", "retention", "--dry-run")
    done = run_allied("privacy", "retention")

    assert dry.returncode == 0, dry.stderr
    assert done.returncode == 0, done.stderr
    assert "delivery.DeliveryTask" in dry.stdout
    assert "redact 1 row" in dry.stdout
    assert "Retention would touch" in dry.stdout
    assert "Retention did touch" in done.stdout
    assert DeliveryTask.objects.get(pk=stops[0].pk).contact_name == ""
    assert list(RetentionRun.objects.order_by("started_at").values_list("dry_run", "triggered_by")) == [
        (True, "allied privacy retention"),
        (False, "allied privacy retention"),
    ]


def test_unconverted_leads_are_deleted_after_the_lead_period_and_won_ones_stay(settings) -> None:
    old_lost = lead_submit(kind="inquiry", name="Old Lead", email="old@example.com", message="Hello")
    old_won = lead_submit(kind="inquiry", name="Won Lead", email="won@example.com", message="Hello")
    recent = lead_submit(kind="feedback", name="New Lead", email="new@example.com", message="Thanks")
    Lead.objects.filter(pk=old_won.pk).update(status=LeadStatus.WON)
    long_ago = timezone.now() - timedelta(days=settings.ALLIED_LEAD_RETENTION_DAYS + 1)
    Lead.objects.filter(pk__in=[old_lost.pk, old_won.pk]).update(updated_at=long_ago)

    run = retention_run(actor=SYSTEM)

    assert set(Lead.objects.values_list("pk", flat=True)) == {old_won.pk, recent.pk}
    assert _result(run, "website.Lead") == 1
