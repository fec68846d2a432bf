"""Products as CSV: the export's rows, and the import's parsing and row-by-row validation.

The import validates each row with the same schema as the API (`ProductUpsertSchema`), so a file
and a JSON request are held to the same rules. Row numbers are those a spreadsheet shows: the
header is row 1, the first product row 2.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import ValidationError as PydanticValidationError

from allied.catalog.models import Product
from allied.catalog.schemas import PRODUCT_FIELDS, ProductUpsertSchema, schema_field_errors
from allied.core.errors import FieldError, ValidationFailed

CSV_COLUMNS = PRODUCT_FIELDS
PARTNER_COLUMN = "partner"
REQUIRED_COLUMNS = ("sku", "name")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5_000

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BARCODE_SEPARATORS = re.compile(r"[\s,;]+")
_DEFAULTS: dict[str, Any] = {
    name: info.default for name, info in ProductUpsertSchema.model_fields.items() if not info.is_required()
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


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


def _file_problem(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError("file", message)])


def _read_text(upload: IO[bytes], size: int) -> str:
    if size > MAX_IMPORT_BYTES:
        raise _file_problem(
            f"The file is {size / 1024 / 1024:.1f} MB; the limit is {MAX_IMPORT_BYTES // 1024 // 1024} MB. "
            "Split it into smaller files."
        )
    data = upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise _file_problem(f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB. Split it.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_problem("The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”.") from None


def product_csv_parse(upload: IO[bytes], *, size: int, organization_slug: str) -> ParsedImport:
    """Read and validate an uploaded CSV. Problems with the file as a whole raise ValidationFailed
    (on the field `file`); problems with rows are collected, so every bad row is reported at once."""
    text = _read_text(upload, size)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","  # some spreadsheets' locales
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(records)]
    except StopIteration:
        raise _file_problem("The file is empty. The first row must name the columns.") from None
    except csv.Error as error:
        raise _file_problem(f"The file is not readable as CSV: {error}.") from None
    if not any(header):
        raise _file_problem("The first row is empty. It must name the columns, such as sku,name.")
    _check_header(header)

    parsed = ParsedImport()
    first_row_of: dict[str, int] = {}
    try:
        for index, cells in enumerate(records):
            row = index + 2
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, such as a spreadsheet's trailing ones
            parsed.row_count += 1
            if parsed.row_count > MAX_IMPORT_ROWS:
                raise _file_problem(
                    f"The file has more than {MAX_IMPORT_ROWS:,} products; the limit is {MAX_IMPORT_ROWS:,} "
                    "per file. Split it into smaller files."
                )
            _parse_row(parsed, row, header, cells, organization_slug, first_row_of)
    except csv.Error as error:
        raise _file_problem(f"The file is not readable as CSV after row {parsed.row_count + 1}: {error}.") from None
    if not parsed.row_count:
        raise _file_problem("The file has a header but no products.")
    return parsed


def _check_header(header: list[str]) -> None:
    known = (*CSV_COLUMNS, PARTNER_COLUMN)
    unknown = [name or "(empty)" for name in header if name not in known]
    if unknown:
        raise _file_problem(
            f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}. "
            f"The columns are: {', '.join(CSV_COLUMNS)}."
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise _file_problem(f"The column {', '.join(repeated)} appears more than once.")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise _file_problem(f"The file needs the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")


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
        values = ProductUpsertSchema.model_validate(values).model_dump(include=set(values))
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
