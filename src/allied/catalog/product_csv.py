"""Products as CSV: the export's rows, and the import's parsing and row-by-row validation.

The import validates each row with the same schema as the API (`ProductUpsertSchema`), so a file
and a JSON request are held to the same rules. Row numbers are those a spreadsheet shows: the
header is row 1, the first product row 2.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import ValidationError as PydanticValidationError

from allied.catalog.models import Product
from allied.catalog.schemas import PRODUCT_FIELDS, ProductUpsertSchema, schema_field_errors
from allied.core.csv_upload import MAX_UPLOAD_BYTES, RowError, check_header, file_problem, read_csv_upload

CSV_COLUMNS = PRODUCT_FIELDS
PARTNER_COLUMN = "partner"
REQUIRED_COLUMNS = ("sku", "name")
MAX_IMPORT_BYTES = MAX_UPLOAD_BYTES
MAX_IMPORT_ROWS = 5_000

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BARCODE_SEPARATORS = re.compile(r"[\s,;]+")
_DEFAULTS: dict[str, Any] = {
    name: info.default for name, info in ProductUpsertSchema.model_fields.items() if not info.is_required()
}


@dataclass(frozen=True)
class ImportRow:
    row: int
    values: dict[str, Any]


@dataclass
class ParsedImport:
    rows: list[ImportRow] = field(default_factory=list)  # the valid rows
    errors: list[RowError] = field(default_factory=list)
    row_count: int = 0

    @property
    def invalid_row_count(self) -> int:
        return len({error.row for error in self.errors})


def split_barcodes(text: str) -> list[str]:
    """ "4006381333931, 4006381333948 5012345678900" → three codes."""
    return [code for code in _BARCODE_SEPARATORS.split(text.strip()) if code]


def _safe_cell(text: str) -> str:
    """Keep spreadsheets from running a cell as a formula (CSV injection); the import undoes it."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _unescape_cell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def product_csv_header(*, with_partner: bool) -> list[str]:
    return [*CSV_COLUMNS, PARTNER_COLUMN] if with_partner else list(CSV_COLUMNS)


def product_csv_rows(products: Iterable[Product], *, with_partner: bool) -> Iterator[list[str]]:
    """One row per product, in the columns the import reads (operators' exports add the partner)."""
    for product in products:
        row = [
            _safe_cell(product.sku),
            _safe_cell(product.name),
            _safe_cell(" ".join(product.barcodes)),
            str(product.weight_grams),
            str(product.length_mm),
            str(product.width_mm),
            str(product.height_mm),
            str(product.declared_value),
            product.currency,
            "yes" if product.tracks_lots else "no",
            "yes" if product.tracks_expiry else "no",
            "yes" if product.is_active else "no",
        ]
        if with_partner:
            row.append(product.organization.slug)
        yield row


def product_csv_parse(upload: IO[bytes], *, size: int, organization_slug: str) -> ParsedImport:
    """Read and validate an uploaded CSV. Problems with the file as a whole raise ValidationFailed
    (on the field `file`); problems with rows are collected, so every bad row is reported at once."""
    header, records = read_csv_upload(upload, size=size, max_bytes=MAX_IMPORT_BYTES)
    check_header(header, known=(*CSV_COLUMNS, PARTNER_COLUMN), required=REQUIRED_COLUMNS)
    parsed = ParsedImport()
    first_row_of: dict[str, int] = {}
    for row, cells in records:
        parsed.row_count += 1
        if parsed.row_count > MAX_IMPORT_ROWS:
            raise file_problem(
                f"The file has more than {MAX_IMPORT_ROWS:,} products; the limit is {MAX_IMPORT_ROWS:,} "
                "per file. Split it into smaller files."
            )
        _parse_row(parsed, row, header, cells, organization_slug, first_row_of)
    if not parsed.row_count:
        raise file_problem("The file has a header but no products.")
    return parsed


def _parse_row(
    parsed: ParsedImport,
    row: int,
    header: list[str],
    cells: list[str],
    organization_slug: str,
    first_row_of: dict[str, int],
) -> None:
    if len(cells) > len(header):
        parsed.errors.append(RowError(row, "", f"Has {len(cells)} cells; the header names {len(header)} columns."))
        return
    cells = [*cells, *[""] * (len(header) - len(cells))]
    given = {name: _unescape_cell(cell.strip()) for name, cell in zip(header, cells, strict=True)}
    errors: list[RowError] = []
    partner = given.pop(PARTNER_COLUMN, "")
    if partner and partner != organization_slug:
        errors.append(
            RowError(row, PARTNER_COLUMN, f"This row is for {partner}; you are importing into {organization_slug}.")
        )
    values: dict[str, Any] = {}
    for name, cell in given.items():
        if name == "barcodes":
            values[name] = split_barcodes(cell)
        elif cell == "" and name in _DEFAULTS:
            values[name] = _DEFAULTS[name]  # an empty cell is the field's default, as on a new product
        else:
            values[name] = cell
    try:
        values = ProductUpsertSchema.model_validate(values, strict=False).model_dump(include=set(values))
    except PydanticValidationError as error:
        errors.extend(RowError(row, e.field, e.message) for e in schema_field_errors(error))
    sku = str(values.get("sku", "")).strip()
    if sku and sku in first_row_of:
        errors.append(RowError(row, "sku", f"SKU {sku} is also on row {first_row_of[sku]}."))
    elif sku:
        first_row_of[sku] = row
    if errors:
        parsed.errors.extend(errors)
    else:
        parsed.rows.append(ImportRow(row, values))
