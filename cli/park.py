"""`tanlian park ...`: the industrial park green low-carbon index and its evaluation workflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import JsonOpt, emit, table

app = typer.Typer(
    help="Industrial park index: self-evaluation, expert review, selection.", no_args_is_help=True
)


@app.command("evaluate")
def evaluate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the CSV outputs.")],
    parks: Annotated[
        Path | None,
        typer.Option(
            help="Park table: park_id, name, type, then indicator values. Without it, the "
            "SYNTHETIC demo parks and their demo reviews are evaluated, labelled as such."
        ),
    ] = None,
    reviews: Annotated[
        Path | None,
        typer.Option(
            help="Expert reviews of your parks: park, expert, dimension (or indicator), score. "
            "Without it your self-evaluation stands (demo reviews never score your parks)."
        ),
    ] = None,
    no_reviews: Annotated[
        bool, typer.Option("--self-only", help="Score the self-evaluation alone.")
    ] = False,
    per_type: Annotated[int, typer.Option(min=1, help="Parks selected per type.")] = 2,
    min_score: Annotated[float, typer.Option(help="Lowest total a selected park may have.")] = 60.0,
    ahp_matrix: Annotated[
        Path | None, typer.Option(help="Pairwise matrix of the ten dimensions (CSV).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score parks against goalposts (national zero-carbon thresholds included), weight the
    ten dimensions by AHP, aggregate the experts' re-assessment with disagreement flagged,
    and select the best parks per type. Defaults to the SYNTHETIC demo parks."""
    import pandas as pd

    from analytics.errors import InvalidData
    from analytics.park import evaluate as run_evaluation
    from analytics.park import read_parks, read_reviews
    from analytics.park.evaluation import TABLES
    from analytics.park.framework import DATA
    from analytics.tables import staged_dir, write_csv_atomic, write_json_atomic

    demo = parks is None
    if demo and reviews is not None:
        raise InvalidData("--reviews scores your parks: give the park table with --parks too")
    if demo:
        reviews = DATA / "demo_reviews.csv"
    result = run_evaluation(
        read_parks(DATA / "demo_parks.csv" if demo else parks),
        None if no_reviews or reviews is None else read_reviews(reviews),
        ahp_path=ahp_matrix,
        per_type=per_type,
        min_score=min_score,
    )
    data = result.to_json()
    with staged_dir(out) as tmp:
        for name in TABLES:
            frame = getattr(result, name)
            if frame is not None:
                write_csv_atomic(frame, tmp / f"{name}.csv", "%.4f", index=True)
        write_json_atomic(data, tmp / "evaluation.json")
    if as_json:
        emit(data, True)
        return
    final = result.final.reset_index()
    cols = [c for c in ("park_id", "name", "type", "total", "rank_in_type") if c in final.columns]
    table(
        [
            {
                # a park without values has no total and no rank: '-', not nan or None
                c: "-" if pd.isna(r[c]) else f"{r[c]:.1f}" if isinstance(r[c], float) else r[c]
                for c in cols
            }
            for r in final.to_dict("records")
        ],
        cols,
        title=f"Parks (dimension weights by AHP, CR {result.ahp_cr:.3f})",
    )
    if result.synthetic:
        typer.echo("data: SYNTHETIC (demo parks or reviews); rows say synthetic=yes")
    picked = result.selected.reset_index()
    names = ", ".join(str(n) for n in picked.get("name", picked.iloc[:, 0]))
    typer.echo(f"selected: {names or 'none'}; wrote the tables to {out}")
