"""The order lifecycle, as one table. Services consult it under the order's row lock."""

from allied.core.errors import IllegalTransition
from allied.orders.models import OrderStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.ALLOCATED, S.BACKORDERED, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.ALLOCATED, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.PICKING, S.CANCELLED}),
    S.PICKING: frozenset({S.PACKED, S.CANCELLED}),
    S.PACKED: frozenset({S.HANDED_OVER, S.CANCELLED}),
    S.HANDED_OVER: frozenset({S.DELIVERED, S.ATTEMPT_FAILED}),
    S.ATTEMPT_FAILED: frozenset({S.HANDED_OVER, S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
}

CANCELLABLE = frozenset(status for status, targets in TRANSITIONS.items() if S.CANCELLED in targets)


def _reachable(status: str) -> frozenset[str]:
    seen: set[str] = set()
    ahead = list(TRANSITIONS[status])
    while ahead:
        target = ahead.pop()
        if target not in seen:
            seen.add(target)
            ahead.extend(TRANSITIONS[target])
    return frozenset(seen)


# An order is open while a delivery still lies ahead of it: the parcel needs its recipient until
# then. Delivered, returned and cancelled orders are closed (a return of a delivered order comes
# back to the warehouse, not to the recipient).
OPEN_STATUSES = frozenset(status for status in TRANSITIONS if S.DELIVERED in _reachable(status))


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"An order that is {S(current).label.lower()} cannot become {S(target).label.lower()}.",
            current_status=current,
            requested_status=target,
        )
