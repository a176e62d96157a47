"""SYNTHETIC demo panels for the pilot, calibrated to Chengdu's published city totals.

District-level statistics are not published in a reusable form, so the pilot's datasets are
generated here, seeded and reproducible, and every row says ``synthetic = yes``. City
totals for 2022 (resident population 21.268 M; GDP 2,081.75 bn yuan with primary :
secondary : tertiary = 58.84 : 640.41 : 1,382.50 bn; area 14,335 km²) come from
../shared/data/README.md; district names and codes from data/chengdu_units.csv.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
YEARS = range(2015, 2025)
TOTALS_2022 = {
    "primary": 58.84,
    "secondary": 640.41,
    "tertiary": 1382.50,
    "population_10k": 2126.8,
    "area_km2": 14335.0,
}
CENTRAL = {"510104", "510105", "510106", "510107", "510108"}
SECTORS = [
    "manufacturing",
    "electronics",
    "chemicals",
    "food",
    "logistics",
    "commerce",
    "data centres",
    "construction materials",
]


def _grid_dp_metadata() -> dict:
    return {
        "columns": {
            "enterprise_id": {},
            "adcode": {},
            "synthetic": {},
            "district": {"keys": [name for _, name, _ in units()]},
            "sector": {"keys": SECTORS},
            "month": {"keys": [f"2024-{m:02d}" for m in range(1, 13)]},
            "kwh": {"lower": 0, "upper": 5_000_000},
        }
    }


def units() -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "chengdu_units.csv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        adcode, name, _pinyin, kind = line.split(",")[:4]
        rows.append((adcode, name, kind))
    return rows


def _shares(rng: random.Random, weights: list[float]) -> list[float]:
    draws = [rng.gammavariate(w, 1.0) for w in weights]
    total = sum(draws)
    return [d / total for d in draws]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def stats_panel(out: Path, seed: int = 2022) -> Path:
    rng = random.Random(seed)
    us = units()
    central = [u[0] in CENTRAL for u in us]
    sector_w = {
        "primary": [0.3 if c else 4.0 for c in central],
        "secondary": [2.0 if c else 4.0 for c in central],
        "tertiary": [9.0 if c else 2.0 for c in central],
        "population_10k": [6.0 if c else 3.0 for c in central],
        "area_km2": [0.3 if c else 6.0 for c in central],
    }
    base = {k: [s * TOTALS_2022[k] for s in _shares(rng, w)] for k, w in sector_w.items()}
    growth = [rng.uniform(0.05, 0.09) for _ in us]
    rows = []
    for i, (adcode, name, _) in enumerate(us):
        for year in YEARS:
            # nominal growth around 2022, with the 2020 slowdown
            factor = (1 + growth[i]) ** (year - 2022) * (0.97 if year == 2020 else 1.0)
            p, s, t = (base[k][i] * factor for k in ("primary", "secondary", "tertiary"))
            pop = base["population_10k"][i] * (1.012 ** (year - 2022))
            rows.append(
                [
                    adcode,
                    name,
                    year,
                    round(p + s + t, 2),
                    round(p, 2),
                    round(s, 2),
                    round(t, 2),
                    round(pop, 1),
                    round(base["area_km2"][i], 1),
                    "yes",
                ]
            )
    return _write(
        out,
        [
            "adcode",
            "district",
            "year",
            "gdp_bn_yuan",
            "primary_bn",
            "secondary_bn",
            "tertiary_bn",
            "population_10k",
            "area_km2",
            "synthetic",
        ],
        rows,
    )


def eco_panel(out: Path, seed: int = 7) -> Path:
    rng = random.Random(seed)
    rows = []
    for adcode, name, _ in units():
        pm, days, forest = rng.uniform(45, 60), rng.uniform(230, 270), rng.uniform(25, 50)
        park = rng.uniform(9, 14)
        for year in YEARS:
            k = year - 2015
            rows.append(
                [
                    adcode,
                    name,
                    year,
                    round(days + 4 * k + rng.uniform(-6, 6)),
                    round(pm * 0.95**k + rng.uniform(-2, 2), 1),
                    round(min(70, forest + 0.5 * k), 1),
                    round(park + 0.3 * k, 1),
                    "yes",
                ]
            )
    return _write(
        out,
        [
            "adcode",
            "district",
            "year",
            "good_air_days",
            "pm25_ugm3",
            "forest_cover_pct",
            "park_green_m2_per_capita",
            "synthetic",
        ],
        rows,
    )


def transport_panel(out: Path, seed: int = 11) -> Path:
    rng = random.Random(seed)
    rows = []
    for adcode, name, _ in units():
        nev, pt = rng.uniform(1, 3), rng.uniform(35, 55)
        for year in YEARS:
            k = year - 2015
            rows.append(
                [
                    adcode,
                    name,
                    year,
                    round(min(60, nev * 1.35**k), 1),
                    round(pt + 0.8 * k + rng.uniform(-1, 1), 1),
                    "yes",
                ]
            )
    return _write(
        out,
        ["adcode", "district", "year", "nev_share_pct", "public_transport_share_pct", "synthetic"],
        rows,
    )


def grid_enterprise_electricity(out: Path, enterprises: int = 400, seed: int = 3) -> Path:
    rng = random.Random(seed)
    us = units()
    rows = []
    for e in range(1, enterprises + 1):
        adcode, name, _ = rng.choice(us)
        sector = rng.choice(SECTORS)
        base = rng.lognormvariate(13, 1.0)  # kWh per month
        for month in range(1, 13):
            season = 1.15 if month in (7, 8, 1) else 1.0
            rows.append(
                [
                    f"E{e:04d}",
                    adcode,
                    name,
                    sector,
                    f"2024-{month:02d}",
                    round(base * season * rng.uniform(0.9, 1.1)),
                    "yes",
                ]
            )
    return _write(
        out, ["enterprise_id", "adcode", "district", "sector", "month", "kwh", "synthetic"], rows
    )


#: What the grid declares public for DP queries on its enterprise table: the bounds of kWh
#: and the public keys (district, sector, month) one may group or filter by.
GRID_DP_METADATA = _grid_dp_metadata()


def _streets(district: str, n: int) -> list[str]:
    return [f"{district}第{i}街道" for i in range(1, n + 1)]


def eco_monitoring_stations(out: Path, seed: int = 19) -> Path:
    """Station-level monthly air readings of 2024: the identifying table eco keeps.

    Every district has 3-6 stations, each on a street of its district, with exact
    coordinates, a contact phone and free-text notes — what a desensitized release strips.
    """
    rng = random.Random(seed)
    rows = []
    sid = 0
    for adcode, name, _ in units():
        lat0, lon0 = 30.2 + rng.uniform(0, 0.9), 103.5 + rng.uniform(0, 1.1)
        streets = _streets(name, 4)
        base = rng.uniform(30, 50)
        for _ in range(rng.randint(3, 6)):
            sid += 1
            street = rng.choice(streets)
            lat, lon = lat0 + rng.uniform(-0.05, 0.05), lon0 + rng.uniform(-0.05, 0.05)
            phone = f"139{rng.randint(0, 10**8 - 1):08d}"
            for month in range(1, 13):
                winter = 1.35 if month in (12, 1, 2) else 1.0
                rows.append(
                    [
                        f"ST{adcode}{sid:03d}",
                        f"{street}监测点{sid}",
                        street,
                        f"{lat:.5f}",
                        f"{lon:.5f}",
                        f"2024-{month:02d}-{rng.randint(1, 28):02d}",
                        round(base * winter * rng.uniform(0.85, 1.15), 1),
                        round(base * 0.8 * rng.uniform(0.85, 1.15), 1),
                        phone,
                        f"巡检记录: 由{phone[-4:]}负责" if rng.random() < 0.3 else "",
                        "yes",
                    ]
                )
    return _write(
        out,
        [
            "station_id",
            "station_name",
            "street",
            "latitude",
            "longitude",
            "date",
            "pm25_ugm3",
            "no2_ugm3",
            "contact_phone",
            "notes",
            "synthetic",
        ],
        rows,
    )


def eco_station_profile(*, keep_coordinates: bool = False) -> dict:
    """eco's desensitization profile for the station table (YAML-equivalent dict).

    ``keep_coordinates`` keeps coordinates to 0.01° (about 1 km) as quasi-identifiers: too
    fine, k falls to 1 and the release is refused; the real profile suppresses them.
    """
    street_to_district = {s: name for _, name, _ in units() for s in _streets(name, 4)}
    coords = {"round": 2} if keep_coordinates else {"suppress": True}
    return {
        "version": 1,
        "columns": {
            "station_id": {"pseudonymize": True},
            "station_name": {"suppress": True},
            "street": {"map": street_to_district},
            "latitude": coords,
            "longitude": coords,
            "date": {"truncate_date": "month"},
            "pm25_ugm3": {"keep": True},
            "no2_ugm3": {"keep": True},
            "contact_phone": {"suppress": True},
            "notes": {"suppress": True},
            "synthetic": {"keep": True},
        },
        "quasi_identifiers": ["street", "date"]
        + (["latitude", "longitude"] if keep_coordinates else []),
        "min_k": 3,
    }


def gas_district_monthly(out: Path, seed: int = 23) -> Path:
    """Natural gas delivered by district and month of 2024 (m³): what the gas company holds."""
    rng = random.Random(seed)
    rows = []
    for adcode, name, _ in units():
        base = rng.uniform(1.5e6, 4e6) * (1.8 if adcode in CENTRAL else 1.0)
        for month in range(1, 13):
            winter = 1.5 if month in (12, 1, 2) else 1.0
            rows.append(
                [
                    adcode,
                    name,
                    f"2024-{month:02d}",
                    round(base * winter * rng.uniform(0.9, 1.1)),
                    "yes",
                ]
            )
    return _write(out, ["adcode", "district", "month", "gas_m3", "synthetic"], rows)


def transport_fuel_monthly(out: Path, seed: int = 29) -> Path:
    """Road fuel sold by district and month of 2024 (tonnes of diesel and of gasoline)."""
    rng = random.Random(seed)
    rows = []
    for adcode, name, _ in units():
        diesel, gasoline = rng.uniform(800, 3000), rng.uniform(1500, 5000)
        for month in range(1, 13):
            rows.append(
                [
                    adcode,
                    name,
                    f"2024-{month:02d}",
                    round(diesel * rng.uniform(0.9, 1.1), 1),
                    round(gasoline * rng.uniform(0.9, 1.1), 1),
                    "yes",
                ]
            )
    return _write(out, ["adcode", "district", "month", "diesel_t", "gasoline_t", "synthetic"], rows)


def eco_key_emitters(out: Path, enterprises: int = 240, seed: int = 31) -> Path:
    """Each key emitting enterprise's verified direct emissions of 2024 (kg CO2e, whole
    numbers): what enterprises report to eco, and what eco commits to row by row."""
    rng = random.Random(seed)
    us = units()
    rows = []
    for e in range(1, enterprises + 1):
        adcode, name, _ = us[(e - 1) % len(us)] if e <= len(us) else rng.choice(us)
        rows.append(
            [
                f"K{e:04d}",
                adcode,
                name,
                rng.choice(SECTORS),
                round(rng.lognormvariate(16, 1.1)),
                "yes",
            ]
        )
    return _write(
        out, ["enterprise_id", "adcode", "district", "sector", "emission_kg", "synthetic"], rows
    )


#: building type -> (floor area share of a central district, of an outer one, kWh per m² and
#: year, m³ of gas per m² and year): magnitudes of published surveys of Chinese buildings
#: in the hot-summer/cold-winter zone, not measurements
BUILDINGS = {
    "residential": (0.55, 0.62, 28.0, 4.5),
    "office": (0.14, 0.05, 95.0, 1.5),
    "commercial": (0.14, 0.07, 160.0, 5.0),
    "public": (0.10, 0.09, 70.0, 3.0),
    "industrial": (0.07, 0.17, 120.0, 9.0),
}
#: cooling in summer, heating (electric and gas) in winter; index 0 = January
ELECTRIC_SEASON = (1.15, 1.05, 0.9, 0.85, 0.9, 1.05, 1.3, 1.3, 1.0, 0.85, 0.9, 1.05)
GAS_SEASON = (1.6, 1.45, 1.1, 0.85, 0.7, 0.6, 0.55, 0.55, 0.65, 0.85, 1.15, 1.45)


def building_energy(out: Path, seed: int = 37, years: range = YEARS) -> Path:
    """Floor area, electricity and gas by district, building type and month (SYNTHETIC).

    Floor area grows 2-5 % a year by district; energy per m² falls 1-3 % a year by type, so
    the city's totals rise and then flatten. Values are whole units (m², kWh, m³)."""
    rng = random.Random(seed)
    rows = []
    for adcode, name, _ in units():
        central = adcode in CENTRAL
        area0 = rng.uniform(40e6, 80e6) if central else rng.uniform(15e6, 45e6)
        growth = rng.uniform(0.02, 0.05)
        for btype, (share_c, share_o, kwh, gas) in BUILDINGS.items():
            share = share_c if central else share_o
            saving = rng.uniform(0.01, 0.03)
            for y in years:
                area = area0 * share * (1 + growth) ** (y - years[0])
                per_m2 = (1 - saving) ** (y - years[0]) * (0.93 if y == 2020 else 1.0)
                for m in range(12):
                    noise = rng.uniform(0.95, 1.05)
                    rows.append(
                        [
                            adcode,
                            name,
                            btype,
                            f"{y}-{m + 1:02d}",
                            round(area),
                            round(area * kwh / 12 * per_m2 * ELECTRIC_SEASON[m] * noise),
                            round(area * gas / 12 * per_m2 * GAS_SEASON[m] * noise),
                            "yes",
                        ]
                    )
    header = ["adcode", "district", "building_type", "month", "floor_area_m2"]
    return _write(out, [*header, "electricity_kwh", "gas_m3", "synthetic"], rows)
