"""SYNTHETIC demo data for the carbon accounts: district activity, panels, LMDI and targets.

Chengdu's 20 county-level units, 2015-2024 by month. GDP and population come from the
indicator framework's generated district panel (the same seed gives the same districts),
so intensities and the index tell one story. Activity per district and sector is scaled to
its GDP with a sector mix that differs between the central districts and the outer ones,
a winter/summer profile, and a slow decline of fossil use. Every file carries
``synthetic = yes``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analytics.indicators.chengdu import central_districts, generate_panel
from analytics.indicators.framework import load_framework

FRAMEWORK = Path(__file__).resolve().parents[1] / "frameworks" / "chengdu_green_low_carbon.yaml"
YEARS = tuple(range(2015, 2025))
# sector, GPC number, fuel, unit, quantity per bn yuan of GDP per month (central, outer)
SOURCES = [
    ("residential", "I.1.1", "natural_gas", "GJ", 90.0, 70.0),
    ("residential", "I.1.2", "electricity", "MWh", 55.0, 40.0),
    ("commercial", "I.2.1", "natural_gas", "GJ", 60.0, 25.0),
    ("commercial", "I.2.2", "electricity", "MWh", 80.0, 30.0),
    ("industry", "I.3.1", "bituminous_coal", "t", 0.4, 6.0),
    ("industry", "I.3.1", "natural_gas", "GJ", 30.0, 160.0),
    ("industry", "I.3.2", "electricity", "MWh", 25.0, 150.0),
    ("transport", "II.1.1", "gasoline", "t", 3.0, 2.5),
    ("transport", "II.1.1", "diesel", "t", 1.2, 3.0),
    ("transport", "II.2.2", "electricity", "MWh", 6.0, 2.0),
    ("agriculture", "I.5.1", "diesel", "t", 0.02, 0.8),
]
# Scales the per-GDP quantities so the city's 2022 total is about 55 Mt CO2: the order of
# magnitude of a 21-million city on a hydro-dominated grid, not a published figure.
SCALE = 37.3
# heating in winter, cooling in summer; index 0 = January
SEASON = np.array([1.25, 1.2, 1.05, 0.95, 0.9, 1.0, 1.15, 1.15, 0.95, 0.9, 0.95, 1.15])


def district_panel(seed: int = 2024) -> pd.DataFrame:
    """region, year, name, GDP, tertiary value added, population (the framework's panel)."""
    fw = load_framework(FRAMEWORK, variant="district")
    panel = generate_panel(fw, "district", years=range(YEARS[0], YEARS[-1] + 1), seed=seed)
    cols = ["uCode", "uName_zh", "Time", "gdp_bn_yuan", "tertiary_bn", "population_10k"]
    out = panel[cols].rename(columns={"uCode": "region", "uName_zh": "name", "Time": "year"})
    out["synthetic"] = "yes"
    return out.reset_index(drop=True)


def activity(panel: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Monthly activity rows: region, period, sector, gpc_ref, fuel, quantity, unit."""
    rng = np.random.default_rng(seed)
    centre = central_districts()
    rows = []
    for r in panel.itertuples():
        central = r.region in centre
        fossil_trend = 0.96 ** (r.year - YEARS[0])
        for month in range(12):
            for sector, gpc, fuel, unit, q_central, q_outer in SOURCES:
                base = (q_central if central else q_outer) * r.gdp_bn_yuan * SCALE
                trend = 1.0 if fuel == "electricity" else fossil_trend
                q = base * SEASON[month] * trend * rng.lognormal(0, 0.08)
                rows.append(
                    (r.region, f"{r.year}-{month + 1:02d}", sector, gpc, fuel, round(q, 3), unit)
                )
    out = pd.DataFrame(
        rows, columns=["region", "period", "sector", "gpc_ref", "fuel", "quantity", "unit"]
    )
    out["synthetic"] = "yes"
    return out


def targets(panel: pd.DataFrame, inventory_by_region_year: pd.DataFrame) -> pd.DataFrame:
    """Per district: base-year emissions, population and GDP, for budget allocation."""
    base = inventory_by_region_year[inventory_by_region_year["year"] == YEARS[0]]
    merged = panel[panel["year"] == YEARS[0]].merge(base, on=["region", "year"])
    return pd.DataFrame(
        {
            "district": merged["region"],
            "name": merged["name"],
            "base_emissions": merged["co2_t"].round(1),
            "population": (merged["population_10k"] * 1e4).round(0),
            "gdp": merged["gdp_bn_yuan"],
            "synthetic": "yes",
        }
    )


# Which economic sector's value added drives each inventory sector's energy use. Households
# (residential) have no value added, so LMDI cannot decompose them with the others.
ECONOMIC_SECTOR = {
    "agriculture": "primary",
    "industry": "secondary",
    "commercial": "tertiary",
    "transport": "tertiary",
}


def lmdi_input(panel: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """region, period (year), sector, activity (bn yuan), energy (GJ), emissions (t CO2).

    Primary value added is a fixed share of GDP (0.3 % central, 5 % outer, in the range of
    Chengdu's 2.8 % city-wide); secondary is the rest after the tertiary sector.
    """
    va = panel.copy()
    share = np.where(va["region"].isin(central_districts()), 0.003, 0.05)
    va["primary"] = va["gdp_bn_yuan"] * share
    va["tertiary"] = va["tertiary_bn"]
    va["secondary"] = va["gdp_bn_yuan"] - va["primary"] - va["tertiary"]
    value_added = va.melt(
        id_vars=["region", "year"],
        value_vars=["primary", "secondary", "tertiary"],
        var_name="sector",
        value_name="activity",
    )
    use = rows[rows["sector"].isin(ECONOMIC_SECTOR)].assign(
        sector=lambda f: f["sector"].map(ECONOMIC_SECTOR)
    )
    use = use.groupby(["region", "year", "sector"], as_index=False)[["energy_gj", "co2_t"]].sum()
    out = value_added.merge(use, on=["region", "year", "sector"], how="inner")
    out = out.rename(columns={"year": "period", "energy_gj": "energy", "co2_t": "emissions"})
    out["activity"] = out["activity"].round(4)
    out["energy"] = out["energy"].round(3)
    out["emissions"] = out["emissions"].round(3)
    out["synthetic"] = "yes"
    return out.sort_values(["region", "period", "sector"], ignore_index=True)[
        ["region", "period", "sector", "activity", "energy", "emissions", "synthetic"]
    ]


def write(out: Path, seed: int = 2024) -> dict[str, Path]:
    """Write the demo files into ``out``; returns name → path."""
    from analytics.carbon.factors import parse_grid
    from analytics.carbon.inventory import compute

    out.mkdir(parents=True, exist_ok=True)
    panel = district_panel(seed)
    act = activity(panel)
    # Sichuan's provincial factor is published up to 2022: the latest one serves every year
    inv = compute(act, "ipcc2006", [parse_grid("sichuan:2022")])
    files = {
        "activity": out / "activity_2015_2024.csv",
        "panel": out / "district_panel.csv",
        "targets": out / "district_targets.csv",
        "lmdi": out / "lmdi_input.csv",
        "city": out / "city_annual.csv",
    }
    act.to_csv(files["activity"], index=False)
    panel.to_csv(files["panel"], index=False)
    targets(panel, inv.by(["region", "year"])).to_csv(files["targets"], index=False)
    lmdi_input(panel, inv.rows).to_csv(files["lmdi"], index=False)
    city = inv.by(["year"]).round(1)
    city["synthetic"] = "yes"
    city.to_csv(files["city"], index=False)
    return files
