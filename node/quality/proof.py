"""A quick proof that a table is valid, with Arrow, before the exact check is needed.

Most published tables are valid and plain: comma-separated UTF-8 without quotes, a header
that names the fields in order, cells in their type's plainest spelling. For those, reading
and checking every column with pyarrow's multithreaded CSV reader and compute kernels takes
a fraction of the time of :func:`node.quality.tabular.validate_frame` (which works on Python
strings to reproduce frictionless' errors, messages and row numbers exactly).

:func:`proven_rows` either *proves* the table valid, giving its number of data rows, or
gives up (None), and the caller runs the exact check. It never decides that a table is
invalid. Every accepted spelling is a subset of what the exact check accepts with the same
value (ASCII digits with an optional ``-`` for integers, plain decimals for numbers,
``YYYY-MM-DD`` dates...),
comparisons that floats could get wrong are re-decided exactly (a tie with a bound), and
anything unusual gives up: quotes, a lone CR, NUL bytes, a header other than the field
names, a missing value that would read as a cell of its type, a ragged or blank line, a
type or constraint not handled here. tests/quality/test_proof.py holds it to the exact check
on generated tables, and to frictionless through the exact check's own tests.
"""

from __future__ import annotations

import io
import operator
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from node.quality.tabular import TableSchema, _Plan

#: spellings accepted here per type (all read by frictionless as the same value as here);
#: integers and years are first tried with a cheaper all-digits test
_SPELLING = {
    "integer": r"^-?[0-9]{1,18}$",
    "number": r"^-?[0-9]{1,15}(\.[0-9]{1,17})?$",
    "year": r"^[0-9]{4}$",
}
_COMPARE = {
    "minimum": ("greater_equal", operator.ge),
    "maximum": ("less_equal", operator.le),
    "exclusiveMinimum": ("greater", operator.gt),
    "exclusiveMaximum": ("less", operator.lt),
}
_INT64_MAX = 2**63 - 1
#: a pattern is checked in Python once per distinct string, up to this many of them
_PATTERN_DISTINCT = 1 << 16


class _GiveUp(Exception):
    """The proof cannot be made: control flow back to the exact check, not an error."""


def proven_rows(body: bytes, schema: TableSchema) -> int | None:
    """The number of data rows of the CSV ``body`` if it is proved valid against ``schema``;
    None if it could not be (it may still be valid: run the exact check)."""
    try:
        return _prove(body, schema)
    except _GiveUp:
        return None


def _prove(body: bytes, schema: TableSchema) -> int:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    plans = schema._plans
    names = [p.name for p in plans]
    if len(plans) < 2 or len(set(names)) != len(names):
        raise _GiveUp  # a one-column table cannot tell a blank line from an empty cell
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    if b'"' in body or b"\x00" in body:
        raise _GiveUp
    if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
        raise _GiveUp  # a lone CR
    if body.startswith((b"\n", b"\r")):
        raise _GiveUp  # (a blank line further on is a row too short for Arrow: it gives up)
    end = body.find(b"\n")
    first = body[: end if end >= 0 else len(body)].removesuffix(b"\r")
    try:
        labels = first.decode("utf-8").split(",")
    except UnicodeDecodeError:
        raise _GiveUp from None
    if labels != names:
        raise _GiveUp
    columns = [f"c{i}" for i in range(len(names))]
    try:
        table = pcsv.read_csv(
            io.BytesIO(body),
            read_options=pcsv.ReadOptions(column_names=columns, skip_rows=1),
            parse_options=pcsv.ParseOptions(
                quote_char=False, ignore_empty_lines=False, newlines_in_values=False
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                null_values=[],
                strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowKeyError):  # ragged rows, not UTF-8...
        raise _GiveUp from None
    keys: dict[str, pa.ChunkedArray] = {}
    key_fields = set(schema.primary_key)
    if len(key_fields) == 1:
        key_fields = set()  # a single-field key is checked as required and unique
        single_key = schema.primary_key[0]
    else:
        single_key = None

    def check(plan: _Plan, column: pa.ChunkedArray) -> pa.ChunkedArray:
        in_key = plan.name == single_key
        typed = _field(plan, column, required=plan.required or in_key or plan.name in key_fields)
        if plan.unique or in_key:
            _distinct(typed)
        return typed

    # Arrow's kernels release the GIL: the columns are checked side by side, the unique
    # ones (a hash of every value, the slowest) started first
    order = sorted(
        range(len(plans)), key=lambda i: not (plans[i].unique or plans[i].name == single_key)
    )
    with ThreadPoolExecutor(max_workers=max(1, min(len(plans), os.cpu_count() or 1))) as pool:
        futures = {i: pool.submit(check, plans[i], table.column(i)) for i in order}
        try:
            typed = {i: futures[i].result() for i in order}
        except BaseException:
            for f in futures.values():
                f.cancel()
            raise
    for i, plan in enumerate(plans):
        if plan.name in key_fields:
            keys[plan.name] = typed[i]
    if keys:
        _distinct_rows(keys, table.num_rows)
    return table.num_rows


def _field(plan: _Plan, cells: pa.ChunkedArray, *, required: bool) -> pa.ChunkedArray:
    """The field's typed present values; gives up unless every cell is proved valid."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = plan.type
    if not plan.fast or kind not in ("string", "integer", "number", "year", "date"):
        raise _GiveUp
    spelling = _SPELLING.get(kind)
    marks = list(plan.missing)
    if spelling and any(re.match(spelling, m) for m in marks):
        raise _GiveUp  # a missing value that reads as a value: leave it to the exact check
    if marks:
        null = pc.is_in(cells, value_set=pa.array(marks, pa.string()))
        if pc.any(null).as_py():
            if required:
                raise _GiveUp
            cells = pc.filter(cells, pc.invert(null))
    if kind == "date" and any(len(m) == 10 and m[4] == "-" == m[7] for m in marks):
        raise _GiveUp
    try:
        if kind in ("integer", "year"):
            if kind == "year" and not _all(pc.equal(pc.binary_length(cells), 4)):
                raise _GiveUp
            if not _all(pc.ascii_is_decimal(cells)) and (
                kind == "year" or not _all(pc.match_substring_regex(cells, spelling))
            ):
                raise _GiveUp
            typed = pc.cast(cells, pa.int64())  # overflow: ArrowInvalid
        elif kind == "number":
            if not _all(pc.match_substring_regex(cells, spelling)):
                raise _GiveUp
            typed = pc.cast(cells, pa.float64())
        elif kind == "date":
            # Arrow's date parse takes exactly YYYY-MM-DD (ASCII digits) and refuses days a
            # month does not have (tests/quality/test_proof.py tries the near misses)
            typed = pc.cast(cells, pa.date32())
            if len(typed) and pc.less(pc.min(typed), pa.scalar(date(1, 1, 1), pa.date32())).as_py():
                raise _GiveUp  # year 0 is no date in Python
        else:
            typed = cells
    except pa.ArrowInvalid:
        raise _GiveUp from None
    for name, value in plan.checks:
        _constraint(plan, name, value, cells, typed)
    return typed


def _all(mask: Any) -> bool:
    import pyarrow.compute as pc

    return len(mask) == 0 or bool(pc.all(mask).as_py())


def _constraint(plan: _Plan, name: str, value: Any, cells: Any, typed: Any) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = plan.type
    if not len(typed):
        return
    if name in _COMPARE:
        kernel, op = _COMPARE[name]
        bound = plan.typed[name]
        if kind in ("integer", "year"):
            if not isinstance(bound, int) or abs(bound) > _INT64_MAX:
                raise _GiveUp
            scalar = pa.scalar(bound, pa.int64())
        elif kind == "number":
            scalar = pa.scalar(float(bound), pa.float64())
        elif kind == "date" and type(bound) is date:
            scalar = pa.scalar(bound, pa.date32())
        else:
            raise _GiveUp
        if kind == "number":
            # a float comparison is sound only when strict (rounding to float is monotone:
            # a cell whose float is beyond the bound's float is beyond the bound); a float
            # tie is decided on the exact (Decimal) value of the cell
            strict = "greater" if name in ("minimum", "exclusiveMinimum") else "less"
            beyond = getattr(pc, strict)(typed, scalar)
            if pc.all(beyond).as_py():
                return
            fails = pc.invert(beyond)
            if not pc.all(pc.equal(pc.filter(typed, fails), scalar)).as_py():
                raise _GiveUp
            tied = pc.unique(pc.filter(cells, fails)).to_pylist()
            if not all(op(plan.value_reader(s), bound) for s in tied):
                raise _GiveUp
        elif not pc.all(getattr(pc, kernel)(typed, scalar)).as_py():
            raise _GiveUp
    elif name == "enum":
        members = [m for m in plan.typed["enum"] if m is not None]
        if kind == "string":
            allowed = pa.array([m for m in members if isinstance(m, str)], pa.string())
            if not pc.all(pc.is_in(typed, value_set=allowed)).as_py():
                raise _GiveUp
        elif kind in ("integer", "year"):
            ints = [m for m in members if isinstance(m, int) and abs(m) <= _INT64_MAX]
            if not pc.all(pc.is_in(typed, value_set=pa.array(ints, pa.int64()))).as_py():
                raise _GiveUp
        elif kind == "number":
            floats = pa.array([float(m) for m in members], pa.float64())
            if not pc.all(pc.is_in(typed, value_set=floats)).as_py():
                raise _GiveUp
            # float-equal is not Decimal-equal: decide each distinct string exactly
            if not all(plan.value_reader(s) in members for s in pc.unique(cells).to_pylist()):
                raise _GiveUp
        else:
            raise _GiveUp
    elif name in ("minLength", "maxLength") and kind == "string":
        lengths = pc.utf8_length(typed)
        limit = pa.scalar(int(value), lengths.type)
        ok = pc.greater_equal if name == "minLength" else pc.less_equal
        if not pc.all(ok(lengths, limit)).as_py():
            raise _GiveUp
    elif name == "pattern" and kind == "string":
        distinct = pc.unique(typed)
        if len(distinct) > _PATTERN_DISTINCT:
            raise _GiveUp
        match: Callable[[str], Any] = re.compile(f"^{value}$").match
        if not all(match(s) for s in distinct.to_pylist()):
            raise _GiveUp
    else:
        raise _GiveUp


def _as_keys(typed: Any) -> Any:
    """Values compared as frictionless compares them: -0.0 and 0.0 are one number."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(typed.type):
        return pc.add(typed, pa.scalar(0.0, typed.type))  # -0.0 + 0.0 is 0.0
    return typed


def _distinct(typed: Any) -> None:
    import pyarrow.compute as pc

    if len(typed) and len(pc.unique(_as_keys(typed))) != len(typed):
        raise _GiveUp


def _distinct_rows(keys: dict[str, Any], rows: int) -> None:
    import pyarrow as pa

    table = pa.table({k: _as_keys(v) for k, v in keys.items()})
    if table.group_by(list(keys)).aggregate([]).num_rows != rows:
        raise _GiveUp
