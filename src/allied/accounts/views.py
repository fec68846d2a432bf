"""Pages for people: home routing, console and portal dashboards, team, API keys, profile, audit."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.forms import (
    ApiKeyForm,
    AuditFilterForm,
    InvitationAcceptForm,
    InvitationForm,
    PartnerCreateForm,
    ProfileForm,
    RoleChangeForm,
)
from allied.accounts.middleware import ACTIVE_ORGANIZATION_SESSION_KEY
from allied.accounts.models import ApiKey, Organization
from allied.accounts.roles import OrganizationKind, Role
from allied.accounts.selectors import (
    access_api_key,
    access_invitation,
    access_membership,
    access_organization,
    api_keys_of,
    audit_entries_visible_to,
    invitation_by_token,
    invitations_of,
    members_of,
    memberships_of,
    organizations_visible_to,
)
from allied.accounts.services import (
    api_key_create,
    api_key_revoke,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    organization_create,
    user_profile_update,
)
from allied.core.errors import FORM_ERRORS
from allied.core.forms import form_add_domain_error


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if policy.actor_can(actor, policy.CONSOLE_ACCESS):
        return redirect("ops_home")
    if policy.actor_can(actor, policy.PORTAL_ACCESS):
        return redirect("portal_home")
    return render(request, "accounts/no_membership.html")


@require_POST
@login_required
def switch_organization(request: HttpRequest) -> HttpResponse:
    slug = request.POST.get("organization", "")
    if any(m.organization.slug == slug for m in memberships_of(request.user)):  # type: ignore[arg-type]
        request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = slug
    return redirect("home")


@permission_required(policy.CONSOLE_ACCESS)
def ops_home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    partners = organizations_visible_to(actor).filter(kind=OrganizationKind.PARTNER)
    recent = audit_entries_visible_to(actor, {})[:8] if policy.actor_can(actor, policy.AUDIT_VIEW) else []
    return render(
        request,
        "accounts/ops_home.html",
        {"partner_count": partners.count(), "partners": partners[:10], "recent_audit": recent},
    )


@permission_required(policy.PORTAL_ACCESS)
def portal_home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/portal_home.html",
        {
            "member_count": members_of(actor, actor.organization).count(),
            "active_key_count": api_keys_of(actor, actor.organization).filter(revoked_at__isnull=True).count(),
        },
    )


@permission_required(policy.ORGANIZATIONS_VIEW_ALL)
def organizations(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = PartnerCreateForm(request.POST or None)
    if request.method == "POST":
        policy.require(actor, policy.ORGANIZATIONS_MANAGE)
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    organization = organization_create(
                        name=form.cleaned_data["name"],
                        slug=form.cleaned_data["slug"],
                        kind=OrganizationKind.PARTNER,
                        actor=actor,
                        default_country=form.cleaned_data["default_country"],
                    )
                    invitation_create(
                        organization=organization, email=form.cleaned_data["owner_email"], role=Role.OWNER, actor=actor
                    )
            except FORM_ERRORS as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, f"{organization.name} is set up; its owner has been invited.")
                return redirect("organization_detail", slug=organization.slug)
    listed = organizations_visible_to(actor).order_by("kind", "name")
    return render(request, "accounts/organizations.html", {"organizations": listed, "form": form})


@permission_required(policy.ORGANIZATIONS_VIEW_ALL)
def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organization = access_organization(request.actor, slug)  # type: ignore[attr-defined]
    return _team_page(request, organization)


@permission_required(policy.TEAM_VIEW)
def team(request: HttpRequest) -> HttpResponse:
    return _team_page(request, request.actor.organization)  # type: ignore[attr-defined]


def _team_page(request: HttpRequest, organization: Organization) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = InvitationForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                invitation_create(
                    organization=organization,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    actor=actor,
                )
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect(request.path)
    members = members_of(actor, organization)
    return render(
        request,
        "accounts/team.html",
        {
            "organization": organization,
            "members": [(m, RoleChangeForm(initial={"role": m.role}, organization=organization)) for m in members],
            "invitations": [i for i in invitations_of(actor, organization) if i.is_pending],
            "form": form,
            "can_manage": policy.can_manage_team_of(actor, organization),
        },
    )


@require_POST
@permission_required(policy.TEAM_VIEW)
def membership_update(request: HttpRequest, membership_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic(durable=True):
            membership = access_membership(actor, membership_id, for_update=True)
            if request.POST.get("action") == "remove":
                membership_remove(membership=membership, actor=actor)
                messages.success(request, f"{membership.user} no longer has access.")
            else:
                form = RoleChangeForm(request.POST, organization=membership.organization)
                if form.is_valid():
                    membership_change_role(membership=membership, role=form.cleaned_data["role"], actor=actor)
                    messages.success(request, f"{membership.user} is now {membership.get_role_display()}.")
    except FORM_ERRORS as error:
        if error.status == 404:
            raise
        messages.error(request, error.detail)
    return redirect(_team_url(actor, membership_organization_slug=request.POST.get("organization", "")))


@require_POST
@permission_required(policy.TEAM_VIEW)
def invitation_cancel(request: HttpRequest, invitation_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic(durable=True):
            invitation = access_invitation(actor, invitation_id, for_update=True)
            invitation_revoke(invitation=invitation, actor=actor)
    except FORM_ERRORS as error:
        if error.status == 404:
            raise
        messages.error(request, error.detail)
    else:
        messages.success(request, f"The invitation for {invitation.email} is cancelled.")
    return redirect(_team_url(actor, membership_organization_slug=request.POST.get("organization", "")))


def _team_url(actor: policy.Actor, *, membership_organization_slug: str) -> str:
    if actor.is_operator and membership_organization_slug:
        return reverse("organization_detail", args=[membership_organization_slug])
    return reverse("ops_team" if actor.is_operator else "portal_team")


@permission_required(policy.API_KEYS_MANAGE)
def api_keys(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = ApiKeyForm(request.POST or None)
    created: tuple[ApiKey, str] | None = None
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                created = api_key_create(
                    organization=actor.organization,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    actor=actor,
                )
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            form = ApiKeyForm()
    response = render(
        request,
        "accounts/api_keys.html",
        {"keys": api_keys_of(actor, actor.organization), "form": form, "created": created},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@permission_required(policy.API_KEYS_MANAGE)
def api_key_revoke_view(request: HttpRequest, api_key_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        api_key = api_key_revoke(api_key=access_api_key(actor, api_key_id, for_update=True), actor=actor)
    messages.success(request, f"The key {api_key.prefix}… is revoked; calls with it now fail.")
    return redirect("api_keys")


@permission_required(policy.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit_entries_visible_to(request.actor, filters)  # type: ignore[attr-defined]
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    template = "accounts/audit_log.html#results" if request.htmx else "accounts/audit_log.html"  # type: ignore[attr-defined]
    return render(request, template, {"form": form, "page": page})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(
        request.POST or None,
        initial={
            "full_name": user.full_name,  # type: ignore[union-attr]
            "phone": user.phone,  # type: ignore[union-attr]
            "language": user.language,  # type: ignore[union-attr]
            "notify_by_email": user.notify_by_email,  # type: ignore[union-attr]
            "notify_by_sms": user.notify_by_sms,  # type: ignore[union-attr]
            "contact_preference": user.contact_preference,  # type: ignore[union-attr]
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                user_profile_update(user=user, actor=request.actor, **form.cleaned_data)  # type: ignore[arg-type, attr-defined]
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    memberships = memberships_of(user)  # type: ignore[arg-type]
    return render(request, "accounts/profile.html", {"form": form, "memberships": memberships})


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                membership = invitation_accept(
                    token=token, full_name=form.cleaned_data["full_name"], password=form.cleaned_data["password"]
                )
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            login(request, membership.user, backend="allauth.account.auth_backends.AuthenticationBackend")
            request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = membership.organization.slug
            messages.success(request, f"Welcome to {membership.organization.name}.")
            return redirect("home")
    response = render(request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form})
    response["Referrer-Policy"] = "no-referrer"
    return response
