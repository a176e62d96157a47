"""`tanlian carbon …` and `tanlian park evaluate` on the shipped demo data, and bad input."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.analytics.json_check import strict_json
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


ACTIVITY_HEADER = "region,period,sector,gpc_ref,fuel,quantity,unit\n"
# values near 1e154: their squared errors are beyond float64's 1.8e308
HUGE_SERIES = "year,co2_t\n2015,1e154\n2016,5e154\n2017,2e154\n2018,9e154\n2019,3e154\n2020,8e154\n"


def _file(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


# (arguments after `tanlian`, given the test's folder) -> fragment of the one error line
BAD_INPUT: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "inventory: no such file": (
        lambda d: ["carbon", "inventory", "--activity", str(d / "no.csv")],
        "does not exist",
    ),
    "inventory: header only": (
        lambda d: ["carbon", "inventory", "--activity", _file(d, "a.csv", ACTIVITY_HEADER)],
        "the file has a header but no rows",
    ),
    "inventory: header and blank lines": (
        lambda d: [
            "carbon",
            "inventory",
            "--activity",
            _file(d, "a.csv", ACTIVITY_HEADER + "\n\n"),
        ],
        "the file has a header but no rows",
    ),
    "inventory: quoted header only": (
        lambda d: [
            "carbon",
            "inventory",
            "--activity",
            _file(d, "a.csv", '"region",period,sector,gpc_ref,fuel,quantity,unit\n'),
        ],
        "the file has a header but no rows",
    ),
    "inventory: every row rejected, --allow-rejects": (
        lambda d: [
            "carbon",
            "inventory",
            "--allow-rejects",
            "--activity",
            _file(d, "a.csv", ACTIVITY_HEADER + "510104,2022,transport,II.1.1,diesel,-5,t\n"),
        ],
        "all 1 row(s) were rejected, none is left to compute",
    ),
    "budget: negative budget": (
        lambda d: ["carbon", "budget", "--city-budget", "-5"],
        "[data_invalid]",
    ),
    "budget: weight without a number": (
        lambda d: [
            "carbon",
            "budget",
            "--city-budget",
            "5e8",
            "--method",
            "mix",
            "--weight",
            "grandfathering",
        ],
        "METHOD=NUMBER",
    ),
    "budget: header-only districts": (
        lambda d: [
            "carbon",
            "budget",
            "--city-budget",
            "5e8",
            "--districts",
            _file(d, "d.csv", "district,base_emissions,population,gdp\n"),
        ],
        "the file has a header but no rows",
    ),
    "decompose: period not in the data": (
        lambda d: ["carbon", "decompose", "--base", "1999", "--target", "2024"],
        "1999",
    ),
    "decompose: effects overflow": (
        lambda d: [
            "carbon",
            "decompose",
            "--base",
            "2015",
            "--target",
            "2024",
            "--data",
            _file(
                d,
                "l.csv",
                "period,sector,activity,energy,emissions\n2015,a,1,1,1\n2024,a,1e300,1e300,1e300\n"
                "2015,b,1,1,1\n2024,b,1e-300,1e-300,1e-300\n",
            ),
        ],
        "[computation_failed]: lmdi: the effects overflow floating point for sector 'b'",
    ),
    "forecast holt: values near 1e154": (
        lambda d: ["carbon", "forecast", "--series", _file(d, "s.csv", HUGE_SERIES)],
        "[computation_failed]: holt: the sse overflows floating point with values up to 9e+154",
    ),
    "forecast trend: values near 1e154": (
        lambda d: [
            "carbon",
            "forecast",
            "--method",
            "trend",
            "--series",
            _file(d, "s.csv", HUGE_SERIES),
        ],
        "[computation_failed]: linear_trend: the sigma overflows floating point",
    ),
    "forecast: header only": (
        lambda d: ["carbon", "forecast", "--series", _file(d, "s.csv", "year,co2_t\n")],
        "the file has a header but no rows",
    ),
    "assets: header-only projects": (
        lambda d: ["carbon", "assets", "--projects", _file(d, "p.csv", "project_id,name\n")],
        "has a header but no projects",
    ),
    "park: parks without indicator columns": (
        lambda d: [
            "park",
            "evaluate",
            "--self-only",
            "--parks",
            _file(d, "p.csv", "park_id,name,type\nP1,x,hydrogen_new_energy\n"),
        ],
        "[data_invalid]",
    ),
    "park: header-only parks": (
        lambda d: [
            "park",
            "evaluate",
            "--self-only",
            "--parks",
            _file(d, "p.csv", "park_id,name,type\n"),
        ],
        "has a header but no parks",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_carbon_bad_input_one_line(tmp_path, case: str) -> None:
    """One readable line, exit 1, and no output files: every input is checked and every
    result computed before anything is written."""
    args, fragment = BAD_INPUT[case]
    out = tmp_path / "out"
    proc = tanlian(*args(tmp_path), "-o", str(out))
    one_line_error(proc, fragment)
    assert "Warning" not in proc.stderr
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert written in ([], ["rejected.csv"]), written


def test_forecast_near_the_float_limit_still_computes_where_it_can(tmp_path) -> None:
    # 1e150: the squares (1e300) still fit in float64, so this is a forecast, not a refusal
    series = HUGE_SERIES.replace("e154", "e150")
    proc = tanlian(
        "carbon", "forecast", "--series", _file(tmp_path, "s.csv", series), "-o", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr
    payload = strict_json((tmp_path / "forecast.json").read_text())
    assert math.isfinite(payload["params"]["sse"]) and payload["params"]["sse"] > 1e300
    assert np.isfinite(pd.read_csv(tmp_path / "forecast.csv")[["lower", "upper"]]).all().all()


def test_a_park_without_values_has_no_total_or_rank(tmp_path) -> None:
    demo = pd.read_csv(ROOT / "analytics" / "park" / "data" / "demo_parks.csv", dtype=str)
    demo = demo.head(4)
    demo.iloc[0, 3:] = None  # P01 reports no indicator at all
    parks = str(tmp_path / "p.csv")
    demo.to_csv(parks, index=False)
    shown = tanlian("park", "evaluate", "--self-only", "--parks", parks, "-o", str(tmp_path))
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"│ P01 .*│ -\s+│ -\s+│", shown.stdout), shown.stdout
    proc = tanlian(
        "park", "evaluate", "--self-only", "--parks", parks, "-o", str(tmp_path), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    for data in (strict_json(proc.stdout), strict_json((tmp_path / "evaluation.json").read_text())):
        (row,) = [r for r in data["final"] if r["park_id"] == "P01"]
        assert row["total"] is None and row["rank_in_type"] is None


def _readme_command(prefix: str) -> list[str]:
    """The README's synopsis of ``prefix`` with every optional part taken (brackets off)."""
    import shlex

    text = (ROOT / "README.md").read_text()
    start = text.index(prefix)
    lines = []
    for line in text[start:].splitlines():
        lines.append(line.rstrip("\\").strip())
        if not line.endswith("\\"):
            break
    words = shlex.split(" ".join(lines).replace("[", " ").replace("]", " "))
    return [w for w in words if w != "|"]


def test_the_readmes_carbon_budget_runs_as_written(tmp_path) -> None:
    # `--peak-year 2025 --actual …` used to fail: a peak at the start year is not "between"
    # the years; an already reached peak now gives a path that falls from the start.
    words = _readme_command("tanlian carbon budget")
    assert words[:3] == ["tanlian", "carbon", "budget"] and "--peak-year" in words
    words[words.index("-o") + 1] = str(tmp_path / "budget")
    proc = tanlian(*words[1:])
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "budget" / "tracking.csv").exists()
    at_start = tanlian(
        "carbon", "budget", "--city-budget", "6e8", "--start-year", "2024", "--peak-year",
        "2024", "--actual", str(DEMO / "city_annual.csv"), "-o", str(tmp_path / "s"), "--json",
    )  # fmt: skip
    assert at_start.returncode == 0, at_start.stderr
    path = pd.read_csv(tmp_path / "s" / "budget_path.csv")
    assert path["budget_t"].is_monotonic_decreasing
    assert path["budget_t"].sum() == pytest.approx(6e8, rel=1e-9)


def test_small_figures_keep_their_digits_in_the_csvs(tmp_path) -> None:
    """Issue 18 (sensible rounding): figures for people carry ten significant digits, so a
    meter's small reading is not printed as 0.000000 t nor a city total cut to the gram."""
    activity = tmp_path / "activity.csv"
    activity.write_text(
        "region,period,sector,gpc_ref,fuel,quantity,unit\n"
        "510104,2023-01,residential,I.1.2,electricity,0.000004,MWh\n"
        "510105,2023-01,residential,I.1.2,electricity,309967.833,MWh\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = tanlian(
        "carbon", "inventory", "--activity", str(activity), "--grid", "sichuan:2022", "-o", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    rows = pd.read_csv(out / "emissions.csv").set_index("region")["co2_t"]
    small, large = rows[510104], rows[510105]
    # the same factor on both rows: their ratio is the ratio of the readings, to 1e-9
    assert small > 0
    assert small / large == pytest.approx(0.000004 / 309967.833, rel=1e-9)
