from decimal import Decimal
from itertools import count

from allied.core.address import Address
from allied.orders.models import Channel, PaymentMethod
from allied.orders.services.intake import LineInput, OrderInput

_external_ids = count(1)


def order_input(*lines: tuple[str, int], **overrides: object) -> OrderInput:
    values: dict[str, object] = {
        "channel": Channel.API,
        "external_id": f"EXT-{next(_external_ids)}",
        "recipient_name": "Hina Baig",
        "recipient_phone": "+92 300 1112233",
        "address": Address(line1="House 12, Street 4", city="Karachi"),
        "currency": "PKR",
        "payment_method": PaymentMethod.PREPAID,
        "lines": [LineInput(sku=sku, quantity=qty, unit_price=Decimal("1000.00")) for sku, qty in lines],
    }
    values.update(overrides)
    return OrderInput(**values)  # type: ignore[arg-type]
