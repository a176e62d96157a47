"""`tanlian commit`: Pedersen commitments to a published column, and totals checked on chain."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, open_session, table

app = typer.Typer(
    help="Commit to a published column's values and record totals anyone can check.",
    no_args_is_help=True,
)
DatasetArg = Annotated[str, typer.Argument(help="0x<dataset id> or DEPARTMENT/NAME.")]
ColumnOpt = Annotated[str, typer.Option(help="The column of whole numbers committed to.")]
VersionOpt = Annotated[
    int | None, typer.Option(help="The dataset version (default: the latest).", min=1)
]


@app.command("anchor")
def anchor(
    dataset: DatasetArg,
    home: HomeOpt,
    column: ColumnOpt,
    unit: Annotated[str, typer.Option(help="The values' integer unit, e.g. kgCO2e.")],
    version: VersionOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Commit to every row of COLUMN of your dataset (owner) and anchor the commitments;
    the blinding factors stay sealed at your node."""
    from cli.access import _resolve_dataset
    from node.commitments.service import commit_column

    with open_session(home, password_file) as s:
        done = commit_column(s, _resolve_dataset(s, dataset), column, unit, version=version)
    if as_json:
        emit(done.__dict__, True)
        return
    said = "already anchored" if done.already else f"anchored (tx {done.tx})"
    typer.echo(f"{done.rows} commitments to {column} in {done.unit}: {said}; set {done.set_id}")


@app.command("totals")
def totals(
    dataset: DatasetArg,
    home: HomeOpt,
    column: ColumnOpt,
    group_by: Annotated[str, typer.Option(help="The column whose values group the rows.")],
    version: VersionOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the total of COLUMN per GROUP-BY value on chain (owner); the contract checks
    each against the commitments."""
    from rich.progress import Progress

    from cli.access import _resolve_dataset
    from node.commitments.service import record_totals

    with open_session(home, password_file) as s, Progress(transient=True) as bar:
        task = bar.add_task("recording totals", total=None)
        done = record_totals(
            s,
            _resolve_dataset(s, dataset),
            column,
            group_by,
            version=version,
            progress=lambda n, total: bar.update(task, completed=n, total=total),
        )
    rows = [
        {"group": t.group, "total": t.total, "rows": t.rows, "tx": t.tx or "recorded before"}
        for t in done
    ]
    if as_json:
        emit(rows, True)
    else:
        table(rows, ["group", "total", "rows", "tx"], title=f"totals of {column}")


@app.command("verify")
def verify(
    dataset: DatasetArg,
    home: HomeOpt,
    column: ColumnOpt,
    version: VersionOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-check every total recorded on a committed column from the chain's events alone
    (any member); exit 1 if one does not open its commitments."""
    from cli.access import _resolve_dataset
    from node.commitments.errors import CommitmentError
    from node.commitments.service import check_totals
    from node.errors import NotFound

    with open_session(home, password_file) as s:
        dataset_id = _resolve_dataset(s, dataset)
        ds = s.require_sharing().dataset(dataset_id)
        if ds is None:
            raise NotFound(f"no dataset {dataset}")
        info, checked = check_totals(
            s.require_commitments(), ds["owner"], dataset_id, version or ds["versions"], column
        )
    rows = [{"group": c.group, "total": c.total, "rows": c.rows, "opens": c.ok} for c in checked]
    if as_json:
        emit({**info, "totals": rows}, True)
    else:
        table(rows, ["group", "total", "rows", "opens"], title=f"{column} ({info['unit']})")
    bad = [c.group for c in checked if not c.ok]
    if bad:
        raise CommitmentError(f"{len(bad)} total(s) do not open their commitments: {bad[0]}")
