from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from allied.core.schemas import PROBLEM_STATUSES, ProblemSchema
from allied.integrations.models import Connection
from allied.integrations.schemas import ConnectionCreateIn, ConnectionHealthOut, ConnectionOut, StoreAnswerOut
from allied.integrations.selectors import access_connection, connection_health, connections_visible_to, webhook_address
from allied.integrations.services.connections import (
    connection_check,
    connection_create,
    connection_disconnect,
    connection_pause,
    connection_resume,
    connection_resync,
    connection_set_up,
)
from allied.integrations.services.stock import connection_stock_push_all

router = Router(tags=["Store connections"])


def _out(connection: Connection) -> ConnectionOut:
    return ConnectionOut.model_validate(
        {**{f: getattr(connection, f) for f in ConnectionOut.model_fields if f != "webhook_url"},
         "webhook_url": webhook_address(connection)}
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


@router.get(
    "/connections/{connection_id}/health",
    response={200: ConnectionHealthOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_health",
    summary="A store connection's health",
)
def connections_health(request: HttpRequest, connection_id: int) -> ConnectionHealthOut:
    """The last webhook, what waits and since when (the lag), what was refused or failed, the last
    reconciliation, check and stock push with their errors, and the last comparison of the store's
    recent orders with Allied's. Needs `integrations:manage`."""
    connection = access_connection(request.auth, connection_id)  # type: ignore[attr-defined]
    return ConnectionHealthOut.model_validate(connection_health(connection), from_attributes=True)


@router.post(
    "/connections/{connection_id}/check",
    response={200: StoreAnswerOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_check",
    summary="Check a store connection's credentials",
)
def connections_check(request: HttpRequest, connection_id: int) -> StoreAnswerOut:
    """Ask the store something only these credentials may ask; `ok: false` carries the store's
    answer. Needs `integrations:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    answer = connection_check(connection=access_connection(actor, connection_id), actor=actor)
    return StoreAnswerOut(ok=answer.ok, message=answer.message)


@router.post(
    "/connections/{connection_id}/setup",
    response={200: StoreAnswerOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_setup",
    summary="Set Allied up in the store",
)
def connections_setup(request: HttpRequest, connection_id: int) -> StoreAnswerOut:
    """Subscribe the store's webhooks to the connection's address (on Shopify, also register Allied
    as the shop's fulfillment service, with its own location). Running it again changes nothing.
    Needs `integrations:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    answer = connection_set_up(connection=access_connection(actor, connection_id), actor=actor)
    return StoreAnswerOut(ok=answer.ok, message=answer.message)


@router.post(
    "/connections/{connection_id}/resync",
    response={202: StoreAnswerOut, PROBLEM_STATUSES: ProblemSchema},
    operation_id="connections_resync",
    summary="Reconcile a store now",
)
def connections_resync(request: HttpRequest, connection_id: int, stock: bool = False) -> Status:
    """In the background: fetch the orders the store changed since the last reconciliation, then
    compare its last 7 days of orders with Allied's (see the health). With `stock=true`, every
    product's available quantity is pushed to the store as well. Needs `integrations:manage`."""
    actor = request.auth  # type: ignore[attr-defined]
    connection = access_connection(actor, connection_id)
    with transaction.atomic(durable=True):
        connection_resync(connection=connection, actor=actor)
        if stock:
            connection_stock_push_all(connection=connection, actor=actor)
    return Status(202, StoreAnswerOut(ok=True, message="Reconciliation queued."))
