"""Where stores deliver their webhooks (verified before anything is parsed or stored), and the
pages where partners connect their stores and watch their health."""

import logging

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from allied.accounts import policy
from allied.accounts.decorators import permission_required
from allied.accounts.policy import Actor
from allied.core.context import request_context
from allied.core.errors import FORM_ERRORS, ValidationFailed
from allied.core.forms import form_add_domain_error
from allied.integrations.connectors import connector_for
from allied.integrations.forms import ConnectionForm
from allied.integrations.models import ConnectionStatus, InboxMessage, InboxStatus
from allied.integrations.selectors import (
    access_connection,
    connection_for_webhook,
    connection_health,
    connections_with_health,
    inbox_of,
    webhook_address,
)
from allied.integrations.services.connections import (
    connection_check,
    connection_create,
    connection_disconnect,
    connection_pause,
    connection_resume,
    connection_resync,
    connection_set_up,
    webhook_secrets,
)
from allied.integrations.services.inbox import inbox_message_replay, inbox_receive
from allied.integrations.services.stock import connection_stock_push_all

security_log = logging.getLogger("allied.security")


def _problem(status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse({"status": status, "code": code, "detail": detail}, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@csrf_exempt
@require_POST
def store_webhook(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    """Verify, keep raw, answer 200 at once; the processing runs as a task. A bad signature is
    401 (as Shopify requires, privacy topics included) with nothing stored but a log line."""
    connection = connection_for_webhook(kind=kind, public_id=public_id)
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        return _problem(404, "not_found", "No such connection.")
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return _problem(413, "too_large", "The body is larger than Allied takes.")
    connector = connector_for(kind)
    if not connector.webhook_secret:
        return _problem(404, "not_found", "This connection takes no webhooks: Allied fetches its orders.")
    body = request.body
    if connector.is_ping(body, request.headers):
        return HttpResponse(status=200)
    if not connector.signature_valid(body, request.headers, webhook_secrets(connection)):
        security_log.warning(
            "webhook with a bad signature for connection %s from %s", connection.pk, request_context().ip_prefix
        )
        return _problem(401, "bad_signature", "The signature does not match.")
    if connection.status == ConnectionStatus.PAUSED:
        return _problem(409, "paused", "The connection is paused; deliver again later.")
    topic = connector.topic(request.headers)
    if topic not in connector.topics:
        return _problem(400, "unknown_topic", f"Allied takes no {topic or 'untitled'} webhooks.")
    key = connector.delivery_key(request.headers)
    if not key:
        return _problem(400, "no_delivery_id", "The delivery carries no id.")
    message = inbox_receive(connection=connection, topic=topic, delivery_key=key, body=body)
    if message is not None and message.status == InboxStatus.REJECTED:
        return _problem(400, "malformed", message.reason)
    return HttpResponse(status=200)


def _area(actor: Actor) -> str:
    return "ops" if actor.is_operator else "portal"


@permission_required(policy.INTEGRATIONS_MANAGE)
def connection_list(request: HttpRequest) -> HttpResponse:
    """The partner's stores, and a form to connect one (AES staff see every partner's)."""
    actor = request.actor  # type: ignore[attr-defined]
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and not actor.is_operator and form.is_valid():
        kind = form.cleaned_data["kind"]
        credentials = {name: form.cleaned_data[name] for name in connector_for(kind).credential_names}
        try:
            with transaction.atomic(durable=True):
                connection = connection_create(
                    organization=actor.organization,
                    kind=kind,
                    name=form.cleaned_data["name"],
                    store_url=form.cleaned_data["store_url"],
                    credentials=credentials,
                    actor=actor,
                )
        except FORM_ERRORS as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, f"{connection} is connected. Point the store's webhooks at the address below.")
            return redirect(f"{_area(actor)}_connection", connection_id=connection.pk)
    context = {"connections": connections_with_health(actor), "form": form, "area": _area(actor)}
    return render(request, "integrations/connection_list.html", context)


STORE_ACTIONS = {"check": connection_check, "set_up": connection_set_up}  # requests to the store: no transaction
LOCAL_ACTIONS = {
    "pause": connection_pause,
    "resume": connection_resume,
    "disconnect": connection_disconnect,
    "resync": connection_resync,
    "push_stock": connection_stock_push_all,
}
DONE = {
    "pause": "Paused.",
    "resume": "Resumed.",
    "disconnect": "Disconnected.",
    "resync": "Reconciliation queued: refresh in a moment to see its result.",
    "push_stock": "Every product's available quantity will be pushed to the store.",
    "replay": "The delivery will be processed again.",
}


@permission_required(policy.INTEGRATIONS_MANAGE)
def connection_detail(request: HttpRequest, connection_id: int) -> HttpResponse:
    """A connection's health: its last webhook, the lag, what failed and why, the last reconciliation
    and stock push, and how the store's recent orders compare with Allied's; check, set up in the
    store, resync, push stock, pause, resume, disconnect, and process a failed delivery again."""
    actor = request.actor  # type: ignore[attr-defined]
    connection = access_connection(actor, connection_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action in STORE_ACTIONS:
                answer = STORE_ACTIONS[action](connection=connection, actor=actor)
                (messages.success if answer.ok else messages.error)(request, answer.message)
            else:
                with transaction.atomic(durable=True):
                    if action in LOCAL_ACTIONS:
                        LOCAL_ACTIONS[action](connection=connection, actor=actor)
                    elif action == "replay":
                        message = inbox_of(connection).get(pk=int(request.POST.get("message", "0") or 0))
                        inbox_message_replay(message=message, actor=actor)
                    else:
                        raise ValidationFailed("Unknown action.")
                messages.success(request, DONE[action])
        except (InboxMessage.DoesNotExist, ValueError):
            messages.error(request, "No such delivery.")
        except FORM_ERRORS as error:
            messages.error(request, error.detail)
        return redirect(f"{_area(actor)}_connection", connection_id=connection.pk)
    context = {
        "connection": connection,
        "area": _area(actor),
        "webhook_address": webhook_address(connection),
        "health": connection_health(connection),
        "problems": inbox_of(connection).filter(status__in=[InboxStatus.REJECTED, InboxStatus.FAILED])[:50],
        "recent": inbox_of(connection)[:20],
    }
    return render(request, "integrations/connection_detail.html", context)
