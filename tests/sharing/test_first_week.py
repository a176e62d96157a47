"""A department's first week on real nodes: publishes that fail before harm, datasets that
never silently take another table or ignore policy options, and decisions with context
(the applicant's purpose, names and dates)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.network.orchestrator import LocalNetwork
from tests.network.running import running_network
from tests.sharing.test_sharing_cli import ok, tanlian

PURPOSE = "Annual green space per district for the 2024 index (汇总到区)"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    with running_network(tmp_path_factory.mktemp("week")) as network:
        yield network


def _home(net: LocalNetwork, dept: str) -> Path:
    return net.home(next(d for d in net.config.departments if d.name == dept))


def stored(net: LocalNetwork, dept: str) -> tuple[int, int]:
    """Rows in the department's version table and files in its blob store."""
    home = _home(net, dept)
    with sqlite3.connect(home / "node.db") as db:
        rows = db.execute("select count(*) from stored_version").fetchone()[0]
    blobs = home / "blobs"
    files = sum(1 for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else 0
    return rows, files


def refused(proc, fragment: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and fragment in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--classification", "secret"], "unknown classification 'secret'"),
        (["--auto-approve", "wizard"], "wizard"),
        (["--reviewers", "300"], "reviewer approvals must be between 0 and 255"),
        (["--dp-only"], "--dp-only needs --epsilon-ceiling"),
        (["--epsilon-ceiling", "5000"], "budget_too_large"),
    ],
)
def test_a_publish_that_would_fail_stores_nothing(
    net: LocalNetwork, tmp_path: Path, options: list[str], fragment: str
) -> None:
    data = tmp_path / "t.csv"
    data.write_text("district,year,v\n锦江区,2024,1\n" * 1 + "青羊区,2024,2\n")
    before = stored(net, "eco")
    proc = tanlian(net, "eco", "dataset", "publish", str(data), "--name", "typo", *options)
    refused(proc, fragment)
    assert stored(net, "eco") == before


def test_names_and_roles_are_checked_before_encrypting(net: LocalNetwork, tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    data.write_text("a,b\n1,2\n")
    before = stored(net, "eco")
    refused(
        tanlian(net, "eco", "dataset", "publish", str(data), "--name", "n" * 129),
        "1 to 128 bytes",
    )
    assert stored(net, "eco") == before
    # the analyst holds no provider role: the catalog would revert; refused before storing
    before = stored(net, "analyst")
    refused(
        tanlian(net, "analyst", "dataset", "publish", str(data), "--name", "mine"),
        "does not hold an active provider role",
    )
    assert stored(net, "analyst") == before


def test_an_existing_name_takes_no_other_table_and_no_ignored_policy(
    net: LocalNetwork, tmp_path: Path
) -> None:
    first, other = tmp_path / "first.csv", tmp_path / "other.csv"
    first.write_text("district,year,pm25\n锦江区,2024,31.5\n")
    other.write_text("station,day,no2\nS1,2024-01-01,40\n")
    ok(
        tanlian(
            net,
            "eco",
            "dataset",
            "publish",
            str(first),
            "--name",
            "air",
            "--reviewers",
            "1",
            "--json",
        )
    )
    before = stored(net, "eco")
    refused(
        tanlian(net, "eco", "dataset", "publish", str(other), "--name", "air"),
        "exists with other columns",
    )
    # policy options that differ from the dataset's are refused, not ignored
    refused(
        tanlian(
            net,
            "eco",
            "dataset",
            "publish",
            str(first),
            "--name",
            "air",
            "--auto-approve",
            "analyst",
        ),
        "tanlian dataset policy air",
    )
    refused(
        tanlian(
            net,
            "eco",
            "dataset",
            "publish",
            str(first),
            "--name",
            "air",
            "--classification",
            "public",
        ),
        "cannot change",
    )
    assert stored(net, "eco") == before
    # said explicitly, a new schema becomes the next version
    v2 = ok(
        tanlian(net, "eco", "dataset", "publish", str(other), "--new-version-of", "air", "--json")
    )
    assert v2["version"] == 2
    # the policy changes through its own command, and then matching options are accepted
    changed = ok(
        tanlian(net, "eco", "dataset", "policy", "air", "--auto-approve", "analyst", "--json")
    )
    assert changed["events"] == ["PolicyChanged"]
    v3 = ok(
        tanlian(
            net,
            "eco",
            "dataset",
            "publish",
            str(other),
            "--name",
            "air",
            "--auto-approve",
            "analyst",
            "--reviewers",
            "1",
            "--json",
        )
    )
    assert v3["version"] == 3


def test_the_owner_and_reviewers_see_the_purpose_with_names_and_dates(
    net: LocalNetwork, tmp_path: Path
) -> None:
    data = tmp_path / "green.csv"
    data.write_text("district,green_ha\n锦江区,1532.5\n")
    ok(
        tanlian(
            net,
            "stats",
            "dataset",
            "publish",
            str(data),
            "--name",
            "green",
            "--reviewers",
            "1",
            "--json",
        )
    )
    # an empty purpose is refused before anything is sent
    refused(
        tanlian(net, "analyst", "access", "request", "stats/green", "--purpose", "  "),
        "may not be empty",
    )
    rid = int(
        tanlian(
            net, "analyst", "access", "request", "stats/green", "--purpose", PURPOSE, "-q"
        ).stdout
    )
    for reader in ("stats", "eco", "drc"):  # the owner, a reviewer, the regulator
        listed = ok(tanlian(net, reader, "access", "list", "--json"))
        req = next(r for r in listed["requests"] if r["request_id"] == rid)
        assert req["purpose"] == PURPOSE, req
        assert (req["dataset"], req["applicant"], req["state"]) == (
            "stats/green v1",
            "analyst",
            "pending",
        )
        assert req["requested"].endswith("+08:00")
    incoming = ok(tanlian(net, "stats", "access", "list", "--incoming", "--json"))
    assert [r["request_id"] for r in incoming["requests"]] == [rid]
    # a text that is not the one hashed on chain is not shown as the purpose
    with sqlite3.connect(_home(net, "analyst") / "node.db") as db:
        db.execute("update access_purpose set text = 'something else'")
    req = ok(tanlian(net, "stats", "access", "list", "--incoming", "--json"))["requests"][0]
    assert req["purpose"] is None and "not the one on chain" in req["purpose_unavailable"]
    helptext = tanlian(net, "stats", "access", "approve", "--help").stdout
    assert "Reviewers are the active members holding the provider role" in " ".join(
        helptext.replace("│", " ").split()
    )


def test_desensitize_as_an_existing_name_takes_no_other_table(
    net: LocalNetwork, tmp_path: Path
) -> None:
    source, other = tmp_path / "stations.csv", tmp_path / "other.csv"
    source.write_text("station_id,pm25\n" + "".join(f"S{i},{30 + i}\n" for i in range(6)))
    other.write_text("district,no2\n锦江区,40\n")
    ok(tanlian(net, "eco", "dataset", "publish", str(source), "--name", "stations", "--json"))
    ok(tanlian(net, "eco", "dataset", "publish", str(other), "--name", "no2", "--json"))
    profile = tmp_path / "profile.yaml"
    profile.write_text("columns:\n  station_id: {pseudonymize: true}\n  pm25: {keep: true}\n")
    before = stored(net, "eco")
    run = ("dataset", "desensitize", "stations", "--profile", str(profile))
    refused(tanlian(net, "eco", *run, "--as", "no2"), "exists with other columns")
    assert stored(net, "eco") == before
    done = ok(tanlian(net, "eco", *run, "--new-version-of", "no2", "--json"))
    assert done["version"] == 2
