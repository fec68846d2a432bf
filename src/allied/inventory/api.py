from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Status

from allied.accounts.policy import INVENTORY_MANAGE, require
from allied.core.pagination import paginate_by_id
from allied.core.schemas import PROBLEM_STATUSES, Cursor, Limit, ProblemSchema, QueryInput
from allied.inventory.models import InboundShipment
from allied.inventory.schemas import InboundCreateIn, InboundOut, StockLevelPageOut
from allied.inventory.selectors import (
    access_inbound,
    products_for_lines,
    stock_levels_visible_to,
    warehouse_for_inbound,
)
from allied.inventory.services import inbound_create

router = Router(tags=["Inventory"])


class LevelFilters(QueryInput):
    sku: str = ""
    warehouse: str = ""
    cursor: Cursor | None = None
    limit: Limit = 100


@router.get(
    "/inventory",
    response={200: StockLevelPageOut, PROBLEM_STATUSES: ProblemSchema},
    summary="Stock levels",
    operation_id="inventory_levels",
)
def inventory_levels(request: HttpRequest, filters: Query[LevelFilters]) -> dict:
    """On hand, reserved, quarantined and available per SKU and warehouse. Needs `inventory:read`."""
    levels = stock_levels_visible_to(request.auth, sku=filters.sku, warehouse_code=filters.warehouse)  # type: ignore[attr-defined]
    page = paginate_by_id(levels, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/inbound-shipments",
    response={201: InboundOut, PROBLEM_STATUSES: ProblemSchema},
    summary="Announce an inbound shipment (ASN)",
    operation_id="inbound_create",
)
def inbound_shipments_create(request: HttpRequest, payload: InboundCreateIn) -> Status:
    """Tell AES what stock is on its way. The warehouse records what actually arrives, and any
    difference, when it is received. Needs `inventory:write`."""
    actor = request.auth  # type: ignore[attr-defined]
    require(actor, INVENTORY_MANAGE)  # (the service checks too) before lookups that would answer 422
    warehouse = warehouse_for_inbound(payload.warehouse or "")
    lines = products_for_lines(actor.organization, [(line.sku, line.quantity) for line in payload.lines])
    with transaction.atomic(durable=True):
        inbound = inbound_create(
            organization=actor.organization,
            warehouse=warehouse,
            reference=payload.reference,
            expected_on=payload.expected_on,
            notes=payload.notes,
            actor=actor,
            lines=lines,
        )
    return Status(201, access_inbound(actor, inbound.pk))


@router.get(
    "/inbound-shipments/{inbound_id}",
    response={200: InboundOut, PROBLEM_STATUSES: ProblemSchema},
    summary="Get an inbound shipment",
    operation_id="inbound_get",
)
def inbound_shipments_get(request: HttpRequest, inbound_id: int) -> InboundShipment:
    """An ASN with what was announced, received and damaged per line. Needs `inventory:read`."""
    return access_inbound(request.auth, inbound_id)  # type: ignore[attr-defined]
