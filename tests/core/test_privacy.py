from datetime import timedelta

import pytest
from django.core import checks
from django.db import models
from django.db.models import Q
from django.test.utils import isolate_apps
from django.utils import timezone

from allied.accounts.models import Invitation, User
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.accounts.services import invitation_create
from allied.core.models import AuditEntry
from allied.core.privacy import (
    HOSTED,
    DataSubject,
    ModelDeclaration,
    PersonalField,
    check_personal_data_declared,
    check_retention_rules,
    data_map,
    declarations,
    declare_personal_data,
    kept_for,
    kept_while,
    retention_problems,
    subject_erase,
    subject_export,
    undeclared_personal_fields,
)
from allied.core.selectors import rows_past_retention

A_YEAR = kept_for(timedelta(days=365), counts_from="date_joined")


def declaration_check_with(model: type[models.Model]) -> tuple[list[str], list[checks.CheckMessage]]:
    """What the declaration check finds once an undeclared model joins Allied's."""
    from django.apps import apps

    model.__module__ = "allied.core.models"
    original = apps.get_models
    apps.get_models = lambda *a, **k: [*original(*a, **k), model]  # type: ignore[method-assign]
    try:
        return undeclared_personal_fields(), check_personal_data_declared()
    finally:
        apps.get_models = original  # type: ignore[method-assign]


def test_every_personal_looking_field_of_allied_is_declared() -> None:
    assert undeclared_personal_fields() == []
    assert check_personal_data_declared in checks.registry.registry.get_checks()
    assert check_personal_data_declared() == []


@isolate_apps("allied.core")
def test_an_undeclared_personal_field_fails_the_system_check() -> None:
    class Lead(models.Model):
        contact_email = models.EmailField()
        phone_number = models.CharField(max_length=20)
        budget = models.IntegerField()

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return self.contact_email

    missing, errors = declaration_check_with(Lead)

    assert missing == ["core.Lead.contact_email", "core.Lead.phone_number"]
    assert [error.id for error in errors] == ["allied.E001", "allied.E001"]


@isolate_apps("allied.core")
def test_an_undeclared_json_field_fails_the_system_check_whatever_its_name() -> None:
    class Shipment(models.Model):
        extra = models.JSONField(default=dict)
        weight_grams = models.IntegerField()

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return str(self.weight_grams)

    missing, errors = declaration_check_with(Shipment)

    assert missing == ["core.Shipment.extra"]
    assert [(error.id, error.msg) for error in errors] == [
        ("allied.E001", "core.Shipment.extra is free-form JSON but is not declared")
    ]


def test_declarations_use_fideslang_categories_known_purposes_legal_bases_and_providers() -> None:
    with pytest.raises(ValueError, match="Unknown fideslang data category"):
        PersonalField("user.favourite_colour", "preferences", A_YEAR, legal_basis="contract", shared_with=HOSTED)
    with pytest.raises(ValueError, match="Unknown purpose"):
        PersonalField("user.name", "marketing_resale", A_YEAR, legal_basis="contract", shared_with=HOSTED)
    with pytest.raises(ValueError, match="Unknown legal basis"):
        PersonalField("user.name", "preferences", A_YEAR, legal_basis="because", shared_with=HOSTED)
    with pytest.raises(ValueError, match="service-provider categories"):
        PersonalField("user.name", "preferences", A_YEAR, legal_basis="contract", shared_with=frozenset({"brokers"}))
    with pytest.raises(ValueError, match="service-provider categories"):
        PersonalField("user.name", "preferences", A_YEAR, legal_basis="contract", shared_with=frozenset())


def test_declaring_a_field_that_does_not_exist_is_refused() -> None:
    shoe_size = PersonalField("user.name", "preferences", A_YEAR, legal_basis="contract", shared_with=HOSTED)
    with pytest.raises(ValueError, match="has no fields"):
        declare_personal_data(User, personal={"shoe_size": shoe_size})


def test_every_retention_rule_of_allied_counts_from_a_date_of_its_model_for_a_positive_period() -> None:
    assert retention_problems() == []
    assert check_retention_rules in checks.registry.registry.get_checks()
    assert check_retention_rules() == []


def test_a_retention_from_a_missing_or_non_date_field_or_for_no_time_fails_the_check() -> None:
    def declared(retention: object) -> ModelDeclaration:
        email = PersonalField(
            "user.contact.email", "account_access", retention, legal_basis="contract", shared_with=HOSTED
        )  # type: ignore[arg-type]
        return ModelDeclaration("accounts.User", {"email": email})

    problems = retention_problems(
        [
            declared(kept_for(timedelta(days=30), counts_from="closed_at")),
            declared(kept_for(timedelta(days=30), counts_from="email")),
            declared(kept_for(timedelta(days=30), counts_from="email__date")),
            declared(kept_for(timedelta(0), counts_from="date_joined")),
            declared(kept_while("it is loved", Q(loved=True), then=timedelta(days=1), counts_from="date_joined")),
        ]
    )

    assert len(problems) == 5
    assert "counts from closed_at, which the model does not have" in problems[0]
    assert "counts from email, which is not a date" in problems[1]
    assert "counts from email__date, which the model does not have" in problems[2]
    assert "must be positive" in problems[3]
    assert "while it is loved" in problems[4]
    assert "cannot be queried" in problems[4]


def test_the_data_map_says_for_every_personal_field_its_basis_recipients_and_retention_in_words() -> None:
    entries = {(e.model_label, e.field): e for e in data_map()}

    assert len(entries) == sum(len(d.personal) for d in declarations().values())
    assert all(e.legal_basis and e.shared_with and e.retention for e in entries.values())
    phone = entries["orders.Order", "recipient_phone"]
    assert (phone.purpose, phone.legal_basis) == ("last_mile_delivery", "contract")
    assert phone.shared_with == ("delivery_partners", "hosting_providers")
    assert phone.retention == "while the order is open, then 2 years after updated_at"
    assert entries["accounts.Invitation", "email"].retention == (
        "30 days after accepted_at, else revoked_at, else expires_at"
    )
    assert entries["orders.OrderEvent", "payload"].retention == (
        "while the order is open, then 2 years after order's updated_at"
    )
    assert {("orders.Order", "tags"), ("core.DomainEvent", "payload"), ("core.AuditEntry", "changes")} <= set(entries)


@pytest.mark.django_db
def test_audit_rows_are_past_retention_two_years_after_they_were_written() -> None:
    now = timezone.now()
    ages = {"old": timedelta(days=731), "recent": timedelta(days=729), "today": timedelta(0)}
    for label, age in ages.items():
        AuditEntry.objects.create(action="auth.login", actor_label=label, ip_prefix="203.0.113.0/24")
        AuditEntry.objects.filter(actor_label=label).update(at=now - age)

    past = rows_past_retention(declarations()["core.AuditEntry"], "actor_label", now=now)
    network_past = rows_past_retention(declarations()["core.AuditEntry"], "ip_prefix", now=now)

    assert [entry.actor_label for entry in past] == ["old"]
    assert {entry.actor_label for entry in network_past} == {"old", "recent"}, "the network: 30 days"


@pytest.mark.django_db
def test_an_invitation_is_past_retention_a_month_after_it_was_accepted_revoked_or_expired(
    partner_a: object,
) -> None:
    from allied.accounts.models import Invitation

    now = timezone.now()
    month = timedelta(days=30)
    day = timedelta(days=1)
    cases = {
        "accepted-long-ago@example.com": {"accepted_at": now - month - day, "expires_at": now + month},
        "accepted-lately@example.com": {"accepted_at": now - month + day, "expires_at": now - 2 * month},
        "revoked-long-ago@example.com": {"revoked_at": now - month - day, "expires_at": now + month},
        "expired-long-ago@example.com": {"expires_at": now - month - day},
        "expired-lately@example.com": {"expires_at": now - month + day},
        "pending@example.com": {"expires_at": now + day},
    }
    for email, dates in cases.items():
        Invitation.objects.create(organization=partner_a, email=email, role=Role.VIEWER, token_hash=email, **dates)

    past = rows_past_retention(declarations()["accounts.Invitation"], "email", now=now)

    assert sorted(past.values_list("email", flat=True)) == [
        "accepted-long-ago@example.com",
        "expired-long-ago@example.com",
        "revoked-long-ago@example.com",
    ]


@pytest.mark.django_db
def test_a_closed_account_is_past_retention_a_month_after_its_last_use(partner_a: object, member: object) -> None:
    now = timezone.now()
    month, day = timedelta(days=30), timedelta(days=1)
    users: dict[str, int] = {}
    for name, active, last_login, joined in [
        ("active-idle", True, now - 10 * month, now - 20 * month),
        ("closed-idle", False, now - month - day, now - 20 * month),
        ("closed-lately", False, now - month + day, now - 20 * month),
        ("closed-never-signed-in", False, None, now - month - day),
        ("closed-new", False, None, now - month + day),
    ]:
        user = member(partner_a, Role.VIEWER).user  # type: ignore[operator]
        User.objects.filter(pk=user.pk).update(is_active=active, last_login=last_login, date_joined=joined)
        users[name] = user.pk

    past = rows_past_retention(declarations()["accounts.User"], "phone", now=now)

    assert set(past.values_list("pk", flat=True)) == {users["closed-idle"], users["closed-never-signed-in"]}


def test_accounts_declare_the_profile_the_privacy_notice_describes() -> None:
    user_fields = declarations()["accounts.User"].personal

    assert user_fields["email"].category == "user.contact.email"
    assert user_fields["phone"].category == "user.contact.phone_number"
    assert user_fields["language"].purpose == "preferences"
    assert user_fields["password"].category == "user.authorization.credentials"


@pytest.mark.django_db
def test_export_returns_the_account_profile_memberships_and_audit_trail(partner_a: object, member: object) -> None:
    membership = member(partner_a, Role.OWNER, phone="+92 300 1234567")  # type: ignore[operator]
    user = membership.user
    AuditEntry.objects.create(action="auth.login", actor=user, actor_label=user.email, ip_prefix="203.0.113.0/24")

    exported = subject_export(subject=DataSubject(email=user.email, user_id=user.pk), actor=Actor.system("privacy"))

    assert exported["accounts"]["profile"]["phone"] == "+92 300 1234567"
    assert exported["accounts"]["memberships"] == [{"organization": "Partner A", "role": "owner"}]
    assert exported["audit"]["audit_entries"][0]["action"] == "auth.login"
    assert AuditEntry.objects.filter(action="privacy.exported").count() == 1


@pytest.mark.django_db
def test_erase_anonymises_the_account_and_keeps_audit_rows_without_the_person(
    partner_a: object, member: object
) -> None:
    owner = member(partner_a, Role.OWNER)  # type: ignore[operator]
    membership = member(partner_a, Role.VIEWER, phone="+92 300 7654321")  # type: ignore[operator]
    user = membership.user
    AuditEntry.objects.create(action="auth.login", actor=user, actor_label=user.email, ip_prefix="203.0.113.0/24")
    invitation_create(
        organization=partner_a,
        email="pending@example.com",
        role=Role.VIEWER,
        actor=Actor(user=owner.user, organization=partner_a, role=Role.OWNER),
    )

    counts = subject_erase(subject=DataSubject(email=user.email, user_id=user.pk), actor=Actor.system("privacy"))
    subject_erase(subject=DataSubject(email="pending@example.com"), actor=Actor.system("privacy"))

    user.refresh_from_db()
    assert counts["accounts"] >= 1
    assert user.email == f"erased-{user.pk}@erased.invalid"
    assert (user.full_name, user.phone, user.is_active, user.has_usable_password()) == ("", "", False, False)
    entry = AuditEntry.objects.get(actor=user, action="auth.login")
    assert (entry.actor_label, entry.ip_prefix) == (f"erased user #{user.pk}", "")
    assert not Invitation.objects.filter(email="pending@example.com").exists()
    assert AuditEntry.objects.filter(action="privacy.erased", actor_label="privacy").count() == 2
