"""The pilot datasets' declared Table Schemas, themes and catalog metadata.

Each SYNTHETIC panel is published with a Frictionless Table Schema: typed fields with
units, ranges, the enumeration of Chengdu's county-level admin-unit codes, a primary key,
and the missing-value markers the departments' spreadsheets use.
"""

from __future__ import annotations

from typing import Any

from node.pilot.synthetic import SECTORS, units

MISSING = ["", "NA", "-"]


def _adcode() -> dict[str, Any]:
    return {
        "name": "adcode",
        "type": "string",
        "title": "county-level admin-unit code (GB/T 2260)",
        "constraints": {"required": True, "enum": [code for code, _, _ in units()]},
    }


def _district() -> dict[str, Any]:
    return {
        "name": "district",
        "type": "string",
        "constraints": {"required": True, "enum": [name for _, name, _ in units()]},
    }


def _year() -> dict[str, Any]:
    return {
        "name": "year",
        "type": "integer",
        "constraints": {"required": True, "minimum": 2015, "maximum": 2024},
    }


def _number(name: str, unit: str, maximum: float | None = None) -> dict[str, Any]:
    constraints: dict[str, Any] = {"minimum": 0}
    if maximum is not None:
        constraints["maximum"] = maximum
    return {"name": name, "type": "number", "unit": unit, "constraints": constraints}


def _synthetic() -> dict[str, Any]:
    return {"name": "synthetic", "type": "string", "constraints": {"enum": ["yes"]}}


def _panel(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "fields": [_adcode(), _district(), _year(), *fields, _synthetic()],
        "primaryKey": ["adcode", "year"],
        "missingValues": MISSING,
    }


SCHEMAS: dict[str, dict[str, Any]] = {
    "stats": _panel(
        [
            _number("gdp_bn_yuan", "10^9 CNY"),
            _number("primary_bn", "10^9 CNY"),
            _number("secondary_bn", "10^9 CNY"),
            _number("tertiary_bn", "10^9 CNY"),
            _number("population_10k", "10^4 persons"),
            _number("area_km2", "km2"),
        ]
    ),
    "eco": _panel(
        [
            {
                "name": "good_air_days",
                "type": "integer",
                "unit": "days",
                "constraints": {"minimum": 0, "maximum": 366},
            },
            _number("pm25_ugm3", "µg/m3", 500),
            _number("forest_cover_pct", "%", 100),
            _number("park_green_m2_per_capita", "m2/person"),
        ]
    ),
    "transport": _panel(
        [
            _number("nev_share_pct", "%", 100),
            _number("public_transport_share_pct", "%", 100),
        ]
    ),
    "grid": {
        "fields": [
            {
                "name": "enterprise_id",
                "type": "string",
                "constraints": {"required": True, "pattern": "E[0-9]{4}"},
            },
            _adcode(),
            _district(),
            {
                "name": "sector",
                "type": "string",
                "constraints": {"required": True, "enum": SECTORS},
            },
            {
                "name": "month",
                "type": "string",
                "constraints": {"required": True, "pattern": "2024-(0[1-9]|1[0-2])"},
            },
            {
                "name": "kwh",
                "type": "integer",
                "unit": "kWh",
                "constraints": {"required": True, "minimum": 0},
            },
            _synthetic(),
        ],
        "primaryKey": ["enterprise_id", "month"],
        "missingValues": MISSING,
    },
}

_CITY = ["510100"]
_CONTACT = {
    "stats": ("成都市统计局 数据管理处", "data@stats.chengdu.example"),
    "eco": ("成都市生态环境局 监测处", "data@eco.chengdu.example"),
    "transport": ("成都市交通运输局 信息中心", "data@transport.chengdu.example"),
    "grid": ("国网成都供电公司 数据中心", "data@grid.chengdu.example"),
}


def metadata(dept: str) -> dict[str, Any]:
    """The catalog metadata of each pilot department's panel (DCAT-style)."""
    common = {
        "publisher": _CONTACT[dept][0],
        "spatial": _CITY,
        "licence": "internal-use (pilot, SYNTHETIC data)",
        "contact": {"name": _CONTACT[dept][0], "email": _CONTACT[dept][1]},
    }
    panel = {"temporal": {"start": "2015-01-01", "end": "2024-12-31"}, "update_frequency": "annual"}
    return {
        "stats": {
            "theme": "socioeconomic",
            "title_zh": "区（市）县社会经济面板 2015–2024（合成）",
            "title_en": "District socioeconomic panel 2015–2024 (synthetic)",
            "description_zh": "地区生产总值、三次产业、常住人口、面积，按区（市）县和年份。",
            "description_en": (
                "GDP, the three sectors, resident population and area by district and year."
            ),
            "keywords": ["GDP", "population", "地区生产总值"],
            **panel,
            **common,
        },
        "eco": {
            "theme": "environment",
            "title_zh": "生态环境面板 2015–2024（合成）",
            "title_en": "Environment panel 2015–2024 (synthetic)",
            "description_zh": "优良天数、PM2.5、森林覆盖率、人均公园绿地。",
            "description_en": "Good-air days, PM2.5, forest cover and park green space per person.",
            "keywords": ["PM2.5", "air quality", "空气质量"],
            **panel,
            **common,
        },
        "transport": {
            "theme": "transport",
            "title_zh": "绿色交通面板 2015–2024（合成）",
            "title_en": "Green transport panel 2015–2024 (synthetic)",
            "description_zh": "新能源汽车占比、公共交通出行分担率。",
            "description_en": "Share of new-energy vehicles and of public transport trips.",
            "keywords": ["NEV", "public transport", "新能源汽车"],
            **panel,
            **common,
        },
        "grid": {
            "theme": "energy",
            "title_zh": "重点企业月度用电量 2024（合成）",
            "title_en": "Monthly electricity use of key enterprises, 2024 (synthetic)",
            "description_zh": "400 家企业按月用电量（千瓦时），仅限差分隐私查询。",
            "description_en": "Monthly kWh of 400 enterprises; differential-privacy queries only.",
            "keywords": ["electricity", "kWh", "用电量"],
            "temporal": {"start": "2024-01-01", "end": "2024-12-31"},
            "update_frequency": "monthly",
            **common,
        },
    }[dept]
