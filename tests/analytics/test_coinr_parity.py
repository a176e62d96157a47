"""The engine against COINr 1.1.14 on the ASEM data: every data set, to 1e-6.

The golden CSVs were written by COINr's own R code (tests/golden/coinr/README.md); the
pipeline files under analytics/examples/ state the same steps in Tanlian's terms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.indicators.pipeline import load_pipeline, run, write_outputs

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "coinr" / "out"
EXAMPLES = ROOT / "analytics" / "examples"
TOL = 1e-6

SIMPLE = [
    ("asem_minmax_amean", "minmax_amean"),
    ("asem_zscore_amean", "zscore_amean"),
    ("asem_minmax1_100_gmean", "minmax1_gmean"),
    ("asem_minmax1_100_hmean", "minmax1_hmean"),
    ("asem_prank", "prank_amean"),
]


def golden(name: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / f"{name}.csv", keep_default_na=True)


def assert_same(mine: pd.DataFrame, gold: pd.DataFrame) -> None:
    """Same units, same columns in the same order, same missing cells, values within TOL."""
    assert list(mine.columns) == list(gold.columns)
    assert mine["uCode"].tolist() == gold["uCode"].tolist()
    a = mine.drop(columns="uCode").to_numpy(dtype=float)
    b = gold.drop(columns="uCode").to_numpy(dtype=float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL, equal_nan=True)


@pytest.fixture(scope="module")
def example_run():
    return run(load_pipeline(EXAMPLES / "asem_example.yaml"))


@pytest.mark.parametrize(("pipeline", "gold"), SIMPLE)
def test_simple_pipelines_match_coinr_files(tmp_path: Path, pipeline: str, gold: str) -> None:
    res = run(load_pipeline(EXAMPLES / f"{pipeline}.yaml"))
    files = write_outputs(res, tmp_path)
    assert_same(pd.read_csv(files["normalised.csv"]), golden(f"{gold}_normalised"))
    assert_same(pd.read_csv(files["aggregated.csv"]), golden(f"{gold}_aggregated"))
    results = pd.read_csv(files["results.csv"])
    g = golden(f"{gold}_results")
    assert list(results.columns) == ["uCode", "index", "rank"]
    assert results["uCode"].tolist() == g["uCode"].tolist()
    np.testing.assert_allclose(results["index"], g["Index"], atol=TOL, rtol=0)
    assert results["rank"].tolist() == g["Rank"].tolist()


@pytest.mark.parametrize(
    "dset", ["Raw", "Denominated", "Imputed", "Screened", "Treated", "Normalised", "Aggregated"]
)
def test_example_coin_every_data_set(example_run, dset: str) -> None:
    mine = example_run.dsets[dset].reset_index()
    assert_same(mine, golden(f"example_{dset}"))


def test_example_coin_results_and_treatment(example_run) -> None:
    g = golden("example_results")
    res = example_run.results
    assert res["uCode"].tolist() == g["uCode"].tolist()
    np.testing.assert_allclose(res["index"], g["Index"], atol=TOL, rtol=0)
    assert res["rank"].tolist() == g["Rank"].tolist()
    # Which indicators COINr winsorised, how many points, and its skew/kurtosis before.
    dets = golden("example_Treated_Dets_Table").set_index("iCode")
    mine = example_run.treatment.set_index("iCode").loc[dets.index]
    assert mine["winsorised"].tolist() == dets["winsorise.nwin"].fillna(0).astype(int).tolist()
    np.testing.assert_allclose(mine["skew_before"], dets["check_SkewKurt0.Skew"], atol=1e-9)
    np.testing.assert_allclose(mine["kurt_before"], dets["check_SkewKurt0.Kurt"], atol=1e-9)
    treated = dets["check_SkewKurt1.Skew"].notna()
    np.testing.assert_allclose(
        mine.loc[treated, "skew_after"], dets.loc[treated, "check_SkewKurt1.Skew"], atol=1e-9
    )
    assert not mine["log"].any()  # every winsorised indicator passed, as in COINr
    points = pd.read_csv(GOLDEN / "example_Treated_Points.csv", dtype=str, keep_default_na=False)
    points = points.set_index("uCode")
    assert int((points != "").to_numpy().sum()) == int(mine["winsorised"].sum())


def test_screening_table_matches_coinr(example_run) -> None:
    g = golden("example_Screened_DataSummary").set_index("uCode")
    mine = example_run.screening.loc[g.index]
    np.testing.assert_allclose(mine["Dat_Avail"], g["Dat_Avail"], atol=1e-12)
    np.testing.assert_allclose(mine["Nonzero"], g["Non_Zero"], atol=1e-12)
    assert mine["Included"].tolist() == g["Included"].astype(bool).tolist()


def _on_raw(spec: dict, overrides: dict | None = None):
    from analytics.indicators.normalise import parse_spec
    from analytics.indicators.pipeline import AggregateParams, Pipeline

    p = load_pipeline(EXAMPLES / "asem_minmax_amean.yaml")
    steps = {
        "normalise": {
            "spec": parse_spec(spec, "test"),
            "indicators": {k: parse_spec(v, k) for k, v in (overrides or {}).items()},
        },
        "aggregate": AggregateParams(method="amean"),
    }
    return run(Pipeline(name="t", framework=p.framework, data=p.data, steps=steps))


@pytest.mark.parametrize(
    ("spec", "gold"),
    [
        ({"method": "rank"}, "rank_amean"),
        ({"method": "borda"}, "borda_amean"),
        ({"method": "fracmax"}, "fracmax_amean"),
        ({"method": "dist2max"}, "dist2max_amean"),
        (
            {"method": "dist2ref", "ref_unit": (GOLDEN / "dist2ref_unit.txt").read_text().strip()},
            "dist2ref_amean",
        ),
        ({"method": "dist2targ"}, "dist2targ_amean"),  # targets from iMeta's Target column
        ({"method": "scaled", "npara": [0, 10], "scale": 100}, "scaled_amean"),
    ],
)
def test_every_other_normalisation_matches_coinr(spec: dict, gold: str) -> None:
    res = _on_raw(spec)
    assert_same(res.normalised.reset_index(), golden(f"{gold}_normalised"))
    assert_same(res.aggregated.reset_index(), golden(f"{gold}_aggregated"))


def test_goalposts_match_coinr_from_imeta_columns() -> None:
    # COINr reads goalposts (lower, upper) on the raw scale; for a negative indicator the
    # lower post is the best value, which is what 'worst'/'best' say explicitly.
    fw = load_pipeline(EXAMPLES / "asem_minmax_amean.yaml").framework
    direction = {i.code: i.direction for i in fw.indicators}
    table = golden("goalposts_table")
    overrides = {
        r.iCode: {
            "method": "goalposts",
            "worst": r.goalpost_lower if direction[r.iCode] == 1 else r.goalpost_upper,
            "best": r.goalpost_upper if direction[r.iCode] == 1 else r.goalpost_lower,
            "scale": 100,
        }
        for r in table.itertuples()
    }
    res = _on_raw({"method": "minmax"}, overrides)
    assert_same(res.normalised.reset_index(), golden("goalposts_amean_normalised"))
    assert_same(res.aggregated.reset_index(), golden("goalposts_amean_aggregated"))


@pytest.mark.parametrize("method", ["mean", "median"])
def test_imputation_by_column_matches_coinr(example_run, method: str) -> None:
    from analytics.indicators.impute import impute

    filled = impute(example_run.dsets["Denominated"], method)
    assert_same(filled.reset_index(), golden(f"impute_{method}"))
