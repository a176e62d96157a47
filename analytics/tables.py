"""Small shared readers for user-supplied tables (CSV files people edit by hand)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from analytics.errors import ComputationError, InvalidData


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


def _readable(path: Path, what: str) -> Path:
    path = Path(path)
    if path.is_dir():
        raise InvalidData(f"{what} {path} is a folder, not a file")
    if not path.is_file():
        raise InvalidData(f"{what} {path} does not exist")
    return path


def read_bytes(path: Path, what: str) -> bytes:
    """The bytes of a file a person named; a folder or a missing file is one clear error."""
    path = _readable(path, what)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidData(f"cannot read {path}: {exc.strerror or exc}") from None


def read_csv_frame(
    path: Path,
    what: str,
    required: Sequence[str] = (),
    *,
    text_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """A CSV people made: a file (not a folder), UTF-8, parseable, with data rows and the
    ``required`` columns; every failure is one readable :class:`InvalidData` line."""
    path = _readable(path, what)
    try:
        frame = pd.read_csv(
            path, encoding="utf-8-sig", dtype={c: str for c in text_columns} or None
        )
    except UnicodeDecodeError as exc:
        raise InvalidData(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except pd.errors.EmptyDataError:
        raise InvalidData(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InvalidData(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InvalidData(f"{path}: missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise InvalidData(f"{path}: the file has a header but no rows")
    return frame


def read_csv_lines(path: Path, what: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows (stripped text cells) and each row's first line in the file.

    Blank lines are skipped but counted, and a quoted cell may span lines, so the line
    numbers are what a person sees in an editor.
    """
    path = _readable(path, what)
    rows, lines = [], []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [c.strip() for c in next(reader, [])]
            last = reader.line_num
            for record in reader:
                if any(cell.strip() for cell in record):
                    rows.append([cell.strip() for cell in record])
                    lines.append(last + 1)
                last = reader.line_num
    except UnicodeDecodeError as exc:
        raise InvalidData(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise InvalidData(f"{path}: not a readable CSV file ({exc})") from None
    if not header:
        raise InvalidData(f"{path}: the file is empty")
    return header, rows, lines


def write_csv_atomic(frame: pd.DataFrame, path: Path, float_format: str = "%.15g") -> Path:
    """Write ``frame`` to ``path`` so that a crash leaves the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False, float_format=float_format)
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)
    return path


def json_safe(data: Any, where: str = "") -> Any:
    """``data`` as values standard JSON can carry: a missing number (NaN, ``pd.NA``) becomes
    ``null`` and numpy scalars Python numbers. An infinite number is a computation that
    overflowed, not a value: it raises :class:`ComputationError` naming where it is."""
    if isinstance(data, Mapping):
        return {k: json_safe(v, f"{where}.{k}" if where else str(k)) for k, v in data.items()}
    if isinstance(data, list | tuple | np.ndarray):
        return [json_safe(v, f"{where}[{i}]") for i, v in enumerate(data)]
    if isinstance(data, bool | np.bool_):
        return bool(data)
    if isinstance(data, int | np.integer):
        return int(data)
    if isinstance(data, float | np.floating):
        value = float(data)
        if math.isinf(value):
            raise ComputationError(
                f"{where or 'the result'} is infinite: the numbers overflow floating point "
                "(give the input in a larger unit)"
            )
        return None if math.isnan(value) else value
    if data is None or data is pd.NA or data is pd.NaT:
        return None
    return data


def dumps_json(data: Any) -> str:
    """Strict JSON text of ``data`` (see :func:`json_safe`): never NaN or Infinity."""
    return json.dumps(json_safe(data), indent=2, ensure_ascii=False, allow_nan=False, default=str)


def write_json_atomic(data: object, path: Path) -> Path:
    """Write ``data`` as strict JSON (:func:`dumps_json`) so that a crash leaves the old file
    or the new one; nothing is written when ``data`` holds an infinite number."""
    text = dumps_json(data)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    return path
