"""Emission forecasts with prediction intervals, and the projected peak year.

Two methods, both on a series indexed by integer years or by pandas Periods (e.g. months):

* :func:`holt` — Holt's linear trend exponential smoothing, optionally damped, with the
  analytic prediction intervals of the equivalent ETS(A,A,N) / ETS(A,Ad,N) state-space
  model (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §8.2 for
  the method, §8.7 Table 8.8 for the forecast variances).
* :func:`linear_trend` — an OLS straight line with the classical prediction interval
  (t-distribution with n − 2 degrees of freedom).

:func:`peak_year` reads history plus a forecast's mean path and says when emissions peak.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analytics.errors import ComputationError, InvalidData, InvalidPipeline

MIN_POINTS = 3
# Search bounds of R's forecast::ets (Hyndman & Khandakar 2008): smoothing parameters in
# [1e-4, 0.9999] keep the optimiser off the degenerate edges, and a damping parameter in
# [0.8, 0.98] (FPP §8.2) avoids both a too-strong damping and one indistinguishable from none.
SMOOTH_BOUNDS = (1e-4, 0.9999)
PHI_BOUNDS = (0.8, 0.98)


@dataclass(frozen=True)
class Forecast:
    """Point forecasts and prediction intervals over the periods after the history.

    ``mean``, ``lower`` and ``upper`` share the future index; ``method`` is ``"holt"``,
    ``"holt_damped"`` or ``"linear_trend"``; ``params`` the fitted parameters; ``sigma`` the
    estimated standard deviation of the one-step errors; ``level`` the interval coverage.
    """

    mean: pd.Series
    lower: pd.Series
    upper: pd.Series
    method: str
    params: dict[str, float]
    sigma: float
    level: float


def _series(series: Any, *, where: str, consecutive: bool) -> tuple[np.ndarray, np.ndarray]:
    """Values and integer time ticks (years, or period ordinals) of a validated series."""
    if not isinstance(series, pd.Series):
        raise InvalidData(f"{where}: expected a Series indexed by years or periods")
    index = series.index
    if isinstance(index, pd.PeriodIndex):
        ticks = np.asarray(index.asi8, dtype=np.int64)
    elif pd.api.types.is_integer_dtype(index) and not pd.api.types.is_bool_dtype(index):
        ticks = index.to_numpy(dtype=np.int64)
    else:
        raise InvalidData(
            f"{where}: the series is indexed by {index.dtype}, expected integer years or periods"
        )
    if len(series) < MIN_POINTS:
        raise InvalidData(
            f"{where}: the series has {len(series)} points, at least {MIN_POINTS} are needed"
        )
    if index.has_duplicates:
        raise InvalidData(f"{where}: period {index[index.duplicated()][0]} appears twice")
    step = np.diff(ticks)
    if (step <= 0).any():
        raise InvalidData(
            f"{where}: the periods are not in increasing order at {index[1:][step <= 0][0]}"
        )
    if consecutive and (step != 1).any():
        raise InvalidData(
            f"{where}: the series has a gap after {index[:-1][step != 1][0]} "
            "(exponential smoothing needs equally spaced periods)"
        )
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise InvalidData(f"{where}: the series is not numeric ({series.dtype})")
    values = series.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise InvalidData(f"{where}: the value for {index[bad][0]} is missing or infinite")
    return values, ticks


def _future(index: pd.Index, horizon: int) -> pd.Index:
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq, name=index.name)
    last = int(index[-1])
    return pd.Index(np.arange(last + 1, last + 1 + horizon, dtype=np.int64), name=index.name)


def _check_common(horizon: Any, level: Any, *, where: str) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise InvalidPipeline(f"{where}: horizon is {horizon!r}, expected an integer >= 1")
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise InvalidPipeline(f"{where}: level is {level!r}, expected 0 < level < 1")


def _unit_param(value: Any, name: str, low: float, *, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= 1:
        raise InvalidPipeline(f"{where}: {name} is {value!r}, expected {low:g} <= {name} <= 1")
    return float(value)


def _finite(forecast: Forecast, series: pd.Series, where: str) -> Forecast:
    """``forecast`` if every number in it is finite, else a refusal: values near 1e154 have
    squares beyond float64's 1.8e308, so the SSE, σ and the intervals overflow to infinity."""
    numbers = {
        **{name: np.array([value]) for name, value in forecast.params.items()},
        "sigma": np.array([forecast.sigma]),
        "mean": forecast.mean.to_numpy(),
        "interval": np.concatenate([forecast.lower.to_numpy(), forecast.upper.to_numpy()]),
    }
    for name, values in numbers.items():
        if not np.isfinite(values).all():
            largest = float(np.abs(series.to_numpy(dtype=float)).max())
            raise ComputationError(
                f"{where}: the {name} overflows floating point with values up to "
                f"{largest:.3g}; give the series in a larger unit (e.g. Mt instead of t)"
            )
    return forecast


def _holt_filter(
    y: np.ndarray, alpha: float, beta: float, phi: float
) -> tuple[float, float, np.ndarray]:
    """Run Holt's recursions; returns the final level and trend and the one-step errors.

    Initial states ℓ_1 = y_1, b_1 = y_2 − y_1. With them e_2 = 0 identically, so the errors
    returned are e_3 … e_n. Error-correction form of FPP §8.2 / §8.5::

        ŷ_t = ℓ_{t−1} + φ b_{t−1},   e_t = y_t − ŷ_t
        ℓ_t = ŷ_t + α e_t,           b_t = φ b_{t−1} + α β* e_t
    """
    level, trend = y[0], y[1] - y[0]
    errors = np.empty(len(y) - 1)
    for t in range(1, len(y)):
        fitted = level + phi * trend
        e = y[t] - fitted
        errors[t - 1] = e
        # β* smooths the change in level: b_t = β*(ℓ_t − ℓ_{t−1}) + (1 − β*) φ b_{t−1}.
        new_level = fitted + alpha * e
        trend = beta * (new_level - level) + (1 - beta) * phi * trend
        level = new_level
    return float(level), float(trend), errors[1:]


def _minimise(sse: Callable[[np.ndarray], float], bounds: list[tuple[float, float]]) -> np.ndarray:
    """Global-ish minimum: the best point of a coarse grid, polished by L-BFGS-B."""
    axes = [np.linspace(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo), 5) for lo, hi in bounds]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(bounds))
    start = min(grid, key=sse)
    res = optimize.minimize(sse, start, method="L-BFGS-B", bounds=bounds)
    return res.x if res.fun <= sse(start) else start


def holt(
    series: pd.Series,
    horizon: int,
    *,
    alpha: float | None = None,
    beta: float | None = None,
    damped: bool = False,
    phi: float | None = None,
    level: float = 0.95,
) -> Forecast:
    """Holt's linear trend method (damped if asked) with ETS prediction intervals.

    Recursions (FPP §8.2, with β the *component-form* trend parameter β*)::

        ℓ_t = α y_t + (1 − α)(ℓ_{t−1} + φ b_{t−1})
        b_t = β (ℓ_t − ℓ_{t−1}) + (1 − β) φ b_{t−1}
        ŷ_{n+h|n} = ℓ_n + (φ + φ² + … + φ^h) b_n          (φ = 1 when not damped)

    started from ℓ_1 = y_1, b_1 = y_2 − y_1. Parameters left as ``None`` are fitted by
    minimising the sum of squared one-step errors e_3 … e_n (scipy L-BFGS-B from the best
    point of a coarse grid) within 1e-4 ≤ α, β ≤ 0.9999 and, for ``damped`` without ``phi``,
    0.8 ≤ φ ≤ 0.98.

    Intervals are ŷ ± z_{(1+level)/2} σ_h with the ETS(A,A,N) variance of FPP Table 8.8::

        σ_h² = σ² [1 + (h − 1)(α² + α β_s h + β_s² h (2h − 1) / 6)],   β_s = α β

    (β_s is the state-space trend parameter; the damped case uses the table's ETS(A,Ad,N)
    entry, computed through its equivalent sum σ² [1 + Σ_{j<h} (α + β_s φ(1 − φ^j)/(1 − φ))²]).
    σ² = SSE / (n − 2 − k) with k the number of fitted parameters: the first two points fix
    the initial states. ``params`` holds alpha, beta, phi, the final level and trend and
    the SSE.

    Raises :class:`InvalidData` for a series that is too short (fewer than 3 points, or too
    few to estimate the free parameters and σ), has gaps, or missing values,
    :class:`InvalidPipeline` for bad parameters, and :class:`ComputationError` when the
    values are so large (near 1e154) that the SSE or the intervals overflow.
    """
    where = "holt"
    _check_common(horizon, level, where=where)
    # Overflows (values near 1e154) are found in the result by _finite, not warned about.
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite(
            _holt(series, horizon, alpha=alpha, beta=beta, damped=damped, phi=phi, level=level),
            series,
            where,
        )


def _holt(
    series: pd.Series,
    horizon: int,
    *,
    alpha: float | None,
    beta: float | None,
    damped: bool,
    phi: float | None,
    level: float,
) -> Forecast:
    where = "holt"
    fixed_alpha = None if alpha is None else _unit_param(alpha, "alpha", 0.0, where=where)
    fixed_beta = None if beta is None else _unit_param(beta, "beta", 0.0, where=where)
    if not damped and phi is not None:
        raise InvalidPipeline(f"{where}: phi applies to the damped method only")
    fixed_phi = (
        1.0 if not damped else None if phi is None else _unit_param(phi, "phi", 0.0, where=where)
    )
    if damped and fixed_phi == 0:
        raise InvalidPipeline(f"{where}: phi is 0, expected 0 < phi <= 1")
    y, _ = _series(series, where=where, consecutive=True)

    free = [
        (name, bounds)
        for name, value, bounds in (
            ("alpha", fixed_alpha, SMOOTH_BOUNDS),
            ("beta", fixed_beta, SMOOTH_BOUNDS),
            ("phi", fixed_phi, PHI_BOUNDS),
        )
        if value is None
    ]
    dof = len(y) - 2 - len(free)
    if dof < 1:
        raise InvalidData(
            f"{where}: {len(y)} points are too few to estimate {len(free)} parameter(s) and "
            f"the error variance; need at least {3 + len(free)} (or fix alpha and beta)"
        )

    def unpack(x: np.ndarray) -> tuple[float, float, float]:
        fitted = dict(zip([name for name, _ in free], x, strict=True))
        return (
            fitted.get("alpha", fixed_alpha),
            fitted.get("beta", fixed_beta),
            fitted.get("phi", fixed_phi),
        )

    if free:

        def sse(x: np.ndarray) -> float:
            errors = _holt_filter(y, *unpack(x))[2]
            return float(errors @ errors)

        a, b, p = unpack(_minimise(sse, [bounds for _, bounds in free]))
    else:
        a, b, p = unpack(np.array([]))
    final_level, final_trend, errors = _holt_filter(y, a, b, p)
    sse_value = float(errors @ errors)
    sigma = math.sqrt(sse_value / dof)

    h = np.arange(1, horizon + 1)
    damp_sum = np.cumsum(p**h)
    mean = final_level + damp_sum * final_trend
    # c_j = α + β_s (φ + … + φ^j); σ_h² = σ² (1 + Σ_{j=1}^{h−1} c_j²). For φ = 1 this sums to
    # the closed form of Table 8.8 above.
    c = a + a * b * damp_sum
    var = 1.0 + np.concatenate([[0.0], np.cumsum(c**2)[:-1]])
    half = stats.norm.ppf((1 + level) / 2) * sigma * np.sqrt(var)
    index = _future(series.index, horizon)
    params = {
        "alpha": float(a),
        "beta": float(b),
        "phi": float(p),
        "final_level": final_level,
        "final_trend": final_trend,
        "sse": sse_value,
    }
    return Forecast(
        mean=pd.Series(mean, index=index, name="mean"),
        lower=pd.Series(mean - half, index=index, name="lower"),
        upper=pd.Series(mean + half, index=index, name="upper"),
        method="holt_damped" if damped else "holt",
        params=params,
        sigma=sigma,
        level=float(level),
    )


def linear_trend(series: pd.Series, horizon: int, level: float = 0.95) -> Forecast:
    """OLS line y_t = a + b t with the classical prediction interval.

    For a new time t_0 the interval is ŷ(t_0) ± t_{n−2, (1+level)/2} · s ·
    √(1 + 1/n + (t_0 − t̄)² / Σ (t − t̄)²), s² = SSE / (n − 2). Time is the year, or the
    period ordinal, so gaps in the history are allowed; the forecast covers the ``horizon``
    periods after the last one. ``params`` holds ``slope`` (per period), ``intercept`` (the
    fitted value at the first period) and ``df``. Values so large that the intervals
    overflow are refused with :class:`ComputationError`.
    """
    where = "linear_trend"
    _check_common(horizon, level, where=where)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite(_linear_trend(series, horizon, level), series, where)


def _linear_trend(series: pd.Series, horizon: int, level: float) -> Forecast:
    where = "linear_trend"
    y, ticks = _series(series, where=where, consecutive=False)
    t = (ticks - ticks[0]).astype(float)
    n = len(y)
    t_mean = t.mean()
    sxx = float(((t - t_mean) ** 2).sum())
    slope = float(((t - t_mean) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * t_mean)
    resid = y - (intercept + slope * t)
    s = math.sqrt(float(resid @ resid) / (n - 2))
    t_new = t[-1] + np.arange(1, horizon + 1)
    mean = intercept + slope * t_new
    half = (
        stats.t.ppf((1 + level) / 2, n - 2) * s * np.sqrt(1 + 1 / n + (t_new - t_mean) ** 2 / sxx)
    )
    index = _future(series.index, horizon)
    return Forecast(
        mean=pd.Series(mean, index=index, name="mean"),
        lower=pd.Series(mean - half, index=index, name="lower"),
        upper=pd.Series(mean + half, index=index, name="upper"),
        method="linear_trend",
        params={"slope": slope, "intercept": intercept, "df": float(n - 2)},
        sigma=s,
        level=float(level),
    )


def peak_year(history: pd.Series, forecast: Forecast) -> dict[str, Any]:
    """When emissions peak over the history followed by the forecast's mean path.

    Returns ``peak_year`` (the year of the first maximum; for monthly periods, its year),
    ``peak_value``, ``reached`` — the maximum lies in the history and the whole forecast
    stays strictly below it — and ``within_horizon`` — the maximum is not the last forecast
    period (if it is, emissions are still rising when the horizon ends and the real peak, if
    any, comes later).
    """
    where = "peak_year"
    if not isinstance(forecast, Forecast):
        raise InvalidData(f"{where}: expected a Forecast, got {type(forecast).__name__}")
    values, ticks = _series(history, where=where, consecutive=False)
    future = forecast.mean.index
    both_periods = isinstance(future, pd.PeriodIndex) and isinstance(history.index, pd.PeriodIndex)
    both_years = pd.api.types.is_integer_dtype(future) and not isinstance(
        history.index, pd.PeriodIndex
    )
    if not (both_periods or both_years):
        raise InvalidData(f"{where}: the forecast's periods are not of the history's kind")
    if isinstance(future, pd.PeriodIndex):
        if future.freq != history.index.freq:
            raise InvalidData(f"{where}: the forecast is {future.freq}, the history is not")
        first = int(future.asi8[0])
    else:
        first = int(future[0])
    if first != ticks[-1] + 1:
        raise InvalidData(
            f"{where}: the forecast starts at {future[0]}, not right after {history.index[-1]}"
        )
    path = np.concatenate([values, forecast.mean.to_numpy(dtype=float)])
    labels = history.index.append(future)
    k = int(np.argmax(path))
    label = labels[k]
    year = label.year if isinstance(label, pd.Period) else int(label)
    peak_value = float(path[k])
    reached = k < len(values) and bool((forecast.mean.to_numpy() < peak_value).all())
    return {
        "peak_year": int(year),
        "peak_value": peak_value,
        "reached": reached,
        "within_horizon": k < len(path) - 1,
    }
