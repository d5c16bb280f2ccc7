"""One CSV writer for every download: streamed row by row, one rule against formula injection.

Spreadsheets (Excel, LibreOffice, Google Sheets) run a text cell as a formula when it starts
with `=`, `+`, `-` or `@`, and they drop a leading TAB, CR or LF first, so "\\t=cmd()" is a
formula too (OWASP, CSV Injection). Any text cell starting with one of those characters, or
their full-width forms, gets a leading apostrophe, which shows it as plain text. E.164 phone
numbers (`+` and digits) are kept: they cannot run anything, and a re-import needs them as is.

Every export (message log, opt-outs, contacts, import rejections, campaign recipients, calls)
goes through `csv_lines`, so a new export cannot forget the rule.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.http import StreamingHttpResponse

# ASCII triggers, the whitespace spreadsheets skip, and the full-width = + - @ (U+FF1D, U+FF0B,
# U+FF0D, U+FF20) that some locales turn into ASCII on import.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def csv_cell(value: Any) -> Any:
    """A value as it goes into a CSV cell: datetimes in UTC ISO 8601, None empty, text defused."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS and not _is_phone(value):
        return "'" + value
    return value


def _is_phone(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit()


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header, then one CSV line per row, every cell through `csv_cell`."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    """A download that is never built in memory, whatever its size, and never cached."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
