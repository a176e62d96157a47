"""Diagnostics of a built index: how children track parents, collinear siblings, unit profiles.

All functions read a *cross-section* of scores: a DataFrame indexed by ``uCode`` with one
numeric column per indicator or aggregate code, and ``parents`` mapping each child code to its
parent code (the top node has no entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import InvalidData, InvalidFramework

Method = Literal["pearson", "spearman"]
METHODS = ("pearson", "spearman")
# Two points always lie on a line: a correlation needs three units to say anything.
MIN_UNITS = 3
VALID_SHOWN = 5


def _check_scores(scores: pd.DataFrame, *, where: str) -> None:
    if not isinstance(scores, pd.DataFrame):
        raise InvalidData(f"{where}: expected a DataFrame indexed by uCode, got {type(scores)}")
    if scores.index.has_duplicates:
        dup = scores.index[scores.index.duplicated()][0]
        raise InvalidData(f"{where}: unit {dup} appears more than once")
    if scores.columns.has_duplicates:
        dup = scores.columns[scores.columns.duplicated()][0]
        raise InvalidData(f"{where}: column {dup!r} appears more than once")
    for code in scores.columns:
        col = scores[code]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise InvalidData(f"{where}: column {code!r} is not numeric ({col.dtype})")
        if np.isinf(col.to_numpy(dtype=float, na_value=np.nan)).any():
            unit = scores.index[np.isinf(col.to_numpy(dtype=float, na_value=np.nan))][0]
            raise InvalidData(f"{where}: column {code!r} is infinite for unit {unit}")


def _check_parents(parents: Mapping[str, str], *, where: str) -> None:
    for child, parent in parents.items():
        if child == parent:
            raise InvalidFramework(f"{where}: code {child!r} is its own parent")
    # Following parents from any code must reach the top; a loop never would.
    for start in parents:
        seen = {start}
        code = start
        while code in parents:
            code = parents[code]
            if code in seen:
                raise InvalidFramework(f"{where}: the hierarchy loops through {code!r}")
            seen.add(code)


def _check_method(method: str, *, where: str) -> None:
    if method not in METHODS:
        raise InvalidData(f"{where}: method={method!r}, expected 'pearson' or 'spearman'")


def _correlation(a: pd.Series, b: pd.Series, method: str) -> tuple[int, float]:
    """Correlation over the units where both are present, and how many they are.

    NaN below three units or when either column is constant there, where a correlation is
    undefined (numpy would warn and return NaN, or ±1 from two points).
    """
    both = a.notna() & b.notna()
    x = a[both].to_numpy(dtype=float)
    y = b[both].to_numpy(dtype=float)
    n = len(x)
    if n < MIN_UNITS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return n, float("nan")
    if method == "spearman":
        x, y = stats.rankdata(x), stats.rankdata(y)
    xc, yc = x - x.mean(), y - y.mean()
    r = float(np.dot(xc, yc) / np.sqrt(np.dot(xc, xc) * np.dot(yc, yc)))
    # Rounding can push a perfect correlation a hair past ±1.
    return n, float(np.clip(r, -1.0, 1.0))


def parent_correlations(
    scores: pd.DataFrame,
    parents: Mapping[str, str],
    method: Method = "pearson",
    weak: float = 0.2,
) -> pd.DataFrame:
    """Correlation of each child with its parent, flagged as COINr's ``get_corr_flags`` does.

    One row per child whose own and parent's columns are both in ``scores`` (pairs with a
    column absent are skipped, so scores of only some levels can be checked): ``child``,
    ``parent``, ``n`` (units with both values), ``r`` and ``flag``: 'negative' for r < 0 (the
    child pulls its aggregate the wrong way: a direction error, or a trade-off), 'weak' for
    0 ≤ r < ``weak`` (the child barely shows in its aggregate), 'ok' otherwise, and
    'undefined' when r is NaN (fewer than three common units, or a constant column).
    """
    _check_scores(scores, where="parent_correlations")
    _check_parents(parents, where="parent_correlations")
    _check_method(method, where="parent_correlations")
    if isinstance(weak, bool) or not isinstance(weak, int | float) or not 0 <= weak <= 1:
        raise InvalidData(f"parent_correlations: weak={weak!r} must lie between 0 and 1")
    rows = []
    for child, parent in parents.items():
        if child not in scores.columns or parent not in scores.columns:
            continue
        n, r = _correlation(scores[child], scores[parent], method)
        if np.isnan(r):
            flag = "undefined"
        elif r < 0:
            flag = "negative"
        elif r < weak:
            flag = "weak"
        else:
            flag = "ok"
        rows.append({"child": child, "parent": parent, "n": n, "r": r, "flag": flag})
    if not rows:
        raise InvalidData(
            "parent_correlations: no child is in scores together with its parent "
            f"(columns: {', '.join(map(str, list(scores.columns)[:VALID_SHOWN]))}…)"
        )
    return pd.DataFrame(rows, columns=["child", "parent", "n", "r", "flag"])


def collinear_pairs(
    scores: pd.DataFrame,
    parents: Mapping[str, str],
    threshold: float = 0.9,
    method: Method = "pearson",
) -> pd.DataFrame:
    """Pairs of siblings (children of one parent) whose correlation has ``|r| > threshold``.

    Near-duplicate siblings double-count one phenomenon in their parent. Columns ``parent``,
    ``code_a``, ``code_b`` (in the order of ``parents``), ``n`` (units with both values) and
    ``r``; rows by parent, then by decreasing ``|r|``. Siblings missing from ``scores`` are
    skipped; an empty frame means no pair is collinear.
    """
    _check_scores(scores, where="collinear_pairs")
    _check_parents(parents, where="collinear_pairs")
    _check_method(method, where="collinear_pairs")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise InvalidData(f"collinear_pairs: threshold={threshold!r} is not a number")
    if not 0 <= threshold < 1:
        raise InvalidData(f"collinear_pairs: threshold={threshold!r} must lie in [0, 1)")
    families: dict[str, list[str]] = {}
    for child, parent in parents.items():
        if child in scores.columns:
            families.setdefault(parent, []).append(child)
    rows = []
    for parent, children in families.items():
        found = []
        for i, a in enumerate(children):
            for b in children[i + 1 :]:
                n, r = _correlation(scores[a], scores[b], method)
                if not np.isnan(r) and abs(r) > threshold:
                    found.append({"parent": parent, "code_a": a, "code_b": b, "n": n, "r": r})
        rows.extend(sorted(found, key=lambda row: -abs(row["r"])))
    return pd.DataFrame(rows, columns=["parent", "code_a", "code_b", "n", "r"])


def hierarchy_levels(codes: list[str], parents: Mapping[str, str]) -> dict[str, int]:
    """COINr's levels, as in :class:`~analytics.indicators.framework.Framework`.

    Counted from the bottom: a code without children (an indicator) is level 1 and an
    aggregate is one above its highest child, so the index has the largest level.
    """
    _check_parents(parents, where="hierarchy_levels")
    children: dict[str, list[str]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    levels: dict[str, int] = {}

    def level(code: str) -> int:
        if code not in levels:
            levels[code] = 1 + max((level(c) for c in children.get(code, [])), default=0)
        return levels[code]

    return {code: level(code) for code in codes}


POSITIONS = ("strength", "weakness", "neutral", "missing")


def unit_profile(
    scores: pd.DataFrame,
    unit: str,
    parents: Mapping[str, str],
    directions: Mapping[str, int] | None = None,
    top: float = 0.25,
) -> pd.DataFrame:
    """Where one unit stands on every code: its strengths and weaknesses.

    One row per column of ``scores``, top level first: ``code``; ``level`` (COINr's level as in
    the framework: indicators 1, each aggregate one above its highest child); ``score``;
    ``rank`` (1 = best, ties share the lowest rank, 'min'); ``n_units`` (units with a score
    for the code); ``percentile`` (100 × share of the other units that score strictly worse:
    100 for a clear best, 0 for a worst; NaN when the unit is alone); and ``position``:

    - 'strength' when its rank from the top is within ``top × n_units``;
    - 'weakness' when its rank from the bottom (ties 'min' as well) is within ``top × n_units``;
    - 'neutral' otherwise, including when both hold (all units tied);
    - 'missing' when the unit has no score for the code (rank and percentile NaN).

    With fewer than ``1 / top`` units no rank is within ``top × n_units``: every position is
    neutral. Higher scores are better, as normalised scores are oriented so. ``directions``
    is only for raw values: codes whose direction is −1 are then ranked lower-is-better.
    """
    _check_scores(scores, where="unit_profile")
    if unit not in scores.index:
        valid = ", ".join(map(str, sorted(scores.index.astype(str))[:VALID_SHOWN]))
        raise InvalidData(
            f"unit_profile: unit {unit!r} is not in scores (units include {valid}"
            f"{', …' if len(scores.index) > VALID_SHOWN else ''})"
        )
    if isinstance(top, bool) or not isinstance(top, int | float) or not 0 < top <= 0.5:
        raise InvalidData(f"unit_profile: top={top!r} must lie in (0, 0.5]")
    directions = directions or {}
    codes = list(scores.columns)
    levels = hierarchy_levels(codes, parents)
    rows = []
    for code in codes:
        d = directions.get(code, 1)
        if isinstance(d, bool) or d not in (1, -1):
            raise InvalidFramework(f"unit_profile: direction of {code!r} is {d!r}, expected ±1")
        oriented = scores[code].astype(float) * d
        score = scores.at[unit, code]
        n_units = int(oriented.notna().sum())
        row = {"code": code, "level": levels[code], "score": float(score), "n_units": n_units}
        if pd.isna(score):
            row.update(rank=np.nan, percentile=np.nan, position="missing")
            rows.append(row)
            continue
        mine = oriented.at[unit]
        valid = oriented.dropna()
        rank = int((valid > mine).sum()) + 1
        from_bottom = int((valid < mine).sum()) + 1
        percentile = 100.0 * (from_bottom - 1) / (n_units - 1) if n_units > 1 else np.nan
        strong = rank <= top * n_units
        weak = from_bottom <= top * n_units
        position = (
            "strength" if strong and not weak else "weakness" if weak and not strong else "neutral"
        )
        row.update(rank=rank, percentile=percentile, position=position)
        rows.append(row)
    table = pd.DataFrame(
        rows, columns=["code", "level", "score", "rank", "n_units", "percentile", "position"]
    )
    table["rank"] = table["rank"].astype("Int64")
    # Top level first, and within a level the order of the columns of scores.
    return table.sort_values("level", ascending=False, kind="stable").reset_index(drop=True)
