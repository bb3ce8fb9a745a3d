"""SDMX-CSV for a profile's figures: write a version's observations, parse an uploaded file.

The format (docs/profiles.md, "The CSV format (SDMX-CSV)") is SDMX-CSV 1.0 with
one dataflow, ``CORRIDOR:PROFILE(1.0)``, and the columns of ``HEADER``. Parsing
only reads the text into rows with their line numbers; every rule of a figure is
``ObservationInput``'s (``exchange.profiles.imports`` applies it per row).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django_countries import countries

from exchange.imports import error
from exchange.models import Indicator, MigrationProfile, Observation, ProfilePart
from exchange.models.profiles import TOTAL_AGE

DATAFLOW = "CORRIDOR:PROFILE(1.0)"
HEADER = (
    "DATAFLOW",
    "REF_AREA",
    "INDICATOR",
    "SEX",
    "AGE",
    "TIME_PERIOD",
    "OBS_VALUE",
    "UNIT_MEASURE",
    "SOURCE",
    "COMMENT",
)
# Columns a file may leave out (their defaults: total sex, all ages, the catalogue's unit, no comment).
OPTIONAL = frozenset({"SEX", "AGE", "UNIT_MEASURE", "COMMENT"})
# ObservationInput's field → the file's column, to name the column of an error.
COLUMN_OF = {
    "indicator": "INDICATOR",
    "sex": "SEX",
    "age": "AGE",
    "time_period": "TIME_PERIOD",
    "value": "OBS_VALUE",
    "unit": "UNIT_MEASURE",
    "source": "SOURCE",
    "comment": "COMMENT",
}
# ILOSTAT writes sex as SEX_T/SEX_F/SEX_M, and SDMX's code lists write the total as _T.
SEX_SYNONYMS = {"SEX_T": "T", "SEX_F": "F", "SEX_M": "M", "_T": "T"}
# A text cell starting with one of these is a formula to a spreadsheet: written with a
# leading apostrophe, which the parser takes off again, so export → import is exact.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_value(value: Decimal) -> str:
    """``1200.0000`` → ``1200``, ``12.5000`` → ``12.5``; never an exponent (``1E+3``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _text_cell(value: str) -> str:
    return "'" + value if value[:1] in FORMULA_START else value


def _text_value(value: str) -> str:
    return value[1:] if value[:1] == "'" and value[1:2] in FORMULA_START and value[1:2] != "" else value


def alpha3(country: Any) -> str:
    return countries.alpha3(str(country)) or ""


def _writer(buffer: io.StringIO) -> Any:
    return csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends


def export_lines(profile: MigrationProfile, observations: Iterable[Observation]) -> Iterator[str]:
    """The header, then one line per figure (``observations`` with their indicator loaded)."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    area = alpha3(profile.country)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADER)
    yield take()
    for row in observations:
        writer.writerow(
            [
                DATAFLOW,
                area,
                row.indicator_id,
                row.sex,
                row.age,
                row.time_period,
                format_value(row.value),
                row.indicator.unit,
                _text_cell(row.source),
                _text_cell(row.comment),
            ]
        )
        yield take()


# One commented example per part, with a real code of that part and a plausible figure.
EXAMPLES = {
    ProfilePart.MIGRATION_DATA: ("F", TOTAL_AGE, "120500"),
    ProfilePart.DEVELOPMENT_IMPACT: ("T", TOTAL_AGE, "1850.5"),
    ProfilePart.LABOUR_MARKET: ("T", TOTAL_AGE, "4.2"),
    ProfilePart.MANAGEMENT_CAPACITY: ("T", TOTAL_AGE, "3"),
}


def template_text(indicators: Iterable[Indicator], *, year: int) -> str:
    """The header and, per part, one example line commented out with ``#``."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow(HEADER)
    seen: set[int] = set()
    for indicator in indicators:
        if indicator.part in seen or indicator.part not in EXAMPLES:
            continue
        seen.add(indicator.part)
        sex, age, value = EXAMPLES[ProfilePart(indicator.part)]
        if "sex" not in indicator.disaggregations:
            sex = "T"
        line = io.StringIO()
        _writer(line).writerow(
            [
                DATAFLOW,
                "MDA",
                indicator.code,
                sex,
                age,
                year,
                value,
                indicator.unit,
                indicator.source,
                _("Example (part %(part)d): remove the # to keep this line.") % {"part": indicator.part},
            ]
        )
        buffer.write("#" + line.getvalue())
    return buffer.getvalue()


@dataclass
class FileRow:
    line: int  # the line of the file the record starts on; the header is line 1 if it comes first
    cells: dict[str, str]


@dataclass
class ParsedFile:
    rows: list[FileRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"row", "column", "message"}


def parse(text: str) -> ParsedFile:
    """Read the records of an SDMX-CSV text; a header problem is an error and no rows.

    A UTF-8 byte-order mark and CRLF line ends are accepted; a record whose first
    cell starts with ``#`` is a comment; blank lines are skipped. The cells of
    the optional columns default when the column is absent.
    """
    out = ParsedFile()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=False)
    columns: list[str] | None = None
    end = 0
    try:
        for record in reader:
            line, end = end + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if record[0].lstrip().startswith("#"):
                continue
            if columns is None:
                columns = [cell.strip().upper() for cell in record]
                out.errors.extend(_header_problems(columns, line))
                if out.errors:
                    return out
                continue
            if len(record) != len(columns):
                out.errors.append(
                    error(
                        line,
                        "",
                        _("This line has %(found)d cells; the header has %(wanted)d.")
                        % {"found": len(record), "wanted": len(columns)},
                    )
                )
                continue
            cells = dict(zip(columns, record, strict=True))
            for column in ("SOURCE", "COMMENT"):
                if column in cells:
                    cells[column] = _text_value(cells[column])
            out.rows.append(FileRow(line=line, cells=cells))
    except csv.Error as exc:
        out.errors.append(error(end + 1, "", _("The file is not valid CSV here: %(problem)s.") % {"problem": exc}))
    if columns is None:
        out.errors.append(error(1, "", _("The file has no header line (%(header)s).") % {"header": ",".join(HEADER)}))
    return out


def _header_problems(columns: list[str], line: int) -> list[dict[str, Any]]:
    problems = [
        error(line, name, _("The header lacks the column %(column)s.") % {"column": name})
        for name in HEADER
        if name not in OPTIONAL and name not in columns
    ]
    problems += [
        error(
            line,
            name,
            _("%(column)s is not a column of this format (%(header)s).")
            % {"column": name or "''", "header": ",".join(HEADER)},
        )
        for name in columns
        if name not in HEADER
    ]
    problems += [
        error(line, name, _("The column %(column)s appears twice.") % {"column": name})
        for name in sorted({c for c in columns if columns.count(c) > 1})
    ]
    return problems
