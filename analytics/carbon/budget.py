"""Carbon budgets: sharing a city budget among districts, annual paths, and tracking.

Allocation rules (shares s_i, Σ s_i = 1, budget_i = s_i · B for a city budget B):

* ``grandfathering`` — s_i = C_i / Σ C (base-period emissions).
* ``per_capita`` — equal per-capita allowances: s_i = P_i / Σ P.
* ``intensity`` — a common intensity benchmark: every district is allowed the same emissions
  per unit of GDP, I* = B / Σ GDP, so budget_i = GDP_i · I* and s_i = GDP_i / Σ GDP. This is
  the output-based benchmark rule of China's national ETS (allowance = output × benchmark
  intensity; MEE 2020 allocation plan for the power sector) applied to districts. Relative
  to its own emissions a district receives budget_i / C_i = I* / I_i, so districts with a
  lower carbon intensity I_i = C_i / GDP_i than the city get proportionally more; the rule
  is monotone in GDP and needs no cap.
* ``mix`` — s_i = Σ_m w_m s_i^m over the named methods with non-negative weights normalised
  to sum to 1.

Shares are not rounded, so they sum to 1 and the budgets to B up to floating-point rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from analytics.errors import ComputationError, InvalidData, InvalidPipeline

Method = Literal["grandfathering", "per_capita", "intensity", "mix"]
Shape = Literal["linear", "peak_then_linear"]
BASIS = {"grandfathering": "base_emissions", "per_capita": "population", "intensity": "gdp"}
METHODS = (*BASIS, "mix")
SHAPES = ("linear", "peak_then_linear")
GREEN, YELLOW, RED = "green", "yellow", "red"
# An intensity reduction equal to the required one is on track even when the binary
# arithmetic of the two percentages differs in the last digit.
PCT_TOL = 1e-9


def _positive_number(value: Any, what: str, *, where: str, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )
    if not ok or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        need = "a finite number >= 0" if allow_zero else "a finite number > 0"
        raise InvalidData(f"{where}: {what} is {value!r}, expected {need}")
    return float(value)


def _year(value: Any, what: str, *, where: str) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise InvalidPipeline(f"{where}: {what} is {value!r}, expected an integer year")
    return int(value)


def _basis_shares(districts: pd.DataFrame, column: str, *, where: str) -> np.ndarray:
    """Shares proportional to a non-negative column with a positive total."""
    if column not in districts.columns:
        raise InvalidData(f"{where}: the districts table has no {column!r} column")
    col = districts[column]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise InvalidData(f"{where}: column {column!r} is not numeric ({col.dtype})")
    values = col.to_numpy(dtype=float, na_value=np.nan)
    names = districts["district"].to_numpy()
    for bad, what in (
        (np.isnan(values), "missing"),
        (np.isinf(values), "infinite"),
        (values < 0, "negative"),
    ):
        if bad.any():
            raise InvalidData(f"{where}: {column!r} is {what} for district {names[bad][0]!r}")
    total = values.sum()
    if total <= 0:
        raise InvalidData(f"{where}: column {column!r} sums to zero, so it cannot share a budget")
    return values / total


def allocate(
    city_budget: float,
    districts: pd.DataFrame,
    method: Method,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Share ``city_budget`` among districts by ``method`` (rules in the module docstring).

    ``districts`` has a ``district`` column and whichever basis columns the method needs:
    ``base_emissions`` (grandfathering), ``population`` (per_capita), ``gdp`` (intensity).
    ``weights`` is required for ``mix`` only and maps method names to non-negative weights,
    e.g. ``{"grandfathering": 0.5, "per_capita": 0.3, "intensity": 0.2}``.

    Returns a frame indexed by ``district`` with ``share`` and ``budget``. Raises
    :class:`InvalidData` for a bad budget, a missing column, a negative, missing or
    infinite value, a duplicate district or a basis column that sums to zero, and
    :class:`InvalidPipeline` for an unknown method or bad weights.
    """
    where = f"allocate {method}"
    budget = _positive_number(city_budget, "the city budget", where=where)
    if method not in METHODS:
        raise InvalidPipeline(f"allocate: unknown method {method!r} (use {', '.join(METHODS)})")
    if not isinstance(districts, pd.DataFrame):
        raise InvalidData(f"{where}: expected a DataFrame, got {type(districts).__name__}")
    if "district" not in districts.columns:
        raise InvalidData(f"{where}: the districts table has no 'district' column")
    if districts.empty:
        raise InvalidData(f"{where}: the districts table has no rows")
    if districts["district"].isna().any():
        raise InvalidData(f"{where}: the districts table has a row without a district")
    dup = districts["district"].duplicated()
    if dup.any():
        raise InvalidData(
            f"{where}: district {districts.loc[dup, 'district'].iloc[0]!r} appears twice"
        )

    if method == "mix":
        if not isinstance(weights, Mapping) or not weights:
            raise InvalidPipeline("allocate mix: weights must map method names to weights")
        w = {}
        for name, value in weights.items():
            if name not in BASIS:
                raise InvalidPipeline(
                    f"allocate mix: {name!r} is not a method to mix (use {', '.join(BASIS)})"
                )
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or value < 0:
                raise InvalidPipeline(f"allocate mix: weight of {name!r} is {value!r}")
            w[name] = float(value)
        total_w = sum(w.values())
        if total_w <= 0:
            raise InvalidPipeline("allocate mix: the weights sum to zero")
        # Methods with zero weight do not need their column.
        shares = sum(
            (v / total_w) * _basis_shares(districts, BASIS[name], where=where)
            for name, v in w.items()
            if v > 0
        )
    else:
        if weights is not None:
            raise InvalidPipeline(f"{where}: weights apply to method 'mix' only")
        shares = _basis_shares(districts, BASIS[method], where=where)

    out = pd.DataFrame(
        {"share": shares, "budget": shares * budget},
        index=pd.Index(districts["district"].to_numpy(), name="district"),
    )
    return out


def budget_path(
    total_budget: float,
    start_year: int,
    end_year: int,
    start_emissions: float,
    *,
    peak_year: int | None = None,
    shape: Shape = "linear",
) -> pd.Series:
    """Annual budget path from ``start_year`` to ``end_year`` (inclusive) summing to the total.

    Both shapes are piecewise linear and start at ``start_emissions`` (so the path continues
    from today's emissions); the free value is then fixed by Σ_t path_t = B:

    * ``linear`` — a straight line from e0 = ``start_emissions`` to an end value e_N chosen so
      that n (e0 + e_N) / 2 = B, n the number of years: e_N = 2B / n − e0. It declines when
      B < n·e0 and rises otherwise. If e_N < 0 the budget cannot be spent along a
      non-negative line and :class:`ComputationError` says the least budget needed (n·e0/2).
    * ``peak_then_linear`` — a linear rise from e0 to a peak P in ``peak_year``, then a
      linear decline to zero in ``end_year`` (net zero). The sum is linear in P,
      B = a + b·P, so P = (B − a) / b. If P < e0 the budget is too small for any rise and
      :class:`ComputationError` gives the least budget (the one with P = e0).

    Returns a float Series indexed by year (name ``year``), named ``budget``.
    """
    where = f"budget_path {shape}"
    if shape not in SHAPES:
        raise InvalidPipeline(f"budget_path: unknown shape {shape!r} (use {', '.join(SHAPES)})")
    budget = _positive_number(total_budget, "the total budget", where=where)
    e0 = _positive_number(start_emissions, "start_emissions", where=where)
    start = _year(start_year, "start_year", where=where)
    end = _year(end_year, "end_year", where=where)
    if end <= start:
        raise InvalidPipeline(f"{where}: end_year {end} is not after start_year {start}")
    years = np.arange(start, end + 1)
    n = len(years)

    if shape == "linear":
        if peak_year is not None:
            raise InvalidPipeline(f"{where}: peak_year applies to shape 'peak_then_linear'")
        e_end = 2.0 * budget / n - e0
        if e_end < 0:
            raise ComputationError(
                f"{where}: a budget of {budget:g} over {start}–{end} would take the line "
                f"below zero; a linear path from {e0:g} needs at least {n * e0 / 2:g}"
            )
        path = e0 + (e_end - e0) * (years - start) / (end - start)
    else:
        if peak_year is None:
            raise InvalidPipeline(f"{where}: peak_year is required")
        peak = _year(peak_year, "peak_year", where=where)
        if not start < peak < end:
            raise InvalidPipeline(
                f"{where}: peak_year {peak} is not strictly between {start} and {end}"
            )
        # path_t = e0·u_t + P·v_t: u falls from 1 to 0 over the rise, v is the tent shape.
        rise = (np.minimum(years, peak) - start) / (peak - start)
        fall = np.clip((end - years) / (end - peak), 0.0, 1.0)
        u = np.where(years <= peak, 1.0 - rise, 0.0)
        v = np.where(years <= peak, rise, fall)
        peak_value = (budget - e0 * u.sum()) / v.sum()
        if peak_value < e0:
            least = e0 * (u.sum() + v.sum())
            raise ComputationError(
                f"{where}: a budget of {budget:g} cannot rise from {e0:g} to a peak in {peak} "
                f"and reach zero in {end}; that needs at least {least:g}"
            )
        path = e0 * u + peak_value * v
    return pd.Series(path, index=pd.Index(years, name="year"), name="budget")


def _year_series(values: Any, what: str, *, where: str) -> pd.Series:
    if not isinstance(values, pd.Series):
        raise InvalidData(f"{where}: {what} must be a Series indexed by year")
    if not pd.api.types.is_integer_dtype(values.index):
        raise InvalidData(f"{where}: {what} is not indexed by integer years")
    if values.index.has_duplicates:
        dup = values.index[values.index.duplicated()][0]
        raise InvalidData(f"{where}: {what} has year {dup} more than once")
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise InvalidData(f"{where}: {what} is not numeric ({values.dtype})")
    out = values.astype(float).sort_index()
    bad = ~np.isfinite(out.to_numpy())
    if bad.any():
        raise InvalidData(f"{where}: {what} is missing or infinite in {out.index[bad][0]}")
    return out


def track(
    actual: pd.Series,
    path: pd.Series,
    *,
    yellow: float = 0.95,
    red: float = 1.0,
) -> pd.DataFrame:
    """Cumulative actual emissions against a cumulative budget path, year by year.

    ``actual`` holds *annual* emissions by year and must cover the path's years from its
    first year without gaps (a cumulative total needs every year); it may stop before the
    path ends. Per year of ``actual``: ``actual``, ``budget``, ``cum_actual``,
    ``cum_budget``, ``ratio`` = cum_actual / cum_budget and ``status``: green when
    ratio < yellow, yellow when yellow ≤ ratio < red, red when ratio ≥ red.
    """
    where = "track"
    for name, value in (("yellow", yellow), ("red", red)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidPipeline(f"{where}: {name} threshold is {value!r}, expected a number")
    if not 0 < yellow <= red or not math.isfinite(red):
        raise InvalidPipeline(f"{where}: thresholds need 0 < yellow <= red, got {yellow}, {red}")
    act = _year_series(actual, "actual", where=where)
    plan = _year_series(path, "the budget path", where=where)
    if act.empty or plan.empty:
        raise InvalidData(f"{where}: actual and the budget path need at least one year")
    if (act < 0).any():
        raise InvalidData(f"{where}: actual is negative in {act.index[act < 0][0]}")
    if (plan < 0).any():
        raise InvalidData(f"{where}: the budget path is negative in {plan.index[plan < 0][0]}")
    outside = act.index.difference(plan.index)
    if len(outside):
        raise InvalidData(f"{where}: year {outside[0]} of actual is not in the budget path")
    needed = plan.index[plan.index <= act.index.max()]
    missing = needed.difference(act.index)
    if len(missing):
        raise InvalidData(
            f"{where}: actual has no value for {missing[0]} (the path starts in "
            f"{plan.index.min()} and cumulative totals need every year)"
        )
    out = pd.DataFrame({"actual": act, "budget": plan.loc[act.index]})
    out.index.name = "year"
    out["cum_actual"] = out["actual"].cumsum()
    out["cum_budget"] = out["budget"].cumsum()
    if (out["cum_budget"] <= 0).any():
        year = out.index[out["cum_budget"] <= 0][0]
        raise InvalidData(f"{where}: the cumulative budget is zero in {year}")
    out["ratio"] = out["cum_actual"] / out["cum_budget"]
    out["status"] = np.where(
        out["ratio"] >= red, RED, np.where(out["ratio"] >= yellow, YELLOW, GREEN)
    )
    return out


def intensity_status(
    emissions: pd.Series,
    gdp: pd.Series,
    base_year: int,
    target_reduction_pct: float,
    target_year: int,
) -> pd.DataFrame:
    """Carbon-intensity reduction achieved against a linearly interpolated requirement.

    Intensity I_t = C_t / GDP_t. For every year t ≥ ``base_year`` present in both series:
    achieved_t = 100 (1 − I_t / I_base) and required_t = R · (t − base) / (target − base) for
    t ≤ ``target_year``, held at R afterwards (R = ``target_reduction_pct``, e.g. 18 for a
    five-year plan's −18 %). ``on_track`` is achieved ≥ required (to within 1e-9 points).

    Returns a frame indexed by year with ``emissions``, ``gdp``, ``intensity``,
    ``achieved_reduction_pct``, ``required_reduction_pct`` and ``on_track``.
    """
    where = "intensity_status"
    base = _year(base_year, "base_year", where=where)
    target = _year(target_year, "target_year", where=where)
    if target <= base:
        raise InvalidPipeline(f"{where}: target_year {target} is not after base_year {base}")
    r = target_reduction_pct
    if isinstance(r, bool) or not isinstance(r, int | float) or not 0 < r < 100:
        raise InvalidPipeline(f"{where}: target_reduction_pct is {r!r}, expected 0 < R < 100")
    em = _year_series(emissions, "emissions", where=where)
    g = _year_series(gdp, "gdp", where=where)
    years = em.index.intersection(g.index)
    years = years[years >= base]
    if base not in years:
        raise InvalidData(f"{where}: emissions and gdp both need a value for base year {base}")
    em, g = em.loc[years], g.loc[years]
    if (em < 0).any():
        raise InvalidData(f"{where}: emissions are negative in {em.index[em < 0][0]}")
    if (g <= 0).any():
        raise InvalidData(f"{where}: gdp is not positive in {g.index[g <= 0][0]}")
    intensity = em / g
    if intensity.loc[base] == 0:
        raise ComputationError(f"{where}: intensity is zero in base year {base}")
    achieved = 100.0 * (1.0 - intensity / intensity.loc[base])
    t = years.to_numpy()
    required = r * np.minimum(t - base, target - base) / (target - base)
    out = pd.DataFrame(
        {
            "emissions": em,
            "gdp": g,
            "intensity": intensity,
            "achieved_reduction_pct": achieved,
            "required_reduction_pct": required,
        },
        index=years,
    )
    out.index.name = "year"
    out["on_track"] = out["achieved_reduction_pct"] >= out["required_reduction_pct"] - PCT_TOL
    return out
