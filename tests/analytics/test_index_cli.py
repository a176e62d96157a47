"""`tanlian index …` as a user runs it: files written, JSON printed, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.cli_run import one_line_error
from tests.cli_run import tanlian as run_cli

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "indicators"


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
            "ahp", "--survey", str(SHARED / "city200.csv"), "--aggregate", "aip", "--json"
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


def test_bad_input_gives_one_line(tmp_path) -> None:
    one_line_error(
        tanlian("compute", "-p", str(tmp_path / "none.yaml"), "-o", str(tmp_path)),
        "[pipeline_invalid]",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(",a,b\na,1,3\nb,0.5,1\n")
    one_line_error(tanlian("ahp", "--matrix", str(bad)), "[data_invalid]")
    survey = tmp_path / "s.csv"
    survey.write_text("a_b,a_c,b_c\n2,12,3\n")
    one_line_error(tanlian("ahp", "--survey", str(survey)), "[data_invalid]")
    one_line_error(
        tanlian(
            "analyse",
            "-p",
            "analytics/examples/asem_example.yaml",
            "-o",
            str(tmp_path),
            "--unit",
            "NOT-A-UNIT",
        ),
        "NOT-A-UNIT",
    )


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
