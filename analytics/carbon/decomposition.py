"""Additive LMDI-I decomposition of a change in city emissions (Ang 2005; Ang 2015).

The identity decomposed is the four-factor Kaya-type chain over sectors *i*::

    C = Σ_i Q · (Q_i / Q) · (E_i / Q_i) · (C_i / E_i) = Σ_i Q · S_i · I_i · F_i

with Q = Σ_i Q_i the total activity (GDP as the sum of sector value added), S_i = Q_i / Q
the activity structure, I_i = E_i / Q_i the energy intensity and F_i = C_i / E_i the
emission factor of sector *i*. Between a base period 0 and a target period T the additive
LMDI-I effect of factor x (Ang 2005, Energy Policy 33:867–871; Ang 2015, Energy Policy
86:233–238) is::

    ΔC_x = Σ_i L(C_i^T, C_i^0) · ln(x_i^T / x_i^0)
    L(a, b) = (a − b) / (ln a − ln b),   L(a, a) = a

so ΔC_act + ΔC_str + ΔC_int + ΔC_ef = C^T − C^0 with no residual, sector by sector.

Zero values follow the analytic limit of the small-value strategy of Ang & Liu (2007,
"Handling zero values in the logarithmic mean Divisia index decomposition approach", Energy
Policy 35:238–246): replacing a zero by δ and letting δ → 0 (the limits are those tabulated
by Ang, Zhang & Choi 1998 and Wood & Lenzen 2006). We compute the limit itself rather than
plugging in δ = 1e-20 because the δ-results converge only like 1/|ln δ|: for a sector
appearing with 5 t, δ = 1e-20 still puts about 2 % of its change on the wrong factors. In the
limit:

* a sector with zero emissions in both periods contributes nothing;
* a sector whose emissions are zero in exactly one period (it starts or stops emitting)
  puts its whole change C_i^T − C_i^0 into one effect: *structure* if its activity is zero in
  that period, else *intensity* if its energy use is zero, else *emission factor*.

Combinations whose factors are undefined are refused with :class:`ComputationError`:
energy use without activity (I_i = E/0; typically households, which have no value added —
decompose them separately with population as the activity), emissions without energy use,
and a period with zero total activity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import ComputationError, InvalidData

EFFECTS = ("activity", "structure", "intensity", "emission_factor")
TOTAL = "total"


@dataclass(frozen=True)
class LmdiResult:
    """Additive LMDI-I result between two periods.

    ``effects`` maps activity, structure, intensity and emission_factor to their
    contribution (in the unit of the emissions column); ``by_sector`` holds the same
    contributions per sector (index: sector; columns: the four effects and ``total``, the
    sector's C_i^T − C_i^0). ``residual`` is ``total_change − Σ effects``: LMDI-I is exact,
    so it is only floating-point rounding.
    """

    effects: dict[str, float]
    total_change: float
    by_sector: pd.DataFrame
    residual: float


def log_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The logarithmic mean L(a, b) = (a − b) / (ln a − ln b), with L(a, a) = a.

    Defined for positive a and b. For nearly equal values ``ln a − ln b`` is computed as
    ``log1p((a − b) / b)`` so that it does not lose its digits to cancellation; otherwise as
    ``ln(a / b)``, because log1p near −1 would amplify the rounding of (a − b) / b.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    diff = a - b
    with np.errstate(divide="ignore", invalid="ignore"):
        close = np.abs(diff) < 0.5 * b
        log_ratio = np.where(close, np.log1p(np.where(close, diff / b, 0.0)), np.log(a / b))
        out = diff / log_ratio
    return np.where(diff == 0, a, out)


def _check_columns(data: Any, columns: dict[str, str], *, where: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise InvalidData(f"{where}: expected a DataFrame, got {type(data).__name__}")
    for role, col in columns.items():
        if col not in data.columns:
            raise InvalidData(f"{where}: the data has no {role} column {col!r}")


def _period_rows(
    data: pd.DataFrame, when: Any, *, period: str, sector: str, where: str
) -> pd.DataFrame:
    rows = data.loc[data[period] == when]
    if rows.empty:
        raise InvalidData(f"{where}: period {when!r} is not in column {period!r}")
    if rows[sector].isna().any():
        raise InvalidData(f"{where}: period {when!r} has a row without a {sector}")
    dup = rows[sector].duplicated()
    if dup.any():
        raise InvalidData(
            f"{where}: {sector} {rows.loc[dup, sector].iloc[0]!r} has more than one row "
            f"in period {when!r}"
        )
    return rows.set_index(sector)


def _values(rows: pd.DataFrame, col: str, when: Any, *, sector: str, where: str) -> np.ndarray:
    series = rows[col]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise InvalidData(f"{where}: column {col!r} is not numeric ({series.dtype})")
    values = series.to_numpy(dtype=float, na_value=np.nan)
    for bad, what in ((np.isnan(values), "missing"), (np.isinf(values), "infinite")):
        if bad.any():
            name = rows.index[bad][0]
            raise InvalidData(f"{where}: {col!r} is {what} for {sector} {name!r} in {when!r}")
    if (values < 0).any():
        name = rows.index[values < 0][0]
        raise InvalidData(f"{where}: {col!r} is negative for {sector} {name!r} in {when!r}")
    return values


def _check_chain(
    names: pd.Index, q: np.ndarray, e: np.ndarray, c: np.ndarray, when: Any, *, where: str
) -> None:
    """Refuse rows whose intensity or emission factor is undefined (see the module notes)."""
    if q.sum() <= 0:
        raise ComputationError(f"{where}: total activity is zero in period {when!r}")
    bad = (e > 0) & (q == 0)
    if bad.any():
        raise ComputationError(
            f"{where}: sector {names[bad][0]!r} uses energy but has no activity in period "
            f"{when!r}, so its energy intensity is undefined (decompose such a sector, e.g. "
            "households, separately with its own activity measure)"
        )
    bad = (c > 0) & (e == 0)
    if bad.any():
        raise ComputationError(
            f"{where}: sector {names[bad][0]!r} emits without using energy in period "
            f"{when!r}, so its emission factor is undefined"
        )


def _decompose(
    data: pd.DataFrame,
    base: Any,
    target: Any,
    *,
    sector: str,
    period: str,
    activity: str,
    energy: str,
    emissions: str,
    where: str,
) -> LmdiResult:
    rows0 = _period_rows(data, base, period=period, sector=sector, where=where)
    rows_t = _period_rows(data, target, period=period, sector=sector, where=where)
    only0 = rows0.index.difference(rows_t.index, sort=False)
    only_t = rows_t.index.difference(rows0.index, sort=False)
    if len(only0) or len(only_t):
        name, here, there = (only0[0], base, target) if len(only0) else (only_t[0], target, base)
        raise InvalidData(
            f"{where}: {sector} {name!r} has a row in period {here!r} but none in {there!r} "
            "(give it zeros in the period where it is absent)"
        )
    names = rows0.index
    rows_t = rows_t.loc[names]
    q0, e0, c0 = (
        _values(rows0, col, base, sector=sector, where=where)
        for col in (activity, energy, emissions)
    )
    qt, et, ct = (
        _values(rows_t, col, target, sector=sector, where=where)
        for col in (activity, energy, emissions)
    )
    _check_chain(names, q0, e0, c0, base, where=where)
    _check_chain(names, qt, et, ct, target, where=where)

    n = len(names)
    contrib = np.zeros((n, len(EFFECTS)))
    both = (c0 > 0) & (ct > 0)
    if both.any():
        # Here every Q_i, E_i, C_i is positive in both periods (checked by _check_chain).
        w = log_mean(ct[both], c0[both])
        big_q0, big_qt = q0.sum(), qt.sum()
        # Ratios beyond float64 (values 1e-300 and 1e300 apart) are refused below by name.
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            logs = np.column_stack(
                [
                    np.full(both.sum(), np.log(big_qt / big_q0)),
                    np.log((qt[both] / big_qt) / (q0[both] / big_q0)),
                    np.log((et[both] / qt[both]) / (e0[both] / q0[both])),
                    np.log((ct[both] / et[both]) / (c0[both] / e0[both])),
                ]
            )
            contrib[both] = w[:, None] * logs
    one = (c0 > 0) != (ct > 0)
    for i in np.flatnonzero(one):
        # Limit δ → 0: only the factor that the zero enters first (S, then I, then F) diverges
        # like ln δ, and L(C, δ)·ln δ → C; the other logs stay finite while L(C, δ) → 0.
        q, e = (q0[i], e0[i]) if c0[i] == 0 else (qt[i], et[i])
        k = 1 if q == 0 else 2 if e == 0 else 3
        contrib[i, k] = ct[i] - c0[i]

    by_sector = pd.DataFrame(contrib, index=names, columns=list(EFFECTS))
    by_sector[TOTAL] = ct - c0
    effects = {name: float(contrib[:, k].sum()) for k, name in enumerate(EFFECTS)}
    total_change = float(ct.sum() - c0.sum())
    finite = np.isfinite(contrib).all(axis=1)
    if not finite.all() or not np.isfinite([*effects.values(), total_change]).all():
        at = f" for {sector} {names[~finite][0]!r}" if not finite.all() else ""
        raise ComputationError(
            f"{where}: the effects overflow floating point{at} (the values are too large or "
            "too far apart); give the data in other units"
        )
    residual = total_change - float(sum(effects.values()))
    return LmdiResult(effects, total_change, by_sector, residual)


def lmdi(
    data: pd.DataFrame,
    base: Any,
    target: Any,
    *,
    sector: str = "sector",
    period: str = "period",
    activity: str = "activity",
    energy: str = "energy",
    emissions: str = "emissions",
) -> LmdiResult:
    """Additive LMDI-I decomposition of C^T − C^0 into activity, structure, intensity and
    emission-factor effects (formulas in the module docstring; Ang 2005, Ang 2015).

    ``data`` has one row per (period, sector) with non-negative ``activity`` (Q_i, e.g.
    value added), ``energy`` (E_i) and ``emissions`` (C_i). Total activity Q is the sum of
    the sectors' activity in each period. Every sector must have a row in both periods; a
    sector that does not exist in one of them should be given zeros there, which the
    zero-value rule of the module docstring then handles.

    Raises :class:`InvalidData` for a missing column or period, a sector present in one
    period only, a duplicate row, or a missing, infinite or negative value, and
    :class:`ComputationError` when a factor is undefined (energy without activity,
    emissions without energy, zero total activity) or an effect overflows float64.
    """
    columns = {
        "sector": sector,
        "period": period,
        "activity": activity,
        "energy": energy,
        "emissions": emissions,
    }
    _check_columns(data, columns, where="lmdi")
    return _decompose(
        data,
        base,
        target,
        sector=sector,
        period=period,
        activity=activity,
        energy=energy,
        emissions=emissions,
        where="lmdi",
    )


def lmdi_by(
    data: pd.DataFrame,
    base: Any,
    target: Any,
    *,
    by: str = "district",
    sector: str = "sector",
    period: str = "period",
    activity: str = "activity",
    energy: str = "energy",
    emissions: str = "emissions",
) -> pd.DataFrame:
    """:func:`lmdi` applied to each group of ``by`` (e.g. each district) separately.

    Each group is decomposed with its own total activity Q_g = Σ_i Q_{g,i}, so the structure
    effect describes the sector mix inside the group. Returns one row per group (index named
    ``by``, in order of first appearance) with the four effects and ``total`` (the group's
    C^T − C^0). Errors name the group as well as the sector and period at fault.
    """
    columns = {
        "group": by,
        "sector": sector,
        "period": period,
        "activity": activity,
        "energy": energy,
        "emissions": emissions,
    }
    _check_columns(data, columns, where="lmdi_by")
    if data[by].isna().any():
        raise InvalidData(f"lmdi_by: column {by!r} has rows without a group")
    if data.empty:
        raise InvalidData("lmdi_by: the data has no rows")
    records = {}
    for group, rows in data.groupby(by, sort=False):
        result = _decompose(
            rows,
            base,
            target,
            sector=sector,
            period=period,
            activity=activity,
            energy=energy,
            emissions=emissions,
            where=f"lmdi_by {by} {group!r}",
        )
        records[group] = {**result.effects, TOTAL: result.total_change}
    out = pd.DataFrame.from_dict(records, orient="index", columns=[*EFFECTS, TOTAL])
    out.index.name = by
    return out
