"""Order rows are locked before stock rows, always, and several orders in id order."""

from collections.abc import Iterable

from allied.orders.models import Order


def order_for_update(order_id: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("warehouse", "organization").get(pk=order_id)


def orders_for_update(order_ids: Iterable[int]) -> list[Order]:
    return list(
        Order.objects.filter(pk__in=sorted(set(order_ids)))
        .order_by("pk")
        .select_related("warehouse", "organization")
        .select_for_update(of=("self",))
    )
