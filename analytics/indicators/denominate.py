"""Denomination: divide an indicator by a size variable (per capita, per unit of GDP, per km²)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analytics.errors import InvalidData


def denominate(
    data: pd.DataFrame,
    denominators: Mapping[str, str],
    sizes: pd.DataFrame,
    scale_factors: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """``x / (size / scale)`` for each indicator named in ``denominators`` (COINr's Denominate).

    ``data`` and ``sizes`` share their index (units, or units × time); indicators without a
    denominator pass through unchanged. A zero size gives NaN rather than infinity, because an
    infinite score would dominate every later step.
    """
    out = data.copy()
    scale_factors = scale_factors or {}
    for code, denom in denominators.items():
        if code not in out.columns:
            raise InvalidData(f"denominate: indicator {code} is not in the data")
        if denom not in sizes.columns:
            raise InvalidData(f"denominate: denominator {denom} (for {code}) is not in the data")
        size = sizes[denom].astype(float) / float(scale_factors.get(code, 1.0))
        out[code] = out[code] / size.where(size != 0)
    return out
