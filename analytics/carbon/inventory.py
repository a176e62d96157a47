"""The city emission inventory: activity data × emission factors, by GPC sector and scope.

Activity data has one row per ``region, period, sector, gpc_ref, fuel, quantity, unit``.
Fuel rows are converted to energy (their calorific value when given in mass or volume) and
multiplied by the chosen fuel set's CO2 per GJ; electricity rows are converted to MWh and
multiplied by the grid factor of their year. Every emission row keeps its data-row number,
the factor id it used and the library version. A row with a missing, negative, non-numeric
or unknown value is not dropped silently: it goes to ``rejected`` with its row number and the
reason, and the caller decides whether a partial inventory is acceptable.

The whole computation is columnar: lookups are done once per distinct fuel, unit, GPC
number and period, then broadcast through category codes, so it scales to millions of rows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.carbon import factors
from analytics.carbon.factors import ELECTRICITY, ElectricityFactor
from analytics.carbon.units import unit_table
from analytics.errors import InvalidData
from analytics.tables import decode_text, read_bytes, read_csv_frame, read_csv_lines

COLUMNS = ("region", "period", "sector", "gpc_ref", "fuel", "quantity", "unit")
GRID_LIMIT = 200_000  # combinations decided over the full grid below this size
PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


@dataclass
class Inventory:
    """An inventory: the activity rows, their emissions, the rejected rows, the choices used.

    Per-row results are kept as arrays; :attr:`rows` builds the full table (with each row's
    factor id) only when asked, because totals over millions of rows do not need it.
    """

    activity: pd.DataFrame
    co2: np.ndarray
    ok: np.ndarray
    detail: Detail
    rejected: pd.DataFrame
    fuel_set: str
    grid: tuple[ElectricityFactor, ...]
    lines: np.ndarray | None  # file line of each row; None: first_row + position
    first_row: int = 2
    library: str = field(default_factory=factors.version)

    @property
    def total(self) -> float:
        return float(self.co2[self.ok].sum())

    @cached_property
    def rows(self) -> pd.DataFrame:
        """One row per accepted activity row: its emissions and the factor it used."""
        ok = self.ok
        a = self.activity
        lines = self.lines if self.lines is not None else np.arange(len(a)) + self.first_row
        out = pd.DataFrame({"row": lines[ok]})
        for col in ("region", "period", "sector", "gpc_ref"):
            out[col] = a[col].to_numpy()[ok]
        for col, values in self.detail.items():
            out[col] = values[ok]
        out["co2_t"] = self.co2[ok]
        return out

    def by(self, keys: Sequence[str]) -> pd.DataFrame:
        """t CO2 summed by ``keys``: activity columns (region, period, sector…) or year,
        gpc_sector, scope, fuel, factor."""
        by = []
        for k in keys:
            if k in ("region", "period", "sector", "gpc_ref", "unit"):
                by.append(self.activity[k])
            elif k in self.detail:
                by.append(pd.Series(self.detail[k], index=self.activity.index, name=k))
            else:
                raise InvalidData(f"inventory: cannot group by {k}")
        co2 = pd.Series(self.co2, index=self.activity.index, name="co2_t")
        if not self.ok.all():
            co2, by = co2[self.ok], [b[self.ok] for b in by]
        # grouping the column by key series: no copy of the keys into a new frame
        return co2.groupby(by, observed=True, sort=True).sum().reset_index()

    def by_gpc(self) -> pd.DataFrame:
        """t CO2 by GPC sector and scope."""
        return self.by(["gpc_sector", "scope"])

    def summary(self) -> dict:
        scopes = self.by(["scope"]).set_index("scope")["co2_t"]
        return {
            "library": self.library,
            "fuel_factors": self.fuel_set,
            "grid": [g.id for g in self.grid],
            "rows": int(self.ok.sum()),
            "rejected": len(self.rejected),
            "total_t_co2": self.total,
            "by_scope": {f"scope_{int(k)}": float(v) for k, v in scopes.items()},
            "grid_year_mismatch_rows": self.grid_year_mismatch(),
        }

    def grid_year_mismatch(self) -> int:
        """Electricity rows whose grid factor is of another year than the row (a single
        --grid serves every year; reported so that nobody mistakes it for a match)."""
        if len(self.grid) != 1:
            return 0
        elec = (self.detail["fuel"] == ELECTRICITY) & self.ok
        return int((elec & (self.detail["year"] != self.grid[0].year)).sum())


def read_activity(path: Path) -> pd.DataFrame:
    """Activity CSV as text columns, with each row's ``line`` in the file (quantities are
    parsed by the inventory, row by row, so a bad one is reported rather than refused).

    Blank lines are skipped but counted. Without a quote character in the file no cell can
    span lines, so pandas' fast reader gives the lines; otherwise the csv module counts them.
    """
    path = Path(path)
    raw = read_bytes(path, "activity file")
    if b'"' in raw:
        header, rows, lines = read_csv_lines(path, "activity file")
        _check_header(path, header)
        for row, line in zip(rows, lines, strict=True):
            if len(row) != len(header):
                raise InvalidData(
                    f"{path}: line {line} has {len(row)} values, expected {len(header)}"
                )
        data = pd.DataFrame(rows, columns=header, dtype=object)
        data["line"] = lines
        return _not_empty(path, data)
    text, _ = decode_text(raw, path)
    try:
        data = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        raise InvalidData(f"{path}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise InvalidData(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    _check_header(path, list(data.columns))
    data["line"] = np.arange(2, len(data) + 2)
    blank = (data[list(data.columns[:-1])] == "").all(axis=1)
    data = data[~blank.to_numpy()] if blank.any() else data
    for col in COLUMNS:
        data[col] = data[col].str.strip()
    return _not_empty(path, data.reset_index(drop=True))


def _not_empty(path: Path, data: pd.DataFrame) -> pd.DataFrame:
    # A header alone is no inventory of 0 t: it is refused like any other empty input.
    if data.empty:
        raise InvalidData(f"{path}: the file has a header but no rows")
    return data


def _check_header(path: Path, header: Sequence[str]) -> None:
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidData(f"{path}: missing column(s) {', '.join(missing)}")


def _codes(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Category codes and categories of a column (free when it is already categorical)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), col.cat.categories
    codes, cats = pd.factorize(col, use_na_sentinel=True)
    return codes, pd.Index(cats)


class Detail:
    """Per-row facts (fuel, unit, year, GPC sector, scope, energy, factor id), built on demand
    from each row's combination code and the per-combination tables."""

    COLUMNS = ("fuel", "quantity", "unit", "year", "gpc_sector", "scope", "energy_gj", "factor")

    def __init__(self, combo: np.ndarray, quantity: np.ndarray, tables: dict[str, np.ndarray]):
        self._combo, self._q, self._tables = combo, quantity, tables
        self._cache: dict[str, np.ndarray] = {}

    def __contains__(self, key: object) -> bool:
        return key in self.COLUMNS

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._cache:
            if key == "quantity":
                self._cache[key] = self._q
            elif key == "energy_gj":
                self._cache[key] = self._q * self._tables["gj_per_unit"][self._combo]
            else:
                self._cache[key] = self._tables[key][self._combo]
        return self._cache[key]

    def items(self) -> list[tuple[str, np.ndarray]]:
        return [(k, self[k]) for k in self.COLUMNS]


class _Reasons:
    """Why rows are rejected: reason codes (small integers) and their templates."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str | None]] = [("", None)]

    def register(self, template: str, column: str | None = None) -> int:
        self.texts.append((template, column))
        return len(self.texts) - 1

    def text(self, activity: pd.DataFrame, rows: np.ndarray, codes: np.ndarray) -> list[str]:
        out = []
        for i in rows:
            template, column = self.texts[codes[i]]
            out.append(template.format(str(activity[column].iat[i])) if column else template)
        return out


def compute(
    activity: pd.DataFrame,
    fuel_set: str = "ipcc2006",
    grid: Sequence[ElectricityFactor] = (),
    *,
    first_row: int = 2,
) -> Inventory:
    """The inventory of ``activity`` (see the module docstring).

    ``grid``: one electricity factor for every year, or one per year (matched to each row's
    period); all from one series. ``first_row`` is the file line of the first data row, so
    reported row numbers match what a person sees in a spreadsheet.

    Every rule is decided once per combination of fuel, unit, GPC number and period present
    in the data (a small table); each row then only looks up its combination's multiplier
    and verdict, and its quantity is checked.
    """
    table = factors.fuel_factors(fuel_set)  # validates the set
    series = {g.series for g in grid}
    if len(series) > 1:
        raise InvalidData(
            f"the inventory mixes electricity series {' and '.join(sorted(series))}; "
            "use one series for the whole inventory"
        )
    by_year = {g.year: g for g in grid}
    if len(by_year) < len(grid):
        raise InvalidData("two grid factors for the same year")
    missing_cols = [c for c in COLUMNS if c not in activity.columns]
    if missing_cols:
        raise InvalidData(f"activity data lacks column(s) {', '.join(missing_cols)}")

    why = _Reasons()
    coded = {
        c: _codes(activity[c]) for c in ("region", "period", "sector", "gpc_ref", "fuel", "unit")
    }
    # categories of each key; index 0 stands for an empty cell (code -1 → 0)
    cats = {c: [""] + [str(x).strip() for x in v[1]] for c, v in coded.items()}

    # per-category facts
    fuel_of = [factors.fuel_code(x) if x else None for x in cats["fuel"]]
    per_fuel = [table.get(f) if f else None for f in fuel_of]
    ut = unit_table(cats["unit"])
    gpc = factors.gpc_table().reindex(cats["gpc_ref"])
    years = np.array([_year(p) for p in cats["period"]], dtype=float)

    # Each row's combination of fuel × unit × GPC number × period, as one integer. The rules
    # are decided per combination: over the whole grid when it is small, else over the
    # combinations present (a long daily period column makes the grid too large to build).
    shape = tuple(len(cats[c]) for c in ("fuel", "unit", "gpc_ref", "period"))
    # int32 when the grid allows: half the memory traffic over millions of rows
    width = np.int32 if int(np.prod(shape)) < 2**31 else np.int64
    combo = coded["fuel"][0].astype(width) + 1
    for c, size in zip(("unit", "gpc_ref", "period"), shape[1:], strict=True):
        combo *= size
        combo += coded[c][0] + 1
    if int(np.prod(shape)) <= GRID_LIMIT:
        fi, ui, gi, pi = (a.ravel() for a in np.indices(shape))
    else:
        present, combo = np.unique(combo, return_inverse=True)
        fi, ui, gi, pi = np.unravel_index(present, shape)
    is_elec = np.array([f == ELECTRICITY for f in fuel_of])[fi]
    dim = ut["dimension"].fillna("").to_numpy(dtype=object)[ui]
    to_base = ut["to_base"].to_numpy(dtype=float)[ui]
    co2_per_gj = np.array([x.co2_t_per_gj if x else np.nan for x in per_fuel])[fi]
    ncv = np.array([x.ncv_gj_per_unit if x else np.nan for x in per_fuel])[fi]
    per_volume = np.array([bool(x and x.ncv_unit == "Nm3") for x in per_fuel])[fi]
    scope = gpc["scope"].to_numpy(dtype=float)[gi]
    year = years[pi]
    reason = np.zeros(fi.size, dtype=np.int16)

    def rule(mask: np.ndarray, template: str, column: str | None = None) -> None:
        code = why.register(template, column)
        reason[mask & (reason == 0)] = code

    for col, idx in (("period", pi), ("gpc_ref", gi), ("fuel", fi), ("unit", ui)):
        rule(np.array([name == "" for name in cats[col]])[idx], f"missing {col}")
    rule(np.isnan(year), "period {!r} is not YYYY or YYYY-MM", "period")
    rule(np.array([f is None for f in fuel_of])[fi], "unknown fuel {!r}", "fuel")
    no_default = [f is not None and f != ELECTRICITY and f not in table for f in fuel_of]
    rule(np.array(no_default)[fi], f"fuel {{!r}} has no default in {fuel_set}", "fuel")
    rule(np.isnan(to_base), "unknown unit {!r}", "unit")
    rule(np.isnan(scope), "unknown GPC number {!r}", "gpc_ref")
    rule(is_elec & (scope == 1), "electricity is scope 2 (or 3), not scope-1 GPC {!r}", "gpc_ref")
    rule(
        ~is_elec & (scope == 2),
        "fuel combustion is scope 1 (or 3), not scope-2 GPC {!r}",
        "gpc_ref",
    )
    rule(
        ~is_elec & (dim == "volume") & ~per_volume,
        f"{{!r}} is a volume; the {fuel_set} calorific value of this fuel is per tonne",
        "unit",
    )
    rule(
        ~is_elec & (dim == "mass") & per_volume,
        f"{{!r}} is a mass; the {fuel_set} calorific value of this gas is per Nm3",
        "unit",
    )
    rule(
        is_elec & ((dim == "mass") | (dim == "volume")),
        "electricity in {!r}: give kWh or MWh",
        "unit",
    )
    # coal-equivalent conventions for electricity differ (calorific vs. coal-consumption
    # method); a tce of electricity is ambiguous, so it is refused rather than guessed
    coal_equivalent = np.array([u in ("tce", "10^4 tce", "toe") for u in ut["canonical"]])[ui]
    rule(is_elec & coal_equivalent, "electricity in {!r} is ambiguous: give kWh or MWh", "unit")
    gj_per_unit = np.where(dim == "energy", to_base, to_base * ncv)
    multiplier = gj_per_unit * co2_per_gj
    factor_id = np.array([x.id if x else "" for x in per_fuel], dtype=object)[fi]
    if not grid:
        rule(is_elec, "electricity rows need a grid factor (--grid REGION:YEAR)")
    else:
        for g in grid:
            hit = is_elec & ((year == g.year) if len(grid) > 1 else True)
            multiplier = np.where(hit, gj_per_unit / 3.6 * g.t_per_mwh, multiplier)
            factor_id = np.where(hit, g.id, factor_id)
        if len(grid) > 1:
            rule(
                is_elec & ~np.isin(year, list(by_year)),
                "no grid factor for the year of {!r}",
                "period",
            )

    # per row: its combination's verdict, then the quantity's own checks
    row_reason = reason[combo]
    for col in ("region", "sector"):
        codes, names = coded[col]
        blank_names = np.array([True] + [str(x).strip() == "" for x in names])
        # most files have no blank cell here: skip the per-row pass unless one can exist
        if codes.min(initial=0) < 0 or blank_names[1:].any():
            code = why.register(f"missing {col}")
            row_reason = np.where((row_reason == 0) & blank_names[codes + 1], code, row_reason)
    raw_q = activity["quantity"]
    if pd.api.types.is_numeric_dtype(raw_q):
        q = raw_q.to_numpy(dtype=float)
        blank_q = np.isnan(q)
    else:
        q = pd.to_numeric(raw_q, errors="coerce").to_numpy(dtype=float)
        blank_q = (raw_q.isna() | (raw_q.astype(str).str.strip() == "")).to_numpy()
    # one pass finds whether any quantity is wrong; the reasons are sorted out only then
    if not (q >= 0).all():
        for mask, template in (
            (blank_q, "missing quantity"),
            (np.isnan(q) & ~blank_q, "quantity {!r} is not a number"),
            (np.isinf(q), "quantity {!r} is not finite"),
            (q < 0, "negative quantity {}"),
        ):
            if mask.any():
                code = why.register(template, "quantity")
                row_reason = np.where((row_reason == 0) & mask, code, row_reason)
    elif np.isinf(q).any():
        code = why.register("quantity {!r} is not finite", "quantity")
        row_reason = np.where((row_reason == 0) & np.isinf(q), code, row_reason)
    co2 = q * multiplier[combo]
    ok = row_reason == 0

    bad = np.flatnonzero(~ok)
    rejected = activity.iloc[bad][list(COLUMNS)].reset_index(drop=True)
    rejected.insert(0, "reason", why.text(activity, bad, row_reason))
    line = activity["line"].to_numpy() if "line" in activity.columns else None
    rejected.insert(0, "row", line[bad] if line is not None else bad + first_row)
    fuel_names = np.array([f or "" for f in fuel_of], dtype=object)
    detail = Detail(
        combo,
        q,
        {
            "fuel": fuel_names[fi],
            "unit": np.array(cats["unit"], dtype=object)[ui],
            "year": np.nan_to_num(year, nan=0).astype(np.int32),
            "gpc_sector": gpc["sector"].fillna("").to_numpy(dtype=object)[gi],
            "scope": np.nan_to_num(scope, nan=0).astype(np.int8),
            "gj_per_unit": gj_per_unit,
            "factor": factor_id,
        },
    )
    return Inventory(activity, co2, ok, detail, rejected, fuel_set, tuple(grid), line, first_row)


def _year(period: str) -> float:
    m = PERIOD.match(period.strip())
    if not m or (m.group(2) and not 1 <= int(m.group(2)) <= 12):
        return float("nan")
    return float(m.group(1))


def intensities(
    inventory: Inventory,
    gdp: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Emissions per region and year, per GDP and per capita when those panels are given.

    ``gdp``: columns region, year, gdp_bn_yuan → ``t_per_10k_yuan``; ``population``: columns
    region, year, population_10k → ``t_per_capita``.
    """
    totals = inventory.by(["region", "year"])
    for frame, col, out, scale in (
        (gdp, "gdp_bn_yuan", "t_per_10k_yuan", 1e5),
        (population, "population_10k", "t_per_capita", 1e4),
    ):
        if frame is None:
            continue
        need = {"region", "year", col}
        if not need <= set(frame.columns):
            raise InvalidData(f"intensity panel needs columns {', '.join(sorted(need))}")
        panel = frame[["region", "year", col]].copy()
        panel["region"] = panel["region"].astype(str)
        panel["year"] = pd.to_numeric(panel["year"], errors="coerce")
        totals = totals.merge(panel, on=["region", "year"], how="left")
        denom = pd.to_numeric(totals[col], errors="coerce") * scale
        totals[out] = totals["co2_t"] / denom.where(denom > 0)
    return totals


def grid_for(
    choices: Sequence[str], default_series: str = "mee-average"
) -> tuple[ElectricityFactor, ...]:
    """Parsed ``--grid`` choices."""
    return tuple(factors.parse_grid(c, default_series) for c in choices)


def read_panel(path: Path, value: str) -> pd.DataFrame:
    """A region × year panel CSV with column ``value``."""
    return read_csv_frame(path, "panel file", ("region", "year", value), text_columns=("region",))
