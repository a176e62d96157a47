"""The emission-factor library: fuel factors by set, electricity factors by series, region, year.

A factor is always chosen explicitly — a fuel set (``ipcc2006`` or ``cn-enterprise``) and an
electricity factor (series, region, year) — and every emission row records the id of the
factor it used. The library's version names the data files by hash, so an inventory can be
traced to the exact tables behind it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from analytics.errors import InvalidData

DATA = Path(__file__).resolve().parent / "data"
FILES = (
    "ipcc2006_fuel_combustion_defaults.csv",
    "china_fuel_defaults_24industry_guidelines.csv",
    "china_electricity_co2_factors.csv",
    "gpc_v1_1_reference_numbers.csv",
)
FUEL_SETS = ("ipcc2006", "cn-enterprise")
C_TO_CO2 = 44.0 / 12.0

# Canonical fuel codes → (IPCC 2006 name, China enterprise-guideline name). None: the set has
# no default for that fuel, and asking for it is an error rather than a silent substitute.
FUELS: dict[str, tuple[str | None, str | None]] = {
    "gasoline": ("Motor Gasoline", "汽油"),
    "diesel": ("Gas/Diesel Oil", "柴油"),
    "lpg": ("Liquefied Petroleum Gases", "液化石油气"),
    "natural_gas": ("Natural Gas", "天然气"),
    "lng": (None, "液化天然气"),
    "fuel_oil": ("Residual Fuel Oil", "燃料油"),
    "jet_kerosene": ("Jet Kerosene", "喷气煤油"),
    "kerosene": ("Other Kerosene", "一般煤油"),
    "crude_oil": ("Crude Oil", "原油"),
    "naphtha": ("Naphtha", "石脑油"),
    "petroleum_coke": ("Petroleum Coke", "石油焦"),
    "refinery_gas": (None, "炼厂干气"),
    "anthracite": ("Anthracite", "无烟煤"),
    "bituminous_coal": ("Other Bituminous Coal", "烟煤"),
    "coking_coal": ("Coking Coal", None),
    "sub_bituminous_coal": ("Sub-Bituminous Coal", None),
    "lignite": ("Lignite", "褐煤"),
    "cleaned_coal": (None, "洗精煤"),
    "other_washed_coal": (None, "其它洗煤"),
    "briquettes": (None, "型煤"),
    "coke": ("Coke Oven Coke and Lignite Coke", "焦炭"),
    "coke_oven_gas": ("Coke Oven Gas", "焦炉煤气"),
    "blast_furnace_gas": ("Blast Furnace Gas", "高炉煤气"),
    "converter_gas": (None, "转炉煤气"),
    "other_gas": (None, "其它煤气"),
    "msw_fossil": ("Municipal Wastes (non-biomass fraction)", None),
}
ELECTRICITY = "electricity"

# Electricity series: the official MEE/NBS average factors (national, regional, provincial),
# their two national variants, and the carbon market's grid factor. One inventory, one series.
SERIES: dict[str, tuple[str, ...]] = {
    "mee-average": (
        "全国电力平均二氧化碳排放因子",
        "区域电力平均二氧化碳排放因子",
        "省级电力平均二氧化碳排放因子",
    ),
    "mee-average-excl-market": ("全国电力平均二氧化碳排放因子(不包括市场化交易的非化石能源电量)",),
    "mee-fossil": ("全国化石能源电力二氧化碳排放因子",),
    "carbon-market": ("碳市场发电行业核算用 全国电网平均排放因子 (tCO2/MWh)",),
}
REGION_ALIASES = {
    "national": "全国",
    "china": "全国",
    "全国电网": "全国电网平均排放因子",
    "north": "华北",
    "northeast": "东北",
    "east": "华东",
    "central": "华中",
    "northwest": "西北",
    "south": "南方",
    "southwest": "西南",
    "beijing": "北京",
    "tianjin": "天津",
    "hebei": "河北",
    "shanxi": "山西",
    "innermongolia": "内蒙古",
    "neimenggu": "内蒙古",
    "liaoning": "辽宁",
    "jilin": "吉林",
    "heilongjiang": "黑龙江",
    "shanghai": "上海",
    "jiangsu": "江苏",
    "zhejiang": "浙江",
    "anhui": "安徽",
    "fujian": "福建",
    "jiangxi": "江西",
    "shandong": "山东",
    "henan": "河南",
    "hubei": "湖北",
    "hunan": "湖南",
    "guangdong": "广东",
    "guangxi": "广西",
    "hainan": "海南",
    "chongqing": "重庆",
    "sichuan": "四川",
    "guizhou": "贵州",
    "yunnan": "云南",
    "shaanxi": "陕西",
    "gansu": "甘肃",
    "qinghai": "青海",
    "ningxia": "宁夏",
    "xinjiang": "新疆",
}


@dataclass(frozen=True)
class FuelFactor:
    """CO2 per GJ of a fuel, with its calorific value per physical unit."""

    fuel: str
    fuel_set: str
    co2_t_per_gj: float
    ncv_gj_per_unit: float
    ncv_unit: str  # "t" or "Nm3": what the calorific value is per
    source: str

    @property
    def id(self) -> str:
        return f"{self.fuel_set}:{self.fuel}"


@dataclass(frozen=True)
class ElectricityFactor:
    series: str
    region: str
    year: int
    t_per_mwh: float  # = kgCO2/kWh
    status: str
    source: str

    @property
    def id(self) -> str:
        return f"{self.series}:{self.region}:{self.year}"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


@cache
def version() -> str:
    """``ghg-<first 12 hex of the SHA-256 over the data files>``."""
    h = hashlib.sha256()
    for name in FILES:
        h.update(name.encode())
        h.update((DATA / name).read_bytes())
    return f"ghg-{h.hexdigest()[:12]}"


@cache
def _ipcc() -> dict[str, FuelFactor]:
    out = {}
    table = _read(FILES[0]).set_index("fuel_ipcc")
    for code, (name, _) in FUELS.items():
        if name is None:
            continue
        r = table.loc[name]
        # NCV in TJ/Gg is GJ/t; the CO2 factor in kg/TJ is 1e-6 t/GJ. Oxidation factor 1.
        out[code] = FuelFactor(
            code,
            "ipcc2006",
            r["co2_ef_kg_per_TJ"] * 1e-6,
            r["ncv_TJ_per_Gg"],
            "t",
            f"IPCC 2006 Vol. 2 Ch. 1 Tables 1.2-1.4 ({name})",
        )
    return out


@cache
def _cn() -> dict[str, FuelFactor]:
    out = {}
    table = _read(FILES[1]).set_index("fuel_zh")
    for code, (_, name) in FUELS.items():
        if name is None:
            continue
        r = table.loc[name]
        per_volume = r["unit"] == "10^4 Nm3"
        out[code] = FuelFactor(
            code,
            "cn-enterprise",
            float(r["carbon_content_tC_per_GJ"] * r["oxidation_rate_pct"]) / 100 * C_TO_CO2,
            float(r["ncv_GJ_per_unit"]) / (1e4 if per_volume else 1),
            "Nm3" if per_volume else "t",
            f"NDRC 24-industry enterprise guidelines ({name})",
        )
    return out


def fuel_factor(fuel_set: str, fuel: str) -> FuelFactor:
    """The factor of ``fuel`` in ``fuel_set``; errors name what is available."""
    if fuel_set not in FUEL_SETS:
        raise InvalidData(f"unknown fuel factor set {fuel_set!r} (use {', '.join(FUEL_SETS)})")
    table = _ipcc() if fuel_set == "ipcc2006" else _cn()
    if fuel not in FUELS:
        raise InvalidData(f"unknown fuel {fuel!r}")
    if fuel not in table:
        others = [s for s in FUEL_SETS if s != fuel_set]
        raise InvalidData(f"fuel {fuel} has no default in {fuel_set}; try {others[0]}")
    return table[fuel]


def fuel_factors(fuel_set: str) -> dict[str, FuelFactor]:
    fuel_factor(fuel_set, "diesel")  # validates the set name
    return dict(_ipcc() if fuel_set == "ipcc2006" else _cn())


def fuel_code(name: str) -> str | None:
    """A canonical fuel code from a code, an IPCC name, a Chinese name or an English name."""
    n = str(name).strip()
    if n in FUELS or n == ELECTRICITY:
        return n
    low = n.lower().replace(" ", "_").replace("-", "_")
    if low in FUELS or low == ELECTRICITY:
        return low
    if n in ("电力", "电", "electric power", "Electricity"):
        return ELECTRICITY
    for code, (ipcc, cn) in FUELS.items():
        if n in (ipcc, cn) or (ipcc and n.lower() == ipcc.lower()):
            return code
    return None


@cache
def _electricity() -> pd.DataFrame:
    table = _read(FILES[2])
    kind = {t: s for s, types in SERIES.items() for t in types}
    table["series"] = table["factor_type"].map(kind)
    # The carbon market's factor covers the national grid; its table row names the factor
    # in the region column. One region name per area keeps choices uniform across series.
    table.loc[table["scope"] == "carbon_market", "region"] = "全国"
    return table


def electricity_factor(series: str, region: str, year: int) -> ElectricityFactor:
    """One electricity factor, chosen explicitly; an unknown choice lists what exists."""
    if series not in SERIES:
        raise InvalidData(f"unknown electricity series {series!r} (use {', '.join(SERIES)})")
    table = _electricity()
    reg = REGION_ALIASES.get(str(region).strip().lower().replace(" ", ""), str(region).strip())
    rows = table[(table["series"] == series) & (table["region"] == reg)]
    if rows.empty:
        regions = sorted(set(table.loc[table["series"] == series, "region"]))
        raise InvalidData(
            f"no {series} electricity factor for region {region!r} (regions: {', '.join(regions)})"
        )
    hit = rows[rows["year"] == int(year)]
    if hit.empty:
        years = ", ".join(str(y) for y in sorted(rows["year"]))
        raise InvalidData(f"no {series} factor for {reg} in {year} (years: {years})")
    r = hit.iloc[0]
    return ElectricityFactor(
        series, reg, int(year), float(r["kgCO2_per_kWh"]), str(r["status"]), str(r["source"])
    )


def parse_grid(text: str, default_series: str = "mee-average") -> ElectricityFactor:
    """``[SERIES:]REGION:YEAR`` (e.g. ``四川:2022``, ``carbon-market:national:2022``)."""
    parts = str(text).split(":")
    if len(parts) == 2:
        parts = [default_series, *parts]
    if len(parts) != 3 or not parts[2].strip().isdigit():
        raise InvalidData(f"--grid {text!r}: use [SERIES:]REGION:YEAR, e.g. sichuan:2022")
    return electricity_factor(parts[0], parts[1], int(parts[2]))


@cache
def gpc_table() -> pd.DataFrame:
    """GPC v1.1 reference numbers (one row per number)."""
    return _read(FILES[3]).drop_duplicates("gpc_ref_no").set_index("gpc_ref_no")
