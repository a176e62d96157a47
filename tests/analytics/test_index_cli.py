"""`tanlian index …` as a user runs it: files written, JSON printed, one-line errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.analytics.json_check import strict_json
from tests.cli_run import one_line_error
from tests.cli_run import tanlian as run_cli

ROOT = Path(__file__).resolve().parents[2]
SURVEYS = ROOT / "tests" / "golden" / "ahpsurvey"


def tanlian(*args: str):
    return run_cli("index", *args)


def test_compute_writes_coinr_layout(tmp_path) -> None:
    proc = tanlian(
        "compute", "-p", "analytics/examples/asem_example.yaml", "-o", str(tmp_path), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["units"] == 51 and summary["top"][0]["uCode"] == "CHE"
    agg = pd.read_csv(tmp_path / "aggregated.csv")
    assert agg.columns[0] == "uCode" and agg.columns[-1] == "Index" and agg.shape == (51, 61)
    assert list(pd.read_csv(tmp_path / "results.csv").columns) == ["uCode", "index", "rank"]


def test_ahp_json_on_matrix_and_survey(tmp_path) -> None:
    m = tmp_path / "m.csv"
    m.write_text(",a,b,c\na,1,2,4\nb,0.5,1,2\nc,0.25,0.5,1\n")
    out = json.loads(tanlian("ahp", "--matrix", str(m), "--json").stdout)
    assert out["weights"] == {"a": 4 / 7, "b": 2 / 7, "c": 1 / 7} or all(
        abs(out["weights"][k] - v) < 1e-12 for k, v in {"a": 4 / 7, "b": 2 / 7, "c": 1 / 7}.items()
    )
    assert abs(out["cr"]) < 1e-9 and abs(out["lambda_max"] - 3) < 1e-9
    group = json.loads(
        tanlian(
            "ahp", "--survey", str(SURVEYS / "city200.csv"), "--aggregate", "aip", "--json"
        ).stdout
    )
    assert set(group["weights"]) == {"cult", "fam", "house", "jobs", "trans"}
    assert abs(sum(group["weights"].values()) - 1) < 1e-12 and group["experts"] == 200


def test_sensitivity_and_analyse(tmp_path) -> None:
    proc = tanlian(
        "sensitivity",
        "-p",
        "analytics/examples/asem_minmax1_100_gmean.yaml",
        "-o",
        str(tmp_path),
        "--runs",
        "200",
        "--alternative",
        "zscore:50:10",
        "--aggregation",
        "amean",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["runs"] == 200 and len(data["units"]) == 51
    proc = tanlian(
        "analyse",
        "-p",
        "analytics/examples/asem_example.yaml",
        "-o",
        str(tmp_path),
        "--unit",
        "CHE",
    )
    assert proc.returncode == 0, proc.stderr
    corr = pd.read_csv(tmp_path / "correlations.csv")
    assert {"child", "parent"} <= set(corr.columns) and len(corr) == 59  # every child-parent pair
    prof = pd.read_csv(tmp_path / "profile.csv")
    assert prof.loc[prof["code"] == "Index", "rank"].item() == 1


def _file(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(text)
    return str(folder / name)


def _pipeline(folder: Path, data: str) -> str:
    """A two-indicator pipeline over ``data`` (CSV text with uCode, a, b)."""
    _file(
        folder,
        "fw.yaml",
        "name: t\nindex:\n  code: I\n  children:\n"
        "    - {code: a, direction: 1}\n    - {code: b, direction: 1}\n",
    )
    _file(folder, "d.csv", data)
    return _file(
        folder,
        "p.yaml",
        "name: p\nframework: fw.yaml\ndata: d.csv\nsteps:\n  - normalise: {}\n  - aggregate: {}\n",
    )


# (arguments after `tanlian index`, given the test's folder) -> fragment of the error line
BAD_INPUT: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "compute: no pipeline file": (
        lambda d: ["compute", "-p", str(d / "none.yaml")],
        "[pipeline_invalid]",
    ),
    "compute: header-only data": (
        lambda d: ["compute", "-p", _pipeline(d, "uCode,a,b\n")],
        "[data_invalid]",
    ),
    "sensitivity: header-only data": (
        lambda d: ["sensitivity", "--runs", "5", "-p", _pipeline(d, "uCode,a,b\n")],
        "[data_invalid]",
    ),
    "ahp: inconsistent matrix": (
        lambda d: ["ahp", "--matrix", _file(d, "bad.csv", ",a,b\na,1,3\nb,0.5,1\n")],
        "[data_invalid]",
    ),
    "ahp: header-only matrix": (
        lambda d: ["ahp", "--matrix", _file(d, "m.csv", ",a,b\n")],
        "[data_invalid]",
    ),
    "ahp: survey answer off the scale": (
        lambda d: ["ahp", "--survey", _file(d, "s.csv", "a_b,a_c,b_c\n2,12,3\n")],
        "[data_invalid]",
    ),
    "ahp: header-only survey": (
        lambda d: ["ahp", "--survey", _file(d, "s.csv", "a_b,a_c,b_c\n")],
        "[data_invalid]",
    ),
    "analyse: unknown unit": (
        lambda d: ["analyse", "-p", "analytics/examples/asem_example.yaml", "--unit", "NOT-A-UNIT"],
        "NOT-A-UNIT",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_gives_one_line(tmp_path, case: str) -> None:
    args, fragment = BAD_INPUT[case]
    cli = args(tmp_path)
    extra = [] if cli[0] == "ahp" else ["-o", str(tmp_path / "out")]
    proc = tanlian(*cli, *extra)
    one_line_error(proc, fragment)
    assert "Warning" not in proc.stderr


def test_a_unit_without_values_has_no_rank(tmp_path) -> None:
    """u3 has no indicator value and only two units have an index: u3 is listed with no
    score and no rank (null in JSON, '-' in tables), never a traceback or NaN."""
    pipeline = _pipeline(tmp_path, "uCode,a,b\nu1,1,2\nu2,3,1\nu3,,\n")
    out = tmp_path / "out"
    shown = tanlian("compute", "-p", pipeline, "-o", str(out))
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"│ -\s+│ u3\s+│ -\s+│", shown.stdout), shown.stdout
    proc = tanlian("compute", "-p", pipeline, "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    for summary in (strict_json(proc.stdout), strict_json((out / "summary.json").read_text())):
        assert summary["top"][-1] == {"uCode": "u3", "index": None, "rank": None}
        assert [t["rank"] for t in summary["top"][:2]] == [1, 1]

    shown = tanlian("sensitivity", "-p", pipeline, "-o", str(out), "--runs", "20")
    assert shown.returncode == 0, shown.stderr
    assert "Warning" not in shown.stderr
    assert re.search(r"│ u3\s+│ -\s+│ -\s+│ -\s+│", shown.stdout), shown.stdout
    proc = tanlian("sensitivity", "-p", pipeline, "-o", str(out), "--runs", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    units = {u["uCode"]: u for u in strict_json(proc.stdout)["units"]}
    assert units["u3"]["nominal_rank"] is None and units["u3"]["median_rank"] is None
    assert units["u1"]["nominal_rank"] == 1

    shown = tanlian("analyse", "-p", pipeline, "-o", str(out), "--unit", "u3")
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"│ I\s+│ 2\s+│ -\s+│ -\s+│", shown.stdout), shown.stdout


def test_ahp_with_another_random_index_table(tmp_path) -> None:
    m = tmp_path / "m.csv"
    m.write_text(",a,b,c\na,1,3,1/2\nb,1/3,1,1/5\nc,2,5,1\n")
    saaty = json.loads(tanlian("ahp", "--matrix", str(m), "--json").stdout)
    ri = tmp_path / "ri.csv"
    ri.write_text("n,ri\n3,0.52\n4,0.89\n")
    other = json.loads(
        tanlian("ahp", "--matrix", str(m), "--random-index", str(ri), "--json").stdout
    )
    assert other["ci"] == saaty["ci"]
    assert abs(saaty["cr"] - saaty["ci"] / 0.58) < 1e-12
    assert abs(other["cr"] - other["ci"] / 0.52) < 1e-12
    ri.write_text("n,ri\n3,zero\n")
    one_line_error(tanlian("ahp", "--matrix", str(m), "--random-index", str(ri)), "line 2")
