"""The Chengdu green low-carbon framework, its synthetic panel generator and panel merging."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.errors import InvalidData
from analytics.indicators.chengdu import (
    FRAMEWORK,
    GENERATED,
    PILOT_DATASETS,
    formula_columns,
    generate_panel,
    merge_panels,
    source_columns,
    units,
)
from analytics.indicators.framework import Framework, load_framework, parse_framework
from analytics.indicators.normalise import parse_spec
from analytics.indicators.pipeline import (
    AggregateParams,
    ImputeParams,
    Pipeline,
    TreatParams,
    indicator_frame,
    run,
)

AREAS = [
    ("GI", "绿色产业"),
    ("SL", "城市空间布局"),
    ("EE", "生态环境质量"),
    ("GT", "绿色交通"),
    ("IF", "绿色基础设施"),
    ("GB", "绿色建筑与社区"),
    ("MG", "机制保障"),
]
N_UNITS = {"district": 20, "metro": 4}


@pytest.fixture(scope="module", params=["district", "metro"])
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def fw(variant: str) -> Framework:
    return load_framework(FRAMEWORK, variant=variant)


@pytest.fixture(scope="module")
def panel(fw: Framework, variant: str) -> pd.DataFrame:
    return generate_panel(fw, variant)


# --------------------------------------------------------------------------- framework


def test_framework_shape(fw: Framework) -> None:
    assert fw.name.startswith("chengdu_green_low_carbon:")
    assert fw.level_names == ("Indicator", "System", "Target area", "Index")
    assert len(fw.indicators) >= 30
    assert [(a.code, a.name_zh) for a in fw.root.children] == AREAS
    assert fw.level(fw.index_code) == 4
    for area in fw.root.children:
        assert fw.level(area.code) == 3
        assert 2 <= len(area.children) <= 3, area.code
        for system in area.children:
            assert fw.level(system.code) == 2
            assert system.children, system.code
            for ind in system.children:
                assert fw.level(ind.code) == 1
                assert not ind.children


def test_every_indicator_is_described(fw: Framework) -> None:
    for ind in fw.indicators:
        assert ind.unit, ind.code
        assert ind.direction in (1, -1), ind.code
        assert ind.psr in ("pressure", "state", "response"), ind.code
        assert ind.source is not None, ind.code
        assert ind.name_zh and ind.name_en, ind.code
        if ind.source.formula is None:
            assert ind.source.dataset in {*PILOT_DATASETS, "generated"}, ind.code


def test_variants_differ() -> None:
    district = set(load_framework(FRAMEWORK, variant="district").indicator_codes)
    metro = set(load_framework(FRAMEWORK, variant="metro").indicator_codes)
    full = set(load_framework(FRAMEWORK).indicator_codes)
    assert district - metro and metro - district
    assert district | metro == full
    assert {"SL04", "SL07", "GT05"} <= district - metro  # life circles, greenway, metro stations
    assert {"EE05", "GT04", "MG03", "MG05"} <= metro - district  # relations between cities


def test_pilot_sources_use_the_pilot_columns(tmp_path: Path) -> None:
    """Columns named under stats/eco/transport are exactly what node/pilot writes."""
    from node.pilot import synthetic

    written = {
        "stats": synthetic.stats_panel(tmp_path / "s.csv"),
        "eco": synthetic.eco_panel(tmp_path / "e.csv"),
        "transport": synthetic.transport_panel(tmp_path / "t.csv"),
    }
    headers = {k: set(pd.read_csv(p, nrows=0).columns) for k, p in written.items()}
    full = load_framework(FRAMEWORK)
    used = set()
    for ind in full.indicators:
        if ind.source.formula is None and ind.source.dataset in headers:
            assert ind.source.column in headers[ind.source.dataset], ind.code
            used.add(ind.source.column)
    pilot_cols = set().union(*(set(c) for c in PILOT_DATASETS.values()))
    for dataset, cols in PILOT_DATASETS.items():
        assert set(cols) <= headers[dataset], dataset
    # the generator's own columns never shadow a pilot column
    assert not pilot_cols & set(GENERATED)
    assert {"tertiary_bn", "gdp_bn_yuan", "good_air_days"} <= set(source_columns(full))
    assert used  # some indicators read the pilot panels directly


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"dataset": "eco", "column": "pm10_ugm3"}, "not a column of the pilot's eco panel"),
        ({"dataset": "generated", "column": "pm25_ugm3"}, "belongs to the pilot's eco panel"),
        ({"formula": "mystery_t / gdp_bn_yuan"}, "no generator for column 'mystery_t'"),
    ],
)
def test_source_columns_rejects_unknown_columns(source: dict, message: str) -> None:
    doc = {
        "name": "x",
        "index": {"code": "I", "children": [{"code": "A1", "direction": 1, "source": source}]},
    }
    with pytest.raises(InvalidData, match=message):
        source_columns(parse_framework(doc))


def test_formula_columns() -> None:
    assert formula_columns("a / (b * 10) + log(c) - a") == ["a", "b", "c"]
    with pytest.raises(InvalidData):
        formula_columns("a / ")


# --------------------------------------------------------------------------- units


def test_units() -> None:
    d = units("district")
    assert list(d.columns) == ["uCode", "uName", "uName_zh"]
    assert len(d) == 20 and d["uCode"].is_unique
    assert "510118" in set(d["uCode"]) and "510132" not in set(d["uCode"])
    assert d.loc[d["uCode"] == "510104", "uName_zh"].item() == "锦江区"
    m = units("metro")
    assert m["uCode"].tolist() == ["510100", "510600", "511400", "512000"]
    assert m["uName"].tolist() == ["Chengdu Shi", "Deyang Shi", "Meishan Shi", "Ziyang Shi"]
    with pytest.raises(InvalidData, match="variant 'province'"):
        units("province")


# --------------------------------------------------------------------------- panel


def test_panel_shape_and_columns(fw: Framework, variant: str, panel: pd.DataFrame) -> None:
    n = N_UNITS[variant]
    assert len(panel) == n * 10
    assert panel["uCode"].nunique() == n
    assert sorted(panel["Time"].unique()) == list(range(2015, 2025))
    assert not panel.duplicated(["uCode", "Time"]).any()
    cols = source_columns(fw)
    assert list(panel.columns) == ["uCode", "uName", "uName_zh", "Time", *cols, "synthetic"]
    assert (panel["synthetic"] == "yes").all()
    # every indicator evaluates on the panel (columns and formulas alike)
    x = indicator_frame(fw, panel.set_index(["uCode", "Time"]))
    assert list(x.columns) == fw.indicator_codes
    # columns of the other variant are not generated
    other = "EE05" if variant == "district" else "SL07"
    assert load_framework(FRAMEWORK).node(other).source.column not in panel.columns


def test_panel_is_deterministic(fw: Framework, variant: str, panel: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(panel, generate_panel(fw, variant, seed=2024))
    other = generate_panel(fw, variant, seed=7)
    data = [c for c in panel.columns if c not in ("uCode", "uName", "uName_zh", "Time")]
    data.remove("synthetic")
    assert not panel[data].equals(other[data])
    differing = [c for c in data if not panel[c].equals(other[c])]
    assert len(differing) == len(data)


def test_panel_is_plausible(panel: pd.DataFrame, variant: str) -> None:
    for col in panel.columns:
        if col in ("uCode", "uName", "uName_zh", "Time", "synthetic"):
            continue
        v = panel[col].dropna()
        assert (v > 0).all(), col
        if col.endswith("_pct"):
            assert (v < 100).all(), col
    assert (panel["tertiary_bn"] < panel["gdp_bn_yuan"]).all()
    assert (panel["built_up_land_km2"] <= panel["area_km2"]).all()
    first = panel[panel["Time"] == 2015]
    assert not first.isna().any().any()  # gaps never in the first year: carry-forward fills
    for col, spec in GENERATED.items():
        if col in panel and spec.kind == "stock":
            assert (panel.groupby("uCode")[col].diff().dropna() >= 0).all(), col
    # improving mostly: the 2024 mean beats the 2015 mean
    by_year = panel.groupby("Time").mean(numeric_only=True)
    assert by_year.loc[2024, "pm25_ugm3"] < by_year.loc[2015, "pm25_ugm3"]
    assert (
        by_year.loc[2024, "waste_sorting_coverage_pct"]
        > by_year.loc[2015, "waste_sorting_coverage_pct"]
    )
    if variant == "district":
        gaps = panel[[c for c, s in GENERATED.items() if s.missing and c in panel]].isna()
        assert 0 < gaps.to_numpy().mean() < 0.05
        central = panel[panel["uCode"].isin(["510104", "510105", "510106", "510107", "510108"])]
        outer = panel.drop(central.index)
        density = lambda f: (f["population_10k"] / f["area_km2"]).mean()  # noqa: E731
        assert density(central) > 5 * density(outer)


# --------------------------------------------------------------------------- merging


def test_merge_overrides_exactly_the_overlapping_cells(panel: pd.DataFrame) -> None:
    codes = panel["uCode"].unique()[:2]
    demo = pd.DataFrame(
        {
            "adcode": [int(codes[0]), int(codes[0]), int(codes[1]), 999999],
            "year": [2016, 2017, 2016, 2016],
            "pm25_ugm3": [11.0, np.nan, 13.0, 14.0],
            "nev_share_pct": [50.0, 51.0, np.nan, 52.0],
            "not_in_panel": [1, 2, 3, 4],
            "synthetic": ["no"] * 4,
        }
    )
    merged, prov = merge_panels(panel, {"demo": demo})
    assert merged.shape == panel.shape and list(merged.columns) == list(panel.columns)
    assert prov["pm25_ugm3"] == prov["nev_share_pct"] == "panel:demo"
    assert prov["gdp_bn_yuan"] == "generated" and "not_in_panel" not in prov
    assert set(prov) == set(panel.columns) - {"uCode", "uName", "uName_zh", "Time", "synthetic"}
    data = [c for c in panel.columns if c != "synthetic"]
    diff = (merged[data] != panel[data]) & ~(merged[data].isna() & panel[data].isna())
    cells = {
        (merged.at[i, "uCode"], int(merged.at[i, "Time"]), data[j])
        for i, j in zip(*np.nonzero(diff.to_numpy()), strict=True)
    }
    expected = {
        (codes[0], 2016, "pm25_ugm3"),
        (codes[0], 2016, "nev_share_pct"),
        (codes[0], 2017, "nev_share_pct"),
        (codes[1], 2016, "pm25_ugm3"),
    }
    assert cells == expected
    at = merged.set_index(["uCode", "Time"])
    assert at.loc[(codes[0], 2016), "pm25_ugm3"] == 11.0
    assert at.loc[(codes[0], 2017), "nev_share_pct"] == 51.0
    assert (merged["synthetic"] == "yes").all()


def test_merge_later_panel_wins_and_provenance_lists_both(panel: pd.DataFrame) -> None:
    code = panel["uCode"].iloc[0]
    a = pd.DataFrame({"adcode": [code], "year": [2020], "pm25_ugm3": [1.0]})
    b = pd.DataFrame({"adcode": [code], "year": ["2020"], "pm25_ugm3": [2.0]})
    merged, prov = merge_panels(panel, {"a": a, "b": b})
    assert prov["pm25_ugm3"] == "panel:a+panel:b"
    assert merged.set_index(["uCode", "Time"]).loc[(code, 2020), "pm25_ugm3"] == 2.0


def test_merge_rejects_bad_panels(panel: pd.DataFrame) -> None:
    with pytest.raises(InvalidData, match=r"'eco_bureau'.*adcode"):
        merge_panels(panel, {"eco_bureau": pd.DataFrame({"year": [2020], "pm25_ugm3": [1.0]})})
    with pytest.raises(InvalidData, match=r"'grid'.*year"):
        merge_panels(panel, {"grid": pd.DataFrame({"adcode": ["510104"], "pm25_ugm3": [1.0]})})
    dup = pd.DataFrame({"adcode": ["510104"] * 2, "year": [2020] * 2, "pm25_ugm3": [1.0, 2.0]})
    with pytest.raises(InvalidData, match="'dup' repeats adcode 510104"):
        merge_panels(panel, {"dup": dup})


def test_pilot_stats_panel_merges_cleanly(tmp_path: Path) -> None:
    from node.pilot.synthetic import stats_panel

    fw = load_framework(FRAMEWORK, variant="district")
    generated = generate_panel(fw, "district")
    stats = pd.read_csv(stats_panel(tmp_path / "stats.csv"))
    merged, prov = merge_panels(generated, {"stats": stats})
    keys = set(zip(generated["uCode"], generated["Time"], strict=True))
    assert set(zip(stats["adcode"].astype(str), stats["year"], strict=True)) == keys
    for col in PILOT_DATASETS["stats"]:
        if col in generated:
            assert prov[col] == "panel:stats"
    assert prov["pm25_ugm3"] == "generated"
    got = merged.set_index(["uCode", "Time"]).sort_index()
    want = stats.assign(adcode=stats["adcode"].astype(str)).set_index(["adcode", "year"])
    want.index.names = ["uCode", "Time"]
    for col in ("gdp_bn_yuan", "tertiary_bn", "population_10k", "area_km2"):
        pd.testing.assert_series_equal(got[col], want[col].sort_index(), check_names=False)
    assert len(run(_pipeline(fw, merged)).results) == 200


# --------------------------------------------------------------------------- pipeline


def _pipeline(fw: Framework, data: pd.DataFrame) -> Pipeline:
    return Pipeline(
        name="t",
        framework=fw,
        data=data,
        steps={
            "impute": ImputeParams(method="carry_forward"),
            "treat": TreatParams(),
            "normalise": {
                "spec": parse_spec({"method": "minmax", "range": [0, 100]}, "t"),
                "indicators": {},
            },
            "aggregate": AggregateParams(method="amean"),
        },
        time="all",
    )


def test_pipeline_computes_the_index(fw: Framework, variant: str, panel: pd.DataFrame) -> None:
    res = run(_pipeline(fw, panel))
    assert not res.dsets["Imputed"].isna().any().any()  # carry-forward filled every gap
    out = res.results
    n = N_UNITS[variant]
    assert len(out) == n * 10
    assert out.groupby("Time")["uCode"].nunique().eq(n).all()
    assert not out["index"].isna().any()
    assert out["index"].between(0, 100).all()
    for _, part in out.groupby("Time"):
        assert sorted(part["rank"].astype(int)) == list(range(1, n + 1))
