"""The ``tanlian`` command: one entry point, a subcommand group per user task.

The CLI parses arguments, calls library functions or node APIs and prints results; it holds
no business logic. Every failure ends with a non-zero exit and one readable line.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from analytics.errors import AnalyticsError
from cli import (
    access,
    audit,
    carbon,
    chain,
    cockpit,
    commit,
    dataset,
    identity,
    index,
    joint,
    network,
    node_cmd,
    park,
    quality,
    query,
    registry,
)
from node.errors import TanlianError
from node.home import private_process

app = typer.Typer(
    name="tanlian",
    help="Tanlian (碳链): permissioned-ledger data sharing for green low-carbon work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(chain.app, name="chain")
app.add_typer(node_cmd.app, name="node")
app.add_typer(registry.app, name="registry")
app.add_typer(network.app, name="network")
app.add_typer(dataset.app, name="dataset")
app.add_typer(access.app, name="access")
app.add_typer(query.budget_app, name="budget")
app.add_typer(audit.app, name="audit")
app.add_typer(index.app, name="index")
app.add_typer(carbon.app, name="carbon")
app.add_typer(park.app, name="park")
app.add_typer(quality.feedback_app, name="feedback")
app.add_typer(quality.quality_app, name="quality")
app.add_typer(commit.app, name="commit")
app.add_typer(joint.app, name="joint")
app.add_typer(cockpit.app, name="cockpit")
app.command("query")(query.query)
app.command("init")(identity.init)


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/demo"),
) -> None:
    """Run the pilot scenario on the embedded chain and write OUT/summary.json."""
    from node.pilot.demo import run_demo

    run_demo(out, say=typer.echo)


def main() -> None:
    private_process()  # homes, stores, logs and outputs: readable by their user only
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        app()
    except (TanlianError, AnalyticsError) as exc:
        typer.echo(f"tanlian: error [{exc.code}]: {exc.message}", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
