"""`tanlian park ...`: the industrial park green low-carbon index and its evaluation workflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from analytics.park import evaluate as run_evaluation
from analytics.park import read_parks, read_reviews
from analytics.park.evaluation import TABLES
from analytics.park.framework import DATA
from analytics.tables import write_json_atomic
from cli.common import JsonOpt, emit, table

app = typer.Typer(
    help="Industrial park index: self-evaluation, expert review, selection.", no_args_is_help=True
)


@app.command("evaluate")
def evaluate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the CSV outputs.")],
    parks: Annotated[
        Path, typer.Option(help="Park table: park_id, name, type, then indicator values.")
    ] = DATA / "demo_parks.csv",
    reviews: Annotated[
        Path | None,
        typer.Option(help="Expert reviews: park, expert, dimension (or indicator), score."),
    ] = DATA / "demo_reviews.csv",
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
    result = run_evaluation(
        read_parks(parks),
        None if no_reviews or reviews is None else read_reviews(reviews),
        ahp_path=ahp_matrix,
        per_type=per_type,
        min_score=min_score,
    )
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        frame = getattr(result, name)
        if frame is not None:
            frame.to_csv(out / f"{name}.csv", float_format="%.4f")
    data = result.to_json()
    write_json_atomic(data, out / "evaluation.json")
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
    picked = result.selected.reset_index()
    names = ", ".join(str(n) for n in picked.get("name", picked.iloc[:, 0]))
    typer.echo(f"selected: {names or 'none'}; wrote the tables to {out}")
