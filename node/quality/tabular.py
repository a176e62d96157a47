"""A published CSV checked against its declared Frictionless Table Schema, fast.

Frictionless parses and checks the schema *descriptor* (:func:`load_schema`) and is the
reference the rows' validation is held to; the rows themselves are checked column by
column with numpy/pandas (:func:`validate_table`, :func:`validate_frame`), because
frictionless' row-by-row validation takes about 4.4 s per 100k rows. The result, a
:class:`Report`, gives the error count by frictionless error type, the first errors with
frictionless' own row numbers and messages, and the sha256 of the schema; its
:meth:`Report.digest` is what goes on chain.

Semantics (frictionless 5.21, found by running it; the tests hold us to it):

* Rows are numbered as frictionless' ``rowNumber``: the header is row 1, the first data
  row is row 2; a record spanning lines (a quoted newline) counts once, a blank line counts.
* Header: labels are stripped of surrounding whitespace (and of a BOM) and paired with
  the fields *by position* (``fieldsMatch: exact``). Labels beyond the fields are
  ``extra-label`` errors and their column is then an ``any`` field (its cells are never
  ``extra-cell`` errors; its missing values are ``[""]`` whatever the schema says); fields
  beyond the labels are ``missing-label`` errors and are not checked in the rows (so no
  ``missing-cell`` for them). Per position: an empty label is ``blank-label``, a repeated
  one ``duplicate-label``, otherwise one that differs from the field name
  ``incorrect-label``.
* Cells: a cell equal (exactly, unstripped) to one of the field's ``missingValues`` (the
  schema's, default ``[""]``) is null. A null in a ``required`` field is a
  ``constraint-error``. A cell that does not parse is a ``type-error`` and is not checked
  against any constraint; a cell may fail several constraints (one ``constraint-error``
  each). A row with fewer cells than labels gives a ``missing-cell`` per absent cell (and
  a ``constraint-error`` too if that field is required); a row with more, an
  ``extra-cell`` per extra cell. A row whose cells are all null or absent is one
  ``blank-row`` error and nothing else (no missing-cell, required or extra-cell error).
* ``unique``: compared on the *typed* value ("1", "01" and "+1" are the same integer;
  "1.0" and "1.00" the same number); the first occurrence is not an error, every later
  repeat is one ``unique-error``; nulls and type-errors are never duplicates.
* ``primaryKey`` (single or composite): the tuple of typed values (a null or type-error
  cell counts as None); every repeat after the first is a ``primary-key`` error; a row
  whose key cells are all null is a ``primary-key`` error too (blank rows included).
  Frictionless does *not* make key fields required: a null in one field of a composite
  key is no constraint-error, and neither are we.
* Order (for ``first_errors``): header errors first, as row 1, then by row. Within a row
  frictionless reads cells lazily: the unique fields' cells first (each checked for a
  repeat as it is read), then the primary key's, and the rest when the row's errors are
  first needed; a cell's errors are type-error, or constraint-errors in frictionless'
  order (required, minLength, maxLength, pattern / minimum, maximum, exclusiveMinimum,
  exclusiveMaximum, then enum); then extra cells, missing cells, and the unique and
  primary-key errors where that reading order puts them. Messages are frictionless'.

How the cells are checked, and where this can differ from frictionless:

* string/any (default format), integer, number (default options), boolean, year, date
  (default format) and datetime (default format, ``YYYY-MM-DDTHH:MM:SS``) cells take a
  vectorized path whose accepted set is a subset of frictionless' (integer: numpy's cast,
  which is Python's ``int()``; number: ``float()``, whose accepted strings Decimal also
  accepts; dates by fixed-width digit checks). Every other cell — and every cell of the
  other types or formats (time, email, a strptime format, ``groupChar``...) — goes
  through frictionless' own cell reader, cached per distinct string, so types and
  constraints agree by construction. Numbers are compared as floats; a float tie with a
  bound or enum member, and every float-equal unique/primary-key candidate, is re-decided
  with frictionless' Decimal value. A column with few distinct strings (years, adcodes,
  dates: judged on a sample) is checked once per distinct string and spread back to the
  rows; the tests run every table both ways.
* The CSV is parsed by pandas' C engine with the standard dialect (comma, ``"`` quotes
  doubled inside); a file whose records are not all as wide as its header is re-parsed by
  Python's csv module (the parser frictionless uses) to tell absent cells from empty ones.
  Frictionless instead *sniffs* the dialect: a ``;``- or tab-separated file is accepted by
  frictionless but refused here (:class:`TableUnreadable`, by validate_frame too: the node
  publishes comma-separated tables); a file written ``a, b`` may be sniffed with
  ``skipinitialspace`` (frictionless then reads "b" where the cell here is " b"); exotic
  quoting may be sniffed differently. Frictionless also *guesses* the header row (the
  first of its first 100 rows about as wide as their average): it differs from the first
  line, always the header here, only when most of those rows are much narrower (blank).
* Refused here (:class:`TableUnreadable`) where frictionless reports an error instead: an
  empty file or a blank first line (no header), an encoding other than UTF-8 (with or
  without BOM), GBK or GB18030, NUL bytes, an unterminated quote.
* Refused by :func:`load_schema` although frictionless accepts them: ``foreignKeys``,
  ``fieldsMatch`` other than ``exact``, a schema without fields, a bound or enum member
  the field's type cannot read (``{"type": "integer", "constraints": {"minimum":
  "abc"}}``, on which frictionless fails mid-validation or silently never matches), a
  pattern that does not compile.
* Frictionless stops at 1000 errors (``limit_errors``); the counts here are complete.
* Not matched (exotic): ``unique`` on array/object fields (frictionless cannot hash
  them: skipped here), a naive datetime cell against a timezone-aware bound (a TypeError
  in frictionless; a type-error here). Frictionless' encoding detection sometimes takes
  a plain ASCII file with "+" signs for UTF-7 and reports an encoding-error; the file is
  UTF-8 here.

:meth:`TableSchema.to_pandera` builds the equivalent pandera schema of the *typed* table
(:func:`typed_frame`); the tests hold it to the same constraint, unique and primary-key
counts. The rows are not validated through pandera: its lazy validation of an
already-typed 1M-row frame takes about as long as parsing and checking it here, and typing
the frame for it costs more again (benchmarks/quality_validation.py measures both); and
pandas' own string-to-number conversions, which pandera's coercion relies on, do not
follow frictionless' parsing (pandas' C parser takes "12.0" and "1e3" for integers).
pandera also fails a unique column on repeated nulls, which frictionless does not.
"""

from __future__ import annotations

import codecs
import copy
import csv
import hashlib
import io
import json
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import yaml
from frictionless import FrictionlessException, Schema
from frictionless.schema import Field

from node.errors import InvalidInput, TanlianError
from node.privacy.canonical import CSV_ENCODINGS, csv_encoding

if TYPE_CHECKING:
    import pandera.pandas as pa

#: errors kept in a report (the counts cover them all)
FIRST_ERRORS = 20
#: longest :meth:`Report.kinds_text` (it goes on chain)
KINDS_TEXT_BYTES = 256
#: frame.attrs keys set by :func:`read_table`
LABELS_ATTR = "tanlian_labels"
COMPLETE_ATTR = "tanlian_complete"


class QualityError(TanlianError):
    code = "quality_error"
    http_status = 400


class SchemaInvalid(QualityError):
    """The descriptor does not parse or is not a valid Table Schema."""

    code = "schema_invalid"


class TableUnreadable(QualityError):
    """The file cannot be read as a comma-separated table with a header."""

    code = "table_unreadable"


class TableRefused(QualityError):
    """A table that fails its schema (raised by callers holding a failing report)."""

    code = "table_invalid"
    http_status = 422

    def __init__(self, report: Report, message: str | None = None) -> None:
        self.report = report
        first = "; ".join(
            f"row {e['row']}, field {e['field'] if e['field'] is not None else '-'}: "
            f"{e['type']}: {e['message']}"
            for e in report.first_errors[:3]
        )
        if message is None:
            message = (
                f"the table fails its schema: {report.error_count} error(s) "
                f"({report.kinds_text()}); first: {first}"
            )
        super().__init__(message, detail=report.as_dict())


def _canonical_json(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- schema ------------------------------------------------------------------------------

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
#: bound constraint -> the comparison a cell must pass
_BOUND_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "minimum": operator.ge,
    "maximum": operator.le,
    "exclusiveMinimum": operator.gt,
    "exclusiveMaximum": operator.lt,
}
_INT64 = np.iinfo(np.int64)


@dataclass(frozen=True)
class _Plan:
    """How one field's cells are checked."""

    name: str
    type: str
    field: Field
    missing: tuple[str, ...]
    required: bool
    unique: bool
    #: (constraint, value as declared), required excluded, in frictionless' order
    checks: tuple[tuple[str, Any], ...]
    #: (constraint, value read by the field's type) for bounds and enum
    typed: dict[str, Any]
    #: whether the vectorized path applies (else: frictionless' reader for every cell)
    fast: bool
    cell_reader: Callable[[Any], tuple[Any, dict[str, str] | None]]
    value_reader: Callable[[Any], Any]


def _plan(field: Field, missing: Iterable[str] | None = None) -> _Plan:
    if missing is None:
        use_own = field.has_defined("missing_values") or field.schema is None
        missing = field.missing_values if use_own else field.schema.missing_values
    value_reader = field.create_value_reader()
    constraints = field.constraints or {}
    checks = tuple(
        (name, constraints[name])
        for name in field.supported_constraints
        if name != "required" and constraints.get(name) is not None
    )
    typed: dict[str, Any] = {}
    for name, value in checks:
        if name in _BOUNDS:
            typed[name] = value_reader(value)
        elif name == "enum":
            typed[name] = [value_reader(v) for v in value]
    kind, fmt = field.type, field.format
    if kind == "integer":
        fast = getattr(field, "bare_number", True) is True
    elif kind == "number":
        fast = (
            getattr(field, "bare_number", True) is True
            and getattr(field, "group_char", "") == ""
            and getattr(field, "decimal_char", ".") == "."
            and getattr(field, "float_number", False) is False
        )
    elif kind in ("string", "date"):
        fast = fmt == "default"
    elif kind == "datetime":
        values = [typed.get(b) for b in _BOUNDS] + list(typed.get("enum", []))
        fast = fmt == "default" and not any(
            isinstance(v, datetime) and v.tzinfo is not None for v in values
        )
    else:
        fast = kind in ("any", "boolean", "year")
    return _Plan(
        name=field.name,
        type=kind,
        field=field,
        missing=tuple(missing),
        required=bool(constraints.get("required")),
        unique=bool(constraints.get("unique")),
        checks=checks,
        typed=typed,
        fast=fast,
        cell_reader=field.create_cell_reader(),
        value_reader=value_reader,
    )


@dataclass(frozen=True)
class TableSchema:
    """A checked Table Schema; build it with :func:`load_schema`."""

    #: the normalized descriptor (frictionless' ``to_descriptor()``)
    descriptor: dict[str, Any]

    def field_names(self) -> list[str]:
        return [f["name"] for f in self.descriptor["fields"]]

    def digest(self) -> bytes:
        """sha256 of the descriptor's canonical JSON (sorted keys, compact, UTF-8)."""
        return hashlib.sha256(_canonical_json(self.descriptor)).digest()

    @cached_property
    def frictionless(self) -> Schema:
        """The frictionless Schema of the descriptor."""
        return Schema.from_descriptor(copy.deepcopy(self.descriptor))

    @cached_property
    def _plans(self) -> list[_Plan]:
        return [_plan(f) for f in self.frictionless.fields]

    @property
    def primary_key(self) -> list[str]:
        return list(self.frictionless.primary_key)

    def to_pandera(self) -> pa.DataFrameSchema:
        """The pandera schema of the typed table (:func:`typed_frame`): a typed column per
        field, nullable unless required, unique when declared, the primary key as a
        uniqueness over its columns, and one check per constraint (its name in the
        column's ``metadata["constraints"]``, in ``check_number`` order)."""
        import pandera.pandas as pa

        columns: dict[str, pa.Column] = {}
        for plan in self._plans:
            checks: list[pa.Check] = []
            names: list[str] = []
            for name, value in plan.checks:
                check = _pandera_check(plan, name, value)
                if check is not None:
                    checks.append(check)
                    names.append(name)
            columns[plan.name] = pa.Column(
                _TYPED_DTYPES.get(plan.type),
                checks=checks,
                nullable=not plan.required,
                unique=plan.unique,
                report_duplicates="exclude_first",
                required=False,
                metadata={"constraints": names},
            )
        return pa.DataFrameSchema(
            columns,
            unique=self.primary_key or None,
            report_duplicates="exclude_first",
            name="tanlian-table",
        )


def _pandera_check(plan: _Plan, name: str, value: Any) -> pa.Check | None:
    import pandera.pandas as pa

    if name in _BOUNDS:
        bound = _pandas_scalar(plan.typed[name])
        return {
            "minimum": pa.Check.ge,
            "maximum": pa.Check.le,
            "exclusiveMinimum": pa.Check.gt,
            "exclusiveMaximum": pa.Check.lt,
        }[name](bound)
    if name == "enum":
        return pa.Check.isin([_pandas_scalar(v) for v in plan.typed["enum"] if v is not None])
    if name == "minLength":
        return pa.Check.str_length(min_value=value)
    if name == "maxLength":
        return pa.Check.str_length(max_value=value)
    if name == "pattern":
        return pa.Check.str_matches(f"^{value}$")
    return None


def _pandas_scalar(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return pd.Timestamp(value)
    if isinstance(value, int | float | bool | str):
        return value
    return float(value)  # Decimal


def _one_line(problems: list[str]) -> str:
    problems = [" ".join(p.split()) for p in problems]
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


def load_schema(source: Path | str | dict[str, Any]) -> TableSchema:
    """A Table Schema from a JSON or YAML file or a dict, checked by frictionless (and for
    what the node cannot validate); :class:`SchemaInvalid` on anything wrong."""
    if isinstance(source, dict):
        descriptor: Any = copy.deepcopy(source)
    elif not isinstance(source, str | Path):
        raise SchemaInvalid("a Table Schema is a JSON object with a 'fields' list, or its file")
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SchemaInvalid(f"schema {path.name}: cannot read it ({exc})") from None
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                descriptor = yaml.safe_load(text)
            else:
                descriptor = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaInvalid(f"schema {path.name} is not valid JSON: {exc}") from None
        except yaml.YAMLError as exc:
            problem = _one_line([str(exc)])
            raise SchemaInvalid(f"schema {path.name} is not valid YAML: {problem}") from None
    if not isinstance(descriptor, dict):
        raise SchemaInvalid("a Table Schema is a JSON object with a 'fields' list")
    schema: Schema | None = None
    try:
        report = Schema.validate_descriptor(copy.deepcopy(descriptor))
        problems = [row[0] for row in report.flatten(["message"])]
        schema = None if problems else Schema.from_descriptor(copy.deepcopy(descriptor))
    except FrictionlessException as exc:
        problems = [r.message for r in exc.reasons] or [exc.error.message]
    except Exception as exc:  # frictionless chokes on some malformed shapes
        problems = [f"{type(exc).__name__}: {exc}"]
    if problems or schema is None:
        raise SchemaInvalid("invalid Table Schema: " + _one_line(problems or ["unreadable"]))
    problems = _node_problems(schema)
    if problems:
        raise SchemaInvalid("invalid Table Schema: " + _one_line(problems))
    return TableSchema(schema.to_descriptor())


def _node_problems(schema: Schema) -> list[str]:
    problems: list[str] = []
    if not schema.fields:
        problems.append("the schema declares no fields")
    if schema.foreign_keys:
        problems.append("foreignKeys are not supported by the node's validator")
    if schema.has_defined("fields_match") and schema.fields_match != "exact":
        problems.append(f'fieldsMatch "{schema.fields_match}" is not supported; use "exact"')
    for field in schema.fields:
        constraints = field.constraints or {}
        reader = field.create_value_reader()
        for name in _BOUNDS:
            if constraints.get(name) is not None and reader(constraints[name]) is None:
                problems.append(
                    f'field "{field.name}": constraint "{name}" = {constraints[name]!r} '
                    f"is not of type {field.type}"
                )
        for member in constraints.get("enum") or []:
            if reader(member) is None:
                problems.append(
                    f'field "{field.name}": enum member {member!r} is not of type {field.type}'
                )
        if constraints.get("pattern") is not None:
            try:
                re.compile(f"^{constraints['pattern']}$")
            except re.error as exc:
                problems.append(f'field "{field.name}": pattern does not compile: {exc}')
    return problems


# -- report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """The outcome of validating a table against its schema."""

    rows: int
    error_count: int
    #: frictionless error type -> count (only the types that occur)
    errors_by_kind: dict[str, int]
    #: the first errors in row order: {"row", "field", "type", "message"}
    first_errors: list[dict[str, Any]]
    #: "0x" + the schema's sha256
    schema_sha256: str

    @property
    def valid(self) -> bool:
        return self.error_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "rows": self.rows,
            "error_count": self.error_count,
            "errors_by_kind": dict(sorted(self.errors_by_kind.items())),
            "first_errors": [dict(e) for e in self.first_errors],
            "schema_sha256": self.schema_sha256,
        }

    def digest(self) -> bytes:
        """sha256 of :meth:`as_dict`'s canonical JSON: what goes on chain."""
        return hashlib.sha256(_canonical_json(self.as_dict())).digest()

    def kinds_text(self) -> str:
        """``constraint-error=3;type-error=1`` (sorted by kind; "" when valid), at most
        256 bytes (whole entries dropped from the end)."""
        out = ""
        for kind, count in sorted(self.errors_by_kind.items()):
            entry = f"{kind}={count}"
            candidate = f"{out};{entry}" if out else entry
            if len(candidate.encode()) > KINDS_TEXT_BYTES:
                break
            out = candidate
        return out


# -- reading -----------------------------------------------------------------------------


def _bytes_encoding(raw: bytes) -> str:
    """:func:`node.privacy.canonical.csv_encoding` for bytes in memory (same rules)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ()
    else:
        candidates = CSV_ENCODINGS
    for encoding in candidates:
        try:
            codecs.decode(raw, encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise TableUnreadable(
        "the table is not UTF-8 or GBK/GB18030 text: save it from Excel as "
        "'CSV UTF-8 (逗号分隔)', or convert it with iconv to UTF-8"
    )


def read_table(data: bytes | Path) -> pd.DataFrame:
    """The CSV as a frame of strings (Python ``str`` cells, nothing taken as NA), in
    UTF-8 whatever it was saved in (UTF-8 with or without BOM, GBK, GB18030).

    Columns are named by the header's labels (``frame.attrs["tanlian_labels"]``); cells a
    short record does not have are None, and cells beyond the header of a long record
    are in further columns. Pandas' C engine reads it (object dtype: the same strings as
    ``dtype=str``, faster); a ragged file is re-read by Python's csv module.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        name = "the table"
        if not raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) and b"\x00" not in raw:
            try:  # pandas decodes every cell strictly: UTF-8 is checked on the way
                return _parse_csv(raw, name)
            except UnicodeDecodeError:
                pass  # GBK/GB18030, or refused, as csv_encoding decides
        encoding = _bytes_encoding(raw)
    else:
        path = Path(data)
        name = path.name
        if not path.is_file():
            raise TableUnreadable(f"{path} is not a file")
        try:
            encoding = csv_encoding(path)
        except InvalidInput as exc:
            raise TableUnreadable(exc.message) from None
        raw = path.read_bytes()
    if encoding == "utf-8-sig":
        body = raw[3:]
    elif encoding == "utf-8":
        body = raw
    else:
        body = raw.decode(encoding).encode("utf-8")
    return _parse_csv(body, name)


def _parse_csv(body: bytes, name: str) -> pd.DataFrame:
    if b"\x00" in body:
        raise TableUnreadable(f"{name} contains NUL bytes: it is not a CSV text file")
    end = body.find(b"\n")
    if not body[: end if end >= 0 else len(body)].strip():
        raise TableUnreadable(f"{name} has no header line (the file or its first line is empty)")
    frame: pd.DataFrame | None
    try:
        frame = pd.read_csv(
            io.BytesIO(body),
            header=None,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            encoding="utf-8",
        )
    except pd.errors.ParserError as exc:
        if "Expected" not in str(exc):  # not a long record: unterminated quote...
            problem = _one_line([str(exc)])
            raise TableUnreadable(f"{name} is not a readable CSV: {problem}") from None
        frame = None
    except UnicodeDecodeError:
        raise
    except (ValueError, pd.errors.EmptyDataError) as exc:
        raise TableUnreadable(f"{name} is not a readable CSV: {_one_line([str(exc)])}") from None
    if frame is not None and _regular(body, frame):
        labels = ["" if v is None else str(v) for v in frame.iloc[0].tolist()]
        frame = frame.iloc[1:].reset_index(drop=True)
        complete = True
    else:
        labels, frame = _parse_ragged(body, name)
        complete = False
    frame.columns = pd.Index(
        labels + [f"_extra_{i}" for i in range(len(labels) + 1, frame.shape[1] + 1)],
        dtype=object,
    )
    frame.attrs[LABELS_ATTR] = labels
    frame.attrs[COMPLETE_ATTR] = complete
    return frame


def _regular(body: bytes, frame: pd.DataFrame) -> bool:
    """Whether every record has as many cells as the frame has columns (pandas fills a
    short record's cells with "" and keeps a blank line as a row of "": tell them apart
    by counting the delimiters outside quotes)."""
    width, records = frame.shape[1], len(frame)
    if width < 2:
        return False  # a blank line has no delimiter either: let the csv module decide
    if b'"' not in body:
        return (
            int(np.count_nonzero(np.frombuffer(body, dtype=np.uint8) == 44))
            == (width - 1) * records
        )
    arr = np.frombuffer(body, dtype=np.uint8)
    inside = np.logical_xor.accumulate(arr == 34)
    outside = np.count_nonzero((arr == 44) & ~inside)
    return outside == (width - 1) * records


def _parse_ragged(body: bytes, name: str) -> tuple[list[str], pd.DataFrame]:
    try:
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    except csv.Error as exc:
        raise TableUnreadable(f"{name} is not a readable CSV: {exc}") from None
    if not rows or not rows[0]:
        raise TableUnreadable(f"{name} has no header line")
    labels, data = rows[0], rows[1:]
    width = max(len(r) for r in rows)
    padded = [r + [None] * (width - len(r)) if len(r) < width else r for r in data]
    cells = np.empty((len(padded), width), dtype=object)
    if padded:
        cells[:] = padded
    return labels, pd.DataFrame(cells, dtype=object)


# -- cells -------------------------------------------------------------------------------


def _lengths(values: np.ndarray) -> np.ndarray:
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values))


def _equals_any(cells: np.ndarray, wanted: tuple[str, ...]) -> np.ndarray:
    if not wanted:
        return np.zeros(len(cells), dtype=bool)
    if len(wanted) > 4:
        return pd.Series(cells, dtype=object).isin(list(wanted)).to_numpy()
    mask = np.asarray(cells == wanted[0], dtype=bool)
    for value in wanted[1:]:
        mask |= np.asarray(cells == value, dtype=bool)
    return mask


def _cast(values: np.ndarray, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """(cast values, where the cast worked): numpy's cast of str objects is Python's
    ``int()``/``float()``; failing blocks are redone cell by cell."""
    try:
        return values.astype(dtype), np.ones(len(values), dtype=bool)
    except (ValueError, TypeError, OverflowError):
        pass
    out = np.zeros(len(values), dtype=dtype)
    ok = np.ones(len(values), dtype=bool)
    step = 1 << 14
    for start in range(0, len(values), step):
        block = values[start : start + step]
        try:
            out[start : start + step] = block.astype(dtype)
            continue
        except (ValueError, TypeError, OverflowError):
            pass
        convert = int if dtype is np.int64 else float
        for i, cell in enumerate(block, start):
            try:
                out[i] = convert(cell)
            except (ValueError, TypeError, OverflowError):
                ok[i] = False
    return out, ok


_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _digits(codes: np.ndarray, positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(number made of the ASCII digits at ``positions``, whether they all are digits)."""
    d = codes[:, positions].astype(np.int64) - 48
    ok = ((d >= 0) & (d <= 9)).all(axis=1)
    weights = 10 ** np.arange(len(positions) - 1, -1, -1, dtype=np.int64)
    return d @ weights, ok


def _ymd(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[D], valid) of ``YYYY-MM-DD`` at the start of each row of code points."""
    y, ok_y = _digits(codes, [0, 1, 2, 3])
    m, ok_m = _digits(codes, [5, 6])
    d, ok_d = _digits(codes, [8, 9])
    ok = ok_y & ok_m & ok_d & (codes[:, 4] == 45) & (codes[:, 7] == 45)
    ok &= (y >= 1) & (m >= 1) & (m <= 12)
    mm = np.clip(m, 1, 12)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = _DAYS[mm - 1] + ((mm == 2) & leap)
    ok &= (d >= 1) & (d <= dim)
    y = np.where(ok, y, 1970)
    month = ((y - 1970) * 12 + (mm - 1)).astype("datetime64[M]")
    days = month.astype("datetime64[D]") + (np.where(ok, d, 1) - 1).astype("timedelta64[D]")
    return days, ok


def _fixed(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the cells exactly ``width`` characters long, their code points)."""
    idx = np.flatnonzero(_lengths(values) == width)
    codes = values[idx].astype(f"U{width}").view(np.uint32).reshape(len(idx), width)
    return idx, codes


def _parse_date(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros(len(values), dtype="datetime64[D]")
    ok = np.zeros(len(values), dtype=bool)
    idx, codes = _fixed(values, 10)
    if len(idx):
        days, good = _ymd(codes)
        out[idx], ok[idx] = days, good
    return out, ok


def _parse_datetime(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros(len(values), dtype="datetime64[s]")
    ok = np.zeros(len(values), dtype=bool)
    idx, codes = _fixed(values, 19)
    if len(idx):
        days, good = _ymd(codes)
        h, ok_h = _digits(codes, [11, 12])
        mi, ok_mi = _digits(codes, [14, 15])
        s, ok_s = _digits(codes, [17, 18])
        good &= ok_h & ok_mi & ok_s & (codes[:, 10] == 84) & (codes[:, 13] == 58)
        good &= (codes[:, 16] == 58) & (h <= 23) & (mi <= 59) & (s <= 59)
        secs = np.where(good, h * 3600 + mi * 60 + s, 0).astype("timedelta64[s]")
        out[idx] = days.astype("datetime64[s]") + secs
        ok[idx] = good
    return out, ok


def _parse_year(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros(len(values), dtype=np.int64)
    ok = np.zeros(len(values), dtype=bool)
    idx = np.flatnonzero(_lengths(values) == 4)
    if len(idx):
        years, good = _cast(values[idx], np.int64)
        good &= (years >= 0) & (years <= 9999)
        out[idx], ok[idx] = years, good
    return out, ok


def _parse_boolean(plan: _Plan, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mapping: dict[str, bool] = {}
    for v in plan.field.true_values:
        mapping[v] = True
    for v in plan.field.false_values:
        mapping[v] = False
    cells = pd.Series(values, dtype=object)
    true = cells.isin([k for k, v in mapping.items() if v]).to_numpy()
    false = cells.isin([k for k, v in mapping.items() if not v]).to_numpy()
    return true, true | false


def _parse(plan: _Plan, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(typed values, where the vectorized path accepted the cell) for non-null cells."""
    n = len(values)
    if not plan.fast:
        return np.empty(n, dtype=object), np.zeros(n, dtype=bool)
    kind = plan.type
    if kind in ("string", "any"):
        return values, np.ones(n, dtype=bool)
    if kind == "integer":
        return _cast(values, np.int64)
    if kind == "number":
        return _cast(values, np.float64)
    if kind == "boolean":
        return _parse_boolean(plan, values)
    if kind == "year":
        return _parse_year(values)
    if kind == "date":
        return _parse_date(values)
    return _parse_datetime(values)


def _np_bound(plan: _Plan, bound: Any) -> Any:
    if plan.type == "date":
        return np.datetime64(bound, "D")
    if plan.type == "datetime":
        return np.datetime64(bound)
    if plan.type == "number":
        return float(bound)
    return bound


def _int_compare(values: np.ndarray, op: Callable[[Any, Any], Any], bound: int) -> np.ndarray:
    if bound > _INT64.max:
        return np.full(len(values), op(0, 1), dtype=bool)  # every value is below it
    if bound < _INT64.min:
        return np.full(len(values), op(1, 0), dtype=bool)
    return op(values, bound)


def _check_fast(
    plan: _Plan, name: str, value: Any, typed: np.ndarray, cells: np.ndarray, fast: np.ndarray
) -> np.ndarray:
    """Where fast-path cells (``typed`` values of string ``cells``, where ``fast``) fail a
    constraint (other slots: anything)."""
    kind = plan.type
    if name in _BOUNDS:
        op, bound = _BOUND_OPS[name], plan.typed[name]
        if kind in ("integer", "year"):
            return ~_int_compare(typed, op, bound)
        passes = np.asarray(op(typed, _np_bound(plan, bound)), dtype=bool)
        if kind == "number":  # a float tie is decided on the exact (Decimal) value
            for i in np.flatnonzero((typed == float(bound)) & fast):
                passes[i] = bool(op(plan.value_reader(cells[i]), bound))
        return ~passes
    if name == "enum":
        members = [m for m in plan.typed["enum"] if m is not None]
        if kind in ("string", "any"):
            return ~pd.Series(typed, dtype=object).isin(members).to_numpy()
        if kind in ("integer", "year"):
            members = [m for m in members if _INT64.min <= m <= _INT64.max]
            return ~np.isin(typed, np.array(members, dtype=np.int64))
        if kind == "number":
            hit = np.isin(typed, np.array([float(m) for m in members], dtype=np.float64))
            idx = np.flatnonzero(hit & fast)
            if len(idx):  # float-equal is not Decimal-equal: decide each distinct string
                codes, uniques = pd.factorize(cells[idx])
                exact = np.array([plan.value_reader(u) in members for u in uniques], dtype=bool)
                hit[idx] = exact[codes]
            return ~hit
        if kind == "boolean":
            return ~np.isin(typed, np.array(members, dtype=bool))
        return ~np.isin(typed, np.array([_np_bound(plan, m) for m in members]))
    if name == "minLength":
        return _lengths(typed) < value
    if name == "maxLength":
        return _lengths(typed) > value
    if name == "pattern":
        match = re.compile(f"^{value}$").match
        return np.fromiter((m is None for m in map(match, typed)), dtype=bool, count=len(typed))
    raise AssertionError(name)


#: types parsed before their missing values are looked for (see _Cells)
_PARSED_FIRST = ("integer", "number", "year", "date", "datetime")


class _Cells:
    """An array of one field's cells (None: absent), checked."""

    def __init__(self, plan: _Plan, cells: np.ndarray, absent: np.ndarray | None):
        self.plan = plan
        self.cells = cells
        n = len(cells)
        self.absent = absent if absent is not None else np.zeros(n, dtype=bool)
        parsed = None
        if plan.type in _PARSED_FIRST and plan.fast and not self.absent.any():
            # no missing value parses as a cell of this type: parse first, and look for
            # missing values only among the cells the vectorized parse refused
            marks = np.array(plan.missing, dtype=object)
            if not len(marks) or not _parse(plan, marks)[1].any():
                parsed = _parse(plan, cells)
                self.null = np.zeros(n, dtype=bool)
                refused = np.flatnonzero(~parsed[1])
                self.null[refused] = _equals_any(cells[refused], plan.missing)
        if parsed is None:
            self.null = _equals_any(cells, plan.missing) | self.absent
        present = np.flatnonzero(~self.null) if self.null.any() else None
        self.present = present
        values = cells if present is None else cells[present]
        if parsed is None:
            typed, fast = _parse(plan, values)
        else:
            typed, fast = parsed if present is None else (parsed[0][present], parsed[1][present])
        self.typed, self.fast = typed, fast
        m = len(values)
        type_error = np.zeros(m, dtype=bool)
        fails = {name: np.zeros(m, dtype=bool) for name, _ in plan.checks}
        for name, value in plan.checks:
            if fast.any():
                fails[name] = _check_fast(plan, name, value, typed, values, fast) & fast
        #: index -> exact value of the cells frictionless' reader decided (None: type error)
        self.slow: dict[int, Any] = {}
        slow = np.flatnonzero(~fast)
        if len(slow):
            cache: dict[Any, tuple[Any, dict[str, str] | None]] = {}
            rows = slow if present is None else present[slow]
            for i, row in zip(slow.tolist(), rows.tolist(), strict=True):
                cell = values[i]
                result = cache.get(cell)
                if result is None:
                    result = cache[cell] = _read_cell(plan, cell)
                value, notes = result
                self.slow[row] = value
                if notes:
                    if "type" in notes:
                        type_error[i] = True
                    for name in notes:
                        if name in fails:
                            fails[name][i] = True
        self.type_error = self._full(type_error)
        self.failures: list[tuple[str, np.ndarray]] = []
        if plan.required:
            self.failures.append(("required", self.null))
        for name, _ in plan.checks:
            self.failures.append((name, self._full(fails[name])))
        self.valid = ~self.null & ~self.type_error

    def _full(self, mask: np.ndarray) -> np.ndarray:
        if self.present is None:
            return mask
        out = np.zeros(len(self.cells), dtype=bool)
        out[self.present] = mask
        return out

    def exact(self, i: int) -> Any:
        """Frictionless' typed value of a cell (None: null or type error)."""
        if not self.valid[i]:
            return None
        if i in self.slow:
            return self.slow[i]
        return self.plan.value_reader(self.cells[i])

    @cached_property
    def keys(self) -> tuple[np.ndarray, bool]:
        """(a hashable key per cell, valid where ``valid``; whether key equality only
        approximates frictionless' value equality and needs an exact second look)."""
        kind, n = self.plan.type, len(self.cells)
        typed = self.typed
        approx = kind == "number" or not self.plan.fast
        if self.slow and any(v is not None for v in self.slow.values()):
            typed = typed.copy()  # object for strings and the slow types, else numeric
            rows = np.fromiter(self.slow.keys(), dtype=np.int64, count=len(self.slow))
            local = rows if self.present is None else np.searchsorted(self.present, rows)
            for i, value in zip(local.tolist(), self.slow.values(), strict=True):
                if value is None:
                    continue
                try:
                    typed[i] = _key_of(kind, value) if typed.dtype != object else value
                except (ValueError, TypeError, OverflowError):
                    typed = typed.astype(object)
                    typed[i] = value
                    approx = True
        if self.present is None:
            return typed, approx
        out = np.zeros(n, dtype=typed.dtype) if typed.dtype != object else np.empty(n, object)
        out[self.present] = typed
        return out, approx


#: a column is checked once per distinct string when its sample has this share of them or less
_DISTINCT_SHARE = 0.25
_SAMPLE = 1 << 14


def _distinct(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, distinct strings) of a column with few distinct strings (None: many)."""
    n = len(cells)
    if n < 2 * _SAMPLE:
        return None
    sample = cells[:: n // _SAMPLE][:_SAMPLE]
    if len(pd.unique(sample)) > _DISTINCT_SHARE * len(sample):
        return None
    codes, uniques = pd.factorize(cells)  # None (absent) -> -1
    return codes, np.asarray(uniques, dtype=object)


class _Column:
    """One expected field's cells, checked: directly, or once per distinct string (a
    column of years, adcodes or dates) and spread back to the rows."""

    def __init__(self, plan: _Plan, position: int, cells: np.ndarray, absent: np.ndarray | None):
        self.plan = plan
        self.position = position
        self.cells = cells
        distinct = _distinct(cells)
        self._codes: np.ndarray | None = None
        if distinct is None:
            ev = _Cells(plan, cells, absent)
            self.null, self.absent, self.type_error = ev.null, ev.absent, ev.type_error
            self.failures, self.valid = ev.failures, ev.valid
        else:
            codes, uniques = distinct
            values = np.empty(len(uniques) + 1, dtype=object)
            values[:-1] = uniques  # the last one stands for an absent cell (code -1)
            marks = np.zeros(len(values), dtype=bool)
            marks[-1] = True
            ev = _Cells(plan, values, marks)
            self._codes = codes
            self.null, self.absent = self._spread(ev.null), self._spread(ev.absent)
            self.type_error, self.valid = self._spread(ev.type_error), self._spread(ev.valid)
            self.failures = [(name, self._spread(mask)) for name, mask in ev.failures]
        self._ev = ev

    def _spread(self, mask: np.ndarray) -> np.ndarray:
        assert self._codes is not None
        if not mask.any():
            return np.zeros(len(self._codes), dtype=bool)
        if mask.all():
            return np.ones(len(self._codes), dtype=bool)
        return mask[self._codes]

    def exact(self, row: int) -> Any:
        """Frictionless' typed value of a row's cell (None: null or type error)."""
        return self._ev.exact(row if self._codes is None else int(self._codes[row]))

    @cached_property
    def keys(self) -> tuple[np.ndarray, bool]:
        """(a hashable key per row, valid where ``valid``; whether key equality only
        approximates frictionless' value equality and needs an exact second look)."""
        keys, approx = self._ev.keys
        return (keys if self._codes is None else keys[self._codes]), approx


def _key_of(kind: str, value: Any) -> Any:
    if kind == "number":
        return float(value)
    if kind in ("date", "datetime"):
        if isinstance(value, datetime) and value.tzinfo is not None:
            raise TypeError("aware")
        return np.datetime64(value)
    return value


def _read_cell(plan: _Plan, cell: Any) -> tuple[Any, dict[str, str] | None]:
    try:
        return plan.cell_reader(cell)
    except Exception as exc:  # e.g. a naive cell against an aware bound
        return None, {"type": f"cannot be read: {exc}"}


# -- validation --------------------------------------------------------------------------


def _dedup(names: list[str]) -> list[str]:
    out: list[str] = []
    used: set[str] = set()
    for name in names:
        new, suffix = name, 2
        while new in used:
            new, suffix = f"{name}{suffix}", suffix + 1
        out.append(new)
        used.add(new)
    return out


def _header(labels: list[str], plans: list[_Plan]) -> tuple[list[dict[str, Any]], list[_Plan]]:
    """Header errors and the fields expected in the rows, as frictionless pairs them."""
    if not labels:
        return [], list(plans)
    errors: list[dict[str, Any]] = []
    n_labels, n_fields = len(labels), len(plans)

    def error(kind: str, field: str | None, message: str) -> None:
        errors.append({"row": 1, "field": field, "type": kind, "message": message})

    for number in range(n_fields + 1, n_labels + 1):
        label = labels[number - 1]
        error(
            "extra-label",
            None,
            f'There is an extra label "{label}" in header at position "{number}"',
        )
    for offset, plan in enumerate(plans[n_labels:]):
        error(
            "missing-label",
            plan.name,
            f'There is a missing label in the header\'s field "{plan.name}" '
            f'at position "{n_labels + offset + 1}"',
        )
    for i in range(min(n_labels, n_fields)):
        label, name, number = labels[i], plans[i].name, i + 1
        if not label:
            message = f'Label in the header in field at position "{number}" is blank'
            error("blank-label", name, message)
            continue
        seen = [str(j + 1) for j in range(i) if labels[j] == label]
        if seen:
            error(
                "duplicate-label",
                name,
                f'Label "{label}" in the header at position "{number}" is duplicated to a '
                f'label: at position "{", ".join(seen)}"',
            )
            continue
        if label != name:
            error(
                "incorrect-label",
                name,
                f'Label "{label}" in field {name} at position "{number}" does not match the '
                "field name in the schema",
            )
    expected = list(plans[:n_labels])
    if n_labels > n_fields:
        names = _dedup([p.name for p in expected] + labels[n_fields:])[n_fields:]
        for name in names:
            expected.append(_plan(Field.from_descriptor({"name": name, "type": "any"}), [""]))
    return errors, expected


def _column_cells(frame: pd.DataFrame, position: int) -> np.ndarray:
    series = frame.iloc[:, position]
    if series.dtype == object:
        return series.to_numpy()
    if isinstance(series.dtype, pd.StringDtype):
        return series.to_numpy(dtype=object, na_value=None)
    raise TableUnreadable(
        f"column {position + 1} holds {series.dtype}, not text: validate the table as read "
        "(read_table, or pandas with dtype=str and keep_default_na=False)"
    )


def _labels(frame: pd.DataFrame, header: list[str] | None) -> list[str]:
    if header is not None:
        raw = list(header)
    elif LABELS_ATTR in frame.attrs:
        raw = list(frame.attrs[LABELS_ATTR])
    else:
        raw = list(frame.columns)
    labels = ["" if v is None else str(v).strip() for v in raw]
    if labels:
        labels[0] = labels[0].lstrip("\ufeff").strip()
    return labels


def _series(values: np.ndarray) -> pd.Series:
    """A Series of ``values``; object arrays stay object (no string dtype inferred)."""
    return pd.Series(values, dtype=object) if values.dtype == object else pd.Series(values)


def _duplicates(columns: list[_Column]) -> tuple[np.ndarray, np.ndarray]:
    """(rows whose key, over ``columns``, repeats an earlier row's; rows whose key cells
    are all None), as frictionless' memory of seen keys decides."""
    n = len(columns[0].cells)
    valid = [c.valid for c in columns]
    all_none = ~np.logical_or.reduce(valid)
    dup = np.zeros(n, dtype=bool)
    everyone = not all_none.any()
    check = np.arange(n) if everyone else np.flatnonzero(~all_none)
    if not len(check):
        return dup, all_none
    keyed = [c.keys for c in columns]
    approx = any(a for _, a in keyed)
    parts: dict[str, Any] = {}
    for j, (col, (keys, _)) in enumerate(zip(columns, keyed, strict=True)):
        k = keys if everyone else keys[check]
        v = col.valid if everyone else col.valid[check]
        if len(columns) > 1 or not v.all():
            parts[f"v{j}"] = v
            k = np.where(v, k, None) if k.dtype == object else np.where(v, k, np.zeros(1, k.dtype))
        parts[f"k{j}"] = k
    # approximate keys: every member of a repeated group is a candidate for the second look
    keep: Literal["first", False] = False if approx else "first"
    try:
        if len(parts) == 1:
            seen = _series(parts["k0"]).duplicated(keep=keep)
        else:
            seen = pd.DataFrame({k: _series(v) for k, v in parts.items()}).duplicated(keep=keep)
    except TypeError:  # unhashable values (array/object fields): frictionless fails there
        return dup, all_none
    hits = check[seen.to_numpy()]
    if not approx:
        dup[hits] = True
        return dup, all_none
    memory: set[Any] = set()
    for row in hits.tolist():  # exact second look at the float-equal candidates
        key = tuple(c.exact(row) for c in columns)
        try:
            if key in memory:
                dup[row] = True
            memory.add(key)
        except TypeError:  # unhashable (array/object fields): frictionless fails there
            continue
    return dup, all_none


def _previous(columns: list[_Column], row: int) -> int | None:
    """The last row before ``row`` with the same key (the row frictionless names)."""
    before = np.ones(row, dtype=bool)
    for col in columns:
        keys, _ = col.keys
        if col.valid[row]:
            same = col.valid[:row] & np.asarray(keys[:row] == keys[row], dtype=bool)
        else:
            same = ~col.valid[:row]
        before &= same
    key = tuple(c.exact(row) for c in columns)
    for r in np.flatnonzero(before)[::-1].tolist():
        if tuple(c.exact(r) for c in columns) == key:
            return r
    return None


def validate_frame(
    frame: pd.DataFrame, schema: TableSchema, *, header: list[str] | None = None
) -> Report:
    """Validate a table read as strings (:func:`read_table`, or pandas with ``dtype=str,
    keep_default_na=False``) against ``schema``, as frictionless would.

    ``header``: the header's labels (default: those :func:`read_table` recorded, else the
    frame's column names); columns are paired with the fields by position, and columns
    beyond the header hold the extra cells of long records (None where a record has none).
    """
    labels = _labels(frame, header)
    _check_delimiter(labels, schema, "the table")
    n, width = len(frame), frame.shape[1]
    header_errors, expected = _header(labels, schema._plans)
    complete = frame.attrs.get(COMPLETE_ATTR) is True
    columns: list[_Column] = []
    for position, plan in enumerate(expected):
        if position < width:
            cells = _column_cells(frame, position)
            absent = None if complete else np.asarray(pd.isna(cells), dtype=bool)
        else:
            cells = np.full(n, None, dtype=object)
            absent = np.ones(n, dtype=bool)
        columns.append(_Column(plan, position, cells, absent))
    extra_positions = list(range(len(expected), width)) if labels else []
    extra = [
        (p, ~np.asarray(pd.isna(_column_cells(frame, p)), dtype=bool)) for p in extra_positions
    ]

    blank = np.logical_and.reduce([c.null for c in columns]) if columns else np.zeros(n, bool)
    keep = ~blank
    any_blank = bool(blank.any())
    counts: dict[str, int] = {e["type"]: 0 for e in header_errors}
    for e in header_errors:
        counts[e["type"]] += 1
    per_row = np.zeros(n, dtype=np.int64)

    def add(kind: str, mask: np.ndarray, *, blank_too: bool = False) -> None:
        if not blank_too and any_blank:
            mask = mask & keep
        total = int(np.count_nonzero(mask))
        if total:
            counts[kind] = counts.get(kind, 0) + total
            per_row[mask] += 1

    for col in columns:
        add("type-error", col.type_error)
        for _, mask in col.failures:
            add("constraint-error", mask)
    for _, mask in extra:
        add("extra-cell", mask)
    for col in columns:
        add("missing-cell", col.absent)
    add("blank-row", blank, blank_too=True)
    unique: list[tuple[_Column, np.ndarray]] = []
    for col in columns:
        if col.plan.unique and col.position < len(schema._plans):
            dup, _ = _duplicates([col])
            unique.append((col, dup))
            add("unique-error", dup, blank_too=True)
    pk_cols: list[_Column] = []
    names = [c.plan.name for c in columns[: len(schema._plans)]]
    if schema.primary_key and set(schema.primary_key) <= set(names):
        pk_cols = [columns[names.index(name)] for name in schema.primary_key]
        dup, all_none = _duplicates(pk_cols)
        pk = dup | all_none
        add("primary-key", pk, blank_too=True)
    else:
        pk = np.zeros(n, dtype=bool)
        all_none = pk

    first = list(header_errors[:FIRST_ERRORS])
    wanted = FIRST_ERRORS - len(first)
    if wanted > 0 and per_row.any():
        rows = np.flatnonzero(per_row)
        upto = int(np.searchsorted(np.cumsum(per_row[rows]), wanted)) + 1
        for row in rows[:upto].tolist():
            first.extend(_row_errors(row, columns, extra, blank, unique, pk_cols, pk, all_none))
    error_count = sum(counts.values())
    return Report(
        rows=n,
        error_count=error_count,
        errors_by_kind={k: v for k, v in sorted(counts.items()) if v},
        first_errors=first[:FIRST_ERRORS],
        schema_sha256="0x" + schema.digest().hex(),
    )


def _row_errors(
    row: int,
    columns: list[_Column],
    extra: list[tuple[int, np.ndarray]],
    blank: np.ndarray,
    unique: list[tuple[_Column, np.ndarray]],
    pk_cols: list[_Column],
    pk: np.ndarray,
    all_none: np.ndarray,
) -> list[dict[str, Any]]:
    """One row's errors, in frictionless' order and words.

    Frictionless reads a row's cells lazily: the unique fields' cells first (each checked
    for a repeat as it is read), then the primary key's, and the rest of the row only when
    its error list is first needed (for a unique or key error, or at the end); each cell's
    errors are appended as it is read.
    """
    number = row + 2
    out: list[dict[str, Any]] = []
    read: set[int] = set()
    done = False

    def error(kind: str, field: str | None, message: str) -> None:
        out.append({"row": number, "field": field, "type": kind, "message": message})

    def read_cell(col: _Column) -> None:
        if done or col.position in read:
            return
        read.add(col.position)
        name, pos = col.plan.name, col.position + 1
        cell = str(col.cells[row])
        if col.type_error[row]:
            _, notes = _read_cell(col.plan, col.cells[row])
            error(
                "type-error",
                name,
                f'Type error in the cell "{cell}" in row "{number}" and field "{name}" '
                f'at position "{pos}": {(notes or {}).get("type", "")}',
            )
            return
        for constraint, mask in col.failures:
            if mask[row]:
                declared = col.plan.field.constraints[constraint]
                error(
                    "constraint-error",
                    name,
                    f'The cell "{cell}" in row at position "{number}" and field "{name}" '
                    f'at position "{pos}" does not conform to a constraint: '
                    f'constraint "{constraint}" is "{declared}"',
                )

    def read_row() -> None:
        nonlocal done, out
        if done:
            return
        for col in columns:
            read_cell(col)
        for position, mask in extra:
            if mask[row]:
                error(
                    "extra-cell",
                    None,
                    f'Row at position "{number}" has an extra value in field at position '
                    f'"{position + 1}"',
                )
        for col in columns:
            if col.absent[row]:
                error(
                    "missing-cell",
                    col.plan.name,
                    f'Row at position "{number}" has a missing cell in field "{col.plan.name}" '
                    f'at position "{col.position + 1}"',
                )
        if blank[row]:
            out = []
            error("blank-row", None, f'Row at position "{number}" is completely blank')
        done = True

    for col, dup in unique:
        read_cell(col)
        if dup[row]:
            read_row()
            prev = _previous([col], row)
            error(
                "unique-error",
                col.plan.name,
                f'Row at position "{number}" has unique constraint violation in field '
                f'"{col.plan.name}" at position "{col.position + 1}": the same as in the row '
                f"at position {prev + 2 if prev is not None else '?'}",
            )
    for col in pk_cols:
        read_cell(col)
    if pk[row]:
        read_row()
        if all_none[row]:
            note = 'cells composing the primary keys are all "None"'
        else:
            prev = _previous(pk_cols, row)
            note = f"the same as in the row at position {prev + 2 if prev is not None else '?'}"
        error("primary-key", None, f'Row at position "{number}" violates the primary key: {note}')
    read_row()
    return out


def validate_table(path: Path, schema: TableSchema, *, prove: bool = True) -> Report:
    """Validate the CSV at ``path`` against ``schema``; :class:`TableUnreadable` if it
    cannot be read as a table. See :func:`validate_data`."""
    return validate_data(Path(path), schema, prove=prove)


def validate_data(data: bytes | Path, schema: TableSchema, *, prove: bool = True) -> Report:
    """Validate a CSV (its bytes, or its file) against ``schema``.

    A plain valid table is proved so with Arrow (:func:`node.quality.proof.proven_rows`,
    unless ``prove`` is False); any other is read (:func:`read_table`) and checked exactly
    (:func:`validate_frame`), which is what reports errors. Both give the same report.
    """
    if prove:
        from node.quality.proof import proven_rows

        raw: bytes | None = None
        if isinstance(data, bytes | bytearray | memoryview):
            raw = bytes(data)
        elif Path(data).is_file():
            try:
                raw = Path(data).read_bytes()
            except OSError:
                raw = None  # read_table says why
        rows = proven_rows(raw, schema) if raw is not None else None
        if rows is not None:
            return Report(
                rows=rows,
                error_count=0,
                errors_by_kind={},
                first_errors=[],
                schema_sha256="0x" + schema.digest().hex(),
            )
    frame = read_table(data)
    name = data.name if isinstance(data, Path) else "the table"
    _check_delimiter(frame.attrs[LABELS_ATTR], schema, name)
    return validate_frame(frame, schema)


def _check_delimiter(labels: list[str], schema: TableSchema, name: str) -> None:
    """Refuse a table whose header reads as one column holding another delimiter while
    the schema has several fields (frictionless would sniff the delimiter)."""
    if len(schema._plans) < 2 or len(labels) != 1:
        return
    for delimiter, said in ((";", "';'"), ("\t", "a tab"), ("|", "'|'")):
        if delimiter in labels[0]:
            raise TableUnreadable(
                f"{name} seems delimited by {said}, not by commas: its header reads as one "
                f"column while the schema has {len(schema._plans)} fields; save it as "
                "comma-separated CSV"
            )


# -- typed table (pandera) ---------------------------------------------------------------

_TYPED_DTYPES = {
    "integer": "Int64",
    "year": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "date": "datetime64[s]",
    "datetime": "datetime64[s]",
    "string": "string",
}


def typed_frame(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """The schema fields' columns typed as :meth:`TableSchema.to_pandera` expects them
    (nullable integers, floats and booleans, datetime64[s], strings; other types as
    objects), null where a cell is null or does not parse."""
    labels = _labels(frame, None)
    n, width = len(frame), frame.shape[1]
    complete = frame.attrs.get(COMPLETE_ATTR) is True
    out: dict[str, pd.Series] = {}
    for position, plan in enumerate(schema._plans):
        if position < width and (position < len(labels) or not labels):
            cells = _column_cells(frame, position)
            absent = None if complete else np.asarray(pd.isna(cells), dtype=bool)
        else:
            cells, absent = np.full(n, None, dtype=object), np.ones(n, dtype=bool)
        out[plan.name] = _typed_series(_Cells(plan, cells, absent))
    return pd.DataFrame(out)


def _typed_series(col: _Cells) -> pd.Series:
    plan, valid, n = col.plan, col.valid, len(col.cells)
    kind, dtype = plan.type, _TYPED_DTYPES.get(plan.type)
    if plan.fast and all(v is None for v in col.slow.values()):
        typed = col.typed
        if col.present is not None:
            full = np.zeros(n, dtype=typed.dtype) if typed.dtype != object else np.empty(n, object)
            full[col.present] = typed
            typed = full
        if kind in ("integer", "year"):
            return pd.Series(pd.arrays.IntegerArray(typed.astype(np.int64), ~valid))
        if kind == "number":
            return pd.Series(pd.arrays.FloatingArray(typed.astype(np.float64), ~valid))
        if kind == "boolean":
            return pd.Series(pd.arrays.BooleanArray(typed.astype(bool), ~valid))
        if kind in ("date", "datetime"):
            nat = np.datetime64("NaT")
            return pd.Series(np.where(valid, typed, nat).astype("datetime64[s]"))
        return pd.Series(np.where(valid, typed, None), dtype=dtype or object)
    values = [col.exact(r) for r in range(n)]
    if kind == "number":
        values = [None if v is None else float(v) for v in values]
    series = pd.Series(values, dtype=object)
    if dtype is not None:
        try:
            return series.astype(dtype)
        except (TypeError, ValueError, OverflowError):
            pass
    return series
