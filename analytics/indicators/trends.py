"""Trends over a panel: year-on-year change, CAGR, Mann–Kendall and Theil–Sen.

A *panel* has columns ``uCode``, ``Time`` (an integer year or a pandas ``Period``) and one
numeric column per indicator code, with one row per (uCode, Time). Time differences are taken
in the panel's own time unit: years for integer years, the period's frequency for periods.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from analytics.errors import ComputationError, InvalidData

UNIT = "uCode"
TIME = "Time"
Trend = Literal["increasing", "decreasing", "no trend"]
INSUFFICIENT = "insufficient data"
MIN_TREND_POINTS = 3


def validate_panel(panel: pd.DataFrame, codes: Sequence[str] | None, *, where: str) -> list[str]:
    """The indicator codes to analyse, after checking that ``panel`` is a well-formed panel.

    ``codes`` defaults to every column other than ``uCode`` and ``Time``. Raises
    :class:`InvalidData` naming the function (``where``), column, unit or period at fault.
    """
    if not isinstance(panel, pd.DataFrame):
        raise InvalidData(f"{where}: expected a panel DataFrame, got {type(panel).__name__}")
    for col in (UNIT, TIME):
        if col not in panel.columns:
            raise InvalidData(f"{where}: the panel has no {col!r} column")
    if panel[UNIT].isna().any():
        raise InvalidData(f"{where}: the panel has rows without a uCode")
    if panel[TIME].isna().any():
        bad = panel.loc[panel[TIME].isna(), UNIT].iloc[0]
        raise InvalidData(f"{where}: unit {bad} has a row without a Time")
    dup = panel.duplicated([UNIT, TIME])
    if dup.any():
        row = panel.loc[dup].iloc[0]
        raise InvalidData(f"{where}: unit {row[UNIT]} has more than one row for Time {row[TIME]}")
    codes = [c for c in panel.columns if c not in (UNIT, TIME)] if codes is None else list(codes)
    if not codes:
        raise InvalidData(f"{where}: the panel has no indicator columns")
    for code in codes:
        if code not in panel.columns or code in (UNIT, TIME):
            raise InvalidData(f"{where}: indicator {code!r} is not a column of the panel")
        col = panel[code]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise InvalidData(f"{where}: indicator column {code!r} is not numeric ({col.dtype})")
        inf = np.isinf(col.to_numpy(dtype=float, na_value=np.nan))
        if inf.any():
            row = panel.loc[inf].iloc[0]
            raise InvalidData(
                f"{where}: indicator {code!r} is infinite for unit {row[UNIT]} at Time {row[TIME]}"
            )
    time_index(panel[TIME], where=where)
    return codes


def time_index(time: pd.Series, *, where: str) -> np.ndarray:
    """``Time`` as integers on which differences count periods (years, or the period's unit)."""
    if isinstance(time.dtype, pd.PeriodDtype):
        return np.asarray(time.array.asi8, dtype=np.int64)
    values = time.tolist()
    if values and all(isinstance(v, pd.Period) for v in values):
        try:
            return np.asarray(pd.PeriodIndex(values).asi8, dtype=np.int64)
        except (TypeError, ValueError):
            raise InvalidData(f"{where}: Time mixes periods of different frequencies") from None
    for v in values:
        # A float column of whole years is what a merge with missing rows leaves behind.
        whole = isinstance(v, int | np.integer | float | np.floating) and float(v).is_integer()
        if isinstance(v, bool | np.bool_) or not whole:
            raise InvalidData(f"{where}: Time {v!r} is neither a whole year nor a period")
    return np.asarray(values, dtype=np.int64)


def _bound(value: Any, time: pd.Series, *, name: str, where: str) -> int | None:
    """A ``start``/``end`` bound on the same integer scale as :func:`time_index`."""
    if value is None:
        return None
    if isinstance(time.dtype, pd.PeriodDtype):
        # pandas is deprecating integers as calendar years in Period(); a string stays a year.
        label = str(value) if isinstance(value, int | np.integer) else value
        try:
            return int(pd.Period(label, freq=time.dtype.freq).ordinal)
        except (TypeError, ValueError):
            raise InvalidData(f"{where}: {name}={value!r} is not a {time.dtype} period") from None
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float):
        raise InvalidData(f"{where}: {name}={value!r} is not a year")
    if not float(value).is_integer():
        raise InvalidData(f"{where}: {name}={value!r} is not a whole year")
    return int(value)


def _sorted(panel: pd.DataFrame, codes: list[str], where: str) -> pd.DataFrame:
    """A sorted copy holding the numeric time key ``_t``; the caller's frame is left alone."""
    out = panel[[UNIT, TIME, *codes]].copy()
    out["_t"] = time_index(panel[TIME], where=where)
    return out.sort_values([UNIT, "_t"], kind="stable").reset_index(drop=True)


def year_on_year(panel: pd.DataFrame, codes: Sequence[str] | None = None) -> pd.DataFrame:
    """Relative change of each indicator against the same unit's previous period.

    Returns ``uCode``, ``Time`` and one column per code, sorted by unit and time, where the
    value at *t* is ``(x_t - x_{t-1}) / |x_{t-1}|``. The previous period is exactly *t − 1*: a
    unit with no row for *t − 1* (a gap in its series) gets NaN rather than a change over two
    periods. NaN also for the first period, a missing value, or a zero previous value. The
    denominator is ``|x_{t-1}|`` so that the sign always says whether the value rose, also for
    indicators that can be negative (a trade balance, a net emission).
    """
    codes = validate_panel(panel, codes, where="year_on_year")
    data = _sorted(panel, codes, "year_on_year")
    prev = data[[UNIT, "_t", *codes]].copy()
    prev["_t"] = prev["_t"] + 1
    merged = data.merge(prev, on=[UNIT, "_t"], how="left", suffixes=("", "_prev"))
    out = data[[UNIT, TIME]].copy()
    for code in codes:
        now = merged[code].to_numpy(dtype=float, na_value=np.nan)
        before = merged[f"{code}_prev"].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = (now - before) / np.abs(before)
        change[before == 0] = np.nan
        out[code] = change
    return out


def cagr(
    panel: pd.DataFrame,
    codes: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """Compound annual growth rate per unit and code, indexed by ``uCode``.

    For each unit and code, the first and last non-missing values with ``start <= Time <=
    end`` (both bounds optional and inclusive) give ``(x_last / x_first) ** (1 / (t_last -
    t_first)) - 1``; the exponent counts periods of the panel's time unit. NaN when fewer than
    two periods have values, or when either endpoint is zero or negative: a growth rate
    compounds a positive quantity, and with a zero start or a change of sign there is no rate
    that carries the first value to the last (two negative endpoints would give a positive
    ratio whose "growth" reads backwards).
    """
    codes = validate_panel(panel, codes, where="cagr")
    lo = _bound(start, panel[TIME], name="start", where="cagr")
    hi = _bound(end, panel[TIME], name="end", where="cagr")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidData(f"cagr: start={start!r} is after end={end!r}")
    data = _sorted(panel, codes, "cagr")
    if lo is not None:
        data = data[data["_t"] >= lo]
    if hi is not None:
        data = data[data["_t"] <= hi]
    units = sorted(panel[UNIT].unique())
    result = pd.DataFrame(index=pd.Index(units, name=UNIT), columns=codes, dtype=float)
    for unit, group in data.groupby(UNIT, sort=True):
        t = group["_t"].to_numpy()
        for code in codes:
            x = group[code].to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(x)
            if ok.sum() < 2:
                continue
            first, last = x[ok][0], x[ok][-1]
            if first <= 0 or last <= 0:
                continue
            span = t[ok][-1] - t[ok][0]
            result.loc[unit, code] = (last / first) ** (1.0 / span) - 1.0
    return result


@dataclass(frozen=True)
class MannKendall:
    """The result of the original Mann–Kendall test (Hipel & McLeod 1994, ``pymannkendall``).

    ``s`` is Kendall's score, ``var_s`` its variance under H0 with the tie correction, ``z``
    the continuity-corrected normal score, ``p`` the two-sided p-value, ``tau`` = s / (n(n−1)/2)
    (Kendall's tau-a), ``trend`` the verdict at level ``alpha``.
    """

    n: int
    s: float
    var_s: float
    z: float
    p: float
    tau: float
    trend: Trend
    alpha: float


def mann_kendall(values: Sequence[float], alpha: float = 0.05) -> MannKendall:
    """The original Mann–Kendall trend test on a series in time order; missing values skipped.

    Follows ``pymannkendall.original_test``: ``S = Σ_{i<j} sign(x_j − x_i)``;
    ``Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18`` over groups of ``t`` tied values;
    ``Z = (S − 1)/√Var(S)`` for S > 0, ``(S + 1)/√Var(S)`` for S < 0, 0 for S = 0;
    ``p = 2(1 − Φ(|Z|))``; a trend is reported when ``|Z| > Φ⁻¹(1 − alpha/2)``. A constant
    series has S = 0 and Var(S) = 0, hence Z = 0, p = 1 and 'no trend'.
    """
    if not 0 < alpha < 1:
        raise InvalidData(f"mann_kendall: alpha={alpha!r} must lie strictly between 0 and 1")
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidData("mann_kendall: the series holds non-numeric values") from None
    if x.ndim != 1:
        raise InvalidData(f"mann_kendall: expected a one-dimensional series, got shape {x.shape}")
    if np.isinf(x).any():
        raise InvalidData("mann_kendall: the series holds an infinite value")
    x = x[~np.isnan(x)]
    n = len(x)
    if n < MIN_TREND_POINTS:
        raise ComputationError(
            f"mann_kendall: needs at least {MIN_TREND_POINTS} non-missing values, got {n}"
        )
    upper = np.triu_indices(n, k=1)
    s = float(np.sign(x[upper[1]] - x[upper[0]]).sum())
    _, ties = np.unique(x, return_counts=True)
    var_s = float((n * (n - 1) * (2 * n + 5) - np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18)
    if s > 0:
        z = (s - 1) / math.sqrt(var_s)
    elif s < 0:
        z = (s + 1) / math.sqrt(var_s)
    else:
        z = 0.0
    # sf(|z|) equals 1 − cdf(|z|) but keeps its precision far in the tail.
    p = float(2 * stats.norm.sf(abs(z)))
    significant = abs(z) > stats.norm.ppf(1 - alpha / 2)
    trend: Trend = "no trend"
    if significant:
        trend = "increasing" if z > 0 else "decreasing"
    tau = s / (0.5 * n * (n - 1))
    return MannKendall(n=n, s=s, var_s=var_s, z=float(z), p=p, tau=tau, trend=trend, alpha=alpha)


THEIL_SEN_COLUMNS = [
    UNIT,
    "code",
    "n",
    "slope",
    "intercept",
    "slope_low",
    "slope_high",
    "mk_tau",
    "mk_z",
    "mk_p",
    "trend",
]


def theil_sen(
    panel: pd.DataFrame, codes: Sequence[str] | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """Theil–Sen slope with its confidence interval and a Mann–Kendall test, per unit and code.

    Long table with columns ``uCode``, ``code``, ``n`` (non-missing points), ``slope`` (median
    of pairwise slopes per time unit, ``scipy.stats.theilslopes``), ``intercept`` (at Time 0:
    year 0, or period ordinal 0 for periods), ``slope_low``/``slope_high`` (the slope's
    ``1 − alpha`` confidence interval), ``mk_tau``, ``mk_z``, ``mk_p`` and ``trend`` from
    :func:`mann_kendall` at the same ``alpha``. A series with fewer than three non-missing
    points gets NaN statistics and trend ``'insufficient data'``.
    """
    if not 0 < alpha < 1:
        raise InvalidData(f"theil_sen: alpha={alpha!r} must lie strictly between 0 and 1")
    codes = validate_panel(panel, codes, where="theil_sen")
    data = _sorted(panel, codes, "theil_sen")
    rows: list[dict[str, Any]] = []
    for unit, group in data.groupby(UNIT, sort=True):
        t = group["_t"].to_numpy(dtype=float)
        for code in codes:
            y = group[code].to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(y)
            row: dict[str, Any] = {UNIT: unit, "code": code, "n": int(ok.sum())}
            if ok.sum() < MIN_TREND_POINTS:
                row.update(dict.fromkeys(THEIL_SEN_COLUMNS[3:-1], np.nan), trend=INSUFFICIENT)
                rows.append(row)
                continue
            # scipy's alpha is the confidence level, ours the significance level.
            fit = stats.theilslopes(y[ok], t[ok], alpha=1 - alpha)
            mk = mann_kendall(y[ok], alpha=alpha)
            row.update(
                slope=float(fit.slope),
                intercept=float(fit.intercept),
                slope_low=float(fit.low_slope),
                slope_high=float(fit.high_slope),
                mk_tau=mk.tau,
                mk_z=mk.z,
                mk_p=mk.p,
                trend=mk.trend,
            )
            rows.append(row)
    return pd.DataFrame(rows, columns=THEIL_SEN_COLUMNS)
