"""The cockpit's panels as JSON, computed from this node's holdings only.

Each answer names its provenance: the holdings it used (dataset, version, grant and the
transaction that authorized it, or the analytics method and its inputs) and the conversion
factors applied. Frames are read once and re-read when a newer holding is recorded.
"""

from __future__ import annotations

import contextvars
import csv
import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from analytics import buildings as bld
from analytics.carbon.budget import budget_path, track
from analytics.carbon.forecast import Forecast, holt, peak_year
from analytics.errors import AnalyticsError
from analytics.indicators.chengdu import district_units
from node.cockpit.errors import InvalidFilter, NoHoldings
from node.cockpit.holdings import Held, Holdings

#: a schematic tile grid (row, column), north up: no boundary data, no map review needed
TILES = {
    "510182": (0, 2), "510114": (0, 3), "510113": (0, 4), "510121": (0, 5),
    "510181": (1, 1), "510117": (1, 2), "510106": (1, 3), "510108": (1, 4), "510112": (1, 5),
    "510184": (2, 0), "510115": (2, 1), "510105": (2, 2), "510104": (2, 3), "510185": (2, 5),
    "510129": (3, 0), "510107": (3, 2),
    "510183": (4, 0), "510118": (4, 1), "510116": (4, 2),
    "510131": (5, 0),
}  # fmt: skip
INDICATOR_NAMES = {
    "co2_t": ("二氧化碳排放", "CO2 emissions", "t CO2"),
    "energy_tce": ("能源消费量", "Energy use", "tce"),
    "electricity_mwh": ("用电量", "Electricity", "MWh"),
    "gas_10k_m3": ("用气量", "Natural gas", "10^4 m³"),
    "kwh_per_m2": ("单位面积电耗", "Electricity per m²", "kWh/m²"),
    "co2_kg_per_m2": ("单位面积碳排放", "CO2 per m²", "kg CO2/m²"),
    "carbon_intensity": ("碳排放强度", "Carbon intensity", "t CO2 / 10k yuan"),
    "energy_intensity": ("能耗强度", "Energy intensity", "tce / 10k yuan"),
    "co2_per_capita_t": ("人均碳排放", "CO2 per capita", "t CO2 / person"),
}
FACTORS = {
    "electricity_kgce_per_kwh": bld.KGCE_PER_KWH,
    "gas_kgce_per_m3": round(bld.KGCE_PER_M3_GAS, 6),
    "electricity_kgco2_per_kwh": bld.KGCO2_PER_KWH,
    "gas_kgco2_per_m3": bld.KGCO2_PER_M3_GAS,
    "sources": "GB/T 2589 (tce); MEE+NBS Sichuan 2022 grid average; NDRC guidelines (gas)",
}
#: the overview's key figures, in the order they are shown
KPI_CODES = (
    "co2_t",
    "carbon_intensity",
    "energy_intensity",
    "co2_per_capita_t",
    "energy_tce",
    "kwh_per_m2",
)
#: each view and the holdings it reads
VIEW_ROLES = {
    "overview": ("building_energy", "stats_panel"),
    "map": ("building_energy", "stats_panel"),
    "series": ("building_energy", "stats_panel"),
    "distribution": ("building_energy",),
    "index": (
        "index_results",
        "index_sensitivity",
        "index_aggregated",
        "index_warning_summary",
        "index_indicators",
    ),
    "joint": ("joint_dp",),
    "assets": ("carbon_assets", "park_results"),
}
#: the demo's budget assumption, stated with every budget figure
BUDGET = {"start_year": 2021, "end_year": 2030, "share_of_flat": 0.9}
BASE_YEAR = 2020


def units() -> list[dict[str, Any]]:
    """Chengdu's 20 county-level units (the framework's admin table) with their tiles."""
    return [
        {
            "code": u.uCode,
            "name_zh": u.uName_zh,
            "name_en": u.uName,
            "central": bool(u.core == 1.0),
            "row": TILES[u.uCode][0],
            "col": TILES[u.uCode][1],
        }
        for u in district_units().itertuples()
    ]


@dataclass(frozen=True)
class Query:
    """A view's filters, validated (the API's boundary builds it from query parameters)."""

    indicator: str = "co2_t"
    year: int | None = None
    districts: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    fuels: tuple[str, ...] = bld.FUELS
    freq: str = "year"
    years: tuple[int, int] | None = None


def parse_query(params: dict[str, str], codes: set[str]) -> Query:
    def listed(name: str, allowed: Sequence[str] | set[str]) -> tuple[str, ...] | None:
        raw = params.get(name, "").strip()
        if not raw:
            return None
        items = tuple(dict.fromkeys(x.strip() for x in raw.split(",") if x.strip()))
        bad = [x for x in items if x not in allowed]
        if bad or len(items) > 64:
            raise InvalidFilter(f"{name}: unknown value(s) {', '.join(bad[:5])}")
        return items

    def year(name: str) -> int | None:
        raw = params.get(name, "").strip()
        if not raw:
            return None
        if not re.fullmatch(r"[0-9]{4}", raw) or not 1900 <= int(raw) <= 2200:
            raise InvalidFilter(f"{name}: {raw[:20]!r} is not a year")
        return int(raw)

    indicator = params.get("indicator", "co2_t")
    if indicator not in bld.INDICATORS:
        raise InvalidFilter(f"indicator {indicator[:40]!r}: use one of {', '.join(bld.INDICATORS)}")
    freq = params.get("freq", "year")
    if freq not in ("year", "month"):
        raise InvalidFilter("freq: use year or month")
    if freq == "month" and not bld.INDICATORS[indicator][1]:
        raise InvalidFilter(f"{indicator} is yearly only (GDP and population are yearly)")
    scopes = listed("scopes", {"1", "2"})
    fuels = listed("fuels", bld.FUELS) or bld.FUELS
    if scopes:
        fuels = tuple(f for f in fuels if f in bld.fuels_for_scopes(int(s) for s in scopes))
        if not fuels:
            raise InvalidFilter("no fuel is left in the chosen scopes")
    lo, hi = year("from"), year("to")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidFilter(f"year range {lo}-{hi} is reversed")
    span = None if lo is None and hi is None else (lo or 1900, hi or 2200)
    return Query(
        indicator=indicator,
        year=year("year"),
        districts=listed("districts", codes),
        types=listed("types", bld.BUILDING_TYPES),
        fuels=fuels,
        freq=freq,
        years=span,
    )


#: the holdings already checked for the answer being computed (role -> holding, content)
_VERIFIED: contextvars.ContextVar[dict | None] = contextvars.ContextVar("verified", default=None)


@lru_cache(maxsize=512)
def _holt(index: tuple, values: tuple, horizon: int) -> Forecast:
    # the fit is the slowest step of a view and officials look at the same few selections
    return holt(pd.Series(values, index=list(index)), horizon=horizon, damped=True, level=0.9)


def forecast(series: pd.Series, horizon: int) -> Forecast:
    """The damped Holt forecast of a yearly series, with its 90 % interval (memoized)."""
    return _holt(tuple(int(i) for i in series.index), tuple(float(v) for v in series), horizon)


def budget_of(emissions: pd.Series) -> pd.Series | None:
    """The demo's budget path for a selection's yearly emissions (:data:`BUDGET`: a straight
    line from its start-year emissions spending a share of holding them flat); None when
    the start year is missing."""
    start, end = BUDGET["start_year"], BUDGET["end_year"]
    if start not in emissions.index or pd.isna(emissions[start]):
        return None
    e0 = float(emissions[start])
    return budget_path(BUDGET["share_of_flat"] * e0 * (end - start + 1), start, end, e0)


def _num(x: Any, digits: int = 6) -> float | None:
    if x is None or (isinstance(x, float) and not np.isfinite(x)) or pd.isna(x):
        return None
    return float(f"{float(x):.{digits}g}")


class CockpitData:
    def __init__(self, holdings: Holdings) -> None:
        self.holdings = holdings
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[int, Any]] = {}
        self.units = units()
        self.codes = {u["code"] for u in self.units}
        self.names = {u["code"]: u for u in self.units}

    # -- loading --------------------------------------------------------------------------
    def _held(self, role: str, reader) -> tuple[Held, Any]:
        seen = _VERIFIED.get()
        if seen is not None and role in seen:
            return seen[role]  # checked already for this answer
        with self._lock:
            # re-read and re-hashed for every answer: a changed file is refused
            held, content = self.holdings.latest_bytes(role)
            cached = self._loaded.get(role)
            if cached is None or cached[0] != held.id:
                cached = (held.id, reader(content))
                self._loaded[role] = cached
        if seen is not None:
            seen[role] = (held, cached[1])
        return held, cached[1]

    def answer(self, view: str, q: Query) -> dict[str, Any]:
        """One view's answer; each file it reads is checked once for it."""
        token = _VERIFIED.set({})
        try:
            return getattr(self, view)(q)
        finally:
            _VERIFIED.reset(token)

    def energy(self) -> tuple[Held, tuple[pd.DataFrame, tuple[int, int] | None]]:
        """The building-energy table and its first and last complete years (read once)."""

        def read(content: bytes) -> tuple[pd.DataFrame, tuple[int, int] | None]:
            frame = bld.read_building_energy(content, where="building energy")
            return frame, bld.complete_years(frame)

        return self._held("building_energy", read)

    def panel(self) -> tuple[Held, pd.DataFrame]:
        return self._held(
            "stats_panel",
            lambda b: bld.stats_panel(pd.read_csv(io.BytesIO(b), dtype={"adcode": str})),
        )

    def table(self, role: str) -> tuple[Held, pd.DataFrame]:
        return self._held(
            role, lambda b: pd.read_csv(io.BytesIO(b), dtype={"uCode": str, "district": str})
        )

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def provenance(*held: Held, **extra: Any) -> dict[str, Any]:
        return {"sources": [h.provenance() for h in held], **extra}

    def _rows(self, q: Query, districts: Sequence[str] | None = None) -> tuple[Held, pd.DataFrame]:
        held, (frame, _) = self.energy()
        sel = bld.Selection(
            districts=tuple(districts) if districts is not None else q.districts,
            building_types=q.types,
            fuels=q.fuels,
            years=q.years,
        )
        return held, bld.select(frame, sel)

    def _years(self) -> tuple[int, int]:
        """The first and last year with all twelve months: a year's totals and intensities
        are not comparable while its months are still coming in."""
        _, (_frame, years) = self.energy()
        if years is None:
            raise InvalidFilter("the building-energy table holds no complete year yet")
        return years

    def _indicator_frame(self, q: Query, by: Sequence[str], freq: str = "year", districts=None):
        """Totals by ``by`` and period with every indicator computable for them."""
        used = []
        held, rows = self._rows(q, districts)
        used.append(held)
        t = bld.totals(rows, by, freq)
        panel = None
        if freq == "year":
            pheld, p = self.panel()
            used.append(pheld)
            if list(by) == ["adcode"]:
                panel = p
            else:
                codes = list(districts if districts is not None else (q.districts or self.codes))
                panel = bld.city_panel(p, codes)
                if by:
                    raise InvalidFilter("intensities per GDP are by district or for the selection")
        return bld.with_intensities(t, panel), used

    # -- panels --------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        try:
            lo, hi = self._years()
        except NoHoldings:  # a node holding only other views' files still shows those
            lo = hi = None
        return {
            "districts": self.units,
            "building_types": list(bld.BUILDING_TYPES),
            "fuels": list(bld.FUELS),
            "years": [lo, hi],
            "indicators": [
                {"code": c, "zh": z, "en": e, "unit": u, "monthly": bld.INDICATORS[c][1]}
                for c, (z, e, u) in INDICATOR_NAMES.items()
            ],
            "holdings": [h.provenance() | {"id": h.id} for h in self.holdings.all()],
            "views": self.views(),
            "factors": FACTORS,
        }

    def views(self) -> list[str]:
        """The views whose holdings this node has (the page shows only those)."""
        held = {h.role for h in self.holdings.all()}
        return [v for v, roles in VIEW_ROLES.items() if set(roles) <= held]

    def overview(self, q: Query) -> dict[str, Any]:
        lo, hi = self._years()
        year = q.year or hi
        if not lo <= year <= hi:
            raise InvalidFilter(f"year {year}: the data cover {lo}-{hi}")
        q_all = Query(districts=q.districts, types=q.types, fuels=q.fuels)
        t, used = self._indicator_frame(q_all, [], "year")
        kpis = {}
        for code in KPI_CODES:
            s = t[code]
            kpis[code] = {
                "value": _num(s.get(year)),
                "previous": _num(s.get(year - 1)),
                "base": _num(s.get(BASE_YEAR)),
                "change_vs_previous_pct": _num(bld.change_pct(s, year, year - 1), 4),
                "change_vs_base_pct": _num(bld.change_pct(s, year, BASE_YEAR), 4),
            }
        emissions = t["co2_t"].loc[lo:hi]
        budget = self._budget(emissions, year)
        peak_info = None
        try:
            history = emissions.loc[:year]
            fc = forecast(history, BUDGET["end_year"] - year)
            peak = peak_year(history, fc)
            peak_info = {
                "year": int(peak["peak_year"]),
                "reached": bool(peak["reached"]),
                "within_horizon": bool(peak["within_horizon"]),
                "method": fc.method,
            }
        except AnalyticsError as exc:  # too few years before YEAR for the forecast
            peak_info = {"year": None, "error": exc.message}
        return {
            "year": year,
            "base_year": BASE_YEAR,
            "kpis": kpis,
            "budget": budget,
            "peak": peak_info,
            "provenance": self.provenance(*used, factors=FACTORS, budget_assumption=BUDGET),
        }

    def _budget(self, emissions: pd.Series, year: int) -> dict[str, Any] | None:
        path = budget_of(emissions)
        if path is None or year < BUDGET["start_year"]:
            return None
        last = track(emissions.loc[BUDGET["start_year"] : year], path).iloc[-1]
        return {
            "status": str(last["status"]),
            "ratio": _num(last["ratio"], 4),
            "total_t": _num(path.sum()),
            "path": [[int(y), _num(v)] for y, v in path.items()],
        }

    def map(self, q: Query) -> dict[str, Any]:
        lo, hi = self._years()
        year = q.year or hi
        if not lo <= year <= hi:
            raise InvalidFilter(f"year {year}: the data cover {lo}-{hi}")
        q_year = Query(types=q.types, fuels=q.fuels, years=(year, year))
        t, used = self._indicator_frame(q_year, ["adcode"], "year", districts=sorted(self.codes))
        col = t[q.indicator].xs(year, level="year") if len(t) else pd.Series(dtype=float)
        values = [{"code": c, "value": _num(col.get(c))} for c in sorted(self.codes)]
        return {
            "indicator": q.indicator,
            "year": year,
            "unit": INDICATOR_NAMES[q.indicator][2],
            "values": values,
            "provenance": self.provenance(*used, factors=FACTORS),
        }

    def series(self, q: Query) -> dict[str, Any]:
        codes = list(q.districts or [])
        selected = codes or sorted(self.codes)
        out: list[dict[str, Any]] = []
        held, rows = self._rows(q, selected)
        used = [held]
        # one pass over the rows: per district, and the selection as their sum (floor area
        # too: the sum over districts of yearly means is the yearly mean of the sums)
        raw = bld.totals(rows, ["adcode"], q.freq)
        period = "year" if q.freq == "year" else "month"
        sel_raw = raw.groupby(level=period).sum()
        panel = city = None
        if q.freq == "year":
            pheld, panel = self.panel()
            used.append(pheld)
            city = bld.city_panel(panel, selected)
        if codes:
            t = bld.with_intensities(raw, panel)
            for code in codes:
                s = (
                    t[q.indicator].xs(code, level="adcode")
                    if code in t.index.get_level_values(0)
                    else pd.Series(dtype=float)
                )
                out.append({"code": code, "points": [[str(k), _num(v)] for k, v in s.items()]})
        total = bld.with_intensities(sel_raw, city)
        agg = total[q.indicator]
        result: dict[str, Any] = {
            "indicator": q.indicator,
            "unit": INDICATOR_NAMES[q.indicator][2],
            "freq": q.freq,
            "districts": out,
            "selection": {
                "codes": codes or "city",
                "points": [[str(k), _num(v)] for k, v in agg.items()],
            },
            "forecast": None,
            "budget": None,
        }
        if q.freq == "year" and len(agg.dropna()) >= 4:
            last = int(agg.index.max())
            horizon = max(1, BUDGET["end_year"] - last)
            try:
                fc = forecast(agg.dropna(), horizon)
                result["forecast"] = {
                    "method": fc.method,
                    "level": fc.level,
                    "points": [
                        [str(y), _num(m), _num(lo_), _num(hi_)]
                        for y, m, lo_, hi_ in zip(
                            fc.mean.index, fc.mean, fc.lower, fc.upper, strict=True
                        )
                    ],
                }
            except AnalyticsError as exc:
                result["forecast_error"] = exc.message
        if q.freq == "year" and q.indicator == "co2_t":
            path = budget_of(agg)
            if path is not None:
                result["budget"] = {"points": [[str(y), _num(v)] for y, v in path.items()]}
        result["provenance"] = self.provenance(*used, factors=FACTORS, budget_assumption=BUDGET)
        return result

    def distribution(self, q: Query) -> dict[str, Any]:
        held, rows = self._rows(q)
        if rows.empty:
            raise InvalidFilter("no rows match these filters")
        rows = rows.assign(sector=rows["building_type"].map(bld.SECTOR_OF))
        order = {k: i for i, k in enumerate(bld.BUILDING_TYPES)}
        by_type = sorted(self._with_area(rows, "building_type"), key=lambda r: order[r["key"]])
        return {
            "years": [int(rows["year"].min()), int(rows["year"].max())],
            "by_type": by_type,
            "by_sector": self._with_area(rows, "sector"),
            "by_district": self._with_area(rows, "adcode"),
            "provenance": self.provenance(held, factors=FACTORS),
        }

    @staticmethod
    def _with_area(rows: pd.DataFrame, by: str) -> list[dict[str, Any]]:
        """Sums by ``by`` with per-m² intensities (floor area: the mean over the months of
        each year, summed over the districts, averaged over the years)."""
        sums = rows.groupby(by, sort=True)[bld.SUMS].sum()
        monthly_area = rows.groupby([by, "year", "month"])["floor_area_m2"].sum()
        yearly_area = monthly_area.groupby(level=[by, "year"]).mean()
        out = []
        for key, r in sums.iterrows():
            areas = yearly_area.xs(key, level=by)
            # m²·years of this key's own years: a key present in fewer years is not diluted
            area_years = float(areas.sum())
            out.append(
                {
                    "key": str(key),
                    **{c: _num(r[c]) for c in bld.SUMS},
                    "floor_area_m2": _num(float(areas.mean())),
                    "kwh_per_m2": _num(r["electricity_mwh"] * 1000 / area_years),
                    "co2_kg_per_m2": _num(r["co2_t"] * 1000 / area_years),
                }
            )
        return out

    def index(self, q: Query) -> dict[str, Any]:
        rh, results = self.table("index_results")
        sh, sens = self.table("index_sensitivity")
        ah, agg = self.table("index_aggregated")
        wh, lights = self.table("index_warning_summary")
        ih, meta = self.table("index_indicators")
        last = int(results["Time"].max())
        year = q.year or last
        latest = results[results["Time"] == year]
        if latest.empty:
            raise InvalidFilter(f"no index for {year}")
        # the Monte Carlo intervals and the warning lights were computed for the last year
        # only: another year shows its ranks without them rather than next to wrong ones
        interval = sens.set_index("uCode") if year == last else sens.iloc[0:0].set_index("uCode")

        def whole(v: Any) -> int | None:
            return None if pd.isna(v) else int(v)

        ranks = [
            {
                "code": r.uCode,
                "index": _num(r.index),
                "rank": whole(r.rank),
                "q05": whole(interval.loc[r.uCode, "rank_q05"])
                if r.uCode in interval.index
                else None,
                "q95": whole(interval.loc[r.uCode, "rank_q95"])
                if r.uCode in interval.index
                else None,
            }
            for r in latest.sort_values("rank").itertuples()
        ]
        areas = meta[meta["Level"] == meta["Level"].max() - 1]
        codes = list(areas["iCode"])
        a = agg[agg["Time"] == year].set_index("uCode")
        sub = [{"code": c, "values": [_num(a.loc[c, k], 4) for k in codes]} for c in a.index]
        units = lights[lights["by"] == "unit"] if year == last else lights.iloc[0:0]
        return {
            "year": year,
            "intervals_year": last,
            "ranks": ranks,
            "subindex": {
                "codes": codes,
                "zh": list(areas["iName_zh"]),
                "en": list(areas["iName"]),
                "rows": sub,
            },
            "lights": [
                {
                    "code": str(r.key),
                    "green": int(r.green),
                    "yellow": int(r.yellow),
                    "red": int(r.red),
                }
                for r in units.itertuples()
            ],
            "provenance": self.provenance(rh, sh, ah, wh, ih),
        }

    def joint(self, q: Query) -> dict[str, Any]:
        """Energy use and emissions of every sector by district (2024), opened by a joint
        query of the owners with DP noise: the ε each spent and its bound are shown."""
        jh, table = self.table("joint_dp")
        table = table.astype({"adcode": str})
        return {
            "rows": [
                {
                    "code": str(r.adcode),
                    "energy_tce": _num(float(r.energy_tce_dp)),
                    "co2_t": _num(float(r.emissions_tco2_dp)),
                }
                for r in table.itertuples()
            ],
            "noise_bound_95": jh.note.get("noise_bound_95", {}),
            "epsilon": jh.note.get("epsilon", {}),
            "provenance": self.provenance(jh),
        }

    def assets(self, q: Query) -> dict[str, Any]:
        ph, pool = self.table("carbon_assets")
        kh, parks = self.table("park_results")
        return {
            "pool": [
                {
                    "district": str(r.district),
                    "type": str(r.type),
                    "projects": int(r.projects),
                    "expected_annual_t": _num(r.expected_annual_t),
                    "issued_t": _num(r.issued_t),
                }
                for r in pool.itertuples()
            ],
            "parks": [
                {
                    "park_id": str(r.park_id),
                    "name": str(r.name),
                    "type": str(r.type),
                    "total": _num(r.total, 4),
                    "rank": int(r.rank),
                }
                for r in parks.sort_values("rank").itertuples()
            ],
            "provenance": self.provenance(ph, kh),
        }

    # -- export --------------------------------------------------------------------------
    def export_csv(self, view: str, q: Query) -> tuple[str, list[Held]]:
        """The view's table as CSV text, and the holdings it came from."""
        data = self.answer(view, q)
        buf = io.StringIO()
        w = _SafeWriter(csv.writer(buf, lineterminator="\n"))
        if view == "overview":
            w.writerow(
                [
                    "indicator",
                    "year",
                    "value",
                    "previous",
                    "base",
                    "change_vs_previous_pct",
                    "change_vs_base_pct",
                ]
            )
            for k, v in data["kpis"].items():
                w.writerow(
                    [
                        k,
                        data["year"],
                        v["value"],
                        v["previous"],
                        v["base"],
                        v["change_vs_previous_pct"],
                        v["change_vs_base_pct"],
                    ]
                )
        elif view == "map":
            w.writerow(["adcode", "district", "year", data["indicator"]])
            for v in data["values"]:
                w.writerow([v["code"], self.names[v["code"]]["name_zh"], data["year"], v["value"]])
        elif view == "series":
            w.writerow(["adcode", "period", data["indicator"]])
            for d in data["districts"]:
                for p, v in d["points"]:
                    w.writerow([d["code"], p, v])
            for p, v in data["selection"]["points"]:
                w.writerow(["selection", p, v])
        elif view == "distribution":
            keys = ["key", *bld.SUMS, "floor_area_m2", "kwh_per_m2", "co2_kg_per_m2"]
            w.writerow(["building_type", *keys[1:]])
            for r in data["by_type"]:
                w.writerow([r.get(k) for k in keys])
        elif view == "index":
            w.writerow(["adcode", "year", "index", "rank", "rank_q05", "rank_q95"])
            for r in data["ranks"]:
                w.writerow([r["code"], data["year"], r["index"], r["rank"], r["q05"], r["q95"]])
        elif view == "joint":
            w.writerow(["adcode", "energy_tce_dp", "emissions_tco2_dp"])
            for r in data["rows"]:
                w.writerow([r["code"], r["energy_tce"], r["co2_t"]])
        elif view == "assets":
            w.writerow(["district", "type", "projects", "expected_annual_t", "issued_t"])
            for r in data["pool"]:
                w.writerow(
                    [r["district"], r["type"], r["projects"], r["expected_annual_t"], r["issued_t"]]
                )
        return buf.getvalue(), data["provenance"]["sources"]


class _SafeWriter:
    """A csv writer that keeps a text cell from being read as a spreadsheet formula."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer

    def writerow(self, row: Sequence[Any]) -> None:
        self.writer.writerow(
            ["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in row]
        )
