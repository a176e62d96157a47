"""Small shared readers for user-supplied tables (CSV files people edit by hand)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from analytics.errors import InvalidData


def read_text_table(path: Path, what: str) -> pd.DataFrame:
    """A CSV as a frame of stripped text cells; blank lines skipped, ragged rows refused."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidData(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidData(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise InvalidData(f"{path}: not a readable CSV file ({exc})") from exc
    rows = [row for row in rows if any(row)]
    if not rows:
        raise InvalidData(f"{path}: the file is empty")
    header, body = rows[0], rows[1:]
    for position, column in enumerate(header, start=1):
        if not column:
            raise InvalidData(f"{path}: header column {position} is blank")
        if header.index(column) != position - 1:
            raise InvalidData(f"{path}: header column {column!r} appears more than once")
    if not body:
        raise InvalidData(f"{path}: the file has a header but no {what}")
    for number, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise InvalidData(
                f"{path}: data row {number} has {len(row)} values, expected {len(header)}"
            )
    return pd.DataFrame(body, columns=header, dtype=object)


def describe_errors(exc: ValidationError, what: str) -> str:
    """One readable line from a pydantic ValidationError: ``field.path: problem; …``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}" for e in exc.errors()
    )
