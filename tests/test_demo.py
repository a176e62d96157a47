"""`make demo`'s scenario runs end to end with real processes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import PilotDemo

pytestmark = pytest.mark.xdist_group("pilot_demo")


def test_demo_brings_up_seven_departments_and_writes_summary(pilot_demo: PilotDemo) -> None:
    tmp_path, summary, lines = pilot_demo.root, pilot_demo.summary, pilot_demo.lines
    on_disk = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert on_disk == summary
    assert [d["name"] for d in summary["departments"]] == [
        "drc",
        "stats",
        "eco",
        "grid",
        "transport",
        "analyst",
        "gas",
    ]
    assert all(d["status"] == "active" for d in summary["departments"])
    assert summary["registry_views_agree"] is True
    registered = [s["department"] for s in summary["steps"] if s["step"] == "registered"]
    assert registered == ["stats", "eco", "grid", "transport", "analyst", "gas"]
    assert all(s["tx"].startswith("0x") for s in summary["steps"] if "tx" in s)
    assert {"step": "outsider_refused", "answer": "403 auth_unknown_account"} in summary["steps"]
    assert any("all 7 nodes agree on the registry: yes" in line for line in lines)
    # the sharing story
    assert set(summary["contracts"]) == {
        "NodeRegistry",
        "DataCatalog",
        "AccessManager",
        "JointQuery",
    }
    # joint statistics: three MPC runs, every owner acknowledged; the DP totals lie
    # within their stated bound (1 - 1e-6) of the generator's own totals
    joint = [s for s in summary["steps"] if s["step"] == "joint_query"]
    assert [j["what"] for j in joint] == ["energy_tce", "emissions_tco2", "regression"]
    assert [j["acknowledged"] for j in joint] == [3, 3, 4]
    for j in joint[:2]:
        assert j["owners"] == ["grid", "gas", "transport"]
        assert j["max_error_vs_generator"] <= float(j["noise_bound"]["cell"])
    assert list(joint[2]["coefficients"]) == [
        "intercept",
        "x1:gdp_bn_yuan",
        "x2:population_10k",
    ]
    assert (tmp_path / "demo" / "joint" / "district_energy_emissions_2024.csv").is_file()
    # eco's key emitters: district totals checked on chain against the commitments; a
    # total 1 kg short refused; the analyst's re-check equals pandas on eco's source
    committed = next(s for s in summary["steps"] if s["step"] == "commitments")
    assert committed["rows"] == 240 and committed["totals_recorded"] == 20
    assert committed["short_total_refused_with"] == "TotalMismatch"
    rechecked = next(s for s in summary["steps"] if s["step"] == "totals_checked")
    assert rechecked["totals"] == rechecked["ok"] == 20
    kept = pd.read_csv(
        tmp_path / "demo" / "commitments" / "key_emitters_by_district_2024.csv",
        dtype={"adcode": str, "direct_emissions_tco2e": str},
    )
    source = pd.read_csv(
        tmp_path / "demo" / "data" / "eco_key_emitters_2024.csv", dtype={"adcode": str}
    )
    truth = source.groupby("adcode")["emission_kg"].sum()
    assert {r.adcode: r.direct_emissions_tco2e for r in kept.itertuples()} == {
        a: f"{kg / 1000:.3f}" for a, kg in truth.items()
    }
    assert set(kept["checked_against_commitments"]) == {"yes"}
    steps = {s["step"]: s for s in summary["steps"]}
    assert [p["owner"] for p in summary["pulled"]] == ["stats", "transport", "eco"]
    assert all(p["verified"] and p["identical_to_source"] for p in summary["pulled"])
    assert steps["grid_raw_refused"]["error"] == "RawNotAllowed"
    assert steps["revoked"]["pull_after_revoke"] == "refused: grant_not_usable"
    applied = [s for s in summary["steps"] if s["step"] == "applied"]
    assert [a["authorized_at_once"] for a in applied] == [True, True, False]
    # the privacy gate: two DP answers paid on chain, the third refused
    dp = [s for s in summary["steps"] if s["step"] == "dp_answer"]
    assert [round(d["remaining"], 3) for d in dp] == [0.6, 0.2]
    assert all(d["spend_tx"].startswith("0x") for d in dp)
    assert steps["dp_refused_past_budget"]["error"] == "dp_budget_exhausted"
    # the index, on the panels the analyst pulled (the framework's other columns generated)
    index = steps["index"]
    assert index["indicators"] == 35
    assert {"gdp_bn_yuan", "pm25_ugm3", "nev_share_pct"} <= set(index["from_panels"])
    assert [t["rank"] for t in index["top"]] == [1, 2, 3, 4, 5]
    assert (tmp_path / "demo" / "index" / "results.csv").is_file()
    assert (tmp_path / "demo" / "index" / "sensitivity.csv").is_file()
    # data quality: eco's planted errors refused, everything else validated and filed
    assert steps["publish_refused"] == {
        "step": "publish_refused",
        "department": "eco",
        "dataset": "environment-panel",
        "code": "table_invalid",
        "errors": {"constraint-error": 2},
    }
    assert any("first file refused before encryption" in line for line in lines)
    fb = steps["anonymous_feedback"]
    assert fb["ring_size"] == 2 and fb["second_filing"] == "refused: feedback_refused"
    assert steps["review_overdue"] == {
        "step": "review_overdue",
        "datasets": ["transport-panel"],
        "cleared_after_restart": True,
    }
    report = json.loads((tmp_path / "demo" / "audit" / "report.json").read_text())
    quality = {r["dataset"]: r for r in report["data_quality"]}
    assert quality["district-socioeconomic-panel"]["feedback_answered"] == 1
    assert quality["district-socioeconomic-panel"]["feedback_anonymous"] == 1
    assert quality["transport-panel"]["reviews"] >= 1
    assert quality["transport-panel"]["review"] == "ok"
    assert {r["theme"] for r in report["data_quality"]} >= {
        "socioeconomic",
        "environment",
        "transport",
        "energy",
    }
    assert all(
        quality[n]["status"] == "passed"
        for n in ("district-socioeconomic-panel", "environment-panel", "transport-panel")
    )
    # the cockpit: serving, its data pulled under grant, a demo viewer
    assert steps["building_energy_pulled"]["grant_tx"].startswith("0x")
    assert steps["cockpit_data"]["holdings"] == 12
    assert summary["cockpit"]["user"] == "demo-viewer"
    assert summary["cockpit"]["url"].startswith("http://127.0.0.1:")
    assert pilot_demo.viewer_password not in json.dumps(on_disk)  # printed, never stored
