"""`tanlian index ...`: the green low-carbon indicator system (compute, AHP, sensitivity)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from analytics.indicators.pipeline import Pipeline

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import JsonOpt, emit, table

app = typer.Typer(
    help="Indicator system: compute the index, AHP weights, sensitivity, analysis.",
    no_args_is_help=True,
)
PipelineOpt = Annotated[
    Path, typer.Option("--pipeline", "-p", help="Pipeline file (YAML), e.g. analytics/examples/.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for the CSV outputs.")]
PanelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--panel",
        help="NAME=FILE: a real panel (adcode, year, columns) laid over the pipeline's "
        "generated one, e.g. stats=out/demo/pulled/stats_district_panel_2015_2024.csv.",
    ),
]


ColumnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        help="THEIRS=OURS: read a panel column under the framework's name, e.g. "
        "--column GDP=gdp_bn_yuan --column 人口=population_10k --column 年份=year (repeatable).",
    ),
]
SyntheticOpt = Annotated[
    bool,
    typer.Option(
        "--allow-synthetic",
        help="Fill the columns your panels lack with generated SYNTHETIC values (each output "
        "row that uses one says synthetic=yes). Without it, a gap is an error.",
    ),
]


def _pairs(items: list[str] | None, option: str, form: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items or ():
        left, sep, right = item.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise typer.BadParameter(f"{option} {item!r}: use {form}")
        pairs[left.strip()] = right.strip()
    return pairs


def _load(
    pipeline: Path,
    panels: list[str] | None,
    columns: list[str] | None = None,
    allow_synthetic: bool = False,
) -> Pipeline:
    from analytics.indicators.pipeline import load_pipeline

    given = {k: Path(v) for k, v in _pairs(panels, "--panel", "NAME=FILE").items()}
    return load_pipeline(
        pipeline,
        panels=given,
        columns=_pairs(columns, "--column", "THEIRS=OURS"),
        allow_synthetic=allow_synthetic,
    )


def _top(results: pd.DataFrame, flags: pd.Series | None, n: int = 10) -> list[dict]:
    import pandas as pd

    rows = (
        results.head(n)
        if "Time" not in results.columns
        else results[results["Time"] == results["Time"].max()].head(n)
    )
    return [
        {
            "rank": _rank(r["rank"]),
            "uCode": r["uCode"],
            **({"name": f"{r['uName_zh']} {r['uName']}"} if "uName_zh" in r else {}),
            "index": "-" if pd.isna(r["index"]) else f"{r['index']:.4f}",
            **({"synthetic": flags[i]} if flags is not None else {}),
        }
        for i, r in zip(rows.index, rows.to_dict("records"), strict=True)
    ]


def _rank(value: float) -> int | str:
    """A rank for a table cell; a unit without a score (NaN) has none."""
    import pandas as pd

    return "-" if pd.isna(value) else int(value)


@app.command("compute")
def compute(
    pipeline: PipelineOpt,
    out: OutOpt,
    panel: PanelOpt = None,
    column: ColumnOpt = None,
    allow_synthetic: SyntheticOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline; write normalised.csv, aggregated.csv, results.csv (COINr's layout).

    Without --panel a generated pipeline runs on its SYNTHETIC demo panel, and says so."""
    from analytics.indicators.pipeline import run, synthetic_flags, unit_names, write_outputs

    res = run(_load(pipeline, panel, column, allow_synthetic))
    files = write_outputs(res, out)
    summary = json.loads(files["summary.json"].read_text(encoding="utf-8"))
    if as_json:
        emit(summary, True)
        return
    typer.echo(
        f"{summary['pipeline']}: {summary['units']} units, {summary['indicators']} indicators"
    )
    flags = synthetic_flags(res, res.results) if res.results is not None else None
    if res.results is not None:
        top = _top(unit_names(res, res.results), flags)
        cols = ["rank", "uCode", *(["name"] if top and "name" in top[0] else []), "index"]
        table(top, [*cols, *(["synthetic"] if flags is not None else [])], title="Top units")
    if "data" in summary:
        typer.echo(f"data: {summary['data']}; rows flagged: {summary['synthetic_rows']}")
    typer.echo(f"wrote {', '.join(sorted(files))} to {out}")


@app.command("ahp")
def ahp_cmd(
    matrix: Annotated[
        Path | None, typer.Option(help="Pairwise matrix CSV (criteria in header and first column).")
    ] = None,
    survey: Annotated[
        Path | None, typer.Option(help="Survey CSV in ahpsurvey's coding (columns a_b).")
    ] = None,
    method: Annotated[str, typer.Option(help="eigen | geometric | colnorm")] = "eigen",
    aggregate: Annotated[str, typer.Option(help="Group judgments: aij | aip")] = "aij",
    drop_inconsistent: Annotated[
        bool, typer.Option(help="Leave out experts whose CR is above the threshold.")
    ] = False,
    threshold: Annotated[float, typer.Option(help="Highest acceptable CR.")] = 0.1,
    random_index: Annotated[
        Path | None,
        typer.Option(help="Random-index table CSV (columns n, ri) instead of Saaty's."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Weights, λmax, CI and CR of a pairwise matrix or of a group survey."""
    from analytics.indicators import ahp

    if (matrix is None) == (survey is None):
        raise typer.BadParameter("give exactly one of --matrix or --survey")
    ri = ahp.read_random_index(random_index) if random_index is not None else None
    if matrix is not None:
        result = ahp.analyse(
            ahp.read_matrix(matrix), method=method, threshold=threshold, random_index=ri
        )
    else:
        result = ahp.group(
            ahp.read_survey(survey),
            aggregate=aggregate,
            method=method,
            drop_inconsistent=drop_inconsistent,
            threshold=threshold,
            random_index=ri,
        )
    data = result.to_json()
    if as_json:
        emit(data, True)
        return
    table(
        [{"criterion": k, "weight": f"{v:.4f}"} for k, v in data["weights"].items()],
        ["criterion", "weight"],
        title=f"AHP weights ({method})",
    )
    for key in ("lambda_max", "ci", "cr"):
        if data.get(key) is not None:
            typer.echo(f"{key:<10}  {data[key]:.4f}")
    if data.get("revision"):
        rev = data["revision"]
        typer.echo(f"inconsistent: revise {json.dumps(rev, ensure_ascii=False)}")
    if "experts" in data:
        typer.echo(f"experts     {data['experts']} (dropped {len(data.get('dropped', []))})")


@app.command("sensitivity")
def sensitivity(
    pipeline: PipelineOpt,
    out: OutOpt,
    runs: Annotated[int, typer.Option(min=1, help="Monte Carlo runs.")] = 1000,
    noise: Annotated[
        float, typer.Option(help="Each weight is multiplied by U(1-noise, 1+noise).")
    ] = 0.25,
    alternative: Annotated[
        list[str] | None,
        typer.Option(help="Another normalisation, method[:a:b] (repeatable), e.g. zscore:50:10."),
    ] = None,
    aggregation: Annotated[
        list[str] | None, typer.Option(help="Another aggregation: amean | gmean | hmean.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    panel: PanelOpt = None,
    column: ColumnOpt = None,
    allow_synthetic: SyntheticOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Monte Carlo uncertainty of ranks: median rank and 5-95 % interval per unit."""
    import pandas as pd

    from analytics.indicators.pipeline import run
    from analytics.tables import staged_dir, write_csv_atomic

    res = run(_load(pipeline, panel, column, allow_synthetic))
    from analytics.indicators.sensitivity import monte_carlo_of  # scipy: slow to import

    mc = monte_carlo_of(
        res,
        alternatives=alternative or (),
        aggregations=aggregation or (),
        weight_noise=noise,
        runs=runs,
        seed=seed,
    )
    with staged_dir(out) as tmp:
        write_csv_atomic(mc.summary, tmp / "sensitivity.csv", "%.6g")
    data = {"runs": runs, "first_order": mc.first_order, "file": str(out / "sensitivity.csv")}
    if as_json:
        emit({**data, "units": mc.summary.to_dict("records")}, True)
        return
    table(
        [
            {
                "uCode": r["uCode"],
                "nominal": _rank(r["nominal_rank"]),
                "median": "-" if pd.isna(r["median_rank"]) else f"{r['median_rank']:g}",
                "5-95 %": "-" if pd.isna(r["rank_q05"]) else f"{r['rank_q05']:g}-{r['rank_q95']:g}",
            }
            for r in mc.summary.to_dict("records")
        ],
        ["uCode", "nominal", "median", "5-95 %"],
        title=f"Ranks over {runs} runs",
    )
    typer.echo(f"first-order shares: {json.dumps(mc.first_order)}; wrote {data['file']}")


@app.command("analyse")
def analyse_cmd(
    pipeline: PipelineOpt,
    out: OutOpt,
    unit: Annotated[str | None, typer.Option(help="Also print this unit's profile.")] = None,
    panel: PanelOpt = None,
    column: ColumnOpt = None,
    allow_synthetic: SyntheticOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Trends (Theil-Sen, Mann-Kendall, YoY, CAGR), early warnings, anomalies, correlations."""
    from analytics.indicators.pipeline import run
    from analytics.tables import staged_dir, write_csv_atomic

    res = run(_load(pipeline, panel, column, allow_synthetic))
    from analytics.indicators.analysis import analyse, profile  # scipy: ~0.5 s to import

    tables = analyse(res)
    if unit is not None:
        tables["profile"] = profile(res, unit)
    with staged_dir(out) as tmp:
        for name, frame in tables.items():
            write_csv_atomic(frame, tmp / f"{name}.csv", "%.6g")
    if as_json:
        emit({name: len(frame) for name, frame in tables.items()}, True)
        return
    for name, frame in tables.items():
        typer.echo(f"{name:<18} {len(frame):>6} rows  {out / (name + '.csv')}")
    if unit is not None:
        prof = tables["profile"]
        head = prof.head(40).round(3)
        shown = head.astype(object).where(head.notna(), "-").astype(str)  # no score: '-'
        table(shown.to_dict("records"), list(prof.columns), title=unit)
