"""`tanlian park evaluate`: a department's parks are never mixed with the demo's reviews,
demo data is used only when no park table is given and is labelled, and a GBK park table
from Excel on Chinese Windows is read."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analytics.park.framework import DATA
from tests.cli_run import one_line_error, tanlian


def _own_parks(tmp_path: Path, encoding: str = "utf-8") -> Path:
    """The demo's park table as a department would keep it: same ids (P01…), no
    ``synthetic`` column: these are the department's own numbers."""
    frame = pd.read_csv(DATA / "demo_parks.csv", dtype=str).drop(columns=["synthetic"])
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False, encoding=encoding)
    return path


def test_own_parks_never_take_the_demo_reviews(tmp_path: Path) -> None:
    parks = _own_parks(tmp_path, encoding="gbk")  # names in Chinese, saved as GBK
    proc = tanlian("park", "evaluate", "--parks", str(parks), "-o", str(tmp_path / "o"), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["synthetic"] is False
    assert data["expert"] == []
    final = pd.read_csv(tmp_path / "o" / "final.csv", encoding="utf-8-sig")
    assert (final["reviewed"] == 0).all()
    assert "synthetic" not in final.columns
    assert (final["total"] == final["self_total"]).all()
    assert (tmp_path / "o" / "final.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_demo_reviews_given_for_own_parks_are_labelled(tmp_path: Path) -> None:
    parks = _own_parks(tmp_path)
    reviews = DATA / "demo_reviews.csv"
    proc = tanlian(
        "park", "evaluate", "--parks", str(parks), "--reviews", str(reviews),
        "-o", str(tmp_path / "o"), "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["synthetic"] is True
    final = pd.read_csv(tmp_path / "o" / "final.csv", encoding="utf-8-sig")
    assert set(final["synthetic"]) == {"yes"}  # every park has a SYNTHETIC review


def test_demo_only_without_a_park_table_and_labelled(tmp_path: Path) -> None:
    proc = tanlian("park", "evaluate", "-o", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    assert "data: SYNTHETIC" in proc.stdout
    final = pd.read_csv(tmp_path / "demo" / "final.csv", encoding="utf-8-sig")
    assert set(final["synthetic"]) == {"yes"} and (final["reviewed"] > 0).any()
    alone = tanlian(
        "park", "evaluate", "--reviews", str(DATA / "demo_reviews.csv"),
        "-o", str(tmp_path / "x"),
    )  # fmt: skip
    one_line_error(alone, "give the park table with --parks")
    assert not (tmp_path / "x").exists()
