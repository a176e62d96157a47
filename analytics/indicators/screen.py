"""Screening of units by data availability (COINr's Screen)."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from analytics.errors import InvalidData


def screen(
    data: pd.DataFrame,
    *,
    dat_thresh: float = 2 / 3,
    nonzero_thresh: float = 0.05,
    unit_screen: Literal["byNA", "byNZ", "byBoth"] = "byNA",
    exclude: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Units kept, and the availability table (``Dat_Avail``, ``Nonzero``, ``Included``).

    ``Dat_Avail`` is the share of non-missing indicators, ``Nonzero`` the share of non-zero
    ones among them; a unit is kept when its share reaches the threshold. ``exclude`` removes
    named units regardless, as COINr's ``Force``.
    """
    if not 0 <= dat_thresh <= 1 or not 0 <= nonzero_thresh <= 1:
        raise InvalidData("screen: thresholds are shares between 0 and 1")
    n = data.shape[1]
    avail = 1 - data.isna().sum(axis=1) / n
    nonzero = 1 - (data == 0).sum(axis=1) / n
    if unit_screen == "byNA":
        keep = avail >= dat_thresh
    elif unit_screen == "byNZ":
        keep = nonzero >= nonzero_thresh
    elif unit_screen == "byBoth":
        keep = (avail >= dat_thresh) & (nonzero >= nonzero_thresh)
    else:
        raise InvalidData(f"screen: unknown unit_screen {unit_screen!r}")
    units = data.index.get_level_values("uCode") if "uCode" in data.index.names else data.index
    keep &= ~units.isin(exclude)
    summary = pd.DataFrame({"Dat_Avail": avail, "Nonzero": nonzero, "Included": keep})
    return data.loc[keep], summary
