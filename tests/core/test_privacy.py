import pytest
from django.core import checks
from django.db import models
from django.test.utils import isolate_apps

from allied.accounts.models import Invitation, User
from allied.accounts.policy import Actor
from allied.accounts.roles import Role
from allied.accounts.services import invitation_create
from allied.core.models import AuditEntry
from allied.core.privacy import (
    DataSubject,
    PersonalField,
    check_personal_data_declared,
    declarations,
    declare_personal_data,
    subject_erase,
    subject_export,
    undeclared_personal_fields,
)


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

    Lead.__module__ = "allied.core.models"
    from django.apps import apps

    original = apps.get_models
    apps.get_models = lambda *a, **k: [*original(*a, **k), Lead]  # type: ignore[method-assign]
    try:
        missing = undeclared_personal_fields()
        errors = check_personal_data_declared()
    finally:
        apps.get_models = original  # type: ignore[method-assign]

    assert missing == ["core.Lead.contact_email", "core.Lead.phone_number"]
    assert [error.id for error in errors] == ["allied.E001", "allied.E001"]


def test_declarations_use_fideslang_categories_and_known_purposes() -> None:
    with pytest.raises(ValueError, match="Unknown fideslang data category"):
        PersonalField("user.favourite_colour", "preferences", "forever")
    with pytest.raises(ValueError, match="Unknown purpose"):
        PersonalField("user.name", "marketing_resale", "forever")


def test_declaring_a_field_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match="has no fields"):
        declare_personal_data(User, personal={"shoe_size": PersonalField("user.name", "preferences", "never")})


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
