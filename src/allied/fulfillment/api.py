from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from allied.accounts.policy import ORDERS_MANAGE, require
from allied.core.schemas import PROBLEM_STATUSES, ProblemSchema
from allied.fulfillment.models import Return
from allied.fulfillment.schemas import ReturnCreateIn, ReturnOut
from allied.fulfillment.selectors import access_return
from allied.fulfillment.services import return_request
from allied.orders.selectors import access_order

router = Router(tags=["Returns"])


@router.post(
    "/returns",
    response={201: ReturnOut, PROBLEM_STATUSES: ProblemSchema},
    summary="Announce a customer return",
    operation_id="returns_create",
)
def returns_create(request: HttpRequest, payload: ReturnCreateIn) -> Status:
    """Tell AES that units of a delivered order are coming back. AES records each unit's condition
    (restock, quarantine or dispose) when it arrives; restocked units become available again.
    Needs `orders:write`."""
    actor = request.auth  # type: ignore[attr-defined]
    order = access_order(actor, payload.order_id)
    require(actor, ORDERS_MANAGE)
    with transaction.atomic(durable=True):
        parcel_return = return_request(
            order=order, lines=[(line.sku, line.quantity) for line in payload.lines], reason=payload.reason, actor=actor
        )
    return Status(201, access_return(actor, parcel_return.pk))


@router.get(
    "/returns/{return_id}",
    response={200: ReturnOut, PROBLEM_STATUSES: ProblemSchema},
    summary="Get a return",
    operation_id="returns_get",
)
def returns_get(request: HttpRequest, return_id: int) -> Return:
    """A return and, once received, the condition of each line. Needs `orders:read`."""
    return access_return(request.auth, return_id)  # type: ignore[attr-defined]
