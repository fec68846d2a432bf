"""Where courier companies deliver their webhooks: verified by the courier's adapter before
anything is stored (a delivery no account's secret proves is 401, with nothing kept but a log
line), kept raw with its events, answered as the courier expects at once; applied by a task."""

import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from allied.core.context import request_context
from allied.couriers.base import CourierWebhookRefused
from allied.couriers.services import courier_webhook_verify
from allied.delivery.services.couriers import courier_books, courier_webhook_take

security_log = logging.getLogger("allied.security")


def _problem(status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse({"status": status, "code": code, "detail": detail}, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@csrf_exempt
@require_POST
def courier_webhook(request: HttpRequest, courier: str) -> HttpResponse:
    if not courier_books(courier):
        return _problem(404, "not_found", "No such courier.")
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return _problem(413, "too_large", "The body is larger than Allied takes.")
    body = request.body
    try:
        account, events, reply = courier_webhook_verify(code=courier, headers=request.headers, body=body)
    except CourierWebhookRefused:
        security_log.warning("%s webhook no account accepts, from %s", courier, request_context().ip_prefix)
        return _problem(401, "bad_signature", "The delivery does not carry a secret Allied knows.")
    if events:  # a courier's set-up check or a store event carries no parcel: nothing to keep
        with transaction.atomic(durable=True):
            courier_webhook_take(account=account, body=body, events=events)
    return JsonResponse(reply.body, status=reply.status, headers=reply.headers)
