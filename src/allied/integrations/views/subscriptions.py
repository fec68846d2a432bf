"""Pages where partners manage the webhook endpoints their own applications receive Allied's events
at, and watch every delivery; AES staff see every partner's."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.policy import Actor
from allied.core.errors import FORM_ERRORS, ValidationFailed
from allied.core.forms import form_add_domain_error
from allied.core.models import Subscription
from allied.integrations.forms import SubscriptionForm
from allied.integrations.selectors import (
    access_webhook_delivery,
    access_webhook_subscription,
    webhook_deliveries,
    webhook_subscriptions_visible_to,
)
from allied.integrations.services.subscriptions import (
    subscription_create,
    subscription_delete,
    subscription_delivery_replay,
    subscription_pause,
    subscription_resume,
    subscription_rotate_secret,
    subscription_send_test,
    subscription_update,
)


def _area(actor: Actor) -> str:
    return "ops" if actor.is_operator else "portal"


def _detail(
    request: HttpRequest, actor: Actor, subscription: Subscription, *, form: SubscriptionForm | None = None,
    new_secret: str = "",
) -> HttpResponse:  # fmt: skip
    """The detail page; right after creation or a rotation it shows the secret, this once."""
    topics = [topic.event_type for topic in subscription.topics.all()]
    context = {
        "subscription": subscription,
        "topics": topics,
        "area": _area(actor),
        "new_secret": new_secret,
        "form": form
        or SubscriptionForm(
            initial={"description": subscription.description, "url": subscription.url, "event_types": topics}
        ),
        "deliveries": webhook_deliveries(subscription)[:50],
    }
    return render(request, "integrations/subscription_detail.html", context)


@permission_required(policy.WEBHOOKS_MANAGE)
def subscription_list(request: HttpRequest) -> HttpResponse:
    """The partner's endpoints and a form to add one (AES staff see every partner's)."""
    actor = request.actor  # type: ignore[attr-defined]
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and not actor.is_operator and form.is_valid():
        try:
            with transaction.atomic(durable=True):
                subscription, secret = subscription_create(
                    organization=actor.organization,
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                    description=form.cleaned_data["description"],
                    actor=actor,
                )
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            subscription = access_webhook_subscription(actor, subscription.pk)
            return _detail(request, actor, subscription, new_secret=secret)
    context = {"subscriptions": webhook_subscriptions_visible_to(actor), "form": form, "area": _area(actor)}
    return render(request, "integrations/subscription_list.html", context)


@permission_required(policy.WEBHOOKS_MANAGE)
def subscription_detail(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """An endpoint, what it receives, and its delivery log (each attempt's time, status code,
    response time and error); pause, resume or re-enable, rotate the secret, send a test event,
    send a failed delivery again, change, delete."""
    actor = request.actor  # type: ignore[attr-defined]
    subscription = access_webhook_subscription(actor, webhook_id)
    if request.method != "POST":
        return _detail(request, actor, subscription)
    action = request.POST.get("action", "")
    if action == "update":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic(durable=True):
                    subscription_update(subscription=subscription, actor=actor, **form.cleaned_data)
            except FORM_ERRORS as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, "Saved.")
                return redirect(f"{_area(actor)}_webhook", webhook_id=webhook_id)
        return _detail(request, actor, subscription, form=form)
    try:
        with transaction.atomic(durable=True):
            if action == "rotate":
                _, secret = subscription_rotate_secret(subscription=subscription, actor=actor)
            elif action == "pause":
                subscription_pause(subscription=subscription, actor=actor)
            elif action == "resume":
                subscription_resume(subscription=subscription, actor=actor)
            elif action == "test":
                subscription_send_test(subscription=subscription, actor=actor)
            elif action == "replay":
                delivery_id = request.POST.get("delivery", "")
                delivery = access_webhook_delivery(subscription, int(delivery_id) if delivery_id.isdigit() else 0)
                subscription_delivery_replay(delivery=delivery, actor=actor)
            elif action == "delete":
                subscription_delete(subscription=subscription, actor=actor)
            else:
                raise ValidationFailed("Unknown action.")
    except FORM_ERRORS as error:
        messages.error(request, error.detail)
    else:
        if action == "rotate":
            return _detail(request, actor, access_webhook_subscription(actor, webhook_id), new_secret=secret)
        if action == "delete":
            messages.success(request, "The endpoint is deleted; nothing more is sent to it.")
            return redirect(f"{_area(actor)}_webhooks")
        messages.success(request, "Done.")
    return redirect(f"{_area(actor)}_webhook", webhook_id=webhook_id)
