"""Analytics commands write nothing when they fail: a half-written set of outputs (district
budgets without the tracking that failed) would pass for a result. Outputs for people open
in Excel: UTF-8 with a byte-order mark."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.errors import InvalidData
from analytics.tables import staged_dir
from tests.cli_run import one_line_error, tanlian


def _old_results(out: Path) -> dict[str, bytes]:
    out.mkdir()
    (out / "district_budgets.csv").write_text("district,budget\nold,1\n")
    (out / "lmdi_by_sector.csv").write_text("sector\nold\n")
    return {p.name: p.read_bytes() for p in out.iterdir()}


def test_a_failed_budget_or_decomposition_writes_nothing(tmp_path: Path) -> None:
    actual = tmp_path / "actual.csv"
    actual.write_text("year,co2_t\n2020,100\n2021,110\n")  # nothing from 2025 on to track
    fresh = tmp_path / "fresh"
    budget = tanlian(
        "carbon", "budget", "--city-budget", "1e9", "-o", str(fresh), "--actual", str(actual)
    )
    one_line_error(budget, "no emissions from 2025 on to track")
    assert not fresh.exists()
    decompose = tanlian(
        "carbon", "decompose", "--base", "2015", "--target", "2024", "-o", str(fresh),
        "--by", "nosuch",
    )  # fmt: skip
    one_line_error(decompose, "no group column 'nosuch'")
    assert not fresh.exists()
    # an earlier run's results are left as they were, not half replaced
    kept = tmp_path / "kept"
    before = _old_results(kept)
    tanlian("carbon", "budget", "--city-budget", "1e9", "-o", str(kept), "--actual", str(actual))
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_successful_run_writes_excel_readable_csv(tmp_path: Path) -> None:
    proc = tanlian("carbon", "budget", "--city-budget", "1e9", "-o", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    for name in ("district_budgets.csv", "budget_path.csv"):
        assert (tmp_path / "o" / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    # a table for people names the districts (from the shared admin-unit table), not only codes
    header, first = (tmp_path / "o" / "district_budgets.csv").read_text("utf-8-sig").split("\n")[:2]
    assert header.startswith("district,name_zh,name_en,")
    assert first.startswith("510104,锦江区,Jinjiang Qu,")


def test_staged_dir_moves_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(InvalidData, match="boom"), staged_dir(out) as tmp:
        (tmp / "a.csv").write_text("x\n")
        raise InvalidData("boom")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with staged_dir(out) as tmp:
        (tmp / "a.csv").write_text("x\n")
    assert (out / "a.csv").read_text() == "x\n"
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidData, match="is a file"), staged_dir(tmp_path / "file"):
        pass
