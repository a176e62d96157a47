"""`tanlian carbon …` and `tanlian park evaluate` on the shipped demo data, and bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.cli_run import ROOT, one_line_error, tanlian

DEMO = ROOT / "analytics" / "carbon" / "demo"


def test_inventory_on_the_demo_activity(tmp_path) -> None:
    proc = tanlian(
        "carbon",
        "inventory",
        "--activity",
        str(DEMO / "activity_2015_2024.csv"),
        "--grid",
        "sichuan:2022",
        "--gdp",
        str(DEMO / "district_panel.csv"),
        "--population",
        str(DEMO / "district_panel.csv"),
        "-o",
        str(tmp_path),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["rejected"] == 0 and summary["grid"] == ["mee-average:四川:2022"]
    city = pd.read_csv(DEMO / "city_annual.csv")
    assert summary["total_t_co2"] == pytest.approx(city["co2_t"].sum(), rel=1e-6)
    rows = pd.read_csv(tmp_path / "emissions.csv")
    assert set(rows["factor"]) == {
        "mee-average:四川:2022",
        "ipcc2006:natural_gas",
        "ipcc2006:bituminous_coal",
        "ipcc2006:gasoline",
        "ipcc2006:diesel",
    }
    monthly = pd.read_csv(tmp_path / "by_region_sector_month.csv")
    assert len(monthly) == 20 * 5 * 120  # district × sector × month
    assert monthly["co2_t"].sum() == pytest.approx(rows["co2_t"].sum())
    per_capita = pd.read_csv(tmp_path / "intensities.csv")["t_per_capita"]
    assert per_capita.between(0.5, 30).all()


def test_rejected_rows_stop_the_inventory_unless_allowed(tmp_path) -> None:
    bad = tmp_path / "a.csv"
    bad.write_text(
        "region,period,sector,gpc_ref,fuel,quantity,unit\n"
        "510104,2022,transport,II.1.1,diesel,1000,t\n"
        "510104,2022,transport,II.1.1,diesel,-5,t\n"
    )
    one_line_error(
        tanlian("carbon", "inventory", "--activity", str(bad), "-o", str(tmp_path)),
        "1 row(s) rejected (line 3: negative quantity -5)",
    )
    assert pd.read_csv(tmp_path / "rejected.csv")["row"].tolist() == [3]
    ok = tanlian(
        "carbon",
        "inventory",
        "--activity",
        str(bad),
        "-o",
        str(tmp_path),
        "--allow-rejects",
        "--json",
    )
    assert json.loads(ok.stdout)["total_t_co2"] == pytest.approx(3186.3)
    one_line_error(
        tanlian(
            "carbon",
            "inventory",
            "--activity",
            str(bad),
            "-o",
            str(tmp_path),
            "--grid",
            "sichuan:2030",
        ),
        "years: 2021, 2022",
    )
    one_line_error(
        tanlian(
            "carbon",
            "inventory",
            "--activity",
            str(bad),
            "-o",
            str(tmp_path),
            "--grid",
            "sichuan:2022",
            "--grid",
            "carbon-market:national:2022",
        ),
        "mixes electricity series",
    )


def test_decompose_budget_forecast_assets_park(tmp_path) -> None:
    dec = json.loads(
        tanlian(
            "carbon",
            "decompose",
            "--base",
            "2015",
            "--target",
            "2024",
            "--by",
            "region",
            "-o",
            str(tmp_path),
            "--json",
        ).stdout
    )
    assert sum(dec["effects_t"].values()) == pytest.approx(dec["total_change_t"], rel=1e-9)
    assert dec["groups"] == 20
    bud = json.loads(
        tanlian(
            "carbon",
            "budget",
            "--city-budget",
            "6e8",
            "--start-year",
            "2020",
            "--end-year",
            "2030",
            "--peak-year",
            "2025",
            "--actual",
            str(DEMO / "city_annual.csv"),
            "-o",
            str(tmp_path),
            "--json",
        ).stdout
    )
    assert sum(d["budget"] for d in bud["districts"]) == pytest.approx(6e8, rel=1e-9)
    track = pd.read_csv(tmp_path / "tracking.csv")
    assert track["year"].tolist() == [2020, 2021, 2022, 2023, 2024]
    assert set(track["status"]) <= {"green", "yellow", "red"}
    fc = json.loads(
        tanlian("carbon", "forecast", "--horizon", "6", "-o", str(tmp_path), "--json").stdout
    )
    out = pd.read_csv(tmp_path / "forecast.csv")
    assert out["year"].tolist() == list(range(2025, 2031)) and fc["peak"]["peak_year"] >= 2024
    assert ((out["lower"] < out["mean"]) & (out["mean"] < out["upper"])).all()
    pool = json.loads(tanlian("carbon", "assets", "-o", str(tmp_path), "--json").stdout)
    assert pool["projects"] == sum(r["projects"] for r in pool["summary"])
    park = tanlian("park", "evaluate", "-o", str(tmp_path), "--json")
    assert park.returncode == 0, park.stderr
    data = json.loads(park.stdout)
    names = {r.get("name") for r in data["final"]}
    assert "Chang'an Vein Industrial Park" in names
    assert "Chengdu Green Hydrogen Industrial Functional Zone, Area A" in names
    assert 0 < len(data["selected"]) <= 2 * len({r["type"] for r in data["final"]})


def test_carbon_bad_input_one_line(tmp_path) -> None:
    one_line_error(
        tanlian("carbon", "inventory", "--activity", str(tmp_path / "no.csv"), "-o", str(tmp_path)),
        "does not exist",
    )
    one_line_error(
        tanlian("carbon", "budget", "--city-budget", "-5", "-o", str(tmp_path)), "[data_invalid]"
    )
    one_line_error(
        tanlian(
            "carbon",
            "budget",
            "--city-budget",
            "5e8",
            "--method",
            "mix",
            "--weight",
            "grandfathering",
            "-o",
            str(tmp_path),
        ),
        "METHOD=NUMBER",
    )
    one_line_error(
        tanlian("carbon", "decompose", "--base", "1999", "--target", "2024", "-o", str(tmp_path)),
        "1999",
    )
    bad = tmp_path / "parks.csv"
    bad.write_text("park_id,name,type\nP1,x,hydrogen_new_energy\n")
    proc = tanlian("park", "evaluate", "--parks", str(bad), "--self-only", "-o", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
