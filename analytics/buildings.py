"""Building energy by district, building type and month: energy, emissions and intensities.

Pure functions over DataFrames; the decision cockpit and its report call them. The input is
the building-energy table a department publishes (district × building type × month with floor
area, electricity and natural gas); GDP and population come from the statistics panel.

Conversion factors are public defaults, stated once here: electricity 0.1229 kgce/kWh
(calorific equivalent, GB/T 2589) and Sichuan's provincial average grid factor for 2022,
0.1404 kgCO2/kWh (MEE and NBS, in ../shared/data/ghg via analytics.carbon.factors' table);
natural gas 389.31 GJ per 10^4 Nm³ and 21.6219 tCO2 per 10^4 Nm³ (NDRC enterprise
guidelines), 29.3076 GJ per tce. Gas burnt in the building is scope 1; grid electricity is
scope 2.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.errors import InvalidData

BUILDING_TYPES = ("residential", "office", "commercial", "public", "industrial")
#: building type -> sector of the city's accounts
SECTOR_OF = {
    "residential": "residential",
    "office": "commercial",
    "commercial": "commercial",
    "public": "commercial",
    "industrial": "industry",
}
FUELS = ("electricity", "gas")
SCOPE_OF = {"gas": 1, "electricity": 2}
KGCE_PER_KWH = 0.1229
KGCE_PER_M3_GAS = 389.31 / 29.3076 / 10  # 389.31 GJ per 10^4 m³, 29.3076 GJ per tce
KGCO2_PER_KWH = 0.1404
KGCO2_PER_M3_GAS = 21.6219 / 10  # 21.6219 t per 10^4 m³
COLUMNS = {
    "adcode": "string",
    "district": "string",
    "building_type": "string",
    "month": "string",
    "floor_area_m2": "int64",
    "electricity_kwh": "int64",
    "gas_m3": "int64",
}
#: indicator -> (needs the statistics panel, available monthly)
INDICATORS: dict[str, tuple[bool, bool]] = {
    "co2_t": (False, True),
    "energy_tce": (False, True),
    "electricity_mwh": (False, True),
    "gas_10k_m3": (False, True),
    "kwh_per_m2": (False, True),
    "co2_kg_per_m2": (False, True),
    "carbon_intensity": (True, False),
    "energy_intensity": (True, False),
    "co2_per_capita_t": (True, False),
}


def read_building_energy(source: Path | bytes, where: str | None = None) -> pd.DataFrame:
    """The published table (a file, or its bytes), checked: known columns, building types,
    months, whole numbers >= 0, one row per district, type and month."""
    where = where or (str(source) if isinstance(source, Path) else "building energy")
    try:
        raw = pd.read_csv(
            io.BytesIO(source) if isinstance(source, bytes) else source,
            dtype=str,
            keep_default_na=False,
        )
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InvalidData(f"{where}: not a readable CSV ({exc})") from None
    return validate(raw, where=where)


def validate(raw: pd.DataFrame, *, where: str = "building energy") -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InvalidData(f"{where}: missing column(s) {', '.join(missing)}")
    if raw.empty:
        raise InvalidData(f"{where}: no rows")
    out = raw[list(COLUMNS)].copy()
    for col, kind in COLUMNS.items():
        if kind == "int64":
            values = pd.to_numeric(out[col], errors="coerce")
            bad = values.isna() | (values < 0) | (values != np.floor(values))
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
                raise InvalidData(
                    f"{where} line {row}: {col} {out[col].iloc[row - 2]!r} is not a whole "
                    "number >= 0"
                )
            out[col] = values.astype("int64")
        else:
            out[col] = out[col].astype("string").str.strip()
    unknown = sorted(set(out["building_type"]) - set(BUILDING_TYPES))
    if unknown:
        raise InvalidData(
            f"{where}: unknown building type(s) {', '.join(unknown)} "
            f"(known: {', '.join(BUILDING_TYPES)})"
        )
    months = pd.to_datetime(out["month"], format="%Y-%m", errors="coerce")
    if months.isna().any():
        row = int(np.flatnonzero(months.isna().to_numpy())[0]) + 2
        raise InvalidData(
            f"{where} line {row}: month {out['month'].iloc[row - 2]!r} is not YYYY-MM"
        )
    dup = out.duplicated(["adcode", "building_type", "month"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 2
        raise InvalidData(f"{where} line {row}: a second row for the same district, type, month")
    out["year"] = months.dt.year.astype("int64")
    return out.reset_index(drop=True)


def complete_years(frame: pd.DataFrame) -> tuple[int, int] | None:
    """The first and last year with all twelve months (None when there is none): a year's
    totals are not comparable while its months are still coming in."""
    months = frame.groupby("year")["month"].nunique()
    full = months[months == 12].index
    return (int(full.min()), int(full.max())) if len(full) else None


@dataclass(frozen=True)
class Selection:
    """What a view is filtered to; ``None`` means everything."""

    districts: tuple[str, ...] | None = None
    building_types: tuple[str, ...] | None = None
    fuels: tuple[str, ...] = FUELS
    years: tuple[int, int] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.building_types is not None:
            bad = sorted(set(self.building_types) - set(BUILDING_TYPES))
            if bad:
                raise InvalidData(f"unknown building type(s): {', '.join(bad)}")
        bad = sorted(set(self.fuels) - set(FUELS))
        if bad or not self.fuels:
            raise InvalidData(f"fuels must be among {', '.join(FUELS)}, got {self.fuels}")
        if self.years is not None and self.years[0] > self.years[1]:
            raise InvalidData(f"year range {self.years[0]}-{self.years[1]} is reversed")


def fuels_for_scopes(scopes: Iterable[int]) -> tuple[str, ...]:
    return tuple(f for f in FUELS if SCOPE_OF[f] in set(scopes))


def derive(frame: pd.DataFrame, fuels: Sequence[str] = FUELS) -> pd.DataFrame:
    """Energy (tce) and CO2 (t) per row, counting only ``fuels``."""
    out = frame.copy()
    kwh = out["electricity_kwh"].to_numpy(float) * ("electricity" in fuels)
    m3 = out["gas_m3"].to_numpy(float) * ("gas" in fuels)
    out["electricity_mwh"] = kwh / 1000
    out["gas_10k_m3"] = m3 / 1e4
    out["energy_tce"] = (kwh * KGCE_PER_KWH + m3 * KGCE_PER_M3_GAS) / 1000
    out["co2_scope1_t"] = m3 * KGCO2_PER_M3_GAS / 1000
    out["co2_scope2_t"] = kwh * KGCO2_PER_KWH / 1000
    out["co2_t"] = out["co2_scope1_t"] + out["co2_scope2_t"]
    return out


def select(frame: pd.DataFrame, sel: Selection) -> pd.DataFrame:
    """Rows of ``sel``'s districts, types and years, with energy and CO2 of its fuels."""
    mask = np.ones(len(frame), dtype=bool)
    if sel.districts is not None:
        mask &= frame["adcode"].isin(sel.districts).to_numpy()
    if sel.building_types is not None:
        mask &= frame["building_type"].isin(sel.building_types).to_numpy()
    if sel.years is not None:
        mask &= frame["year"].between(*sel.years).to_numpy()
    return derive(frame[mask], sel.fuels)


SUMS = ["energy_tce", "co2_t", "co2_scope1_t", "co2_scope2_t", "electricity_mwh", "gas_10k_m3"]


def totals(rows: pd.DataFrame, by: Sequence[str], freq: str = "year") -> pd.DataFrame:
    """Sums by ``by`` and period; floor area is a stock: the mean over a year's months."""
    if freq not in ("year", "month"):
        raise InvalidData(f"freq must be year or month, got {freq!r}")
    cols = ["floor_area_m2", *SUMS]
    # plain sums (not named aggregations): several times faster on the cockpit's requests
    monthly = rows.groupby([*by, "year", "month"], sort=True, observed=True)[cols].sum()
    if freq == "month":
        return monthly.droplevel("year").sort_index()
    per_year = monthly.groupby(level=[*by, "year"], sort=True)
    out = per_year[SUMS].sum()
    out["floor_area_m2"] = per_year["floor_area_m2"].mean()
    return out[["floor_area_m2", *SUMS]]


def with_intensities(t: pd.DataFrame, panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per-m² intensities; with the statistics panel (index: adcode, year; GDP in bn yuan,
    population in 10k) also carbon and energy intensity per 10k yuan and CO2 per person."""
    out = t.copy()
    area = out["floor_area_m2"].replace(0, np.nan)
    out["kwh_per_m2"] = out["electricity_mwh"] * 1000 / area
    out["co2_kg_per_m2"] = out["co2_t"] * 1000 / area
    if panel is not None:
        p = panel.reindex(out.index)
        gdp_10k_yuan = p["gdp_bn_yuan"].to_numpy(float) * 1e5
        people = p["population_10k"].to_numpy(float) * 1e4
        out["carbon_intensity"] = out["co2_t"].to_numpy() / gdp_10k_yuan
        out["energy_intensity"] = out["energy_tce"].to_numpy() / gdp_10k_yuan
        out["co2_per_capita_t"] = out["co2_t"].to_numpy() / people
    return out


def stats_panel(frame: pd.DataFrame) -> pd.DataFrame:
    """The statistics panel indexed by (adcode, year) with GDP and population."""
    need = ["adcode", "year", "gdp_bn_yuan", "population_10k"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise InvalidData(f"statistics panel: missing column(s) {', '.join(missing)}")
    out = frame[need].copy()
    out["adcode"] = out["adcode"].astype(str)
    out["year"] = pd.to_numeric(out["year"], errors="raise").astype("int64")
    return out.set_index(["adcode", "year"]).sort_index()


def city_panel(panel: pd.DataFrame, districts: Sequence[str] | None = None) -> pd.DataFrame:
    """GDP and population summed over ``districts`` (all when None), by year."""
    p = panel if districts is None else panel[panel.index.get_level_values(0).isin(districts)]
    return p.groupby(level="year").sum()


def change_pct(series: pd.Series, year: int, against: int) -> float | None:
    """Percent change of ``series`` (indexed by year) from ``against`` to ``year``."""
    if year not in series.index or against not in series.index or series[against] == 0:
        return None
    return float((series[year] / series[against] - 1) * 100)
