"""`make demo`'s scenario runs end to end on a real chain host."""

from __future__ import annotations

import json
from pathlib import Path

from node.pilot.demo import run_demo


def test_demo_writes_summary(tmp_path: Path) -> None:
    lines: list[str] = []
    summary = run_demo(tmp_path / "demo", say=lines.append)
    on_disk = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert on_disk == summary
    assert summary["chain_id"] == 20_260
    assert set(summary["contracts"]) == {"ChainProbe"}
    steps = {s["step"]: s for s in summary["steps"]}
    assert steps["transactions"]["values"] == [2015, 2020, 2024]
    assert steps["restarted"]["same_head"] is True
    assert summary["head"] == 4  # deploy + three transactions
    assert any("unchanged" in line for line in lines)
