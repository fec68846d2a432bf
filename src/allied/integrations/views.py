"""Where stores deliver their webhooks: verified before anything is parsed or stored."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from allied.core.context import request_context
from allied.integrations.connectors import connector_for
from allied.integrations.models import ConnectionStatus, InboxStatus
from allied.integrations.selectors import connection_for_webhook
from allied.integrations.services import inbox_receive, webhook_secrets

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
    body = request.body
    connector = connector_for(kind)
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
