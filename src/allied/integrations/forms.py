from django import forms

from allied.core.event_types import subscribable_topics
from allied.integrations.models import ConnectionKind

SECRET_INPUT = forms.PasswordInput(attrs={"autocomplete": "off"})


class ConnectionForm(forms.Form):
    """Tokens and secrets the store issues for Allied: never a store account's password."""

    kind = forms.ChoiceField(label="Platform", choices=ConnectionKind.choices)
    name = forms.CharField(max_length=100, help_text="For you: e.g. “Main Shopify store”.")
    store_url = forms.CharField(
        label="Store address",
        max_length=300,
        help_text="kohsar.myshopify.com, your WooCommerce site's https:// address, or the marketplace's API "
        "address (https://api.daraz.pk/rest).",
    )
    access_token = forms.CharField(
        label="Shopify Admin API or marketplace seller access token",
        required=False,
        widget=SECRET_INPUT,
    )
    client_secret = forms.CharField(label="Shopify app client secret", required=False, widget=SECRET_INPUT)
    consumer_key = forms.CharField(label="WooCommerce consumer key", required=False, widget=SECRET_INPUT)
    consumer_secret = forms.CharField(label="WooCommerce consumer secret", required=False, widget=SECRET_INPUT)
    webhook_secret = forms.CharField(label="WooCommerce webhook secret", required=False, widget=SECRET_INPUT)
    app_key = forms.CharField(label="Marketplace app key", required=False, widget=SECRET_INPUT)
    app_secret = forms.CharField(label="Marketplace app secret", required=False, widget=SECRET_INPUT)
    refresh_token = forms.CharField(label="Marketplace refresh token", required=False, widget=SECRET_INPUT)


def _topic_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in subscribable_topics()]


class SubscriptionForm(forms.Form):
    """A partner's webhook endpoint: where, and which events (a family covers its future types)."""

    description = forms.CharField(max_length=100, required=False, help_text="For you: e.g. “Our ERP”.")
    url = forms.CharField(
        label="Endpoint address", max_length=500, help_text="The https:// address Allied sends the events to."
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=_topic_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="A family (order.*) also covers event types Allied adds to it later.",
    )
