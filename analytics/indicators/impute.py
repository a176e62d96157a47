"""Imputation of missing values: mean, median, group mean/median, carry forward in time."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from analytics.errors import InvalidData

Method = Literal["mean", "median", "group_mean", "group_median", "carry_forward"]


def impute(
    data: pd.DataFrame,
    method: Method,
    *,
    groups: pd.Series | None = None,
    time: pd.Series | None = None,
    units: pd.Series | None = None,
) -> pd.DataFrame:
    """Fill the NaNs of every column of ``data``; observed values are never changed.

    * ``mean`` / ``median``: of the column, per period when ``time`` is given (a unit is never
      filled from another year's values);
    * ``group_mean`` / ``group_median``: of the units in the same group (COINr's
      ``i_mean_grp``), per period when ``time`` is given;
    * ``carry_forward``: each unit's last earlier observation (``time`` and ``units`` needed).

    A value with nothing to borrow from (an all-missing group, a first year) stays NaN; the
    screening step decides what to do with it.
    """
    if method in ("group_mean", "group_median"):
        if groups is None:
            raise InvalidData(f"impute: method {method} needs a group column")
        keys = [groups] if time is None else [groups, time]
        stat = "mean" if method == "group_mean" else "median"
        filled = data.groupby(keys, dropna=False).transform(stat)
    elif method in ("mean", "median"):
        if time is None:
            filled = data.apply(lambda c: c.fillna(getattr(c, method)()))
        else:
            filled = data.groupby(time).transform(method)
    elif method == "carry_forward":
        if time is None or units is None:
            raise InvalidData("impute: carry_forward needs a Time column in the data")
        order = time.sort_values(kind="stable").index
        filled = data.loc[order].groupby(units.loc[order]).ffill().reindex(data.index)
    else:
        raise InvalidData(f"impute: unknown method {method!r}")
    return data.where(data.notna(), filled)
