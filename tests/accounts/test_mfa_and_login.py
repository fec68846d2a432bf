import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.test import Client

from allied.accounts.models import User
from allied.accounts.roles import Role
from allied.core.models import AuditEntry
from tests.accounts.factories import PASSWORD
from tests.conftest import current_totp_code, enable_totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


def sign_in(client: Client, email: str, password: str = PASSWORD) -> object:
    return client.post("/accounts/login/", {"login": email, "password": password})


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE, Role.PRIVACY_OFFICER])
def test_roles_that_need_mfa_are_sent_to_set_it_up(role: str, operator_org: object, member: object) -> None:
    membership = member(operator_org, role)  # type: ignore[operator]
    client = Client()
    sign_in(client, membership.user.email)

    response = client.get("/ops/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    client.post("/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/", {"password": PASSWORD})
    setup = client.get("/accounts/2fa/totp/activate/")
    assert setup.status_code == 200
    assert "Authenticator" in setup.content.decode()


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.WAREHOUSE, Role.SUPPORT, Role.RIDER])
def test_other_operator_roles_work_without_mfa(role: str, operator_org: object, member: object) -> None:
    client = Client()
    client.force_login(member(operator_org, role).user)  # type: ignore[operator]

    assert client.get("/ops/").status_code == 200


def test_partner_roles_work_without_mfa(partner_a: object, member: object) -> None:
    client = Client()
    client.force_login(member(partner_a, Role.VIEWER).user)  # type: ignore[operator]

    assert client.get("/portal/").status_code == 200


def test_admin_with_mfa_reaches_the_console(operator_org: object, member: object) -> None:
    membership = member(operator_org, Role.ADMIN)  # type: ignore[operator]
    enable_totp(membership.user)
    client = Client()
    client.force_login(membership.user)

    assert client.get("/ops/").status_code == 200


def test_sign_in_with_totp_needs_the_code(operator_org: object, member: object) -> None:
    membership = member(operator_org, Role.ADMIN)  # type: ignore[operator]
    secret = enable_totp(membership.user)
    client = Client()

    after_password = sign_in(client, membership.user.email)

    assert after_password["Location"] == "/accounts/2fa/authenticate/"  # type: ignore[index]
    assert client.get("/ops/").status_code == 302, "not signed in before the second factor"
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    right = client.post("/accounts/2fa/authenticate/", {"code": current_totp_code(secret)})
    assert right.status_code == 302
    assert client.get("/ops/").status_code == 200
    assert AuditEntry.objects.filter(action="auth.login", actor=membership.user).count() == 1


def test_required_mfa_cannot_be_switched_off(operator_org: object, member: object) -> None:
    membership = member(operator_org, Role.FINANCE)  # type: ignore[operator]
    secret = enable_totp(membership.user)
    client = Client()
    sign_in(client, membership.user.email)
    client.post("/accounts/2fa/authenticate/", {"code": current_totp_code(secret)})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})

    client.post("/accounts/2fa/totp/deactivate/")

    assert Authenticator.objects.filter(user=membership.user, type=Authenticator.Type.TOTP).exists()


def test_optional_mfa_can_be_switched_off(partner_a: object, member: object) -> None:
    membership = member(partner_a, Role.OWNER)  # type: ignore[operator]
    secret = enable_totp(membership.user)
    client = Client()
    sign_in(client, membership.user.email)
    client.post("/accounts/2fa/authenticate/", {"code": current_totp_code(secret)})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})

    client.post("/accounts/2fa/totp/deactivate/")

    assert not Authenticator.objects.filter(user=membership.user, type=Authenticator.Type.TOTP).exists()
    assert AuditEntry.objects.filter(action="mfa.removed", actor=membership.user).exists()


def test_failed_sign_ins_are_audited_and_throttled(partner_a: object, member: object) -> None:
    membership = member(partner_a, Role.OWNER)  # type: ignore[operator]
    client = Client()

    for _ in range(5):
        assert sign_in(client, membership.user.email, "wrong-password").status_code == 200  # type: ignore[attr-defined]
    throttled = sign_in(client, membership.user.email)

    assert throttled.status_code in {200, 429}  # type: ignore[attr-defined]
    assert "Too many failed login attempts" in throttled.content.decode()  # type: ignore[attr-defined]
    assert client.get("/portal/").status_code == 302
    failed = AuditEntry.objects.filter(action="auth.login_failed")
    assert failed.count() == 5
    assert failed.first().actor_label == membership.user.email  # type: ignore[union-attr]


def test_there_is_no_open_sign_up(client: Client) -> None:
    response = client.post(
        "/accounts/signup/",
        {"email": "stranger@example.com", "password1": "A-long-pass-123", "password2": "A-long-pass-123"},
    )

    assert "Sign Up Closed" in response.content.decode()
    assert not User.objects.filter(email="stranger@example.com").exists()


def test_django_admin_is_for_operator_admins_with_mfa_only(
    operator_org: object, partner_a: object, member: object, client_for: object
) -> None:
    admin = client_for(member(operator_org, Role.ADMIN))  # type: ignore[operator]
    dispatcher = client_for(member(operator_org, Role.DISPATCHER))  # type: ignore[operator]
    owner = client_for(member(partner_a, Role.OWNER))  # type: ignore[operator]

    assert admin.get("/admin/").status_code == 200
    assert dispatcher.get("/admin/").status_code == 302
    assert owner.get("/admin/").status_code == 302
    assert Client().get("/admin/login/")["Location"].startswith("/accounts/login/")


def test_password_reset_sends_a_link(partner_a: object, member: object, mailoutbox: list) -> None:
    membership = member(partner_a, Role.OWNER)  # type: ignore[operator]

    Client().post("/accounts/password/reset/", {"email": membership.user.email})

    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/key/" in mailoutbox[0].body
