"""Small shared readers for user-supplied tables (CSV files people edit by hand)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from analytics.errors import ComputationError, InvalidData

#: What to tell a person whose file is in none of the encodings we read.
CONVERT_HINT = (
    "save it from Excel as 'CSV UTF-8 (逗号分隔)', or convert it with "
    "`iconv -f {source} -t UTF-8 FILE > FILE.utf8.csv`"
)


def decode_text(data: bytes, path: Path | str) -> tuple[str, str]:
    """The text of a file people saved, and the encoding it was saved in.

    Excel on Chinese Windows saves CSV as GBK (or as UTF-8 with a byte-order mark): UTF-8
    (BOM or not) is tried first, then GB18030, the superset of GBK and GB2312. The encoding
    is reported as ``utf-8``, ``utf-8-sig`` (with a BOM), ``gbk`` or ``gb18030`` (only when
    the text needs characters GBK lacks). Anything else is one :class:`InvalidData` line that
    says how to convert it.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        hint = CONVERT_HINT.format(source="UTF-16")
        raise InvalidData(f"{path}: not UTF-8 or GBK but UTF-16 text; {hint}")
    else:
        candidates = ("utf-8", "gbk", "gb18030")
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = f"{exc.reason} at byte {exc.start}"
    hint = CONVERT_HINT.format(source="YOUR-ENCODING")
    raise InvalidData(f"{path}: not UTF-8 or GBK/GB18030 text ({reason}); {hint}")


def read_text(path: Path, what: str) -> tuple[str, str]:
    """The decoded text of a file a person named (see :func:`decode_text`) and its encoding."""
    return decode_text(read_bytes(path, what), path)


def read_text_table(path: Path, what: str) -> pd.DataFrame:
    """A CSV as a frame of stripped text cells; blank lines skipped, ragged rows refused.

    The file may be UTF-8 (with or without a BOM) or GBK/GB18030; the frame's
    ``attrs["encoding"]`` records which."""
    path = Path(path)
    text, encoding = read_text(path, what)
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
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame.attrs["encoding"] = encoding
    return frame


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
    """A CSV people made: a file (not a folder), UTF-8 or GBK (:func:`decode_text`),
    parseable, with data rows and the ``required`` columns; every failure is one readable
    :class:`InvalidData` line. ``attrs["encoding"]`` records the file's encoding."""
    text, encoding = read_text(path, what)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype={c: str for c in text_columns} or None)
    except pd.errors.EmptyDataError:
        raise InvalidData(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InvalidData(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InvalidData(f"{path}: missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise InvalidData(f"{path}: the file has a header but no rows")
    frame.attrs["encoding"] = encoding
    return frame


def read_csv_lines(path: Path, what: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows (stripped text cells) and each row's first line in the file.

    Blank lines are skipped but counted, and a quoted cell may span lines, so the line
    numbers are what a person sees in an editor.
    """
    text, _ = read_text(path, what)
    rows, lines = [], []
    try:
        with io.StringIO(text, newline="") as handle:
            reader = csv.reader(handle)
            header = [c.strip() for c in next(reader, [])]
            last = reader.line_num
            for record in reader:
                if any(cell.strip() for cell in record):
                    rows.append([cell.strip() for cell in record])
                    lines.append(last + 1)
                last = reader.line_num
    except csv.Error as exc:
        raise InvalidData(f"{path}: not a readable CSV file ({exc})") from None
    if not header:
        raise InvalidData(f"{path}: the file is empty")
    return header, rows, lines


#: CSVs written for people: UTF-8 with a byte-order mark, so that Excel (which reads a CSV
#: without one in the system's code page, GBK on Chinese Windows) shows 锦江区, not mojibake.
EXCEL_CSV = "utf-8-sig"


def write_csv_atomic(
    frame: pd.DataFrame, path: Path, float_format: str = "%.15g", *, index: bool = False
) -> Path:
    """Write ``frame`` to ``path`` (UTF-8 with a BOM, see :data:`EXCEL_CSV`) so that a crash
    leaves the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=index, float_format=float_format, encoding=EXCEL_CSV)
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)
    return path


@contextmanager
def staged_dir(out: Path) -> Iterator[Path]:
    """A scratch folder next to ``out`` whose files move into ``out`` only when the block
    ends without an error: a command that fails writes nothing (a half-written set of
    outputs would pass for a result). A new ``out`` is the scratch folder renamed."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidData(f"output folder {out} is a file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise InvalidData(f"cannot write to {out}: {exc.strerror or exc}") from None
    try:
        yield tmp
        if not out.exists():
            tmp.replace(out)
            return
        for item in sorted(tmp.iterdir()):
            if (out / item.name).is_dir():
                raise InvalidData(f"{out / item.name} is a folder; cannot write a file there")
        for item in sorted(tmp.iterdir()):
            item.replace(out / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
