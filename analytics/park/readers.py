"""Park and review tables: CSV readers and the checks every input table goes through.

Park table: one row per park, columns ``park_id``, ``name``, ``type`` and one column per
framework indicator (raw values; a blank cell means "not reported"); other columns are kept
as given. Review table: one row per (park, expert, dimension) — or per indicator, with a column
``indicator`` instead of ``dimension`` — and a ``score`` in 0–100.

Every problem raises :class:`~analytics.errors.InvalidData` naming the 1-based data row (and
the park) and the column.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.errors import InvalidData
from analytics.indicators.framework import Framework
from analytics.park.framework import indicator_table, load_park_framework
from analytics.tables import read_text_table

__all__ = [
    "PARK_KEYS",
    "REVIEW_ITEMS",
    "read_parks",
    "read_reviews",
    "review_item",
    "validate_parks",
    "validate_reviews",
]

PARK_KEYS: tuple[str, ...] = ("park_id", "name", "type")
#: A review scores either dimensions or indicators: the table has exactly one of these columns.
REVIEW_ITEMS: tuple[str, ...] = ("dimension", "indicator")


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _text(value: Any, where: str, column: str) -> str:
    if _blank(value):
        raise InvalidData(f"{where}, column {column}: blank; a value is required")
    return str(value).strip()


def _number(value: Any, where: str, column: str) -> float:
    """A finite float from a cell; blank cells are NaN (a missing value)."""
    if _blank(value):
        return math.nan
    if isinstance(value, bool):
        raise InvalidData(f"{where}, column {column}: {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidData(f"{where}, column {column}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidData(f"{where}, column {column}: {value!r} is not a finite number")
    return number


def validate_parks(
    parks: pd.DataFrame, framework: Framework | None = None, *, where: str = "parks"
) -> pd.DataFrame:
    """A checked copy of a park table: keys as text, indicators as floats, extras unchanged.

    Checks: columns ``park_id``, ``name``, ``type`` and every framework indicator are present;
    keys are non-blank and ``park_id`` unique; every indicator value is blank (missing) or a
    finite number >= 0 (no indicator of the park index can be negative) and, when the
    indicator's unit is ``%``, at most 100. The frame keeps its row order with a fresh index.
    """
    framework = framework if framework is not None else load_park_framework()
    meta = indicator_table(framework)
    codes = list(meta["code"])
    missing = [c for c in (*PARK_KEYS, *codes) if c not in parks.columns]
    if missing:
        raise InvalidData(f"{where}: missing column(s) {', '.join(missing)}")
    shares = set(meta.loc[meta["unit"].str.strip() == "%", "code"])
    extras = [c for c in parks.columns if c not in PARK_KEYS and c not in codes]
    records: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for number, raw in enumerate(parks.to_dict("records"), start=1):
        row = f"{where}: data row {number}"
        pid = _text(raw["park_id"], row, "park_id")
        at = f"{row} (park {pid})"
        if pid in first_row:
            raise InvalidData(
                f"{at}, column park_id: repeats data row {first_row[pid]}; park ids must be unique"
            )
        first_row[pid] = number
        record: dict[str, Any] = {
            "park_id": pid,
            "name": _text(raw["name"], at, "name"),
            "type": _text(raw["type"], at, "type"),
        }
        for code in codes:
            value = _number(raw[code], at, code)
            if value < 0:
                raise InvalidData(f"{at}, column {code}: {value:g} is negative")
            if code in shares and value > 100:
                raise InvalidData(f"{at}, column {code}: {value:g} % is above 100 %")
            record[code] = value
        record.update({c: raw[c] for c in extras})
        records.append(record)
    if not records:
        raise InvalidData(f"{where}: no parks")
    frame = pd.DataFrame(records, columns=[*PARK_KEYS, *codes, *extras])
    return frame.astype({c: float for c in codes})


def read_parks(path: Path, framework: Framework | None = None) -> pd.DataFrame:
    """Read a park table from a UTF-8 CSV and check it with :func:`validate_parks`."""
    return validate_parks(read_text_table(path, "parks"), framework, where=str(path))


def review_item(reviews: pd.DataFrame, where: str = "reviews") -> str:
    """The column a review table scores: ``dimension`` or ``indicator`` (exactly one)."""
    present = [c for c in REVIEW_ITEMS if c in reviews.columns]
    if len(present) != 1:
        raise InvalidData(
            f"{where}: give exactly one of the columns 'dimension' or 'indicator' "
            f"(found {present or 'neither'})"
        )
    return present[0]


def validate_reviews(reviews: pd.DataFrame, *, where: str = "reviews") -> pd.DataFrame:
    """A checked copy of a review table: ``park``, ``expert``, the item column, ``score``.

    Keys must be non-blank, ``score`` a number in 0–100, and each (park, expert, item) may
    appear once. Other columns are kept unchanged; row order is kept with a fresh index.
    """
    item = review_item(reviews, where)
    keys = ("park", "expert", item)
    missing = [c for c in (*keys, "score") if c not in reviews.columns]
    if missing:
        raise InvalidData(f"{where}: missing column(s) {', '.join(missing)}")
    extras = [c for c in reviews.columns if c not in (*keys, "score")]
    records: list[dict[str, Any]] = []
    first_row: dict[tuple[str, ...], int] = {}
    for number, raw in enumerate(reviews.to_dict("records"), start=1):
        row = f"{where}: data row {number}"
        record: dict[str, Any] = {k: _text(raw[k], row, k) for k in keys}
        at = f"{row} (park {record['park']}, expert {record['expert']})"
        score = _number(raw["score"], at, "score")
        if math.isnan(score):
            raise InvalidData(f"{at}, column score: blank; every review row needs a score")
        if not 0 <= score <= 100:
            raise InvalidData(f"{at}, column score: {score:g} is outside 0–100")
        record["score"] = score
        key = tuple(record[k] for k in keys)
        if key in first_row:
            raise InvalidData(
                f"{at}, column {item}: {record[item]!r} was already scored by this expert in "
                f"data row {first_row[key]}"
            )
        first_row[key] = number
        record.update({c: raw[c] for c in extras})
        records.append(record)
    frame = pd.DataFrame(records, columns=[*keys, "score", *extras])
    return frame.astype({"score": float})


def read_reviews(path: Path) -> pd.DataFrame:
    """Read expert reviews from a UTF-8 CSV and check them with :func:`validate_reviews`."""
    return validate_reviews(read_text_table(path, "reviews"), where=str(path))
