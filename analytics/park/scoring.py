"""Scoring parks: indicator scores by goalposts, dimension scores, the index, zero-carbon checks.

* Indicator score: 0–100 by the indicator's goalposts — 0 at ``worst``, 100 at ``best``, linear
  between and truncated outside — computed by :func:`analytics.indicators.normalise
  .normalise_series` with a ``goalposts`` spec, so it matches the indicator pipeline. For a
  direction −1 indicator ``best`` is the lower value (0.2 t CO2/tce scores 100).
* Dimension score: the weighted mean of the dimension's *available* indicator scores, the
  weights (framework node weights, all 1 in the shipped file: equal within a dimension)
  renormalised over the indicators that have a value. No indicator: no score (NaN).
* Total index: the same renormalised weighted mean of the dimension scores with the AHP
  dimension weights. ``dimensions_scored`` says how many dimensions it rests on.

Value tables are park × indicator raw values indexed by park id, or with a ``park_id`` column;
columns that are not indicators (name, type …) are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.errors import InvalidData
from analytics.indicators.framework import Framework
from analytics.indicators.normalise import normalise_series, parse_spec
from analytics.park.framework import ZERO_CARBON_THRESHOLDS, Threshold, indicator_table

__all__ = [
    "dimension_scores",
    "indicator_scores",
    "park_values",
    "score_park",
    "total_index",
    "zero_carbon_check",
]


def _by_park(values: pd.DataFrame) -> pd.DataFrame:
    """A copy indexed by park id (the ``park_id`` column if there is one, else the index)."""
    frame = values.set_index("park_id") if "park_id" in values.columns else values.copy()
    frame.index = frame.index.astype(str)
    frame.index.name = "park_id"
    repeated = frame.index[frame.index.duplicated()]
    if len(repeated):
        raise InvalidData(f"park {repeated[0]!r} appears more than once in the value table")
    return frame


def _numeric(frame: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """The columns ``codes`` as floats; a cell that is not a number names its park and column."""
    missing = [c for c in codes if c not in frame.columns]
    if missing:
        raise InvalidData(f"the value table lacks indicator column(s) {', '.join(missing)}")
    out = {}
    for code in codes:
        column = frame[code]
        numbers = pd.to_numeric(column, errors="coerce").astype(float)
        bad = numbers.isna() & column.notna() & (column.astype(str).str.strip() != "")
        bad |= np.isinf(numbers)
        if bad.any():
            park = bad.index[bad.to_numpy()][0]
            raise InvalidData(f"park {park}, indicator {code}: {column[park]!r} is not a number")
        out[code] = numbers
    return pd.DataFrame(out, index=frame.index)


def park_values(values: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """The raw indicator values as a float park × indicator frame, in framework order."""
    return _numeric(_by_park(values), list(indicator_table(framework)["code"]))


def indicator_scores(values: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """Park × indicator scores in 0–100 by each indicator's goalposts (truncated)."""
    raw = park_values(values, framework)
    out = {}
    for ind in indicator_table(framework).itertuples(index=False):
        spec = parse_spec(
            {"method": "goalposts", "worst": ind.worst, "best": ind.best, "scale": 100},
            f"park indicator {ind.code}",
        )
        out[ind.code] = normalise_series(raw[ind.code], spec, direction=ind.direction)
    return pd.DataFrame(out, index=raw.index)


def _weighted_mean(scores: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Row-wise mean weighted by ``weights`` over the non-missing cells only (renormalised)."""
    present = scores.notna().to_numpy()
    w = weights.reindex(scores.columns).to_numpy(dtype=float)
    total_weight = (present * w).sum(axis=1)
    weighted = (np.nan_to_num(scores.to_numpy(dtype=float)) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(total_weight > 0, weighted / total_weight, np.nan)
    return pd.Series(mean, index=scores.index)


def dimension_scores(ind_scores: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """Park × dimension scores: the renormalised weighted mean of available indicator scores."""
    meta = indicator_table(framework)
    missing = [c for c in meta["code"] if c not in ind_scores.columns]
    if missing:
        raise InvalidData(f"the indicator scores lack column(s) {', '.join(missing)}")
    out = {}
    for dimension, rows in meta.groupby("dimension", sort=False):
        weights = pd.Series(rows["weight"].to_numpy(), index=rows["code"])
        out[dimension] = _weighted_mean(ind_scores[list(rows["code"])], weights)
    return pd.DataFrame(out, index=ind_scores.index)


def _checked_weights(dimension_weights: pd.Series, dimensions: Sequence[str]) -> pd.Series:
    missing = [d for d in dimensions if d not in dimension_weights.index]
    if missing:
        raise InvalidData(f"no dimension weight for {', '.join(missing)}")
    weights = dimension_weights.reindex(list(dimensions)).astype(float)
    for name, value in weights.items():
        if not math.isfinite(value) or value < 0:
            raise InvalidData(f"dimension weight of {name} is {value!r}; weights must be >= 0")
    if not weights.sum() > 0:
        raise InvalidData("the dimension weights sum to 0")
    return weights


def total_index(dim_scores: pd.DataFrame, dimension_weights: pd.Series) -> pd.Series:
    """The index per park: the renormalised weighted mean of the available dimension scores."""
    weights = _checked_weights(dimension_weights, list(dim_scores.columns))
    return _weighted_mean(dim_scores, weights).rename("total")


def score_park(
    values: pd.DataFrame, framework: Framework, dimension_weights: pd.Series
) -> pd.DataFrame:
    """Every score of every park in one frame indexed by park id.

    Columns: the indicator scores (framework order), the dimension scores (framework order),
    ``total`` (the index, 0–100) and ``dimensions_scored`` (how many dimensions had a value).
    """
    ind = indicator_scores(values, framework)
    dims = dimension_scores(ind, framework)
    out = pd.concat([ind, dims], axis=1)
    out["total"] = total_index(dims, dimension_weights)
    out["dimensions_scored"] = dims.notna().sum(axis=1).astype("int64")
    return out


def zero_carbon_check(
    values: pd.DataFrame, thresholds: Sequence[Threshold] = ZERO_CARBON_THRESHOLDS
) -> pd.DataFrame:
    """Park × threshold booleans: does the park meet each national zero-carbon threshold?

    Thresholds are inclusive (0.2 t CO2/tce meets "<= 0.2"; 80 % meets ">= 80 %"). A missing
    value does not meet its threshold: the park has not shown it. ``all_met`` is True when every
    threshold is met. Columns are the indicator codes of the thresholds.
    """
    frame = _by_park(values)
    raw = _numeric(frame, [t.indicator for t in thresholds])
    out = pd.DataFrame({t.indicator: t.met(raw[t.indicator]) for t in thresholds}, index=raw.index)
    out["all_met"] = out.all(axis=1)
    return out
