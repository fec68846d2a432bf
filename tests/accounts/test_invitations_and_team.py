import re

import pytest
from django.test import Client

from allied.accounts.models import Invitation, Membership, Organization, User
from allied.accounts.policy import Actor
from allied.accounts.roles import OrganizationKind, Role
from allied.accounts.services import invitation_create
from allied.core.models import AuditEntry
from allied.core.worker import HeartbeatWorker

LINK = re.compile(r"http://127\.0\.0\.1:8000(/invitations/[^/\s]+/)")


PARTNER_FORM = {"name": "X", "slug": "x", "owner_email": "x@example.com", "default_country": "PK"}


def deliver_queued_mail() -> None:
    HeartbeatWorker(batch=True, interval=0).run()


def invitation_link(mail: object) -> str:
    match = LINK.search(mail.body)  # type: ignore[attr-defined]
    assert match, mail.body  # type: ignore[attr-defined]
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_owner_invites_staff_who_joins_by_the_mailed_link(
    partner_a: Organization, member: object, client_for: object, mailoutbox: list
) -> None:
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]

    response = owner.post("/portal/team/", {"email": "New.Hire@Example.com", "role": Role.MANAGER})
    deliver_queued_mail()

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.hire@example.com"]
    link = invitation_link(mailoutbox[0])
    assert Invitation.objects.get().token_hash not in link, "the stored hash is not the token"
    newcomer = Client()
    page = newcomer.get(link)
    assert "Join Partner A" in page.content.decode()
    accepted = newcomer.post(
        link, {"full_name": "New Hire", "password": "a-Strong-passw0rd", "password_again": "a-Strong-passw0rd"}
    )
    assert accepted.status_code == 302
    membership = Membership.objects.get(user__email="new.hire@example.com")
    assert (membership.organization, membership.role) == (partner_a, Role.MANAGER)
    assert newcomer.get("/portal/").status_code == 200
    assert newcomer.get(link).status_code == 404, "a link works once"
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {"invitation.created", "invitation.accepted"}


@pytest.mark.django_db
def test_weak_password_is_refused_with_a_message(partner_a: Organization, member: object, client_for: object) -> None:
    owner = member(partner_a, Role.OWNER)  # type: ignore[operator]
    _, token = invitation_create(
        organization=partner_a,
        email="x@example.com",
        role=Role.VIEWER,
        actor=Actor(user=owner.user, organization=partner_a, role=Role.OWNER),
    )

    page = Client().post(
        f"/invitations/{token}/", {"full_name": "X", "password": "password", "password_again": "password"}
    )

    assert page.status_code == 200
    assert "too common" in page.content.decode()
    assert not User.objects.filter(email="x@example.com").exists()
    assert Invitation.objects.get().accepted_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.MANAGER, Role.VIEWER])
def test_only_owners_invite(role: str, partner_a: Organization, member: object, client_for: object) -> None:
    client = client_for(member(partner_a, role))  # type: ignore[operator]

    page = client.get("/portal/team/").content.decode()
    client.post("/portal/team/", {"email": "someone@example.com", "role": Role.VIEWER})

    assert "Invite someone" not in page
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_partner_cannot_invite_operator_roles(partner_a: Organization, member: object, client_for: object) -> None:
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]

    response = owner.post("/portal/team/", {"email": "x@example.com", "role": Role.ADMIN})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_inviting_an_existing_member_is_refused(partner_a: Organization, member: object, client_for: object) -> None:
    owner_membership = member(partner_a, Role.OWNER)  # type: ignore[operator]
    viewer = member(partner_a, Role.VIEWER)  # type: ignore[operator]
    owner = client_for(owner_membership)  # type: ignore[operator]

    response = owner.post("/portal/team/", {"email": viewer.user.email, "role": Role.MANAGER})

    assert "Already a member." in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_owner_changes_a_role_and_removes_a_member(partner_a: Organization, member: object, client_for: object) -> None:
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]
    viewer = member(partner_a, Role.VIEWER)  # type: ignore[operator]

    owner.post(f"/team/members/{viewer.pk}/", {"role": Role.MANAGER})
    viewer.refresh_from_db()
    assert viewer.role == Role.MANAGER
    entry = AuditEntry.objects.get(action="membership.role_changed")
    assert entry.changes == {"role": ["viewer", "manager"]}

    owner.post(f"/team/members/{viewer.pk}/", {"action": "remove"})
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert AuditEntry.objects.filter(action="membership.removed").exists()


@pytest.mark.django_db
def test_owner_cannot_change_own_role(partner_a: Organization, member: object, client_for: object) -> None:
    owner_membership = member(partner_a, Role.OWNER)  # type: ignore[operator]
    owner = client_for(owner_membership)  # type: ignore[operator]

    owner.post(f"/team/members/{owner_membership.pk}/", {"role": Role.VIEWER})

    owner_membership.refresh_from_db()
    assert owner_membership.role == Role.OWNER


@pytest.mark.django_db(transaction=True)
def test_operator_admin_onboards_a_partner_and_invites_its_owner(
    operator_org: Organization, member: object, client_for: object, mailoutbox: list
) -> None:
    admin = client_for(member(operator_org, Role.ADMIN))  # type: ignore[operator]

    response = admin.post(
        "/ops/organizations/",
        {
            "name": "Sindh Spices",
            "slug": "sindh-spices",
            "owner_email": "boss@sindh.example",
            "default_country": "AE",
        },
    )
    deliver_queued_mail()

    assert response["Location"] == "/ops/organizations/sindh-spices/"
    partner = Organization.objects.get(slug="sindh-spices")
    assert (partner.kind, partner.default_country) == (OrganizationKind.PARTNER, "AE")
    assert Invitation.objects.get(organization=partner).role == Role.OWNER
    assert "Join Sindh Spices" in mailoutbox[0].subject


@pytest.mark.django_db
def test_duplicate_partner_short_name_is_a_form_error_and_creates_nothing(
    operator_org: Organization, partner_a: Organization, member: object, client_for: object
) -> None:
    admin = client_for(member(operator_org, Role.ADMIN))  # type: ignore[operator]

    response = admin.post("/ops/organizations/", PARTNER_FORM | {"name": "Copy", "slug": "partner-a"})

    assert "Already used by another organization." in response.content.decode()
    assert Organization.objects.count() == 2
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_dispatcher_sees_partners_but_cannot_onboard(
    operator_org: Organization, member: object, client_for: object
) -> None:
    dispatcher = client_for(member(operator_org, Role.DISPATCHER))  # type: ignore[operator]

    assert dispatcher.get("/ops/organizations/").status_code == 200
    assert dispatcher.post("/ops/organizations/", PARTNER_FORM).status_code == 403
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_profile_saves_personal_preferences(partner_a: Organization, member: object, client_for: object) -> None:
    membership = member(partner_a, Role.VIEWER)  # type: ignore[operator]
    client = client_for(membership)  # type: ignore[operator]

    client.post(
        "/me/",
        {
            "full_name": "Zara Q",
            "phone": "+92 321 0000000",
            "language": "ur",
            "contact_preference": "sms",
            "notify_by_sms": "on",
        },
    )

    user = User.objects.get(pk=membership.user.pk)
    assert user.contact_preference == "sms"
    assert (user.full_name, user.phone, user.language, user.notify_by_email, user.notify_by_sms) == (
        "Zara Q",
        "+923210000000",  # E.164, as every door stores phone numbers
        "ur",
        False,
        True,
    )


@pytest.mark.django_db
def test_audit_log_is_for_operator_admins_and_filters(
    operator_org: Organization, partner_a: Organization, member: object, client_for: object
) -> None:
    admin = client_for(member(operator_org, Role.ADMIN))  # type: ignore[operator]
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]
    owner.post("/portal/api-keys/", {"name": "Shop", "scopes": ["orders:read"]})
    owner.post("/portal/team/", {"email": "y@example.com", "role": Role.VIEWER})

    everything = admin.get("/ops/audit/").content.decode()
    filtered = admin.get("/ops/audit/", {"action": "api_key"}, headers={"HX-Request": "true"}).content.decode()

    assert "api_key.created" in everything
    assert "invitation.created" in everything
    assert "api_key.created" in filtered
    assert "invitation.created" not in filtered
    assert "<html" not in filtered, "htmx gets only the results partial"
    assert owner.get("/ops/audit/").status_code == 403


@pytest.mark.django_db
def test_profile_language_is_used_for_the_pages(partner_a: Organization, member: object, client_for: object) -> None:
    membership = member(partner_a, Role.VIEWER)  # type: ignore[operator]
    membership.user.language = "fr"
    membership.user.save()
    client = client_for(membership)  # type: ignore[operator]

    response = client.get("/portal/", headers={"Accept-Language": "en"})

    assert response["Content-Language"] == "fr"


@pytest.mark.django_db
def test_profile_refuses_a_phone_that_is_not_one_and_reads_local_numbers_in_the_partners_country(
    partner_a: Organization, member: object, client_for: object
) -> None:
    membership = member(partner_a, Role.VIEWER)  # type: ignore[operator]
    client = client_for(membership)  # type: ignore[operator]

    details = {"full_name": "Zara Q", "language": "en", "contact_preference": "email"}
    refused = client.post("/me/", details | {"phone": "not-a-phone"})
    unchanged = User.objects.get(pk=membership.user.pk).phone
    client.post("/me/", details | {"phone": "0300 1112233"})

    assert "is not a valid phone number" in refused.content.decode()
    assert unchanged == ""
    assert User.objects.get(pk=membership.user.pk).phone == "+923001112233"


@pytest.mark.django_db
def test_a_partner_needs_a_known_default_country(
    operator_org: Organization, member: object, client_for: object
) -> None:
    admin = client_for(member(operator_org, Role.ADMIN))  # type: ignore[operator]

    response = admin.post("/ops/organizations/", PARTNER_FORM | {"default_country": "XX"})

    assert response.status_code == 200
    assert "default_country" in response.context["form"].errors
    assert not Organization.objects.filter(slug="x").exists()
