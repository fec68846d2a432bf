from typing import cast

from django import forms
from django.conf import settings

from allied.accounts.models import ContactPreference, Organization
from allied.accounts.roles import OPERATOR_SCOPES, ROLES_BY_KIND, ApiScope, OrganizationKind, Role
from allied.core.contact import COUNTRY_CODES


def role_choices(organization: Organization) -> list[tuple[str, str]]:
    allowed = ROLES_BY_KIND[OrganizationKind(organization.kind)]
    return [(value, label) for value, label in Role.choices if value in allowed]


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField()

    def __init__(self, *args: object, organization: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["role"]).choices = role_choices(organization)


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField()

    def __init__(self, *args: object, organization: Organization, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["role"]).choices = role_choices(organization)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The application that will use it, e.g. “Mobile app”.")
    scopes = forms.MultipleChoiceField(
        choices=[(value, label) for value, label in ApiScope.choices if value not in OPERATOR_SCOPES],
        widget=forms.CheckboxSelectMultiple,
    )


class ProfileForm(forms.Form):
    full_name = forms.CharField(max_length=150, required=False, label="Name")
    phone = forms.CharField(max_length=32, required=False)
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    contact_preference = forms.ChoiceField(label="How we should contact you", choices=ContactPreference.choices)
    notify_by_email = forms.BooleanField(required=False, label="Send me notifications by e-mail")
    notify_by_sms = forms.BooleanField(required=False, label="Send me notifications by SMS")


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(max_length=150, label="Your name")
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The passwords do not match.")
        return data


class PartnerCreateForm(forms.Form):
    name = forms.CharField(max_length=200, label="Brand name")
    slug = forms.SlugField(max_length=60, label="Short name", help_text="Lower-case letters, digits and dashes.")
    owner_email = forms.EmailField(label="Owner's e-mail", help_text="We send them an invitation.")
    default_country = forms.ChoiceField(
        choices=[(code, code) for code in COUNTRY_CODES],
        initial="PK",
        label="Default country",
        help_text="Where their customers' phone numbers are read when they lack a +country code (ISO 3166).",
    )


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, label="Action starts with")
    actor = forms.CharField(required=False, label="Actor")
    organization = forms.CharField(required=False, label="Organization (short name)")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
