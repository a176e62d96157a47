"""`tanlian index compute --panel`: a department's own panel, never silently synthetic.

A panel whose columns are named differently is an error naming the expected columns (with
``--column`` to map other names, Chinese included); columns the panels leave to the generated
SYNTHETIC panel need ``--allow-synthetic``, and every output row that uses one says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analytics.indicators.chengdu import FRAMEWORK, generate_panel
from analytics.indicators.framework import load_framework
from tests.cli_run import one_line_error
from tests.cli_run import tanlian as run_cli

PIPELINE = "analytics/frameworks/chengdu_districts.yaml"


def compute(out: Path, *args: str):
    return run_cli("index", "compute", "-p", PIPELINE, "-o", str(out), *args)


@pytest.fixture(scope="module")
def department_panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every column the index reads, as a department keeps it: Chinese headers, GBK (Excel
    on Chinese Windows). The values are the generator's, so results can be compared."""
    fw = load_framework(FRAMEWORK, variant="district")
    frame = generate_panel(fw, "district").drop(columns=["uName", "synthetic"])
    frame = frame.rename(
        columns={
            "uCode": "行政区划代码",
            "uName_zh": "区县",
            "Time": "年份",
            "gdp_bn_yuan": "GDP",
            "population_10k": "人口",
        }
    )
    path = tmp_path_factory.mktemp("panel") / "统计面板.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    return path


MAPPING = (
    "--column", "行政区划代码=adcode", "--column", "年份=year",
    "--column", "GDP=gdp_bn_yuan", "--column", "人口=population_10k",
)  # fmt: skip


def test_other_column_names_are_an_error_naming_the_expected_ones(
    tmp_path: Path, department_panel: Path
) -> None:
    proc = compute(tmp_path / "out", "--panel", f"stats={department_panel}")
    one_line_error(proc, "no column adcode or year")
    assert "--column 行政区划代码=adcode" in proc.stderr
    keys_mapped = compute(
        tmp_path / "out",
        "--panel", f"stats={department_panel}",
        "--column", "行政区划代码=adcode", "--column", "年份=year",
    )  # fmt: skip
    one_line_error(keys_mapped, "column(s) GDP, 人口 match no column the index reads")
    assert "expected gdp_bn_yuan, primary_bn" in keys_mapped.stderr
    assert not (tmp_path / "out" / "results.csv").exists()


def test_a_full_panel_uses_no_generated_value(tmp_path: Path, department_panel: Path) -> None:
    proc = compute(tmp_path / "mine", "--panel", f"mine={department_panel}", *MAPPING, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["synthetic_rows"] == {"no": 200}
    assert "SYNTHETIC" not in summary["data"]
    mine = pd.read_csv(tmp_path / "mine" / "results.csv", encoding="utf-8-sig")
    assert set(mine["synthetic"]) == {"no"}
    # names for people: the district in Chinese and English beside its code
    assert list(mine.columns[:3]) == ["uCode", "uName_zh", "uName"]
    assert "锦江区" in set(mine["uName_zh"]) and "Jinjiang Qu" in set(mine["uName"])
    key = pd.read_csv(tmp_path / "mine" / "indicators.csv", encoding="utf-8-sig")
    assert {"iCode", "iName", "iName_zh", "Unit"} <= set(key.columns)
    # the same numbers as the generator's: the panel's values were all used, none replaced
    demo = compute(tmp_path / "demo", "--json")
    assert demo.returncode == 0, demo.stderr
    generated = pd.read_csv(tmp_path / "demo" / "results.csv", encoding="utf-8-sig")
    pd.testing.assert_series_equal(mine["index"], generated["index"])
    assert set(generated["synthetic"]) == {"yes"}
    assert "SYNTHETIC demo panel" in json.loads(demo.stdout)["data"]


def test_gaps_need_allow_synthetic_and_flag_every_row(
    tmp_path: Path, department_panel: Path
) -> None:
    part = pd.read_csv(department_panel, encoding="gbk", dtype={"行政区划代码": str})
    partial = tmp_path / "stats.csv"
    part[["行政区划代码", "年份", "GDP", "人口"]].to_csv(partial, index=False, encoding="gbk")
    refused = compute(tmp_path / "out", "--panel", f"stats={partial}", *MAPPING)
    one_line_error(refused, "pass --allow-synthetic")
    assert "pm25_ugm3" in refused.stderr and "gdp_bn_yuan" not in refused.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    allowed = compute(
        tmp_path / "out", "--panel", f"stats={partial}", *MAPPING, "--allow-synthetic"
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "synthetic" in allowed.stdout and "'yes': 200" in allowed.stdout
    for name in ("results.csv", "aggregated.csv", "normalised.csv"):
        frame = pd.read_csv(tmp_path / "out" / name, encoding="utf-8-sig")
        assert set(frame["synthetic"]) == {"yes"}, name
