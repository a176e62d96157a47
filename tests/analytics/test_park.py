"""The industrial park index: framework, AHP weights, goalpost scoring, zero-carbon thresholds,
the expert-review workflow, selection, the demo data and the CSV readers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.errors import InvalidData, InvalidFramework, InvalidPipeline
from analytics.indicators.ahp import analyse, read_matrix
from analytics.indicators.framework import Framework, load_framework
from analytics.park import demo_parks, demo_reviews, evaluate, read_parks, read_reviews
from analytics.park.demo_data import PILOT_PARKS
from analytics.park.framework import (
    DATA,
    DIMENSION_AHP,
    FRAMEWORK,
    ZERO_CARBON_THRESHOLDS,
    Threshold,
    check_park_framework,
    dimension_weights,
    indicator_table,
    load_park_framework,
)
from analytics.park.review import expert_review, final_scores, select_best
from analytics.park.scoring import (
    dimension_scores,
    indicator_scores,
    score_park,
    total_index,
    zero_carbon_check,
)

DIMENSIONS = [
    ("INV", "绿色低碳投资"),
    ("IPL", "产业规划"),
    ("MPL", "总体规划"),
    ("BDS", "建筑设计"),
    ("BCN", "建筑施工"),
    ("PRD", "生产链条"),
    ("OFB", "办公商务"),
    ("CIR", "流通交易"),
    ("LIV", "园区生活消费"),
    ("RES", "未来韧性"),
]
DIMS = [code for code, _ in DIMENSIONS]


@pytest.fixture(scope="module")
def fw() -> Framework:
    return load_park_framework()


@pytest.fixture(scope="module")
def weights(fw: Framework) -> pd.Series:
    return dimension_weights(framework=fw)


@pytest.fixture(scope="module")
def codes(fw: Framework) -> list[str]:
    return list(indicator_table(fw)["code"])


@pytest.fixture(scope="module")
def parks(fw: Framework) -> pd.DataFrame:
    return demo_parks(framework=fw)


@pytest.fixture(scope="module")
def reviews(parks: pd.DataFrame, fw: Framework) -> pd.DataFrame:
    return demo_reviews(parks, framework=fw)


def _values(codes: list[str], rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Park × indicator raw values: NaN except the cells given."""
    frame = pd.DataFrame(np.nan, index=pd.Index(list(rows), name="park_id"), columns=codes)
    for park, cells in rows.items():
        for code, value in cells.items():
            frame.loc[park, code] = value
    return frame


# --------------------------------------------------------------------------- framework and AHP
def test_framework_has_ten_dimensions_in_order(fw: Framework) -> None:
    assert [(d.code, d.name_zh) for d in fw.root.children] == DIMENSIONS
    for dimension in fw.root.children:
        assert 2 <= len(dimension.children) <= 4
        for ind in dimension.children:
            assert ind.unit and ind.goalposts is not None and ind.name_zh and ind.name_en
    # the file is in the indicator framework schema
    assert load_framework(FRAMEWORK).indicator_codes == fw.indicator_codes


def test_zero_carbon_thresholds_are_best_goalposts(fw: Framework) -> None:
    meta = indicator_table(fw).set_index("code")
    expected = {
        "co2_per_energy": (0.2, -1),
        "clean_energy_share": (90.0, 1),
        "solid_waste_reuse": (80.0, 1),
        "waste_heat_reuse": (50.0, 1),
        "water_reuse": (80.0, 1),
    }
    assert {t.indicator for t in ZERO_CARBON_THRESHOLDS} == set(expected)
    for code, (best, direction) in expected.items():
        assert meta.loc[code, "best"] == best
        assert meta.loc[code, "direction"] == direction


def test_framework_check_refuses_a_moved_threshold(fw: Framework) -> None:
    doc = fw.root.model_copy(deep=True)
    prd = next(d for d in doc.children if d.code == "PRD")
    water = next(i for i in prd.children if i.code == "water_reuse")
    water.goalposts = water.goalposts.model_copy(update={"best": 90.0})
    with pytest.raises(InvalidFramework, match=r"water_reuse.*best goalpost 80"):
        check_park_framework(Framework(name="x", root=doc))


def test_shipped_ahp_is_consistent_and_weights_sum_to_one(weights: pd.Series) -> None:
    result = analyse(read_matrix(DIMENSION_AHP))
    assert result.cr < 0.1
    assert list(weights.index) == DIMS
    assert weights.sum() == pytest.approx(1.0)
    assert (weights > 0).all()
    assert weights.idxmax() == "PRD"


def test_inconsistent_or_mismatched_matrix(tmp_path: Path, fw: Framework) -> None:
    path = tmp_path / "m.csv"
    path.write_text(",INV,IPL,MPL\nINV,1,2,3\nIPL,,1,1\nMPL,,,1\n", encoding="utf-8")
    with pytest.raises(InvalidData, match="missing"):
        dimension_weights(path, fw)
    # INV is 1/9 of every other dimension, and each of those is 9 times every later one: a
    # cycle of strong judgments no weighting can honour.
    rows = [",".join(["", *DIMS]), ",".join(["INV", "1", *(["1/9"] * (len(DIMS) - 1))])]
    for i, row in enumerate(DIMS[1:], start=1):
        rows.append(",".join([row, *([""] * i), "1", *(["9"] * (len(DIMS) - i - 1))]))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InvalidData, match="inconsistent, CR"):
        dimension_weights(path, fw)


# --------------------------------------------------------------------------- goalpost scoring
@pytest.mark.parametrize(
    ("code", "value", "score"),
    [
        ("solid_waste_reuse", 40.0, 0.0),  # worst
        ("solid_waste_reuse", 80.0, 100.0),  # best = the threshold
        ("solid_waste_reuse", 95.0, 100.0),  # beyond best: truncated
        ("solid_waste_reuse", 60.0, 50.0),  # midway
        ("solid_waste_reuse", 10.0, 0.0),  # below worst: truncated
        ("co2_per_energy", 2.5, 0.0),  # direction −1: worst is the high value
        ("co2_per_energy", 0.2, 100.0),  # the zero-carbon threshold scores full
        ("co2_per_energy", 0.05, 100.0),
        ("co2_per_energy", 1.35, 50.0),
        ("co2_per_energy", 4.0, 0.0),
    ],
)
def test_goalpost_edges(
    fw: Framework, codes: list[str], code: str, value: float, score: float
) -> None:
    scores = indicator_scores(_values(codes, {"p": {code: value}}), fw)
    assert scores.loc["p", code] == pytest.approx(score, abs=1e-9)
    assert scores.drop(columns=code).isna().all(axis=None)


def test_dimension_and_total_renormalise(
    fw: Framework, codes: list[str], weights: pd.Series
) -> None:
    values = _values(
        codes,
        {
            "one": {"solid_waste_reuse": 60.0},  # PRD from one indicator of four
            "two": {"solid_waste_reuse": 80.0, "water_reuse": 40.0, "clean_energy_share": 90.0},
        },
    )
    out = score_park(values, fw, weights)
    assert out.loc["one", "PRD"] == pytest.approx(50.0)
    assert out.loc["two", "PRD"] == pytest.approx(50.0)  # mean of 100 and 0
    assert math.isnan(out.loc["one", "INV"])
    assert out.loc["one", "total"] == pytest.approx(50.0)  # only PRD is scored
    w = weights[["PRD", "RES"]]
    assert out.loc["two", "total"] == pytest.approx((50 * w["PRD"] + 100 * w["RES"]) / w.sum())
    assert out.loc["two", "dimensions_scored"] == 2


def test_total_is_the_weighted_mean_on_full_data(
    fw: Framework, parks: pd.DataFrame, weights: pd.Series
) -> None:
    ind = indicator_scores(parks, fw)
    dims = dimension_scores(ind, fw)
    assert ((ind >= 0) & (ind <= 100)).all(axis=None)
    expected = (dims[DIMS] * weights[DIMS]).sum(axis=1)
    pd.testing.assert_series_equal(total_index(dims, weights), expected, check_names=False)


# --------------------------------------------------------------------------- zero-carbon check
@pytest.mark.parametrize("threshold", ZERO_CARBON_THRESHOLDS, ids=lambda t: t.indicator)
def test_zero_carbon_threshold_edges(codes: list[str], threshold: Threshold) -> None:
    step = 0.001 if threshold.value < 1 else 0.1
    outside = threshold.value + step if threshold.comparison == "<=" else threshold.value - step
    values = _values(
        codes,
        {"at": {threshold.indicator: threshold.value}, "out": {threshold.indicator: outside}},
    )
    check = zero_carbon_check(values)
    assert bool(check.loc["at", threshold.indicator]) is True
    assert bool(check.loc["out", threshold.indicator]) is False


def test_zero_carbon_all_met_and_missing(codes: list[str]) -> None:
    at = {t.indicator: t.value for t in ZERO_CARBON_THRESHOLDS}
    partial = {**at, "water_reuse": np.nan}
    check = zero_carbon_check(_values(codes, {"all": at, "partial": partial}))
    assert check["all_met"].tolist() == [True, False]
    assert bool(check.loc["partial", "water_reuse"]) is False


# --------------------------------------------------------------------------- expert review
def _reviews(rows: list[tuple[str, str, str, float]], item: str = "dimension") -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["park", "expert", item, "score"])


def test_expert_aggregation_hand_table() -> None:
    scores = [70, 80, 80, 80, 95]  # range exactly 25, cv ≈ 0.11
    table = _reviews([("A", f"E{k}", "INV", s) for k, s in enumerate(scores, 1)])
    table = pd.concat([table, _reviews([("A", "E1", "PRD", 40.0), ("B", "E1", "INV", 10.0)])])
    out = expert_review(table).set_index(["park", "dimension"])
    row = out.loc[("A", "INV")]
    assert (row["experts"], row["mean"], row["median"]) == (5, 81.0, 80.0)
    assert (row["min"], row["max"], row["range"]) == (70.0, 95.0, 25.0)
    assert row["std"] == pytest.approx(math.sqrt(80.0))
    assert row["cv"] == pytest.approx(math.sqrt(80.0) / 81.0)
    assert not row["disagreement"]  # a range of exactly 25 is not more than 25
    lone = out.loc[("A", "PRD")]
    assert lone["experts"] == 1 and math.isnan(lone["std"]) and not lone["disagreement"]


@pytest.mark.parametrize(
    ("scores", "flag"),
    [
        ([70, 80, 80, 80, 95], False),  # range 25.0
        ([70, 80, 80, 80, 95.1], True),  # range 25.1
        ([10, 12], False),  # cv = 1.414/11 ≈ 0.13
        ([10, 20], True),  # range 10 but cv ≈ 0.47
        ([0, 0, 0], False),  # all zero: cv undefined, no spread
    ],
)
def test_disagreement_edges(scores: list[float], flag: bool) -> None:
    table = _reviews([("A", f"E{k}", "INV", s) for k, s in enumerate(scores, 1)])
    assert bool(expert_review(table)["disagreement"].iloc[0]) is flag


def test_self_overrated_edge_and_median_consensus() -> None:
    table = _reviews([("A", f"E{k}", "INV", s) for k, s in enumerate([70, 80, 80, 80, 95], 1)])
    at_edge = expert_review(table, pd.DataFrame({"INV": [96.0]}, index=["A"]))
    assert at_edge["gap"].iloc[0] == pytest.approx(15.0)
    assert not at_edge["self_overrated"].iloc[0]
    above = expert_review(table, pd.DataFrame({"park_id": ["A"], "INV": [96.5]}))
    assert above["self_overrated"].iloc[0]
    median = expert_review(table, pd.DataFrame({"INV": [96.0]}, index=["A"]), consensus="median")
    assert median["consensus"].iloc[0] == 80.0
    assert median["self_overrated"].iloc[0]  # 96 − 80 = 16


def test_expert_review_refuses_bad_scores() -> None:
    with pytest.raises(InvalidData, match=r"data row 2 \(park A, expert E2\), column score"):
        expert_review(_reviews([("A", "E1", "INV", 50.0), ("A", "E2", "INV", 101.0)]))
    with pytest.raises(InvalidData, match=r"data row 2.*already scored.*data row 1"):
        expert_review(_reviews([("A", "E1", "INV", 50.0), ("A", "E1", "INV", 60.0)]))
    with pytest.raises(InvalidPipeline, match="consensus"):
        expert_review(_reviews([("A", "E1", "INV", 50.0)]), consensus="mode")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- final scores
def test_consensus_replaces_self_where_reviewed(
    fw: Framework, parks: pd.DataFrame, weights: pd.Series
) -> None:
    ind = indicator_scores(parks, fw)
    own = dimension_scores(ind, fw)
    reviews = _reviews([("P01", "E1", "INV", 10.0), ("P01", "E2", "INV", 20.0)])
    final = final_scores(ind, expert_review(reviews, own), fw, weights, parks).set_index("park_id")
    assert final.loc["P01", "INV"] == pytest.approx(15.0)
    assert final.loc["P01", "PRD"] == pytest.approx(own.loc["P01", "PRD"])
    assert final.loc["P02", "INV"] == pytest.approx(own.loc["P02", "INV"])
    assert final.loc["P01", "reviewed"] == 1 and final.loc["P02", "reviewed"] == 0
    assert final.loc["P01", "disagreements"] == 1  # cv of (10, 20) ≈ 0.47
    assert final.loc["P02", "total"] == pytest.approx(final.loc["P02", "self_total"])
    for _, group in final.groupby("type"):
        ranks = group.sort_values("total", ascending=False)["rank_in_type"].tolist()
        assert ranks == list(range(1, len(group) + 1))


def test_indicator_reviews_recompute_the_dimension(
    fw: Framework, parks: pd.DataFrame, weights: pd.Series
) -> None:
    ind = indicator_scores(parks, fw)
    reviews = _reviews([("P02", "E1", "green_invest_share", 0.0)], item="indicator")
    final = final_scores(ind, expert_review(reviews, ind), fw, weights, parks).set_index("park_id")
    others = ind.loc["P02", ["rd_intensity", "green_finance_share"]].mean()
    assert final.loc["P02", "INV"] == pytest.approx((0.0 + 2 * others) / 3)


# --------------------------------------------------------------------------- selection
def test_select_best_per_type_min_score_and_disagreements() -> None:
    final = pd.DataFrame(
        {
            "park_id": ["x1", "x2", "x3", "y1", "z1", "z2", "w1"],
            "name": ["X1", "X2", "X3", "Y1", "Z1", "Z2", "W1"],
            "type": ["x", "x", "x", "y", "z", "z", "w"],
            "total": [90.0, 80.0, 70.0, 59.99, 95.0, 65.0, 60.0],
            "disagreements": [0, 2, 0, 0, 3, 0, 0],
        }
    )
    two = select_best(final, per_type=2)
    assert two["park_id"].tolist() == ["w1", "x1", "x2", "z2"]  # by type; z1 has 3 > 2
    assert two.groupby("type").size().max() <= 2
    assert (two["total"] >= 60).all()  # y1 at 59.99 is out, w1 at exactly 60 is in
    one = select_best(final, per_type=1, min_score=75, max_disagreements=0)
    assert one["park_id"].tolist() == ["x1"]
    assert select_best(final, per_type=3, min_score=0)["park_id"].tolist()[1:4] == [
        "x1",
        "x2",
        "x3",
    ]
    with pytest.raises(InvalidPipeline, match="per_type"):
        select_best(final, per_type=0)


# --------------------------------------------------------------------------- evaluate and demo
def test_evaluate_demo(parks: pd.DataFrame, reviews: pd.DataFrame) -> None:
    result = evaluate(parks, reviews)
    final = result.final.set_index("park_id")
    for pilot in PILOT_PARKS:
        assert 0 < final.loc[pilot, "total"] < 100
        assert final.loc[pilot, "reviewed"] == len(DIMS)
    assert result.synthetic
    assert result.ahp_cr < 0.1
    assert len(result.dimension_scores) == len(parks) * len(DIMS)
    assert len(result.expert) == len(parks) * len(DIMS)
    assert result.selected.groupby("type").size().max() <= 2
    assert (result.selected["total"] >= 60).all()
    assert list(result.zero_carbon.columns[:2]) == ["park_id", "name"]
    plain = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert set(plain) >= {"indicator_scores", "final", "selected", "zero_carbon", "weights"}
    assert {row["park_id"] for row in plain["final"]} >= set(PILOT_PARKS)


def test_evaluate_without_reviews_keeps_self_scores(parks: pd.DataFrame) -> None:
    result = evaluate(parks, None, per_type=1)
    final = result.final.set_index("park_id")
    own = result.self_scores.set_index("park_id")
    pd.testing.assert_series_equal(final["total"], own["total"])
    assert result.expert.empty and (final["reviewed"] == 0).all()
    assert result.selected.groupby("type").size().max() == 1


def test_evaluate_refuses_reviews_of_unknown_parks(parks: pd.DataFrame) -> None:
    with pytest.raises(InvalidData, match="data row 2: park 'P99'"):
        evaluate(parks, _reviews([("P01", "E1", "INV", 50.0), ("P99", "E1", "INV", 50.0)]))
    with pytest.raises(InvalidData, match="column dimension: 'XYZ'"):
        evaluate(parks, _reviews([("P01", "E1", "XYZ", 50.0)]))


def test_demo_data(parks: pd.DataFrame, reviews: pd.DataFrame, fw: Framework) -> None:
    assert (parks["synthetic"] == "yes").all() and (reviews["synthetic"] == "yes").all()
    assert 6 <= len(parks) <= 8
    names = parks.set_index("park_id")["name_zh"]
    assert names["P01"] == "成都绿色氢能产业功能区A区"
    assert names["P02"] == "长安静脉产业园"
    keyed = parks.set_index("park_id")
    assert keyed.loc["P02", "solid_waste_reuse"] >= 80
    assert keyed.loc["P01", "clean_energy_share"] >= 85
    assert keyed.loc["P02", "solid_waste_reuse"] > keyed["solid_waste_reuse"].drop("P02").median()
    pd.testing.assert_frame_equal(parks, demo_parks(framework=fw))
    assert not parks.equals(demo_parks(seed=1, framework=fw))
    assert reviews.groupby(["park", "dimension"]).size().eq(5).all()


def test_shipped_demo_csvs_match_the_generator(
    parks: pd.DataFrame, reviews: pd.DataFrame, fw: Framework
) -> None:
    shipped = read_parks(DATA / "demo_parks.csv", fw)
    pd.testing.assert_frame_equal(shipped, demo_parks(framework=fw))
    shipped_reviews = read_reviews(DATA / "demo_reviews.csv")
    pd.testing.assert_frame_equal(shipped_reviews, reviews)


# --------------------------------------------------------------------------- readers
@pytest.mark.parametrize(
    ("row", "column", "value", "fragment"),
    [
        (2, "water_reuse", "high", "'high' is not a number"),
        (3, "co2_per_energy", "-0.1", "is negative"),
        (1, "clean_energy_share", "100.5", "above 100 %"),
        (4, "type", "", "blank"),
        (2, "park_id", "P01", "repeats data row 1"),
    ],
)
def test_read_parks_names_bad_rows(
    tmp_path: Path, parks: pd.DataFrame, row: int, column: str, value: str, fragment: str
) -> None:
    frame = parks.astype(object)
    frame.loc[row - 1, column] = value
    path = tmp_path / "parks.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InvalidData) as info:
        read_parks(path)
    assert f"data row {row}" in info.value.message
    assert f"column {column}" in info.value.message
    assert fragment in info.value.message


def test_read_parks_blank_is_missing_and_columns_are_required(
    tmp_path: Path, parks: pd.DataFrame
) -> None:
    frame = parks.astype(object)
    frame.loc[0, "storage_ratio"] = ""
    path = tmp_path / "parks.csv"
    frame.to_csv(path, index=False)
    assert math.isnan(read_parks(path).loc[0, "storage_ratio"])
    parks.drop(columns="water_reuse").to_csv(path, index=False)
    with pytest.raises(InvalidData, match=r"missing column.*water_reuse"):
        read_parks(path)


def test_read_reviews_names_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("park,expert,dimension,score\nP01,E1,INV,50\nP01,E2,INV,abc\n", "utf-8")
    with pytest.raises(InvalidData, match=r"data row 2 \(park P01, expert E2\), column score"):
        read_reviews(path)
    path.write_text("park,expert,score\nP01,E1,50\n", "utf-8")
    with pytest.raises(InvalidData, match="'dimension' or 'indicator'"):
        read_reviews(path)


def test_a_park_reporting_only_its_best_dimensions_is_not_selected() -> None:
    from analytics.park.review import select_best

    final = pd.DataFrame(
        {
            "park_id": ["P9", "P1"],
            "name": ["cherry-picker", "full report"],
            "type": ["t", "t"],
            "total": [100.0, 70.0],
            "dimensions_scored": [2, 10],
        }
    )
    assert select_best(final, per_type=1)["park_id"].tolist() == ["P1"]
    assert select_best(final, per_type=1, min_dimensions=2)["park_id"].tolist() == ["P9"]
