"""Aggregation up the hierarchy: weighted arithmetic, geometric and harmonic means.

Missing children are skipped and the weights of the others renormalised (COINr's ``a_amean``,
``a_gmean``, ``a_hmean``). One array function, :func:`weighted_mean`, serves both a single
run and the Monte Carlo's thousand runs at once, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from analytics.errors import ComputationError, InvalidPipeline
from analytics.indicators.framework import Framework

Method = Literal["amean", "gmean", "hmean"]
METHODS: tuple[str, ...] = ("amean", "gmean", "hmean")


def weighted_mean(x: np.ndarray, w: np.ndarray, method: str) -> np.ndarray:
    """Weighted mean over the last axis of ``x`` (children), NaNs skipped.

    ``w`` broadcasts against ``x`` (e.g. ``(runs, 1, children)`` against ``(runs, units,
    children)``). A row whose children are all missing is NaN.
    """
    present = ~np.isnan(x)
    wp = np.where(present, w, 0.0)
    den = wp.sum(axis=-1)
    if method == "amean":
        num = (wp * np.where(present, x, 0.0)).sum(axis=-1)
    elif method == "gmean":
        if np.any(x[present] <= 0):
            raise ComputationError(
                "geometric mean of non-positive scores: normalise to a positive range (e.g. 1-100)"
            )
        num = (wp * np.log(np.where(present, x, 1.0))).sum(axis=-1)
    elif method == "hmean":
        if np.any(x[present] <= 0):
            raise ComputationError(
                "harmonic mean of a non-positive score: normalise to a positive range (e.g. 1-100)"
            )
        num = (wp / np.where(present, x, 1.0)).sum(axis=-1)
    else:
        raise InvalidPipeline(f"aggregate: unknown method {method!r} (use {', '.join(METHODS)})")
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "amean":
            out = num / den
        elif method == "gmean":
            out = np.exp(num / den)
        else:
            out = den / num
    return np.where(den > 0, out, np.nan)


def aggregate(
    normalised: pd.DataFrame,
    framework: Framework,
    weights: Mapping[str, float],
    method: str | Mapping[int, str] = "amean",
    *,
    dat_thresh: float | None = None,
) -> pd.DataFrame:
    """Indicators plus every aggregate, level by level (columns in COINr's order).

    ``method`` is one method for every level or a map level → method. With ``dat_thresh``, an
    aggregate is missing when the share of its children present is below it.
    """
    out = normalised.copy()
    for level, groups in framework.aggregates_by_level():
        m = method if isinstance(method, str) else method.get(level, "amean")
        cols = {}
        for g in groups:
            kids = [c.code for c in g.children]
            x = out[kids].to_numpy(dtype=float)
            w = np.array([weights.get(k, 1.0) for k in kids], dtype=float)
            if np.any(np.isnan(w)) or np.any(w < 0):
                raise InvalidPipeline(f"aggregate {g.code}: weights must be non-negative numbers")
            try:
                y = weighted_mean(x, w[None, :], m)
            except ComputationError as exc:
                raise ComputationError(f"aggregate {g.code}: {exc.message}") from None
            if dat_thresh is not None:
                y = np.where((~np.isnan(x)).mean(axis=1) < dat_thresh, np.nan, y)
            cols[g.code] = y
        out = pd.concat([out, pd.DataFrame(cols, index=out.index)], axis=1)
    return out


def rank_desc(scores: pd.Series) -> pd.Series:
    """Rank 1 for the highest score; ties share the best rank (COINr's ``ties.method='min'``)."""
    return scores.rank(ascending=False, method="min", na_option="keep").astype("Int64")
