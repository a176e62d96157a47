"""Outlier treatment by COINr's rule: winsorise while skew and kurtosis both exceed limits.

An indicator *passes* when ``|skew| < skew_thresh`` or ``kurtosis < kurt_thresh`` (skew and
excess kurtosis of the sample, as Excel and e1071 type 2 define them). A failing indicator is
winsorised one extreme at a time, on the side of its skew, at most ``winmax`` points; if it
still fails, the original values are log-transformed instead (``log_CT``), as COINr 1.1.14's
``Treat`` does by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def skew(x: np.ndarray) -> float:
    """Sample skewness (Excel ``SKEW``); NaN below three values."""
    x = x[~np.isnan(x)]
    n = x.size
    if n < 3:
        return float("nan")
    d = x - x.mean()
    m2 = np.sum(d**2)
    if m2 == 0:
        return float("nan")
    return float(np.sqrt(n) * np.sum(d**3) / m2**1.5 * np.sqrt(n * (n - 1)) / (n - 2))


def kurt(x: np.ndarray) -> float:
    """Sample excess kurtosis (Excel ``KURT``); NaN below four values."""
    x = x[~np.isnan(x)]
    n = x.size
    if n < 4:
        return float("nan")
    d = x - x.mean()
    m2 = np.sum(d**2)
    if m2 == 0:
        return float("nan")
    r = n * np.sum(d**4) / m2**2
    return float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def passes(x: np.ndarray, skew_thresh: float, kurt_thresh: float) -> bool | None:
    s, k = skew(x), kurt(x)
    # R's `|` with NA: TRUE if either side is TRUE, NA otherwise.
    a = None if np.isnan(s) else abs(s) < skew_thresh
    b = None if np.isnan(k) else k < kurt_thresh
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


@dataclass(frozen=True)
class Treatment:
    """What happened to one indicator."""

    code: str
    skew0: float
    kurt0: float
    passed0: bool | None
    nwin: int
    log: bool
    skew1: float
    kurt1: float
    passed1: bool | None
    points: tuple[str, ...]


def winsorise(
    x: np.ndarray, winmax: int, skew_thresh: float, kurt_thresh: float
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """COINr's ``winsorise``; returns the vector, ``nwin`` and the last high and low points."""
    x = x.astype(float).copy()
    imax = np.array([], dtype=int)
    imin = np.array([], dtype=int)
    nwin = 0
    ok = passes(x, skew_thresh, kurt_thresh)
    while ok is False and nwin < winmax:
        if skew(x) >= 0:
            imax = np.flatnonzero(x == np.nanmax(x))
            x[imax] = np.nanmax(np.delete(x, imax))
        else:
            imin = np.flatnonzero(x == np.nanmin(x))
            x[imin] = np.nanmin(np.delete(x, imin))
        # COINr counts the points of the latest pass on each side; since winsorised points tie
        # with the next value, on one side this is the cumulative count.
        nwin = imax.size + imin.size
        ok = passes(x, skew_thresh, kurt_thresh)
    return x, nwin, imax, imin


def log_ct(x: np.ndarray) -> np.ndarray:
    """COINr's ``log_CT``: ``log(x - min + 0.01 (max - min))``, defined for any sign."""
    lo, hi = np.nanmin(x), np.nanmax(x)
    return np.log(x - lo + 0.01 * (hi - lo))


def treat(
    data: pd.DataFrame,
    *,
    winmax: int = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    log_fallback: bool = True,
    exclude: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, list[Treatment]]:
    """Treated data and one :class:`Treatment` per indicator (``exclude``: left untouched)."""
    out = data.copy()
    report: list[Treatment] = []
    for code in data.columns:
        x = data[code].to_numpy(dtype=float)
        s0, k0, p0 = skew(x), kurt(x), passes(x, skew_thresh, kurt_thresh)
        if code in exclude or p0 is not False:
            report.append(Treatment(code, s0, k0, p0, 0, False, s0, k0, p0, ("",) * x.size))
            continue
        y, nwin, imax, imin = winsorise(x, winmax, skew_thresh, kurt_thresh)
        points = np.full(x.size, "", dtype=object)
        points[imax] = "winhi"
        points[imin] = "winlo"
        used_log = False
        if passes(y, skew_thresh, kurt_thresh) is False and log_fallback:
            y = log_ct(x)
            used_log = True
            points[:] = "log"
        out[code] = y
        report.append(
            Treatment(
                code,
                s0,
                k0,
                p0,
                nwin,
                used_log,
                skew(y),
                kurt(y),
                passes(y, skew_thresh, kurt_thresh),
                tuple(points),
            )
        )
    return out, report


def treatment_table(report: list[Treatment]) -> pd.DataFrame:
    """The report as a table, one row per indicator."""
    return pd.DataFrame(
        [
            {
                "iCode": t.code,
                "skew_before": t.skew0,
                "kurt_before": t.kurt0,
                "pass_before": t.passed0,
                "winsorised": t.nwin,
                "log": t.log,
                "skew_after": t.skew1,
                "kurt_after": t.kurt1,
                "pass_after": t.passed1,
            }
            for t in report
        ]
    )
