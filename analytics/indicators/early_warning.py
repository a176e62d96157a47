"""Early warning: traffic lights against targets, and robust anomalies in a panel.

Traffic lights read a *cross-section* (indexed by ``uCode``, one numeric column per code);
anomalies read a *panel* (``uCode``, ``Time``, one numeric column per code).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from analytics.errors import InvalidData, InvalidFramework
from analytics.indicators.trends import TIME, UNIT, time_index, validate_panel

GREEN = "green"
YELLOW = "yellow"
RED = "red"
GREY = "grey"
COLOURS = (GREEN, YELLOW, RED, GREY)
DEFAULT_YELLOW_BAND = 0.1
# Iglewicz & Hoaglin (1993): 0.6745 is Φ⁻¹(0.75), which makes MAD/0.6745 estimate σ for
# normal data, and |M| > 3.5 is their recommended cut-off for potential outliers.
MAD_CONSISTENCY = 0.6745
IGLEWICZ_HOAGLIN_CUTOFF = 3.5
# Relative slack so that a value on the yellow band's edge is not pushed out of the band by the
# rounding of target × band (0.3 − 0.1 × 0.3 is not exactly 0.27 in binary).
EDGE_RTOL = 1e-9


def _check_cross_section(values: pd.DataFrame, *, where: str) -> None:
    if not isinstance(values, pd.DataFrame):
        raise InvalidData(f"{where}: expected a DataFrame indexed by uCode, got {type(values)}")
    if values.index.has_duplicates:
        dup = values.index[values.index.duplicated()][0]
        raise InvalidData(f"{where}: unit {dup} appears more than once")
    for code in values.columns:
        col = values[code]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise InvalidData(f"{where}: indicator column {code!r} is not numeric ({col.dtype})")


def _direction(directions: Mapping[str, int], code: str, *, where: str) -> int:
    if code not in directions:
        raise InvalidFramework(
            f"{where}: indicator {code!r} has a target or thresholds but no direction"
        )
    d = directions[code]
    if isinstance(d, bool) or d not in (1, -1):
        raise InvalidFramework(f"{where}: direction of {code!r} is {d!r}, expected 1 or -1")
    return int(d)


def _band(yellow_band: float | Mapping[str, float], code: str) -> float:
    band = (
        yellow_band.get(code, DEFAULT_YELLOW_BAND)
        if isinstance(yellow_band, Mapping)
        else yellow_band
    )
    if isinstance(band, bool) or not isinstance(band, int | float) or not band >= 0:
        raise InvalidData(f"traffic_light: yellow band of {code!r} is {band!r}, expected >= 0")
    if math.isinf(band):
        raise InvalidData(f"traffic_light: yellow band of {code!r} is infinite")
    return float(band)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidFramework(f"traffic_light: {what} is {value!r}, expected a number")
    return float(value)


def traffic_light(
    values: pd.DataFrame,
    targets: Mapping[str, float],
    directions: Mapping[str, int],
    yellow_band: float | Mapping[str, float] = DEFAULT_YELLOW_BAND,
    thresholds: Mapping[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """A traffic light per unit and code: 'green', 'yellow', 'red' or 'grey'.

    With a target *T* and direction *d* (+1: higher is better, −1: lower is better), the
    *shortfall* of a value *x* is ``d × (T − x)``, how far it stays on the wrong side of *T*:

    - 'green': shortfall ≤ 0, the target is met (a value exactly at *T* is green);
    - 'yellow': 0 < shortfall ≤ ``band × |T|``, the target is missed by at most the fraction
      ``band`` of its size (a value exactly on the band's edge is yellow). A zero target has an
      empty band, so any miss of it is red;
    - 'red': a larger shortfall;
    - 'grey': a missing value, or a code with neither a target nor thresholds (or a NaN one).

    ``yellow_band`` is one fraction for every code, or a mapping per code (codes it omits use
    0.1). ``thresholds[code] = (green_at, red_at)`` replaces the target rule for that code:
    green from ``green_at`` on (≥ for d = +1, ≤ for d = −1), red from ``red_at`` on (≤ for
    d = +1, ≥ for d = −1), yellow in between; ``green_at`` must be on the better side of
    ``red_at``. Codes in ``targets``/``thresholds`` but not in ``values`` are ignored.
    Returns a frame with the index and columns of ``values``.
    """
    _check_cross_section(values, where="traffic_light")
    thresholds = thresholds or {}
    lights = pd.DataFrame(GREY, index=values.index, columns=values.columns, dtype=object)
    for code in values.columns:
        x = values[code].to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(x).any():
            unit = values.index[np.isinf(x)][0]
            raise InvalidData(f"traffic_light: indicator {code!r} is infinite for unit {unit}")
        present = ~np.isnan(x)
        if code in thresholds:
            pair = thresholds[code]
            if not isinstance(pair, Sequence) or len(pair) != 2:
                raise InvalidFramework(
                    f"traffic_light: thresholds of {code!r} must be a pair (green_at, red_at)"
                )
            green_at = _number(pair[0], f"green_at of {code!r}")
            red_at = _number(pair[1], f"red_at of {code!r}")
            if math.isnan(green_at) or math.isnan(red_at):
                continue
            d = _direction(directions, code, where="traffic_light")
            if d * (green_at - red_at) < 0:
                better = "above" if d == 1 else "below"
                raise InvalidFramework(
                    f"traffic_light: green_at={green_at} of {code!r} must be {better} "
                    f"red_at={red_at} (direction {d})"
                )
            green = present & (d * (x - green_at) >= 0)
            red = present & ~green & (d * (red_at - x) >= 0)
        elif code in targets:
            target = _number(targets[code], f"target of {code!r}")
            if math.isnan(target):
                continue
            if math.isinf(target):
                raise InvalidFramework(f"traffic_light: target of {code!r} is infinite")
            d = _direction(directions, code, where="traffic_light")
            allowed = _band(yellow_band, code) * abs(target)
            shortfall = d * (target - x)
            green = present & (shortfall <= 0)
            within = (shortfall <= allowed) | np.isclose(shortfall, allowed, rtol=EDGE_RTOL, atol=0)
            red = present & ~green & ~within
        else:
            continue
        colour = np.where(green, GREEN, np.where(red, RED, YELLOW))
        lights[code] = np.where(present, colour, GREY).astype(object)
    return lights


def warning_summary(lights: pd.DataFrame) -> pd.DataFrame:
    """Counts of each colour per unit and per code, from :func:`traffic_light`.

    Indexed by (``by``, ``key``) where ``by`` is 'unit' (key: a uCode) or 'code' (key: an
    indicator code); columns ``green``, ``yellow``, ``red``, ``grey`` and ``total``. So
    ``summary.loc['unit']`` is the per-unit table and ``summary.loc['code']`` the per-code one.
    """
    if not isinstance(lights, pd.DataFrame):
        raise InvalidData(f"warning_summary: expected a DataFrame, got {type(lights).__name__}")
    for code in lights.columns:
        bad = ~lights[code].isin(COLOURS)
        if bad.any():
            unit = lights.index[bad.to_numpy()][0]
            raise InvalidData(
                f"warning_summary: unit {unit}, code {code!r} has {lights.loc[unit, code]!r}, "
                f"not one of {', '.join(COLOURS)}"
            )
    cells = lights.to_numpy(dtype=object)

    def counts(axis: int, keys: pd.Index) -> pd.DataFrame:
        table = pd.DataFrame(
            {c: (cells == c).sum(axis=axis) for c in COLOURS}, index=keys, dtype="int64"
        )
        table["total"] = table[list(COLOURS)].sum(axis=1)
        return table

    per_unit = counts(1, pd.Index(lights.index, dtype=object))
    per_code = counts(0, pd.Index(lights.columns, dtype=object))
    summary = pd.concat({"unit": per_unit, "code": per_code}, names=["by", "key"])
    return summary


ANOMALY_COLUMNS = [UNIT, TIME, "code", "value", "median", "mad", "robust_z", "anomaly"]


def robust_anomalies(
    panel: pd.DataFrame,
    codes: Sequence[str] | None = None,
    threshold: float = IGLEWICZ_HOAGLIN_CUTOFF,
    by: Literal["unit", "time"] = "unit",
    only_anomalies: bool = True,
) -> pd.DataFrame:
    """Outliers by the modified z-score of Iglewicz & Hoaglin (1993).

    Within each group of values — a unit's own time series (``by='unit'``), or all units in
    one period (``by='time'``) — ``robust_z = 0.6745 × (x − median) / MAD`` with
    ``MAD = median(|x − median|)``; a value is an anomaly when ``|robust_z| > threshold``
    (3.5 by default, their recommendation). When MAD is 0 more than half of the group shares
    one value: the values equal to the median get NaN (nothing to say), any other value gets
    ±inf and is an anomaly, since it departs from a series that otherwise does not move.
    The score measures levels, so along a steep trend the early and late years are far from the
    median and a spike must be large to stand out: run it on :func:`year_on_year` changes to
    flag jumps instead. Missing values are skipped. Long table: ``uCode``, ``Time``, ``code``,
    ``value``, ``median``, ``mad``, ``robust_z``, ``anomaly``, sorted by unit, time and code;
    only the anomalies unless ``only_anomalies=False``.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
        raise InvalidData(f"robust_anomalies: threshold={threshold!r} must be a positive number")
    if by not in ("unit", "time"):
        raise InvalidData(f"robust_anomalies: by={by!r}, expected 'unit' or 'time'")
    codes = validate_panel(panel, codes, where="robust_anomalies")
    long = panel[[UNIT, TIME, *codes]].melt(
        id_vars=[UNIT, TIME], value_vars=codes, var_name="code", value_name="value"
    )
    long["value"] = long["value"].astype(float)
    long = long.dropna(subset=["value"]).reset_index(drop=True)
    key = [UNIT if by == "unit" else TIME, "code"]
    grouped = long.groupby(key, sort=False)["value"]
    long["median"] = grouped.transform("median")
    long["_dev"] = (long["value"] - long["median"]).abs()
    long["mad"] = long.groupby(key, sort=False)["_dev"].transform("median")
    dev = (long["value"] - long["median"]).to_numpy(dtype=float)
    mad = long["mad"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = MAD_CONSISTENCY * dev / mad
    z[(mad == 0) & (dev == 0)] = np.nan
    long["robust_z"] = z
    long["anomaly"] = np.abs(z) > threshold
    # Codes keep the caller's order rather than the alphabet's.
    long["_code"] = long["code"].map({c: i for i, c in enumerate(codes)})
    long["_t"] = time_index(long[TIME], where="robust_anomalies")
    long = long.sort_values([UNIT, "_t", "_code"], kind="stable")
    if only_anomalies:
        long = long[long["anomaly"]]
    return long[ANOMALY_COLUMNS].reset_index(drop=True)
