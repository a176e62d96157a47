"""Chengdu's administrative units and a SYNTHETIC panel for the green low-carbon framework.

The framework ``analytics/frameworks/chengdu_green_low_carbon.yaml`` names, for every
indicator, a dataset column or a formula over columns. Few of those columns are published at
district level in a reusable form, so :func:`generate_panel` draws a deterministic synthetic
panel holding every column the framework needs, and :func:`merge_panels` overlays real (or
demo) panels on it cell by cell, reporting which columns came from where.

Two variants: ``district`` (Chengdu's 20 county-level units) and ``metro`` (the four
prefecture-level cities of the Chengdu metropolitan area: Chengdu, Deyang, Meishan, Ziyang).
The unit list is read from ``analytics/frameworks/data/chengdu_metro_admin_units.csv``, a copy
of ``../shared/data/chengdu/chengdu_metro_admin_units.csv``.

Every generated row carries ``synthetic = "yes"``: nothing here is an official statistic.
"""

from __future__ import annotations

import ast
import io
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from analytics.errors import InvalidData
from analytics.indicators.framework import Framework

ADMIN_UNITS = (
    Path(__file__).resolve().parents[1] / "frameworks" / "data" / "chengdu_metro_admin_units.csv"
)
FRAMEWORK = Path(__file__).resolve().parents[1] / "frameworks" / "chengdu_green_low_carbon.yaml"
VARIANTS = ("district", "metro")
CHENGDU = "510100"
METRO_CITIES = (CHENGDU, "510600", "511400", "512000")  # Chengdu, Deyang, Meishan, Ziyang
KEYS = ("uCode", "uName", "uName_zh", "Time")
YEARS = range(2015, 2025)

#: The pilot's demo panels (node/pilot/synthetic.py) and their data columns: a framework
#: source naming one of these datasets must use these exact columns.
PILOT_DATASETS: dict[str, tuple[str, ...]] = {
    "stats": (
        "gdp_bn_yuan",
        "primary_bn",
        "secondary_bn",
        "tertiary_bn",
        "population_10k",
        "area_km2",
    ),
    "eco": ("good_air_days", "pm25_ugm3", "forest_cover_pct", "park_green_m2_per_capita"),
    "transport": ("nev_share_pct", "public_transport_share_pct"),
}
PILOT_COLUMNS = {c: d for d, cols in PILOT_DATASETS.items() for c in cols}

#: Chengdu's 2022 totals (../shared/data/README.md): GDP by sector in bn yuan, resident
#: population in 10k persons, area in km². The district stats are shares of these.
CHENGDU_2022 = {
    "primary_bn": 58.84,
    "secondary_bn": 640.41,
    "tertiary_bn": 1382.50,
    "population_10k": 2126.8,
    "area_km2": 14335.0,
}

#: 2022 magnitudes of the metropolitan cities (primary, secondary, tertiary bn yuan;
#: population 10k; area km²). Chengdu's are the README's; the other three are ROUNDED
#: ORDERS OF MAGNITUDE chosen for plausible synthetic data, not cited statistics.
METRO_2022: dict[str, tuple[float, float, float, float, float]] = {
    CHENGDU: (58.84, 640.41, 1382.50, 2126.8, 14335.0),
    "510600": (31.0, 131.0, 120.0, 345.0, 5911.0),  # Deyang
    "511400": (23.0, 66.0, 75.0, 296.0, 7140.0),  # Meishan
    "512000": (16.0, 32.0, 48.0, 229.0, 5748.0),  # Ziyang
}


@dataclass(frozen=True)
class Gen:
    """How one generated column is drawn; year ``k`` counts from the first year (k = 0).

    * ``share``: a percentage kept strictly inside 0–100. ``logit(v/100) = logit(b/100) +
      trend·k + N(0, noise)``: ``trend`` and ``noise`` are in logit units (near 50 %, a trend
      of 0.1 is about +2.5 percentage points a year; the pace slows towards 0 and 100).
    * ``ratio``: a positive quantity. ``v = b · (1 + trend)^k · exp(N(0, noise))``: ``trend``
      is the relative change a year, ``noise`` the log standard deviation.
    * ``stock``: a cumulative, never decreasing quantity. ``v_0 = b``, ``v_k = v_{k-1} ·
      (1 + trend · exp(N(0, noise)))``.

    ``b`` is drawn uniformly from ``base`` for outer units and from ``central`` for the five
    central districts; Chengdu, among the metro cities, mixes central and outer districts and
    draws from the range halfway between the two (see :func:`_between`).

    With ``scale_by`` the value is an intensity multiplied by ``factor`` × that stats column
    (each year's; a stock's by the first year's, since its growth is its own). ``cap`` bounds
    the result by a fraction of a stats column (built-up land within the area). ``missing`` is
    the share of cells blanked at random, never in the first year, so that carry-forward
    imputation can fill all of them.
    """

    base: tuple[float, float]
    trend: float
    noise: float
    kind: Literal["share", "ratio", "stock"] = "ratio"
    central: tuple[float, float] | None = None
    scale_by: str | None = None
    factor: float = 1.0
    cap: tuple[str, float] | None = None
    integer: bool = False
    missing: float = 0.0


#: Every ``generated`` column: (first-year range, annual trend, noise) and its kind; the
#: comment gives the unit and, for scaled columns, the intensity the range describes.
GENERATED: dict[str, Gen] = {
    # % of GDP; national level about 13 % in 2020
    "strategic_emerging_share_pct": Gen((6, 14), 0.08, 0.05, "share", central=(10, 18)),
    # 10k t CO2 = (t CO2 / 10k yuan, declining 5 %/yr) × GDP bn yuan × 10
    "co2_emissions_10k_t": Gen(
        (0.6, 1.1), -0.05, 0.03, central=(0.25, 0.45), scale_by="gdp_bn_yuan", factor=10
    ),
    # 10k tce = (tce / 10k yuan, declining 4 %/yr) × GDP bn yuan × 10
    "energy_consumption_10k_tce": Gen(
        (0.35, 0.7), -0.04, 0.03, central=(0.15, 0.3), scale_by="gdp_bn_yuan", factor=10
    ),
    # % of energy consumption; high because of Sichuan's hydropower
    "non_fossil_energy_share_pct": Gen((35, 50), 0.04, 0.04, "share", central=(40, 55)),
    # km² = (m² / 10k yuan, declining 4.5 %/yr) × GDP bn yuan × 0.1, at most 90 % of the area
    "built_up_land_km2": Gen(
        (20, 45),
        -0.045,
        0.01,
        central=(2.5, 4.5),
        scale_by="gdp_bn_yuan",
        factor=0.1,
        cap=("area_km2", 0.9),
    ),
    # % of commuters living within 5 km of work (Chengdu about half)
    "commute_within_5km_pct": Gen((45, 65), 0.02, 0.05, "share", central=(40, 55), missing=0.02),
    # % of residents covered by a 15-minute community life circle
    "life_circle_15min_coverage_pct": Gen((40, 65), 0.15, 0.05, "share", central=(70, 90)),
    # % of the built-up area covered by vegetation
    "green_coverage_builtup_pct": Gen((36, 42), 0.02, 0.02, "share", central=(38, 44)),
    # km of Tianfu Greenway per 100 km², built from 2017 on: fast growth
    "greenway_km_per_100km2": Gen((3, 15), 0.15, 0.3, "stock", central=(8, 20)),
    # µg/m³, 90th percentile of the daily maximum 8-hour ozone mean; slowly improving
    "o3_8h_p90_ugm3": Gen((140, 175), -0.005, 0.04, central=(150, 180)),
    # % of monitored surface-water sections in class I–III
    "surface_water_good_pct": Gen((60, 85), 0.25, 0.15, "share", central=(50, 75), missing=0.02),
    # % of cross-city boundary river sections meeting their target (metro)
    "boundary_section_compliance_pct": Gen((60, 85), 0.2, 0.2, "share", central=(55, 75)),
    # % of wetland area under protection
    "wetland_protection_pct": Gen((35, 50), 0.05, 0.03, "share", central=(30, 45)),
    # count = (points per 10k residents in the first year, +32 %/yr) × population 10k
    "charging_points": Gen(
        (1, 4), 0.32, 0.2, "stock", central=(3, 8), scale_by="population_10k", integer=True
    ),
    # km = (km per million residents in the first year, +17 %/yr) × population 10k / 100
    "rail_transit_km": Gen(
        (0.5, 4), 0.17, 0.3, "stock", central=(8, 15), scale_by="population_10k", factor=0.01
    ),
    # % of residents within 800 m of a metro station (district)
    "metro_station_800m_pop_pct": Gen((3, 15), 0.18, 0.05, "share", central=(30, 50)),
    # % of cross-city commuting trips made by rail (metro)
    "intercity_rail_commute_share_pct": Gen((5, 15), 0.12, 0.08, "share", central=(10, 20)),
    # % of urban sewage treated centrally
    "sewage_treatment_pct": Gen((75, 88), 0.15, 0.1, "share", central=(92, 97), missing=0.02),
    # % of households covered by waste sorting; rolled out quickly
    "waste_sorting_coverage_pct": Gen((5, 20), 0.45, 0.15, "share", central=(15, 35), missing=0.02),
    # % of final energy consumption met by electricity
    "electricity_final_energy_share_pct": Gen((22, 30), 0.04, 0.02, "share", central=(30, 40)),
    # % of the built-up area meeting sponge-city requirements
    "sponge_city_area_pct": Gen((3, 10), 0.3, 0.1, "share", central=(5, 15)),
    # % of new urban buildings certified green
    "green_building_new_share_pct": Gen((20, 45), 0.35, 0.1, "share", central=(40, 65)),
    # % of new buildings prefabricated
    "prefab_building_share_pct": Gen((2, 8), 0.3, 0.1, "share", central=(5, 12)),
    # kWh per m² of public buildings a year; slowly declining
    "public_building_kwh_per_m2": Gen((70, 100), -0.02, 0.03, central=(90, 130)),
    # % of urban communities certified green
    "green_community_share_pct": Gen((5, 20), 0.35, 0.1, "share", central=(15, 35), missing=0.02),
    # % of outstanding loans that are green loans (national level about 10 % in 2023)
    "green_loan_share_pct": Gen((3, 7), 0.1, 0.05, "share", central=(6, 10)),
    # count = (enterprises per 100 bn yuan of GDP in the first year, +6 %/yr) × GDP / 100;
    # industrial outer units have more emitters per unit of GDP than central ones
    "carbon_trading_enterprises": Gen(
        (8, 20),
        0.06,
        0.5,
        "stock",
        central=(1, 5),
        scale_by="gdp_bn_yuan",
        factor=0.01,
        integer=True,
    ),
    # 10k yuan = (yuan per resident, +10 %/yr) × population 10k (metro)
    "eco_compensation_10k_yuan": Gen(
        (5, 20), 0.1, 0.1, central=(20, 40), scale_by="population_10k"
    ),
    # 10k yuan = (10k yuan per 100 m yuan of GDP, +3 %/yr) × GDP bn yuan × 10
    "env_fines_10k_yuan": Gen(
        (0.5, 2), 0.03, 0.2, central=(0.2, 0.8), scale_by="gdp_bn_yuan", factor=10, missing=0.02
    ),
    # joint environmental enforcement actions with neighbouring cities a year (metro)
    "joint_enforcement_actions": Gen((3, 8), 0.1, 0.2, central=(8, 15), integer=True),
    # green low-carbon policy documents issued so far (cumulative)
    "green_policy_count": Gen((2, 6), 0.15, 0.4, "stock", central=(3, 8), integer=True),
}


def _read_admin(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InvalidData(f"admin-unit file {path} does not exist")
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    frame = pd.read_csv(io.StringIO("\n".join(lines)), dtype=str, keep_default_na=False)
    need = {"adcode", "name_zh", "name_pinyin", "parent_adcode", "notes"}
    if need - set(frame.columns):
        raise InvalidData(f"{path}: lacks column(s) {', '.join(sorted(need - set(frame.columns)))}")
    return frame


def _admin(variant: str, path: Path = ADMIN_UNITS) -> pd.DataFrame:
    """The units of ``variant`` with ``core``: 1 for a central district, 0.5 for Chengdu among
    the metro cities (half core, half outer), 0 for every other unit."""
    if variant not in VARIANTS:
        raise InvalidData(f"unknown Chengdu variant {variant!r}: use one of {', '.join(VARIANTS)}")
    frame = _read_admin(path)
    if variant == "district":
        rows = frame[frame["parent_adcode"] == CHENGDU]
        core = np.where(rows["notes"].str.startswith("central"), 1.0, 0.0)
        expected = 20
    else:
        rows = frame[frame["adcode"].isin(METRO_CITIES)]
        core = np.where(rows["adcode"] == CHENGDU, 0.5, 0.0)
        expected = len(METRO_CITIES)
    if len(rows) != expected:
        raise InvalidData(f"{path}: expected {expected} {variant} units, found {len(rows)}")
    return pd.DataFrame(
        {
            "uCode": rows["adcode"].to_numpy(dtype=str),
            "uName": rows["name_pinyin"].to_numpy(dtype=str),
            "uName_zh": rows["name_zh"].to_numpy(dtype=str),
            "core": core,
        }
    )


def with_names(frame: pd.DataFrame, column: str, path: Path = ADMIN_UNITS) -> pd.DataFrame:
    """``frame`` with ``name_zh`` and ``name_en`` (pinyin) after its adcode ``column``, from
    the shared admin-unit table, so a table meant for people says 锦江区 Jinjiang Qu, not only
    510104. Codes the table lacks get blank names; a frame without ``column`` is returned
    unchanged."""
    if column not in frame.columns or "name_zh" in frame.columns:
        return frame
    admin = _read_admin(path).set_index("adcode")
    codes = frame[column].astype(str).str.strip()
    at = list(frame.columns).index(column) + 1
    out = frame.copy()
    out.insert(at, "name_zh", codes.map(admin["name_zh"]).fillna("").to_numpy())
    out.insert(at + 1, "name_en", codes.map(admin["name_pinyin"]).fillna("").to_numpy())
    return out


def units(variant: str, path: Path = ADMIN_UNITS) -> pd.DataFrame:
    """The units of a variant: uCode (adcode), uName (pinyin), uName_zh.

    ``district``: Chengdu's 20 county-level units; ``metro``: Chengdu, Deyang, Meishan and
    Ziyang. Any other variant raises :class:`InvalidData`.
    """
    return _admin(variant, path).drop(columns="core")


def district_units(path: Path = ADMIN_UNITS) -> pd.DataFrame:
    """Chengdu's 20 county-level units: ``uCode``, ``uName`` (pinyin), ``uName_zh`` and
    ``core`` (1 for a central district, 0 otherwise)."""
    return _admin("district", path)


def central_districts(path: Path = ADMIN_UNITS) -> frozenset[str]:
    """Adcodes of Chengdu's central districts (中心城区), as the admin-unit file marks them."""
    units = _admin("district", path)
    return frozenset(units.loc[units["core"] == 1.0, "uCode"])


def formula_columns(formula: str) -> list[str]:
    """The column names a pandas ``eval`` formula reads, in order of appearance."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise InvalidData(f"formula {formula!r} cannot be parsed ({exc.msg})") from None
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called),
        key=lambda n: (n.lineno, n.col_offset),
    )
    return list(dict.fromkeys(n.id for n in names))


def source_columns(framework: Framework) -> list[str]:
    """Every data column the framework's indicators read (formula names included), in order.

    A column named under a pilot dataset (``stats``, ``eco``, ``transport``) must be one of
    that panel's columns; every other column must have a generator in :data:`GENERATED`.
    """
    cols: list[str] = []
    for ind in framework.indicators:
        src = ind.source
        if src is None:
            names = [ind.code]
        elif src.formula is not None:
            names = formula_columns(src.formula)
        else:
            names = [src.column]
            if src.dataset in PILOT_DATASETS and src.column not in PILOT_DATASETS[src.dataset]:
                raise InvalidData(
                    f"indicator {ind.code}: {src.column!r} is not a column of the pilot's "
                    f"{src.dataset} panel ({', '.join(PILOT_DATASETS[src.dataset])})"
                )
            if src.dataset not in PILOT_DATASETS and src.column in PILOT_COLUMNS:
                raise InvalidData(
                    f"indicator {ind.code}: column {src.column!r} belongs to the pilot's "
                    f"{PILOT_COLUMNS[src.column]} panel, not to {src.dataset!r}"
                )
        for name in names:
            if name not in PILOT_COLUMNS and name not in GENERATED:
                raise InvalidData(
                    f"indicator {ind.code}: no generator for column {name!r} "
                    "(add it to analytics.indicators.chengdu.GENERATED)"
                )
        cols.extend(names)
    return list(dict.fromkeys(cols))


def _rng(seed: int, variant: str, name: str) -> np.random.Generator:
    """A generator per (seed, variant, column): a column's draws do not depend on the others."""
    return np.random.default_rng([seed, zlib.crc32(f"{variant}:{name}".encode())])


def _between(
    rng: np.random.Generator,
    core: np.ndarray,
    outer: tuple[float, float],
    central: tuple[float, float] | None,
) -> np.ndarray:
    """One uniform draw per unit from the range ``core`` of the way from ``outer`` to
    ``central`` (core 0: ``outer``; 1: ``central``; 0.5: halfway, for Chengdu as a city)."""
    central = central or outer
    lo = (1 - core) * outer[0] + core * central[0]
    hi = (1 - core) * outer[1] + core * central[1]
    return lo + rng.random(core.shape) * (hi - lo)


def _stats(u: pd.DataFrame, variant: str, years: Sequence[int], seed: int) -> dict[str, np.ndarray]:
    """GDP by sector, population and area as node/pilot/synthetic.py's ``stats_panel`` draws
    them: shares of Chengdu's 2022 totals (central units get more tertiary output and people,
    less area; the shares are less dispersed than the pilot's, whose central districts can get
    an area below 1 km²), nominal growth of 5–9 % a year with a 3 % dip in 2020, population
    +1.2 %/yr.
    Metro cities start from :data:`METRO_2022`, each value perturbed by up to ±5 %.
    """
    rng = _rng(seed, variant, "stats")
    n = len(u)
    central = u["core"].to_numpy() == 1
    if variant == "district":
        # the pilot's gamma weights, times 30: same mean shares, less dispersion
        weights = {
            "primary_bn": np.where(central, 0.3, 4.0),
            "secondary_bn": np.where(central, 2.0, 4.0),
            "tertiary_bn": np.where(central, 9.0, 2.0),
            "population_10k": np.where(central, 6.0, 3.0),
            "area_km2": np.where(central, 0.3, 6.0),
        }
        base = {}
        for col, w in weights.items():
            draws = rng.gamma(30 * w, 1.0)
            base[col] = draws / draws.sum() * CHENGDU_2022[col]
    else:
        table = np.array([METRO_2022[c] for c in u["uCode"]]) * rng.uniform(0.95, 1.05, (n, 5))
        base = {col: table[:, i] for i, col in enumerate(CHENGDU_2022)}
    growth = rng.uniform(0.05, 0.09, n)
    yrs = np.asarray(years)
    factor = (1 + growth[:, None]) ** (yrs - 2022)[None, :] * np.where(yrs == 2020, 0.97, 1.0)
    sectors = ("primary_bn", "secondary_bn", "tertiary_bn")
    out = {k: np.round(base[k][:, None] * factor, 2) for k in sectors}
    out["gdp_bn_yuan"] = np.round(out["primary_bn"] + out["secondary_bn"] + out["tertiary_bn"], 2)
    pop = base["population_10k"][:, None] * 1.012 ** (yrs - 2022)[None, :]
    out["population_10k"] = np.round(pop, 1)
    out["area_km2"] = np.round(np.repeat(base["area_km2"][:, None], len(yrs), axis=1), 1)
    return out


def _eco(u: pd.DataFrame, variant: str, years: Sequence[int], seed: int) -> dict[str, np.ndarray]:
    """Air, forest and park green space with the pilot ``eco_panel``'s magnitudes: PM2.5
    45–60 µg/m³ falling 5 %/yr, 230–270 good-air days gaining 4 a year, forest 25–50 % (central
    districts 10–25 %) gaining 0.5 point a year up to 70 %, parks 9–14 m² per person + 0.3/yr.
    """
    rng = _rng(seed, variant, "eco")
    n, k = len(u), np.arange(len(years))[None, :]
    core = u["core"].to_numpy()
    pm = _between(rng, core, (45, 60), (50, 62))[:, None]
    days = rng.uniform(230, 270, (n, 1))
    # only the central districts are short of forest; Chengdu as a whole is not
    forest = _between(rng, np.floor(core), (25, 50), (10, 25))[:, None]
    park = rng.uniform(9, 14, (n, 1))
    shape = (n, len(years))
    return {
        "good_air_days": np.minimum(365, np.round(days + 4 * k + rng.uniform(-6, 6, shape))),
        "pm25_ugm3": np.round(pm * 0.95**k + rng.uniform(-2, 2, shape), 1),
        "forest_cover_pct": np.round(np.minimum(70, forest + 0.5 * k), 1),
        "park_green_m2_per_capita": np.round(park + 0.3 * k, 1),
    }


def _transport(
    u: pd.DataFrame, variant: str, years: Sequence[int], seed: int
) -> dict[str, np.ndarray]:
    """NEV share of new cars 1–3 % growing 35 %/yr up to 60 %, and public transport's share of
    motorised trips 32–48 % (central 48–58 %) gaining 0.8 point a year, as ``transport_panel``.
    """
    rng = _rng(seed, variant, "transport")
    n, k = len(u), np.arange(len(years))[None, :]
    nev = rng.uniform(1, 3, (n, 1))
    pt = _between(rng, u["core"].to_numpy(), (32, 48), (48, 58))[:, None]
    shape = (n, len(years))
    return {
        "nev_share_pct": np.round(np.minimum(60, nev * 1.35**k), 1),
        "public_transport_share_pct": np.round(pt + 0.8 * k + rng.uniform(-1, 1, shape), 1),
    }


def _generated(
    name: str,
    spec: Gen,
    u: pd.DataFrame,
    variant: str,
    n_years: int,
    seed: int,
    stats: Mapping[str, np.ndarray],
) -> np.ndarray:
    """One generated column (units × years) drawn by ``spec``; see :class:`Gen`."""
    rng = _rng(seed, variant, name)
    n = len(u)
    b = _between(rng, u["core"].to_numpy(), spec.base, spec.central)
    k = np.arange(n_years)[None, :]
    eps = rng.normal(0.0, spec.noise, (n, n_years))
    if spec.kind == "share":
        z = np.log(b / (100 - b))[:, None] + spec.trend * k + eps
        v = 100 / (1 + np.exp(-z))
    elif spec.kind == "ratio":
        v = b[:, None] * (1 + spec.trend) ** k * np.exp(eps)
    else:  # stock: never decreasing
        steps = 1 + spec.trend * np.exp(eps[:, 1:])
        v = b[:, None] * np.concatenate([np.ones((n, 1)), np.cumprod(steps, axis=1)], axis=1)
    if spec.scale_by is not None:
        scale = stats[spec.scale_by]
        v = v * spec.factor * (scale[:, :1] if spec.kind == "stock" else scale)
    if spec.cap is not None:
        col, frac = spec.cap
        v = np.minimum(v, frac * stats[col])
    v = np.round(v, 0 if spec.integer else 2)
    if spec.missing > 0:
        blank = rng.random((n, n_years)) < spec.missing
        blank[:, 0] = False
        v = np.where(blank, np.nan, v)
    return v


def generate_panel(
    framework: Framework, variant: str, years: range = YEARS, seed: int = 2024
) -> pd.DataFrame:
    """A SYNTHETIC panel with every column ``framework`` reads, for the units of ``variant``.

    Columns: uCode, uName, uName_zh, Time, then each source column of the framework's
    indicators (the names a formula reads included) in order of first use, then
    ``synthetic = "yes"``. Pass the framework narrowed to ``variant``
    (``load_framework(path, variant=...)``); a full framework gets the columns of every
    variant. Deterministic for a seed: every column has its own random stream derived from
    (seed, variant, column name), so adding an indicator does not change the other columns.

    Magnitudes: ``stats``/``eco``/``transport`` columns follow node/pilot/synthetic.py (so the
    panel runs alone); ``generated`` columns follow :data:`GENERATED`, and the columns whose
    ``missing`` is set lose about 2 % of their cells (never in the first year) to exercise
    imputation.
    """
    u = _admin(variant)
    yrs = list(years)
    if not yrs:
        raise InvalidData("generate_panel: no years given")
    cols = source_columns(framework)
    pilot = {
        **_stats(u, variant, yrs, seed),
        **_eco(u, variant, yrs, seed),
        **_transport(u, variant, yrs, seed),
    }
    n, t = len(u), len(yrs)
    frame = pd.DataFrame(
        {
            "uCode": np.repeat(u["uCode"].to_numpy(), t),
            "uName": np.repeat(u["uName"].to_numpy(), t),
            "uName_zh": np.repeat(u["uName_zh"].to_numpy(), t),
            "Time": np.tile(np.asarray(yrs, dtype=int), n),
        }
    )
    data = {}
    for col in cols:
        if col in pilot:
            values = pilot[col]
        else:
            values = _generated(col, GENERATED[col], u, variant, t, seed, pilot)
        data[col] = values.reshape(-1).astype(float)
    frame = pd.concat([frame, pd.DataFrame(data, index=frame.index)], axis=1)
    frame["synthetic"] = "yes"
    return frame


def _panel_codes(values: pd.Series, name: str) -> pd.Series:
    if values.isna().any():
        raise InvalidData(
            f"panel {name!r}: row {int(values.isna().to_numpy().argmax())} has no adcode"
        )
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype(float)
        if not np.all(numbers == np.round(numbers)):
            raise InvalidData(f"panel {name!r}: adcodes must be whole numbers")
        return numbers.astype("int64").astype(str)
    return values.astype(str).str.strip()


def _panel_years(values: pd.Series, name: str) -> pd.Series:
    years = pd.to_numeric(values, errors="coerce")
    bad = years.isna() | (years != np.round(years))
    if bad.any():
        where = int(bad.to_numpy().argmax())
        raise InvalidData(f"panel {name!r}: row {where} has year {values.iloc[where]!r}")
    return years.astype("int64")


def merge_panels(
    generated: pd.DataFrame, panels: Mapping[str, pd.DataFrame]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Overlay real or demo panels on a generated panel, cell by cell.

    Each panel has ``adcode`` and ``year`` (read as uCode and Time) and data columns. For each
    data column the generated panel also has (except ``synthetic``), the panel's non-missing
    values replace the generated ones at the same (uCode, Time); every other cell keeps its
    generated value, and panel rows of units or years the generated panel lacks are ignored.
    Panels are applied in the mapping's order, a later one winning where two overlap.

    Returns the merged frame (the generated frame's rows and columns) and, for every data
    column, its provenance: ``"panel:<name>"`` when a panel supplied values for it (several
    names joined by ``+``), else ``"generated"``. A column a panel covers only in part is
    still named after the panel: its uncovered cells remain synthetic, and the ``synthetic``
    column is left as generated.
    """
    missing = {"uCode", "Time"} - set(generated.columns)
    if missing:
        raise InvalidData(f"merge_panels: the generated panel lacks {', '.join(sorted(missing))}")
    merged = generated.copy()
    merged["uCode"] = merged["uCode"].astype(str)
    index = pd.MultiIndex.from_frame(merged[["uCode", "Time"]])
    if index.has_duplicates:
        raise InvalidData("merge_panels: the generated panel repeats a (uCode, Time) pair")
    fixed = set(KEYS) | {"synthetic"}
    provenance = {c: "generated" for c in merged.columns if c not in fixed}
    for name, panel in panels.items():
        if not isinstance(panel, pd.DataFrame):
            raise InvalidData(f"panel {name!r} is not a table")
        lacking = {"adcode", "year"} - set(panel.columns)
        if lacking:
            raise InvalidData(
                f"panel {name!r} lacks column(s) {', '.join(sorted(lacking))}: a panel needs "
                "adcode and year"
            )
        keys = pd.MultiIndex.from_arrays(
            [_panel_codes(panel["adcode"], name), _panel_years(panel["year"], name)],
            names=["uCode", "Time"],
        )
        if keys.has_duplicates:
            dup = keys[keys.duplicated()][0]
            raise InvalidData(f"panel {name!r} repeats adcode {dup[0]}, year {dup[1]}")
        for col in (c for c in panel.columns if c in provenance):
            values = pd.Series(panel[col].to_numpy(), index=keys)
            values = values[values.notna() & keys.isin(index)]
            if values.empty:
                continue
            current = pd.Series(merged[col].to_numpy(), index=index)
            merged[col] = values.reindex(index).combine_first(current).to_numpy()
            tag = f"panel:{name}"
            provenance[col] = tag if provenance[col] == "generated" else f"{provenance[col]}+{tag}"
    return merged, provenance
