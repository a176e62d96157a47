"""SYNTHETIC demo parks and expert reviews for the park index workflow.

The two pilot parks of the terms of reference — 成都绿色氢能产业功能区A区 (Chengdu Green
Hydrogen Industrial Functional Zone, Area A) and 长安静脉产业园 (Chang'an Vein Industrial Park,
a waste-to-resources park) — and six fictitious comparison parks ("示例…" / "Demo …") of four
types. Every value is drawn deterministically from a seed within ILLUSTRATIVE ranges chosen to
be plausible for the park's type (the vein park reuses most of its solid waste, the hydrogen
park runs mostly on clean energy); none is a measured or reported figure. Every frame carries
``synthetic = "yes"``.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from analytics.errors import InvalidPipeline
from analytics.indicators.framework import Framework
from analytics.park.framework import dimension_weights, indicator_table, load_park_framework
from analytics.park.review import self_evaluation

__all__ = ["DEFAULT_SEED", "PARK_TYPES", "PILOT_PARKS", "demo_parks", "demo_reviews"]

DEFAULT_SEED = 2025

#: Park types of the demo (any text is accepted as a type in real tables).
PARK_TYPES: tuple[str, ...] = ("hydrogen_new_energy", "circular_vein", "high_tech", "logistics")
#: The pilot parks' ids.
PILOT_PARKS: tuple[str, ...] = ("P01", "P02")

# (park_id, name_zh, name_en, type, pilot)
_PARKS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "P01",
        "成都绿色氢能产业功能区A区",
        "Chengdu Green Hydrogen Industrial Functional Zone, Area A",
        "hydrogen_new_energy",
        "yes",
    ),
    ("P02", "长安静脉产业园", "Chang'an Vein Industrial Park", "circular_vein", "yes"),
    ("C01", "示例新能源装备产业园", "Demo New-Energy Equipment Park", "hydrogen_new_energy", "no"),
    ("C02", "示例氢储能产业园", "Demo Hydrogen Storage Park", "hydrogen_new_energy", "no"),
    ("C03", "示例再生资源产业园", "Demo Recycled-Resources Park", "circular_vein", "no"),
    ("C04", "示例电子信息高新园", "Demo Electronics High-Tech Park", "high_tech", "no"),
    ("C05", "示例生物医药高新园", "Demo Biomedicine High-Tech Park", "high_tech", "no"),
    ("C06", "示例国际物流园", "Demo International Logistics Park", "logistics", "no"),
)

# ILLUSTRATIVE (low, high) ranges of raw values: a typical park, then what differs by type,
# then what differs for the two pilots. Orders of magnitude for a demo, not statistics.
_TYPICAL: dict[str, tuple[float, float]] = {
    "green_invest_share": (15, 40),
    "rd_intensity": (1.0, 3.5),
    "green_finance_share": (10, 30),
    "strategic_emerging_share": (25, 60),
    "energy_intensive_share": (10, 35),
    "lead_industry_share": (40, 70),
    "land_output": (40, 140),
    "green_space_share": (8, 18),
    "shared_infra_coverage": (40, 90),
    "green_building_share": (60, 95),
    "rooftop_pv_coverage": (10, 40),
    "near_zero_building_share": (2, 15),
    "prefab_share": (20, 50),
    "construction_waste_reuse": (50, 85),
    "green_material_share": (30, 60),
    "co2_per_energy": (0.6, 1.6),
    "solid_waste_reuse": (55, 80),
    "waste_heat_reuse": (15, 45),
    "water_reuse": (60, 85),
    "office_energy_intensity": (12, 28),
    "digital_office_rate": (65, 95),
    "green_procurement_share": (30, 65),
    "clean_freight_share": (20, 60),
    "carbon_market_share": (10, 40),
    "green_power_trade_share": (10, 35),
    "green_commute_share": (45, 75),
    "waste_sorting_coverage": (70, 98),
    "ev_charging_share": (12, 35),
    "clean_energy_share": (40, 75),
    "storage_ratio": (4, 14),
    "energy_carbon_platform": (40, 90),
}
_BY_TYPE: dict[str, dict[str, tuple[float, float]]] = {
    "hydrogen_new_energy": {
        "green_invest_share": (25, 50),
        "strategic_emerging_share": (55, 85),
        "energy_intensive_share": (5, 20),
        "rooftop_pv_coverage": (20, 50),
        "co2_per_energy": (0.3, 1.0),
        "green_power_trade_share": (20, 50),
        "clean_energy_share": (70, 92),
        "storage_ratio": (8, 20),
    },
    "circular_vein": {
        "energy_intensive_share": (20, 45),
        "lead_industry_share": (60, 85),
        "co2_per_energy": (0.9, 1.8),
        "solid_waste_reuse": (82, 97),
        "waste_heat_reuse": (35, 60),
        "water_reuse": (75, 92),
        "carbon_market_share": (15, 45),
    },
    "high_tech": {
        "rd_intensity": (3.0, 6.0),
        "strategic_emerging_share": (50, 80),
        "energy_intensive_share": (2, 10),
        "land_output": (120, 260),
        "solid_waste_reuse": (50, 75),
        "waste_heat_reuse": (5, 25),
        "digital_office_rate": (80, 98),
    },
    "logistics": {
        "rd_intensity": (0.3, 1.5),
        "strategic_emerging_share": (10, 35),
        "land_output": (20, 60),
        "waste_heat_reuse": (0, 15),
        "clean_freight_share": (40, 85),
        "green_commute_share": (30, 55),
    },
}
_PILOT: dict[str, dict[str, tuple[float, float]]] = {
    # The hydrogen zone: green hydrogen from hydropower and PV, so clean energy dominates.
    "P01": {"clean_energy_share": (88, 96), "co2_per_energy": (0.15, 0.4)},
    # The vein park: waste incineration, recycling and reuse are its business.
    "P02": {"solid_waste_reuse": (90, 98), "waste_heat_reuse": (45, 65), "water_reuse": (80, 92)},
}


def _rng(seed: int, name: str) -> np.random.Generator:
    """One generator per (seed, park): adding a park does not change the others' values."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def demo_parks(seed: int = DEFAULT_SEED, framework: Framework | None = None) -> pd.DataFrame:
    """The SYNTHETIC demo park table: 2 pilots and 6 comparison parks, deterministic per seed.

    Columns: ``park_id``, ``name`` (English), ``type``, one column per framework indicator
    (raw values: 3 decimals for t CO2/tce, 1 decimal otherwise), ``name_zh``, ``pilot``
    (yes/no) and ``synthetic`` ("yes"). An indicator without an ILLUSTRATIVE range (a custom
    framework) is left blank.
    """
    framework = framework if framework is not None else load_park_framework()
    codes = list(indicator_table(framework)["code"])
    records = []
    for park_id, name_zh, name_en, kind, pilot in _PARKS:
        rng = _rng(seed, park_id)
        ranges = {**_TYPICAL, **_BY_TYPE.get(kind, {}), **_PILOT.get(park_id, {})}
        record: dict[str, object] = {"park_id": park_id, "name": name_en, "type": kind}
        for code in codes:
            # Draw for every code in a fixed order so that each value depends on seed and park.
            u = rng.random()
            if code not in ranges:
                record[code] = np.nan
                continue
            lo, hi = ranges[code]
            record[code] = round(lo + u * (hi - lo), 3 if code == "co2_per_energy" else 1)
        record.update({"name_zh": name_zh, "pilot": pilot, "synthetic": "yes"})
        records.append(record)
    return pd.DataFrame(records)


def demo_reviews(
    parks: pd.DataFrame,
    experts: int = 5,
    seed: int = DEFAULT_SEED,
    framework: Framework | None = None,
) -> pd.DataFrame:
    """SYNTHETIC expert re-assessments of every park × dimension, deterministic per seed.

    Model (ILLUSTRATIVE): parks rate themselves generously, so each park has an optimism of
    0–15 points and each dimension a further ±6; the experts' common view is the self score
    minus both, and each expert adds noise (sd 3). In about one park × dimension in twelve one
    expert is 30 points off the others, which the disagreement rule should flag. Scores are
    clipped to 0–100 and rounded to 0.1. Columns: ``park``, ``expert`` (E1…), ``dimension``,
    ``score``, ``synthetic`` ("yes").
    """
    if isinstance(experts, bool) or not isinstance(experts, int) or experts < 1:
        raise InvalidPipeline(f"experts must be an integer >= 1, got {experts!r}")
    framework = framework if framework is not None else load_park_framework()
    own = self_evaluation(parks, framework, dimension_weights(framework=framework))
    dims = [d.code for d in framework.root.children]
    records = []
    for row in own.itertuples(index=False):
        rng = _rng(seed, f"review:{row.park_id}")
        optimism = rng.uniform(0, 15)
        for dimension in dims:
            own_score = getattr(row, dimension)
            shift = rng.uniform(-6, 6)
            noise = rng.normal(0, 3, experts)
            outlier = rng.random() < 1 / 12
            sign = 1 if rng.random() < 0.5 else -1
            if np.isnan(own_score):
                continue
            scores = own_score - optimism - shift + noise
            if outlier and experts > 1:
                scores[-1] += sign * 30
            for number, score in enumerate(np.clip(scores, 0, 100), start=1):
                records.append(
                    {
                        "park": row.park_id,
                        "expert": f"E{number}",
                        "dimension": dimension,
                        "score": round(float(score), 1),
                        "synthetic": "yes",
                    }
                )
    return pd.DataFrame(records, columns=["park", "expert", "dimension", "score", "synthetic"])
