from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from allied.core.schemas import PROBLEM_STATUSES, ProblemSchema
from allied.integrations.models import Connection
from allied.integrations.schemas import ConnectionCreateIn, ConnectionOut
from allied.integrations.selectors import access_connection, connections_visible_to
from allied.integrations.services.connections import (
    connection_create,
    connection_disconnect,
    connection_pause,
    connection_resume,
)

router = Router(tags=["Store connections"])


def _out(connection: Connection) -> ConnectionOut:
    path = reverse("store_webhook", kwargs={"kind": connection.kind, "public_id": connection.public_id})
    return ConnectionOut.model_validate(
        {**{f: getattr(connection, f) for f in ConnectionOut.model_fields if f != "webhook_url"},
         "webhook_url": f"{settings.ALLIED_BASE_URL}{path}"}
    )  # fmt: skip


@router.get(
    "/connections",
    response={200: list[ConnectionOut], PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_list",
    summary="List store connections",
)
def connections_list(request: HttpRequest) -> list[ConnectionOut]:
    """Your connected stores. Needs `integrations:manage`."""
    return [_out(connection) for connection in connections_visible_to(request.auth)[:200]]  # type: ignore[attr-defined]


@router.post(
    "/connections",
    response={201: ConnectionOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_create",
    summary="Connect a store",
)
def connections_create(request: HttpRequest, payload: ConnectionCreateIn) -> Status:
    """Connect a Shopify or WooCommerce store with the tokens it issued for Allied. They are sealed
    at once; answers show only their last four characters. Point the store's webhooks at
    `webhook_url`. Needs `integrations:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    with transaction.atomic(durable=True):
        connection = connection_create(
            organization=actor.organization,
            kind=payload.kind,
            name=payload.name,
            store_url=payload.store_url,
            credentials={str(name): value for name, value in payload.credentials.items()},
            actor=actor,
        )
    return Status(201, _out(access_connection(actor, connection.pk)))


@router.get(
    "/connections/{connection_id}",
    response={200: ConnectionOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_get",
    summary="Get a store connection",
)
def connections_get(request: HttpRequest, connection_id: int) -> ConnectionOut:
    """Needs `integrations:manage`."""
    return _out(access_connection(request.auth, connection_id))  # type: ignore[attr-defined]


def _change(request: HttpRequest, connection_id: int, change) -> ConnectionOut:  # type: ignore[no-untyped-def]
    actor = request.auth  # type: ignore[attr-defined]
    connection = access_connection(actor, connection_id)
    with transaction.atomic(durable=True):
        change(connection=connection, actor=actor)
    return _out(access_connection(actor, connection_id))


@router.post(
    "/connections/{connection_id}/pause",
    response={200: ConnectionOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_pause",
    summary="Pause a store connection",
)
def connections_pause(request: HttpRequest, connection_id: int) -> ConnectionOut:
    """The store's webhooks are refused (it delivers them again later) until resumed. Needs
    `integrations:manage`."""
    return _change(request, connection_id, connection_pause)


@router.post(
    "/connections/{connection_id}/resume",
    response={200: ConnectionOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_resume",
    summary="Resume a store connection",
)
def connections_resume(request: HttpRequest, connection_id: int) -> ConnectionOut:
    """The store's webhooks are taken again. Needs `integrations:manage`."""
    return _change(request, connection_id, connection_resume)


@router.delete(
    "/connections/{connection_id}",
    response={200: ConnectionOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_disconnect",
    summary="Disconnect a store",
)
def connections_disconnect(request: HttpRequest, connection_id: int) -> ConnectionOut:
    """Allied forgets the store's tokens for good; the connection stays, disconnected, with its
    history. Needs `integrations:manage`."""
    return _change(request, connection_id, connection_disconnect)
