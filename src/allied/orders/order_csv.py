"""Orders from a CSV file: one row per order line; rows with the same external_id are one order.

Each order is validated with the API's schema, so a file and a JSON request meet the same rules,
and every problem is reported against the row and column it came from. Re-importing a file never
duplicates: an order already imported (channel csv + external_id) is reported as skipped.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import ValidationError as PydanticValidationError

from allied.accounts.models import Organization
from allied.catalog.models import Product
from allied.core.contact import contact_errors
from allied.core.csv_upload import RowError, check_header, file_problem, read_csv_upload
from allied.orders.models import Channel, Order
from allied.orders.schemas import OrderCreateSchema
from allied.orders.services.intake import OrderInput, order_input_from

MAX_ORDER_ROWS = 5_000
ORDER_COLUMNS = (
    "external_id",
    "recipient_name",
    "recipient_phone",
    "recipient_email",
    "address_line1",
    "address_line2",
    "area",
    "city",
    "region",
    "postcode",
    "country",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "shipping_fee",
    "payment_method",
    "cod_amount",
    "notes",
    "tags",
)
REQUIRED_COLUMNS = (
    "external_id",
    "recipient_name",
    "recipient_phone",
    "address_line1",
    "city",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "payment_method",
)
LINE_COLUMNS = ("sku", "quantity", "unit_price")
ORDER_LEVEL_COLUMNS = tuple(c for c in ORDER_COLUMNS if c not in LINE_COLUMNS and c != "external_id")
# Where a schema field path comes from in the file.
SCHEMA_TO_COLUMN = {
    "recipient.name": "recipient_name",
    "recipient.phone": "recipient_phone",
    "recipient.email": "recipient_email",
    "shipping_address.line1": "address_line1",
    "shipping_address.line2": "address_line2",
    "shipping_address.area": "area",
    "shipping_address.city": "city",
    "shipping_address.region": "region",
    "shipping_address.postcode": "postcode",
    "shipping_address.country": "country",
    "payment.method": "payment_method",
    "payment.cod_amount": "cod_amount",
}


@dataclass
class ParsedOrders:
    orders: list[tuple[list[int], OrderInput]] = field(default_factory=list)  # valid orders with their rows
    duplicates: list[str] = field(default_factory=list)  # external ids imported before
    errors: list[RowError] = field(default_factory=list)
    order_count: int = 0

    @property
    def invalid_order_count(self) -> int:
        return self.order_count - len(self.orders) - len(self.duplicates)


def _grouped(
    header: list[str], records: Iterator[tuple[int, list[str]]], errors: list[RowError]
) -> dict[str, list[tuple[int, dict[str, str]]]]:
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    count = 0
    for row, cells in records:
        count += 1
        if count > MAX_ORDER_ROWS:
            raise file_problem(f"The file has more than {MAX_ORDER_ROWS:,} rows; split it into smaller files.")
        if len(cells) > len(header):
            errors.append(RowError(row, "", f"Has {len(cells)} cells; the header names {len(header)} columns."))
            continue
        values = dict(zip(header, [c.strip() for c in cells] + [""] * (len(header) - len(cells)), strict=True))
        if not values.get("external_id"):
            errors.append(RowError(row, "external_id", "Required: your id for the order."))
            continue
        groups.setdefault(values["external_id"], []).append((row, values))
    if not count:
        raise file_problem("The file has a header but no orders.")
    return groups


def _order_body(rows: list[tuple[int, dict[str, str]]], errors: list[RowError]) -> dict[str, Any]:
    first_row, first = rows[0]
    for row, values in rows[1:]:
        for column in ORDER_LEVEL_COLUMNS:
            if values.get(column) and values[column] != first.get(column, ""):
                errors.append(RowError(row, column, f"Differs from row {first_row} of the same order."))
    body: dict[str, Any] = {
        "external_id": first["external_id"],
        "channel": "api",
        "recipient": {
            "name": first.get("recipient_name", ""),
            "phone": first.get("recipient_phone", ""),
            "email": first.get("recipient_email", ""),
        },
        "shipping_address": {
            key: first.get(column, "")
            for key, column in [
                ("line1", "address_line1"),
                ("line2", "address_line2"),
                ("area", "area"),
                ("city", "city"),
                ("region", "region"),
                ("postcode", "postcode"),
                ("country", "country"),
            ]
            if first.get(column) or key in {"line1", "city"}
        },
        "lines": [
            {"sku": v.get("sku", ""), "quantity": v.get("quantity", ""), "unit_price": v.get("unit_price", "")}
            for _, v in rows
        ],
        "currency": first.get("currency", ""),
        "payment": {"method": first.get("payment_method", "").lower()},
        "notes": first.get("notes", ""),
        "tags": [tag.strip() for tag in first.get("tags", "").replace("|", ";").split(";") if tag.strip()],
    }
    if first.get("shipping_fee"):
        body["shipping_fee"] = first["shipping_fee"]
    if first.get("cod_amount"):
        body["payment"]["cod_amount"] = first["cod_amount"]
    return body


def _schema_errors(error: PydanticValidationError, rows: list[tuple[int, dict[str, str]]]) -> list[RowError]:
    found = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        if len(location) >= 3 and location[0] == "lines" and location[1].isdigit():
            found.append(RowError(rows[int(location[1])][0], location[2], item["msg"]))
            continue
        path = ".".join(location)
        column = SCHEMA_TO_COLUMN.get(path, location[0] if location else "")
        found.append(RowError(rows[0][0], column, item["msg"].removeprefix("Value error, ")))
    return found


def order_csv_parse(upload: IO[bytes], *, size: int, organization: Organization) -> ParsedOrders:
    """Read and check a whole file before anything is stored; every bad row is reported at once."""
    header, records = read_csv_upload(upload, size=size)
    check_header(header, known=ORDER_COLUMNS, required=REQUIRED_COLUMNS)
    parsed = ParsedOrders()
    groups = _grouped(header, records, parsed.errors)
    parsed.order_count = len(groups)
    known_skus = set(
        Product.objects.filter(
            organization=organization,
            is_active=True,
            sku__in={v.get("sku", "") for rows in groups.values() for _, v in rows},
        ).values_list("sku", flat=True)
    )
    imported = set(
        Order.objects.filter(organization=organization, channel=Channel.CSV, external_id__in=list(groups)).values_list(
            "external_id", flat=True
        )
    )
    for external_id, rows in groups.items():
        if external_id in imported:
            parsed.duplicates.append(external_id)
            continue
        errors: list[RowError] = []
        body = _order_body(rows, errors)
        errors += [
            RowError(row, "sku", f"Unknown or inactive SKU {v.get('sku')!r}.")
            for row, v in rows
            if v.get("sku") and v["sku"] not in known_skus
        ]
        if body["payment"]["method"] == "cod" and not body["payment"].get("cod_amount"):
            errors.append(RowError(rows[0][0], "cod_amount", "Cash-on-delivery orders need the amount to collect."))
        try:
            schema = OrderCreateSchema.model_validate(body, strict=False)
        except PydanticValidationError as error:
            errors += _schema_errors(error, rows)
        else:
            # The intake checks them too; here each problem is reported against its row and column.
            errors += [
                RowError(rows[0][0], SCHEMA_TO_COLUMN[problem.field], problem.message)
                for problem in contact_errors(
                    phone=schema.recipient.phone,
                    email=schema.recipient.email,
                    default_country=organization.default_country,
                    prefix="recipient",
                )[2]
            ]
        if errors:
            parsed.errors.extend(errors)
            continue
        parsed.orders.append(([row for row, _ in rows], order_input_from(schema, channel=Channel.CSV)))
    return parsed
