"""AES's accounts with courier companies, in the console for dispatch: each account's courier,
name, the areas it serves, whether it is active, paused or has its last successful call; connect
one (the courier checks the details first: Pathao exchanges the merchant's login for tokens and
the password is kept nowhere, Steadfast's keys are tried), change its areas, pause, resume or
disconnect it. Secrets are typed into password fields and never shown again."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.policy import Actor
from allied.core.carriers import carrier_name
from allied.core.errors import FORM_ERRORS, DomainError, NotFound
from allied.core.forms import form_add_domain_error
from allied.couriers.base import CourierError
from allied.couriers.models import CourierAccount
from allied.couriers.services import (
    access_courier_account,
    courier_account_connect,
    courier_account_disconnect,
    courier_account_update,
    courier_accounts_visible_to,
)


def _secret(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, max_length=500, required=required, help_text=help_text, widget=forms.PasswordInput()
    )


def areas_from_text(text: str) -> list[str]:
    return [area.strip() for area in text.replace("\n", ",").split(",") if area.strip()]


class _AccountFields(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    areas = forms.CharField(
        label="Areas served",
        required=False,
        max_length=2000,
        help_text="Cities or areas, separated by commas; empty: everywhere the courier goes.",
    )


class PathaoConnectForm(_AccountFields):
    client_id = forms.CharField(label="Client id", max_length=200)
    client_secret = _secret("Client secret")
    username = forms.CharField(label="Merchant login (e-mail)", max_length=200)
    password = _secret("Merchant password", help_text="Sent to Pathao once for its tokens; never stored.")
    store_id = forms.CharField(label="Store id", max_length=50)
    webhook_secret = _secret("Webhook secret", help_text="The secret you set for the callback in Pathao's panel.")
    sandbox = forms.BooleanField(label="Pathao's sandbox", required=False)


class SteadfastConnectForm(_AccountFields):
    api_key = _secret("API key")
    secret_key = _secret("Secret key")
    webhook_token = _secret(
        "Webhook token", help_text="The bearer token you set for the callback in Steadfast's panel."
    )


class AreasForm(forms.Form):
    areas = forms.CharField(label="Areas served", required=False, max_length=2000)


CONNECT_FORMS: dict[str, type[_AccountFields]] = {"pathao": PathaoConnectForm, "steadfast": SteadfastConnectForm}


@dataclass
class AccountRow:
    account: CourierAccount
    areas: AreasForm


def _areas_form(account: CourierAccount, data: Any = None) -> AreasForm:
    return AreasForm(data, initial={"areas": ", ".join(account.areas)}, auto_id=f"account-{account.pk}-%s")


def _connect(code: str, form: _AccountFields, actor: Actor) -> str:
    data = dict(form.cleaned_data)
    name, areas, sandbox = data.pop("name"), areas_from_text(data.pop("areas")), bool(data.pop("sandbox", False))
    account = courier_account_connect(code=code, name=name, credentials=data, areas=areas, sandbox=sandbox, actor=actor)
    return f"{account.name} is connected: parcels to its areas are booked with {carrier_name(account.code)}."


def _change(action: str, account: CourierAccount, form: AreasForm | None, actor: Actor) -> str:
    with transaction.atomic(durable=True):
        if action == "areas" and form is not None:
            account = courier_account_update(
                account=account, areas=areas_from_text(form.cleaned_data["areas"]), actor=actor
            )
            return f"{account.name} serves {', '.join(account.areas) or 'everywhere the courier goes'}."
        if action in ("pause", "resume"):
            account = courier_account_update(account=account, is_active=action == "resume", actor=actor)
            if account.is_active:
                return f"{account.name} is active again."
            return f"{account.name} is paused: nothing new is booked through it."
        courier_account_disconnect(account=account, actor=actor)
        return f"{account.name} is disconnected and its credentials are wiped."


@permission_required(policy.DELIVERY_MANAGE)
def courier_accounts(request: HttpRequest) -> HttpResponse:
    """The accounts, and the forms to connect and change them; a form with wrong input (or details
    the courier refused, or a courier that cannot be reached) comes back with its errors and
    nothing stored."""
    actor = request.actor  # type: ignore[attr-defined]
    accounts = courier_accounts_visible_to(actor)  # refuses partners before anything is posted
    connect = {code: cls(prefix=code) for code, cls in CONNECT_FORMS.items()}
    bound_areas: dict[int, AreasForm] = {}
    open_connect = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action.startswith("connect_") and action.removeprefix("connect_") in CONNECT_FORMS:
            code = action.removeprefix("connect_")
            form = CONNECT_FORMS[code](request.POST, prefix=code)
            if form.is_valid():
                try:
                    messages.success(request, _connect(code, form, actor))
                    return redirect(request.path)
                except (*FORM_ERRORS, CourierError) as error:
                    _show(form, error)
            connect[code], open_connect = form, code
        elif action in ("areas", "pause", "resume", "disconnect"):
            try:
                account = access_courier_account(actor, int(request.POST.get("account", "")), for_update=False)
            except ValueError:
                raise NotFound("No such courier account.") from None
            areas = _areas_form(account, request.POST) if action == "areas" else None
            if areas is None or areas.is_valid():
                try:
                    messages.success(request, _change(action, account, areas, actor))
                    return redirect(request.path)
                except FORM_ERRORS as error:
                    if areas is None:
                        messages.error(request, error.detail)
                        return redirect(request.path)
                    form_add_domain_error(areas, error)
            if areas is not None:
                bound_areas[account.pk] = areas
        else:
            messages.error(request, "Unknown action.")
            return redirect(request.path)
    context = {
        "rows": [AccountRow(account, bound_areas.get(account.pk) or _areas_form(account)) for account in accounts],
        "connect": connect,
        "open_connect": open_connect,
    }
    return render(request, "delivery/courier_accounts.html", context)


def _show(form: forms.Form, error: DomainError) -> None:
    """The courier's refusal on the fields it is about; a courier out of reach above the form."""
    if isinstance(error, CourierError):
        form.add_error(None, f"{error.detail} Nothing was stored; try again in a moment.")
        return
    form_add_domain_error(form, error)
    if error.errors and error.detail not in form.non_field_errors():
        form.add_error(None, f"{error.detail} Nothing was stored.")
