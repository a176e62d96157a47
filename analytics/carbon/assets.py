"""The carbon-asset project pool: emission-reduction projects from reserve to traded credits.

A project is one emission-reduction activity in a Chengdu district that is (or may become) a
source of carbon credits under one of four schemes:

* ``CCER`` — China Certified Emission Reductions (the national voluntary market);
* ``VCS`` — Verra's Verified Carbon Standard;
* ``GS`` — the Gold Standard;
* ``local_inclusion`` — a local carbon-inclusion (碳普惠) scheme, whose small credits are used
  and traded locally.

Its life cycle is ``reserve`` (identified, in the pool) → ``development`` (design document,
validation, registration) → ``issued`` (credits issued) → ``traded`` (credits sold or retired).

Records are validated at the boundary (:func:`read_projects`, :func:`validate_projects`) by a
pydantic model; every problem raises :class:`~analytics.errors.InvalidData` naming the 1-based
data row and the column. :func:`classify` grades projects A/B/C by the rule stated in its
docstring, :func:`pool_summary` totals the pool by any grouping, and :func:`demo_projects`
draws a deterministic SYNTHETIC pool over Chengdu's 20 county-level units.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analytics.errors import InvalidData, InvalidPipeline
from analytics.indicators import chengdu
from analytics.tables import read_text_table

__all__ = [
    "COLUMNS",
    "GRADE_A_MIN_T",
    "GRADE_B_MIN_T",
    "RECOGNISED_TYPES",
    "SECTORS",
    "STATUSES",
    "TYPES",
    "Project",
    "advance",
    "classify",
    "demo_projects",
    "pool_summary",
    "read_projects",
    "validate_projects",
]

ProjectType = Literal["CCER", "VCS", "GS", "local_inclusion"]
Sector = Literal["forestry", "renewable", "methane", "energy_efficiency", "transport", "other"]
Status = Literal["reserve", "development", "issued", "traded"]

TYPES: tuple[str, ...] = ("CCER", "VCS", "GS", "local_inclusion")
SECTORS: tuple[str, ...] = (
    "forestry",
    "renewable",
    "methane",
    "energy_efficiency",
    "transport",
    "other",
)
#: The life cycle in order; a project only moves forward, one step at a time.
STATUSES: tuple[str, ...] = ("reserve", "development", "issued", "traded")
_RANK = {status: rank for rank, status in enumerate(STATUSES)}
#: Schemes with a registry and approved methodologies whose credits trade beyond the city;
#: local carbon-inclusion credits are not, so they cannot reach grade A.
RECOGNISED_TYPES: frozenset[str] = frozenset({"CCER", "VCS", "GS"})
#: Grading thresholds on the expected annual reduction, t CO2e per year (inclusive).
GRADE_A_MIN_T = 50_000.0
GRADE_B_MIN_T = 10_000.0

COLUMNS: tuple[str, ...] = (
    "project_id",
    "name",
    "district",
    "type",
    "methodology",
    "sector",
    "expected_annual_reduction_t",
    "crediting_years",
    "status",
    "issued_t",
    "vintage_start",
)
_OPTIONAL = frozenset({"issued_t"})


class Project(BaseModel):
    """One project record; ``issued_t`` may be positive only once credits are issued."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, allow_inf_nan=False)

    project_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    district: str = Field(min_length=1)
    type: ProjectType
    methodology: str = Field(min_length=1)
    sector: Sector
    expected_annual_reduction_t: float = Field(ge=0)
    crediting_years: int = Field(gt=0, le=100)
    status: Status
    issued_t: float = Field(default=0.0, ge=0)
    vintage_start: int = Field(ge=1990, le=2100)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _validated(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One record checked by :class:`Project`; ``where`` names the row in errors."""
    # Blank cells become absent so that optional fields take their default and required ones
    # report "missing" rather than a confusing type error on an empty string or a NaN.
    given = {key: value for key, value in raw.items() if not _blank(value)}
    try:
        project = Project.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        column = ".".join(str(p) for p in first["loc"]) or "record"
        value = raw.get(column) if column in raw else None
        shown = "" if _blank(value) else f" ({value!r})"
        raise InvalidData(f"{where}, column {column}{shown}: {first['msg']}") from None
    record = project.model_dump()
    if record["issued_t"] > 0 and _RANK[record["status"]] < _RANK["issued"]:
        raise InvalidData(
            f"{where}, column issued_t ({record['issued_t']:g}): credits can be issued only to "
            f"an issued or traded project, but the status is {record['status']!r}"
        )
    return record


def _frame(records: Sequence[dict[str, Any]], extras: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(list(records), columns=[*COLUMNS, *extras])
    types = {
        "expected_annual_reduction_t": float,
        "crediting_years": "int64",
        "issued_t": float,
        "vintage_start": "int64",
    }
    return frame.astype(types)


def validate_projects(projects: pd.DataFrame, *, where: str = "projects") -> pd.DataFrame:
    """A checked, typed copy of a project table (the input is never modified).

    Every row must satisfy :class:`Project`; blank ``issued_t`` means 0. Errors name the 1-based
    data row and the column; a repeated ``project_id`` names both rows. Columns beyond
    :data:`COLUMNS` are kept unchanged after them.
    """
    missing = [c for c in COLUMNS if c not in projects.columns and c not in _OPTIONAL]
    if missing:
        raise InvalidData(f"{where}: missing column(s) {', '.join(missing)}")
    extras = [c for c in projects.columns if c not in COLUMNS]
    records: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for number, raw in enumerate(projects.to_dict("records"), start=1):
        record = _validated(raw, f"{where}: data row {number}")
        pid = record["project_id"]
        if pid in first_row:
            raise InvalidData(
                f"{where}: data row {number}, column project_id: {pid!r} repeats data row "
                f"{first_row[pid]}; project ids must be unique"
            )
        first_row[pid] = number
        record.update({c: raw[c] for c in extras})
        records.append(record)
    return _frame(records, extras)


def read_projects(path: Path) -> pd.DataFrame:
    """Read a project pool from a UTF-8 CSV with a header naming at least :data:`COLUMNS`.

    ``issued_t`` may be absent or blank (0). Extra columns are kept as text. Blank lines are
    skipped; every problem raises :class:`InvalidData` naming the 1-based data row and column.
    """
    frame = read_text_table(Path(path), "projects")
    return validate_projects(frame, where=str(path))


# -- life cycle -----------------------------------------------------------------------------
def advance(
    project: Mapping[str, Any] | pd.Series, to_status: str, *, issued_t: float | None = None
) -> dict[str, Any]:
    """The project moved one step forward along reserve → development → issued → traded.

    Returns a new record (a plain dict; the input is not modified). No jumps are allowed — a
    project must be registered before credits are issued and issued before they are traded —
    and no step back: both raise :class:`InvalidData`, as does the current status. Moving to
    ``issued`` needs ``issued_t``, the quantity issued (t CO2e, >= 0); on other steps
    ``issued_t`` adds to the issued total (a later issuance) and is allowed only once issued.
    """
    raw = dict(project.to_dict() if isinstance(project, pd.Series) else project)
    label = raw.get("project_id") or "project"
    record = _validated(raw, f"project {label}")
    if to_status not in _RANK:
        raise InvalidData(
            f"project {label}: unknown status {to_status!r}; expected one of {', '.join(STATUSES)}"
        )
    current = record["status"]
    step = _RANK[to_status] - _RANK[current]
    if step <= 0:
        verb = "is already" if step == 0 else "cannot go back from"
        raise InvalidData(f"project {label}: {verb} {current!r} (asked for {to_status!r})")
    if step > 1:
        raise InvalidData(
            f"project {label}: cannot jump from {current!r} to {to_status!r}; the next status "
            f"is {STATUSES[_RANK[current] + 1]!r}"
        )
    if issued_t is not None and (not math.isfinite(issued_t) or issued_t < 0):
        raise InvalidData(f"project {label}: issued_t must be a number >= 0, got {issued_t!r}")
    if to_status == "issued" and issued_t is None:
        raise InvalidData(f"project {label}: moving to 'issued' needs the quantity issued_t")
    if to_status == "development" and issued_t:
        raise InvalidData(f"project {label}: a project in development has no issued credits")
    out = {**raw, **record, "status": to_status}
    if issued_t is not None:
        out["issued_t"] = record["issued_t"] + float(issued_t)
    return out


# -- grading --------------------------------------------------------------------------------
def classify(projects: pd.DataFrame) -> pd.DataFrame:
    """A validated copy of ``projects`` with ``grade`` (A/B/C) and ``category`` (type/sector).

    The rule (thresholds inclusive, on ``expected_annual_reduction_t`` in t CO2e/yr):

    * **A**: >= 50,000 t/yr, a recognised scheme (CCER, VCS or GS — not a local
      carbon-inclusion scheme) and status development, issued or traded (past the reserve);
    * **B**: not A and >= 10,000 t/yr;
    * **C**: everything else.

    A large project still in the reserve, or a large local-inclusion project, is therefore B:
    grade A is meant for projects that can deliver tradable national/international credits
    soon. ``category`` is ``"{type}/{sector}"``, e.g. ``"CCER/forestry"``.
    """
    frame = validate_projects(projects)
    annual = frame["expected_annual_reduction_t"]
    recognised = frame["type"].isin(RECOGNISED_TYPES)
    started = frame["status"].map(_RANK) >= _RANK["development"]
    grade_a = (annual >= GRADE_A_MIN_T) & recognised & started
    grade_b = ~grade_a & (annual >= GRADE_B_MIN_T)
    frame["grade"] = np.select([grade_a, grade_b], ["A", "B"], default="C")
    frame["category"] = frame["type"] + "/" + frame["sector"]
    return frame


# -- summary --------------------------------------------------------------------------------
def pool_summary(projects: pd.DataFrame, by: Sequence[str] = ("district", "type")) -> pd.DataFrame:
    """Totals of the pool by the columns ``by`` (``()`` for one row over the whole pool).

    Columns: ``projects`` (count), ``expected_annual_t`` (sum of expected annual reductions),
    ``lifetime_potential_t`` (sum of annual × crediting years), ``issued_t`` (sum issued) and
    one count per status (``n_reserve`` … ``n_traded``). Rows are sorted by ``by``; ``by`` may
    name any column of the table, e.g. ``grade`` or ``category`` after :func:`classify`.
    """
    keys = list(by)
    unknown = [k for k in keys if k not in projects.columns]
    if unknown:
        raise InvalidPipeline(f"pool_summary: cannot group by unknown column(s) {unknown}")
    frame = validate_projects(projects)
    frame["_lifetime"] = frame["expected_annual_reduction_t"] * frame["crediting_years"]
    for status in STATUSES:
        frame[f"n_{status}"] = (frame["status"] == status).astype("int64")
    sums = {
        "projects": ("project_id", "size"),
        "expected_annual_t": ("expected_annual_reduction_t", "sum"),
        "lifetime_potential_t": ("_lifetime", "sum"),
        "issued_t": ("issued_t", "sum"),
        **{f"n_{s}": (f"n_{s}", "sum") for s in STATUSES},
    }
    if not keys:
        frame["_all"] = "all"
        out = frame.groupby("_all").agg(**sums).reset_index(drop=True)
        return out
    out = frame.groupby(keys, dropna=False, sort=True).agg(**sums).reset_index()
    return out


# -- demo -----------------------------------------------------------------------------------
# Mountain and hill counties on the city's western and northern rim: where forestry projects are.
_FORESTED = frozenset({"510129", "510131", "510181", "510182", "510183", "510184"})

# ILLUSTRATIVE ranges for synthetic projects: expected t CO2e/yr and crediting years.
# Orders of magnitude only, not cited statistics.
_ANNUAL: dict[str, tuple[float, float]] = {
    "forestry": (3_000, 90_000),
    "renewable": (8_000, 150_000),
    "methane": (15_000, 220_000),
    "energy_efficiency": (2_000, 45_000),
    "transport": (1_000, 25_000),
    "other": (1_000, 20_000),
}
_YEARS: dict[str, tuple[int, ...]] = {
    "forestry": (20, 30, 40),
    "renewable": (7, 10),
    "methane": (7, 10),
    "energy_efficiency": (7, 10),
    "transport": (7, 10),
    "other": (7, 10),
}
# Methodology per (type, sector) for the synthetic projects. Where a published methodology
# fits the sector, its real code: CCER-14-001-V01 (afforestation), VM0047 (afforestation,
# revegetation), ACM0002 (grid-connected renewables), ACM0001 (landfill gas), AMS-II.E
# (building energy efficiency), VM0038 (EV charging), AMS-III.C (electric vehicles), AMS-III.D
# (manure methane). Every other pair gets a code that says it is synthetic (``SYN-…``), so that
# no demo row can pass for a real methodology that does not exist.
_REAL_METHODOLOGY: dict[tuple[str, str], str] = {
    ("CCER", "forestry"): "CCER-14-001-V01",
    ("VCS", "forestry"): "VM0047",
    ("VCS", "renewable"): "ACM0002",
    ("VCS", "methane"): "ACM0001",
    ("VCS", "energy_efficiency"): "AMS-II.E",
    ("VCS", "transport"): "VM0038",
    ("GS", "renewable"): "ACM0002",
    ("GS", "methane"): "AMS-III.D",
    ("GS", "transport"): "AMS-III.C",
}


def _methodology(kind: str, sector: str) -> str:
    return _REAL_METHODOLOGY.get((kind, sector), f"SYN-{kind}-{sector}")


_SECTOR_NAME = {
    "forestry": "afforestation carbon sink",
    "renewable": "distributed photovoltaic",
    "methane": "landfill and biogas methane recovery",
    "energy_efficiency": "industrial energy efficiency",
    "transport": "new-energy vehicle fleet",
    "other": "low-carbon community",
}


def _units() -> list[tuple[str, str]]:
    """Chengdu's 20 county-level units (adcode, Chinese name), from the admin-unit table."""
    table = chengdu.units("district")
    return list(zip(table["uCode"], table["uName_zh"], strict=True))


def _sector_weights(adcode: str, central: frozenset[str]) -> np.ndarray:
    if adcode in _FORESTED:
        return np.array([0.45, 0.2, 0.1, 0.1, 0.05, 0.1])
    if adcode in central:
        return np.array([0.0, 0.25, 0.05, 0.3, 0.25, 0.15])
    return np.array([0.1, 0.3, 0.2, 0.25, 0.1, 0.05])


def demo_projects(seed: int = 2024, n: int = 40) -> pd.DataFrame:
    """A SYNTHETIC project pool of ``n`` projects (>= 20) over Chengdu's 20 county-level units.

    Deterministic for a seed. Every unit gets one project, the rest go to random units; sectors
    follow the unit (forestry in the western and northern hill counties, transport and
    efficiency in the centre), sizes and methodology codes follow the ILLUSTRATIVE tables
    above, local carbon-inclusion projects are small. Issued credits of issued/traded projects
    are 50–100 % of the expected reduction times the years since the vintage start (up to
    2024, at least one year). ``district`` is the adcode, ``district_name`` the Chinese name,
    and ``synthetic`` is ``"yes"`` on every row.
    """
    units = _units()
    central = chengdu.central_districts()
    if n < len(units):
        raise InvalidPipeline(f"demo_projects: n must be at least {len(units)}, got {n}")
    rng = np.random.default_rng([seed, zlib.crc32(b"carbon-assets")])
    picks = list(range(len(units))) + list(rng.integers(0, len(units), n - len(units)))
    records: list[dict[str, Any]] = []
    for number, unit in enumerate(picks, start=1):
        adcode, district_name = units[unit]
        sector = str(rng.choice(SECTORS, p=_sector_weights(adcode, central)))
        kind = str(rng.choice(TYPES, p=[0.45, 0.2, 0.1, 0.25]))
        lo, hi = _ANNUAL[sector]
        if kind == "local_inclusion":
            # Carbon-inclusion schemes pool many small household or enterprise actions.
            lo, hi = lo / 10, hi / 8
        annual = float(round(lo + rng.random() * (hi - lo), -2))
        years = int(rng.choice(_YEARS[sector]))
        status = str(rng.choice(STATUSES, p=[0.35, 0.3, 0.2, 0.15]))
        vintage = int(rng.integers(2015, 2024))
        issued = 0.0
        if _RANK[status] >= _RANK["issued"]:
            elapsed = max(1, min(2024 - vintage, years))
            issued = float(round(annual * elapsed * (0.5 + 0.5 * rng.random()), -1))
        records.append(
            {
                "project_id": f"CDP{number:03d}",
                "name": f"{district_name} {_SECTOR_NAME[sector]} project {number}",
                "district": adcode,
                "type": kind,
                "methodology": _methodology(kind, sector),
                "sector": sector,
                "expected_annual_reduction_t": annual,
                "crediting_years": years,
                "status": status,
                "issued_t": issued,
                "vintage_start": vintage,
                "district_name": district_name,
                "synthetic": "yes",
            }
        )
    return _frame(records, ["district_name", "synthetic"])
