"""Reading an uploaded CSV file: size limits, encoding, delimiter and header, with messages that
say what to do. Each app validates its own rows and reports them as `RowError`s."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from allied.core.errors import FieldError, ValidationFailed

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class RowError:
    """A problem with one row; rows are numbered as a spreadsheet shows them (the header is row 1)."""

    row: int
    column: str
    message: str


def file_problem(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError("file", message)])


def _read_text(upload: IO[bytes], size: int, max_bytes: int) -> str:
    limit = f"{max_bytes // 1024 // 1024} MB"
    if size > max_bytes:
        raise file_problem(
            f"The file is {size / 1024 / 1024:.1f} MB; the limit is {limit}. Split it into smaller files."
        )
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise file_problem(f"The file is larger than {limit}. Split it.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise file_problem("The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8”.") from None


def read_csv_upload(
    upload: IO[bytes], *, size: int, max_bytes: int = MAX_UPLOAD_BYTES
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The lower-cased header and the non-blank rows with their spreadsheet row numbers."""
    text = _read_text(upload, size, max_bytes)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","  # some spreadsheets' locales
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip().lower() for cell in next(records)]
    except StopIteration:
        raise file_problem("The file is empty. The first row must name the columns.") from None
    except csv.Error as error:
        raise file_problem(f"The file is not readable as CSV: {error}.") from None
    if not any(header):
        raise file_problem("The first row is empty. It must name the columns.")

    def rows() -> Iterator[tuple[int, list[str]]]:
        row = 1
        try:
            for cells in records:
                row += 1
                if any(cell.strip() for cell in cells):  # skip blank lines, such as a spreadsheet's trailing ones
                    yield row, cells
        except csv.Error as error:
            raise file_problem(f"The file is not readable as CSV after row {row}: {error}.") from None

    return header, rows()


def check_header(header: list[str], *, known: tuple[str, ...], required: tuple[str, ...]) -> None:
    unknown = [name or "(empty)" for name in header if name not in known]
    if unknown:
        raise file_problem(
            f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}. "
            f"The columns are: {', '.join(known)}."
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise file_problem(f"The column {', '.join(repeated)} appears more than once.")
    missing = [name for name in required if name not in header]
    if missing:
        raise file_problem(f"The file needs the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")
