"""`tanlian carbon ...`: the city's carbon accounts (inventory, LMDI, budget, forecast, assets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from pathlib import Path
from typing import Annotated

import typer

from cli.common import JsonOpt, emit, table

app = typer.Typer(
    help="Carbon accounts: inventory, decomposition, budget, forecasts, carbon assets.",
    no_args_is_help=True,
)
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for the CSV outputs.")]


def _write(frame: pd.DataFrame, path: Path) -> None:
    # ten significant digits, not six decimals: a city total keeps its kilograms and a small
    # intensity (4.2e-07 t/yuan) is not printed as 0.000000
    from analytics.tables import write_csv_atomic

    write_csv_atomic(frame, path, float_format="%.10g")


@app.command("inventory")
def inventory(
    activity: Annotated[
        Path,
        typer.Option(help="Activity CSV: region, period, sector, gpc_ref, fuel, quantity, unit."),
    ],
    out: OutOpt,
    fuel_factors: Annotated[
        str, typer.Option(help="Fuel factor set: ipcc2006 | cn-enterprise.")
    ] = "ipcc2006",
    grid: Annotated[
        list[str] | None,
        typer.Option(
            help="Electricity factor [SERIES:]REGION:YEAR, e.g. sichuan:2022 (repeat for one "
            "factor per year). Series: mee-average (default), mee-average-excl-market, "
            "mee-fossil, carbon-market."
        ),
    ] = None,
    gdp: Annotated[
        Path | None, typer.Option(help="Panel CSV region, year, gdp_bn_yuan (for intensities).")
    ] = None,
    population: Annotated[
        Path | None, typer.Option(help="Panel CSV region, year, population_10k.")
    ] = None,
    allow_rejects: Annotated[
        bool,
        typer.Option(help="Compute the accepted rows even when some rows are rejected."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Emissions (t CO2) by GPC sector and scope, by district, sector and month; every row
    records the factor it used; rejected rows are listed with their line numbers."""
    from analytics.carbon import factors
    from analytics.carbon.inventory import compute, intensities, read_activity, read_panel
    from analytics.errors import InvalidData
    from analytics.indicators.chengdu import with_names
    from analytics.tables import staged_dir, write_json_atomic

    # every input is read and checked before anything is written
    gdp_panel = read_panel(gdp, "gdp_bn_yuan") if gdp else None
    pop_panel = read_panel(population, "population_10k") if population else None
    inv = compute(
        read_activity(activity), fuel_factors, [factors.parse_grid(g) for g in grid or ()]
    )
    if (len(inv.rejected) and not allow_rejects) or not inv.ok.any():
        # the rejected rows are the error's detail: they alone are written
        with staged_dir(out) as tmp:
            _write(inv.rejected, tmp / "rejected.csv")
        first = inv.rejected.iloc[0]
        if inv.ok.any():
            raise InvalidData(
                f"{len(inv.rejected)} row(s) rejected (line {first['row']}: {first['reason']}); "
                f"all are listed in {out / 'rejected.csv'}; --allow-rejects computes the rest"
            )
        # nothing accepted is no inventory of 0 t
        raise InvalidData(
            f"{activity}: all {len(inv.rejected)} row(s) were rejected, none is left to "
            f"compute; they are listed in {out / 'rejected.csv'}"
        )
    summary = inv.summary()
    with staged_dir(out) as tmp:
        _write(inv.rejected, tmp / "rejected.csv")
        _write(inv.rows, tmp / "emissions.csv")
        _write(inv.by_gpc(), tmp / "by_gpc_sector_scope.csv")
        by_month = inv.by(["region", "sector", "period"])
        _write(with_names(by_month, "region"), tmp / "by_region_sector_month.csv")
        _write(with_names(inv.by(["region", "year"]), "region"), tmp / "by_region_year.csv")
        if gdp_panel is not None or pop_panel is not None:
            _write(intensities(inv, gdp_panel, pop_panel), tmp / "intensities.csv")
        write_json_atomic(summary, tmp / "summary.json")
    if as_json:
        emit(summary, True)
        return
    typer.echo(
        f"{summary['rows']:,} rows, {summary['rejected']} rejected; "
        f"total {summary['total_t_co2']:,.1f} t CO2 ({summary['library']}, "
        f"{summary['fuel_factors']}, grid {', '.join(summary['grid']) or 'none'})"
    )
    table(
        [
            {"GPC sector": r.gpc_sector, "scope": r.scope, "t CO2": f"{r.co2_t:,.1f}"}
            for r in inv.by_gpc().itertuples()
        ],
        ["GPC sector", "scope", "t CO2"],
        title="By GPC sector and scope",
    )
    if summary["grid_year_mismatch_rows"]:
        typer.echo(
            f"note: {summary['grid_year_mismatch_rows']:,} electricity rows are of other years "
            f"than the grid factor {summary['grid'][0]} (give one --grid per year to match)"
        )
    typer.echo(f"wrote emissions.csv and the totals to {out}")


@app.command("assets")
def assets(
    out: OutOpt,
    projects: Annotated[
        Path | None,
        typer.Option(help="Project pool CSV; without it the SYNTHETIC demo pool is used."),
    ] = None,
    by: Annotated[str, typer.Option(help="Summary keys, comma-separated.")] = "district,type",
    as_json: JsonOpt = False,
) -> None:
    """The carbon-asset project pool (CCER, VCS, Gold Standard, local carbon inclusion):
    grades, categories and the pool's potential by district and type."""
    from analytics.carbon.assets import classify, demo_projects, pool_summary, read_projects
    from analytics.tables import staged_dir

    pool = classify(read_projects(projects) if projects else demo_projects())
    summary = pool_summary(pool, by=tuple(k.strip() for k in by.split(",") if k.strip()))
    with staged_dir(out) as tmp:
        _write(pool, tmp / "projects_graded.csv")
        _write(summary, tmp / "pool_summary.csv")
    if as_json:
        emit({"projects": len(pool), "summary": summary.to_dict("records")}, True)
        return
    grades = pool["grade"].value_counts().sort_index().to_dict()
    typer.echo(
        f"{len(pool)} projects; grades {grades}; wrote projects_graded.csv, "
        f"pool_summary.csv to {out}"
    )


DEMO = Path(__file__).resolve().parents[1] / "analytics" / "carbon" / "demo"


@app.command("decompose")
def decompose(
    base: Annotated[str, typer.Option(help="Base period (e.g. 2015).")],
    target: Annotated[str, typer.Option(help="Target period (e.g. 2024).")],
    out: OutOpt,
    data: Annotated[
        Path, typer.Option(help="CSV: [region,] period, sector, activity, energy, emissions.")
    ] = DEMO / "lmdi_input.csv",
    by: Annotated[
        str | None, typer.Option(help="Decompose each group of this column separately.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """LMDI-I decomposition of the change in emissions into activity, structure, intensity
    and emission-factor effects (they sum exactly to the change)."""
    from analytics.carbon.decomposition import EFFECTS, lmdi, lmdi_by
    from analytics.tables import read_csv_frame, staged_dir

    values = ["activity", "energy", "emissions"]
    frame = read_csv_frame(data, "data file", ["period", "sector", *values])
    b, t = _period(base), _period(target)
    # min_count=1: a missing value stays missing (and is refused) instead of summing to 0
    city = frame.groupby(["period", "sector"])[values].sum(min_count=1).reset_index()
    result = lmdi(city, b, t)
    payload = {
        "base": b,
        "target": t,
        "total_change_t": result.total_change,
        "effects_t": result.effects,
        "residual_t": result.residual,
    }
    with staged_dir(out) as tmp:
        _write(result.by_sector.reset_index(), tmp / "lmdi_by_sector.csv")
        if by is not None:
            groups = lmdi_by(frame, b, t, by=by)
            _write(
                groups.reset_index() if by not in groups.columns else groups,
                tmp / f"lmdi_by_{by}.csv",
            )
            payload["groups"] = len(groups)
    if as_json:
        emit(payload, True)
        return
    typer.echo(f"change {b} → {t}: {result.total_change:,.0f} t CO2")
    table(
        [{"effect": e, "t CO2": f"{result.effects[e]:,.0f}"} for e in EFFECTS],
        ["effect", "t CO2"],
        title="LMDI-I effects",
    )
    typer.echo(f"wrote lmdi_by_sector.csv{f' and lmdi_by_{by}.csv' if by else ''} to {out}")


def _period(text: str) -> int | str:
    return int(text) if text.strip().isdigit() else text.strip()


@app.command("budget")
def budget(
    city_budget: Annotated[
        float, typer.Option(help="The city's carbon budget (t CO2) to share among districts.")
    ],
    out: OutOpt,
    districts: Annotated[
        Path, typer.Option(help="CSV: district, base_emissions, population, gdp.")
    ] = DEMO / "district_targets.csv",
    method: Annotated[
        str, typer.Option(help="grandfathering | per_capita | intensity | mix")
    ] = "mix",
    weight: Annotated[
        list[str] | None,
        typer.Option(help="For mix: METHOD=W (repeatable), e.g. grandfathering=0.5."),
    ] = None,
    start_year: Annotated[int, typer.Option(help="First year of the budget path.")] = 2025,
    end_year: Annotated[int, typer.Option(help="Last year of the budget path.")] = 2035,
    start_emissions: Annotated[
        float | None,
        typer.Option(
            help="Emissions in the first year (default: --actual's value for that year, "
            "else the districts' base total)."
        ),
    ] = None,
    peak_year: Annotated[
        int | None,
        typer.Option(
            help="Peak year: the path rises to it, then falls to zero; a peak in or before "
            "--start-year (already reached) gives a path that falls from the start."
        ),
    ] = None,
    actual: Annotated[
        Path | None, typer.Option(help="CSV year, co2_t: annual emissions to track.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Share a city budget among districts, lay it out as an annual path, and track actual
    emissions against it (green / yellow / red)."""
    from analytics.carbon.budget import allocate, budget_path, track
    from analytics.errors import InvalidData
    from analytics.indicators.chengdu import with_names
    from analytics.tables import read_csv_frame, staged_dir

    weights = None
    if weight:
        weights = {}
        for item in weight:
            name, sep, value = item.partition("=")
            try:
                weights[name.strip()] = float(value)
            except ValueError:
                raise InvalidData(f"--weight {item!r}: use METHOD=NUMBER") from None
            if not sep:
                raise InvalidData(f"--weight {item!r}: use METHOD=NUMBER")
    elif method == "mix":
        weights = {"grandfathering": 0.5, "per_capita": 0.25, "intensity": 0.25}
    frame = read_csv_frame(districts, "districts file", ["district"], text_columns=["district"])
    shares = allocate(city_budget, frame, method, weights)
    history = None
    if actual is not None:
        history = read_csv_frame(actual, "actual file", ["year", "co2_t"]).set_index("year")[
            "co2_t"
        ]
    first = start_emissions
    if first is None and history is not None and start_year in history.index:
        first = float(history[start_year])
    if first is None and "base_emissions" in frame:
        first = float(frame["base_emissions"].sum())
    if first is None:
        raise InvalidData("give --start-emissions (the districts file has no base_emissions)")
    # a peak already reached leaves nothing to rise to: the path falls from the start
    rising = peak_year is not None and peak_year > start_year
    path = budget_path(
        city_budget,
        start_year,
        end_year,
        first,
        peak_year=peak_year if rising else None,
        shape="peak_then_linear" if rising else "linear",
    )
    payload: dict = {"method": method, "weights": weights, "city_budget_t": city_budget}
    status = None
    if history is not None:
        # years before the path are history, not budget use
        series = history[history.index >= start_year]
        if series.empty:
            raise InvalidData(f"{actual}: no emissions from {start_year} on to track")
        status = track(series, path)
        payload["latest_status"] = str(status["status"].iloc[-1])
    # everything is computed and checked: only now is anything written
    with staged_dir(out) as tmp:
        _write(with_names(shares.reset_index(), "district"), tmp / "district_budgets.csv")
        _write(path.rename("budget_t").rename_axis("year").reset_index(), tmp / "budget_path.csv")
        if status is not None:
            _write(status.reset_index(), tmp / "tracking.csv")
    if as_json:
        emit({**payload, "districts": shares.reset_index().to_dict("records")}, True)
        return
    table(
        [
            {"district": d, "share": f"{r.share:.4f}", "budget t CO2": f"{r.budget:,.0f}"}
            for d, r in shares.iterrows()
        ],
        ["district", "share", "budget t CO2"],
        title=f"District budgets ({method})",
    )
    typer.echo(f"wrote district_budgets.csv, budget_path.csv to {out}")


@app.command("forecast")
def forecast(
    out: OutOpt,
    series: Annotated[Path, typer.Option(help="CSV with a year column and a value column.")] = DEMO
    / "city_annual.csv",
    column: Annotated[str, typer.Option(help="The value column.")] = "co2_t",
    horizon: Annotated[int, typer.Option(min=1, help="Years to forecast.")] = 10,
    method: Annotated[str, typer.Option(help="holt | trend")] = "holt",
    damped: Annotated[bool, typer.Option(help="Damped trend (Holt).")] = False,
    level: Annotated[float, typer.Option(help="Prediction interval level.")] = 0.95,
    as_json: JsonOpt = False,
) -> None:
    """Forecast annual emissions with prediction intervals; report the projected peak year."""
    import pandas as pd

    from analytics.carbon.forecast import holt, linear_trend, peak_year
    from analytics.errors import InvalidData
    from analytics.tables import read_csv_frame, staged_dir, write_json_atomic

    frame = read_csv_frame(series, "series file", ["year", column])
    history = pd.to_numeric(frame.set_index("year")[column], errors="coerce")
    if history.isna().any():
        raise InvalidData(f"{series}: year {history[history.isna()].index[0]} has no number")
    if method == "holt":
        fc = holt(history, horizon, damped=damped, level=level)
    elif method == "trend":
        fc = linear_trend(history, horizon, level=level)
    else:
        raise InvalidData(f"unknown method {method!r} (use holt or trend)")
    peak = peak_year(history, fc)
    result = pd.DataFrame({"mean": fc.mean, "lower": fc.lower, "upper": fc.upper})
    payload = {"method": fc.method, "params": fc.params, "level": level, "peak": peak}
    with staged_dir(out) as tmp:
        _write(result.rename_axis("year").reset_index(), tmp / "forecast.csv")
        write_json_atomic(payload, tmp / "forecast.json")
    if as_json:
        emit(payload, True)
        return
    table(
        [
            {
                "year": y,
                "mean": f"{r['mean']:,.0f}",
                f"{level:.0%} interval": f"{r['lower']:,.0f} – {r['upper']:,.0f}",
            }
            for y, r in result.iterrows()
        ],
        ["year", "mean", f"{level:.0%} interval"],
        title=f"Forecast ({fc.method})",
    )
    state = (
        "reached"
        if peak["reached"]
        else ("within the horizon" if peak["within_horizon"] else "not within the horizon")
    )
    typer.echo(f"projected peak: {peak['peak_year']} ({peak['peak_value']:,.0f}), {state}")
