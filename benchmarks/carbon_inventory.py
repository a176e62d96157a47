"""The carbon inventory at 10 million activity rows, grouped by district × sector × month.

SYNTHETIC activity rows (seeded): 20 districts, 12 months, 6 sectors, fuels (diesel,
gasoline, natural gas, coal) and electricity, each row with its GPC number, in memory with
categorical key columns (as `read_csv(dtype="category")` gives them for repeated codes).
Reading the CSV is not timed on either side: the CLI's reader (`read_activity`, which keeps
each row's line number) is a separate cost.

* inventory — validation of every row, unit conversion, factors (IPCC 2006 fuels, Sichuan
  2022 grid), emissions, then the sum by district × sector × month;
* baseline — a plain pandas groupby-sum of the quantity column by the same three keys.

Target: inventory ≤ 1.5 × baseline. Each figure is the best of --repeat runs.

Usage: python benchmarks/carbon_inventory.py [--rows 10000000 --repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from timing import best

from analytics.carbon.factors import parse_grid
from analytics.carbon.inventory import compute
from analytics.indicators.chengdu import units

DISTRICTS = list(units("district")["uCode"])
# (sector, GPC number, fuel, unit, typical quantity)
SOURCES = [
    ("residential", "I.1.1", "natural_gas", "GJ", 500.0),
    ("residential", "I.1.2", "electricity", "MWh", 800.0),
    ("commercial", "I.2.2", "electricity", "MWh", 1200.0),
    ("industry", "I.3.1", "bituminous_coal", "t", 300.0),
    ("industry", "I.3.2", "electricity", "MWh", 3000.0),
    ("transport", "II.1.1", "diesel", "t", 150.0),
    ("transport", "II.1.1", "gasoline", "t", 200.0),
    ("agriculture", "I.5.1", "diesel", "t", 20.0),
    ("energy", "I.4.2", "electricity", "MWh", 400.0),
]


def activity(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, len(SOURCES), rows)
    table = pd.DataFrame(SOURCES, columns=["sector", "gpc_ref", "fuel", "unit", "q"])
    months = [f"2024-{m:02d}" for m in range(1, 13)]

    def cat(values: list[str], codes: np.ndarray) -> pd.Categorical:
        cats = list(dict.fromkeys(values))
        index = {v: i for i, v in enumerate(cats)}
        return pd.Categorical.from_codes(np.array([index[v] for v in values])[codes], cats)

    return pd.DataFrame(
        {
            "region": pd.Categorical.from_codes(rng.integers(0, 20, rows), DISTRICTS),
            "period": pd.Categorical.from_codes(rng.integers(0, 12, rows), months),
            "sector": cat(list(table["sector"]), src),
            "gpc_ref": cat(list(table["gpc_ref"]), src),
            "fuel": cat(list(table["fuel"]), src),
            "quantity": table["q"].to_numpy()[src] * rng.lognormal(0, 0.5, rows),
            "unit": cat(list(table["unit"]), src),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    data = activity(args.rows)
    print(f"generated {len(data):,} SYNTHETIC activity rows in {time.perf_counter() - t0:.1f} s")
    grid = [parse_grid("sichuan:2022")]
    keys = ["region", "sector", "period"]

    def baseline() -> pd.DataFrame:
        return data.groupby(keys, observed=True, sort=True)["quantity"].sum().reset_index()

    def inventory() -> pd.DataFrame:
        inv = compute(data, "ipcc2006", grid)
        assert inv.rejected.empty
        return inv.by(keys)

    t_base, base = best(baseline, args.repeat)
    t_inv, out = best(inventory, args.repeat)
    assert len(out) == len(base)
    print(f"baseline groupby-sum:          {t_base:7.3f} s  ({len(base)} groups)")
    print(
        f"inventory (validate+factors):  {t_inv:7.3f} s  "
        f"total {out['co2_t'].sum() / 1e6:,.2f} Mt CO2"
    )
    print(f"ratio inventory / baseline:    {t_inv / t_base:7.2f}x   (target <= 1.5x)")


if __name__ == "__main__":
    main()
