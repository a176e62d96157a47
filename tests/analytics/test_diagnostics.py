"""Diagnostics: child–parent correlations, collinear siblings and one unit's profile."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.errors import InvalidData, InvalidFramework
from analytics.indicators.diagnostics import (
    collinear_pairs,
    hierarchy_levels,
    parent_correlations,
    unit_profile,
)

NAN = float("nan")
FAST = settings(max_examples=25, deadline=None)
ONE_TO_FIVE = [1.0, 2.0, 3.0, 4.0, 5.0]


def pair(child: list[float], parent: list[float]) -> pd.DataFrame:
    units = [f"U{i}" for i in range(len(child))]
    return pd.DataFrame({"c": child, "p": parent}, index=pd.Index(units, name="uCode"))


# -- child ~ parent ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("child", "parent", "method", "n", "r", "flag"),
    [
        # Centred: (−2 −1 0 1 2)·(−1 −2 1 0 2) = 8 over √(10·10): r = 0.8; ranks are the values.
        (ONE_TO_FIVE, [2.0, 1.0, 4.0, 3.0, 5.0], "pearson", 5, 0.8, "ok"),
        (ONE_TO_FIVE, [2.0, 1.0, 4.0, 3.0, 5.0], "spearman", 5, 0.8, "ok"),
        # (−2 −1 0 1 2)·(1 −1 −2 2 0) = 1 → r = 0.1, below the 0.2 bar.
        (ONE_TO_FIVE, [4.0, 2.0, 1.0, 5.0, 3.0], "pearson", 5, 0.1, "weak"),
        # (−2 −1 0 1 2)·(0 1 −2 −1 2) = 2 → r = 0.2 exactly: weak means strictly below.
        (ONE_TO_FIVE, [3.0, 4.0, 1.0, 2.0, 5.0], "pearson", 5, 0.2, "ok"),
        (ONE_TO_FIVE, [5.0, 4.0, 3.0, 2.0, 1.0], "pearson", 5, -1.0, "negative"),
        (ONE_TO_FIVE, [5.0, 4.0, 3.0, 2.0, 1.0], "spearman", 5, -1.0, "negative"),
        (ONE_TO_FIVE, ONE_TO_FIVE, "pearson", 5, 1.0, "ok"),
        # An outlier: centred (−21 −20 −19 −18 78)·(−2 −1 0 1 2) = 200 over √(7610·10);
        # the ranks still agree perfectly.
        ([1.0, 2.0, 3.0, 4.0, 100.0], ONE_TO_FIVE, "pearson", 5, 200 / math.sqrt(76100), "ok"),
        ([1.0, 2.0, 3.0, 4.0, 100.0], ONE_TO_FIVE, "spearman", 5, 1.0, "ok"),
        # Tied ranks average: (1.5 1.5 3 4) vs (1 2 3 4) → 4.5 / √(4.5·5).
        ([1.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0], "spearman", 4, 4.5 / math.sqrt(22.5), "ok"),
        # Pairwise deletion: the unit missing a child value drops out.
        ([1.0, 2.0, NAN, 4.0, 5.0], [1.0, 2.0, 30.0, 4.0, 5.0], "pearson", 4, 1.0, "ok"),
        # Undefined: a constant child, or only two common units.
        ([3.0, 3.0, 3.0, 3.0], [1.0, 2.0, 3.0, 4.0], "pearson", 4, NAN, "undefined"),
        ([1.0, NAN, 3.0, NAN], [1.0, 2.0, 3.0, 4.0], "spearman", 2, NAN, "undefined"),
    ],
)
def test_parent_correlation_table(
    child: list[float], parent: list[float], method: str, n: int, r: float, flag: str
) -> None:
    out = parent_correlations(pair(child, parent), {"c": "p"}, method=method)
    assert list(out.columns) == ["child", "parent", "n", "r", "flag"]
    row = out.iloc[0]
    assert (row["child"], row["parent"], row["n"], row["flag"]) == ("c", "p", n, flag)
    if math.isnan(r):
        assert math.isnan(row["r"])
    else:
        assert row["r"] == pytest.approx(r, abs=1e-12)


def test_parent_correlations_over_a_hierarchy() -> None:
    scores = pd.DataFrame(
        {
            "i1": ONE_TO_FIVE,
            "i2": [5.0, 4.0, 3.0, 2.0, 1.0],
            "i3": [4.0, 2.0, 1.0, 5.0, 3.0],
            "S": ONE_TO_FIVE,
            "Index": ONE_TO_FIVE,
        },
        index=list("ABCDE"),
    )
    before = scores.copy()
    # 'gone' is not in scores: its pair is skipped, not an error.
    parents = {"i1": "S", "i2": "S", "i3": "S", "gone": "S", "S": "Index"}
    out = parent_correlations(scores, parents, weak=0.3)
    pd.testing.assert_frame_equal(scores, before)
    assert list(out["child"]) == ["i1", "i2", "i3", "S"]
    assert list(out["flag"]) == ["ok", "negative", "weak", "ok"]


@pytest.mark.parametrize(
    ("parents", "kwargs", "error", "message"),
    [
        ({"c": "p"}, {"method": "kendall"}, InvalidData, "method='kendall'"),
        ({"c": "p"}, {"weak": 1.5}, InvalidData, "weak=1.5"),
        ({"c": "p", "p": "c"}, {}, InvalidFramework, "loops through"),
        ({"c": "c"}, {}, InvalidFramework, "'c' is its own parent"),
        ({"x": "y"}, {}, InvalidData, "no child is in scores together with its parent"),
    ],
)
def test_parent_correlations_rejects(
    parents: dict[str, str], kwargs: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        parent_correlations(pair(ONE_TO_FIVE, ONE_TO_FIVE), parents, **kwargs)


def test_non_numeric_scores_are_named() -> None:
    scores = pd.DataFrame({"c": ["a", "b", "c"], "p": [1.0, 2.0, 3.0]})
    with pytest.raises(InvalidData, match="column 'c' is not numeric"):
        parent_correlations(scores, {"c": "p"})


values_5_to_12 = st.lists(st.integers(min_value=-100, max_value=100), min_size=5, max_size=12)


@given(data=st.data(), child=values_5_to_12)
@FAST
def test_correlations_are_invariant_to_rescaling_the_child(
    data: st.DataObject, child: list[int]
) -> None:
    parent = data.draw(st.lists(st.integers(-100, 100), min_size=len(child), max_size=len(child)))
    scale = data.draw(st.integers(min_value=1, max_value=50))
    shift = data.draw(st.integers(min_value=-1000, max_value=1000))
    base = parent_correlations(pair([float(v) for v in child], parent), {"c": "p"})
    moved_child = [float(v * scale + shift) for v in child]
    moved = parent_correlations(pair(moved_child, parent), {"c": "p"})
    np.testing.assert_allclose(moved["r"], base["r"], rtol=1e-9, atol=1e-12)
    # Spearman sees only the order, so any increasing map leaves it alone.
    ranked = parent_correlations(pair(child, parent), {"c": "p"}, method="spearman")
    cubed = parent_correlations(pair([v**3 for v in child], parent), {"c": "p"}, "spearman")
    np.testing.assert_allclose(cubed["r"], ranked["r"], rtol=1e-12)


# -- collinear siblings ------------------------------------------------------------------------
def sibling_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i1": ONE_TO_FIVE,
            "i2": [2.0, 4.0, 6.0, 8.0, 11.0],
            "i3": [4.0, 2.0, 1.0, 5.0, 3.0],
            "i4": [-1.0, -2.0, -3.0, -4.0, -5.0],
            "j1": ONE_TO_FIVE,
            "S": ONE_TO_FIVE,
            "T": ONE_TO_FIVE,
        },
        index=list("ABCDE"),
    )


PARENTS = {"i1": "S", "i2": "S", "i3": "S", "i4": "S", "j1": "T", "S": "I", "T": "I"}


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        # r(i1, i2): centred (−2 −1 0 1 2)·(−4.2 −2.2 −0.2 1.8 4.8) = 22 over √(10·48.8).
        (
            0.9,
            [
                ("S", "i1", "i4", -1.0),
                ("S", "i1", "i2", 22 / math.sqrt(488)),
                ("S", "i2", "i4", -22 / math.sqrt(488)),
                # S and T are siblings under I, and S equals T.
                ("I", "S", "T", 1.0),
            ],
        ),
        (0.999, [("S", "i1", "i4", -1.0), ("I", "S", "T", 1.0)]),
        # |r(i1, i3)| = 0.1 is above 0.05; pairs across families (i1, j1) never appear.
        (0.05, None),
    ],
)
def test_collinear_pairs(threshold: float, expected: list | None) -> None:
    out = collinear_pairs(sibling_scores(), PARENTS, threshold=threshold)
    assert list(out.columns) == ["parent", "code_a", "code_b", "n", "r"]
    if expected is None:
        assert ("i1", "i3") in set(zip(out["code_a"], out["code_b"], strict=True))
        assert not ((out["code_a"] == "i1") & (out["code_b"] == "j1")).any()
        return
    got = list(zip(out["parent"], out["code_a"], out["code_b"], strict=True))
    assert got == [row[:3] for row in expected]
    assert list(out["r"]) == pytest.approx([row[3] for row in expected], abs=1e-12)
    assert (out["n"] == 5).all()


def test_collinear_pairs_rejects_a_bad_threshold() -> None:
    with pytest.raises(InvalidData, match="threshold=1"):
        collinear_pairs(sibling_scores(), PARENTS, threshold=1)


# -- one unit's profile ------------------------------------------------------------------------
def profile_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i1": [0.9, 0.5, 0.5, 0.1, 0.3],
            "i2": [NAN, 0.2, 0.8, 0.6, 0.4],
            "S": [0.7, 0.6, 0.5, 0.4, 0.3],
            "I": [0.7, 0.6, 0.5, 0.4, 0.3],
        },
        index=pd.Index(list("ABCDE"), name="uCode"),
    )


PROFILE_PARENTS = {"i1": "S", "i2": "S", "S": "I"}


@pytest.mark.parametrize(
    ("unit", "code", "rank", "n_units", "percentile", "position"),
    [
        # i1: A 0.9 > B = C 0.5 > E 0.3 > D 0.1. Ties take the lowest rank; top × 5 = 1.25,
        # so only rank 1 is a strength and only rank 1 from the bottom a weakness.
        ("A", "i1", 1, 5, 100.0, "strength"),
        ("B", "i1", 2, 5, 50.0, "neutral"),
        ("C", "i1", 2, 5, 50.0, "neutral"),
        ("E", "i1", 4, 5, 25.0, "neutral"),
        ("D", "i1", 5, 5, 0.0, "weakness"),
        # i2 has four scores: C 0.8 > D 0.6 > E 0.4 > B 0.2, top × 4 = 1.
        ("C", "i2", 1, 4, 100.0, "strength"),
        ("D", "i2", 2, 4, 200 / 3, "neutral"),
        ("B", "i2", 4, 4, 0.0, "weakness"),
        ("A", "i2", None, 4, NAN, "missing"),
    ],
)
def test_unit_profile_ranks(
    unit: str, code: str, rank: int | None, n_units: int, percentile: float, position: str
) -> None:
    out = unit_profile(profile_scores(), unit, PROFILE_PARENTS).set_index("code")
    row = out.loc[code]
    assert row["n_units"] == n_units and row["position"] == position
    if rank is None:
        assert pd.isna(row["rank"]) and math.isnan(row["percentile"])
    else:
        assert row["rank"] == rank
        assert row["percentile"] == pytest.approx(percentile)


def test_unit_profile_layout() -> None:
    scores = profile_scores()
    before = scores.copy()
    out = unit_profile(scores, "B", PROFILE_PARENTS)
    pd.testing.assert_frame_equal(scores, before)
    assert list(out.columns) == [
        "code",
        "level",
        "score",
        "rank",
        "n_units",
        "percentile",
        "position",
    ]
    # The index first, indicators last; COINr's levels count up from the indicators.
    assert list(zip(out["code"], out["level"], strict=True)) == [
        ("I", 3),
        ("S", 2),
        ("i1", 1),
        ("i2", 1),
    ]
    assert list(out["score"]) == [0.6, 0.6, 0.5, 0.2]


def test_unit_profile_with_raw_values_and_directions() -> None:
    raw = pd.DataFrame(
        {"co2": [5.0, 3.0, 3.0, 1.0], "gdp": [5.0, 3.0, 3.0, 1.0]},
        index=pd.Index(list("ABCD"), name="uCode"),
    )
    parents = {"co2": "I", "gdp": "I"}
    out = unit_profile(raw, "A", parents, directions={"co2": -1}, top=0.25).set_index("code")
    # Lower CO2 is better: A's 5 is the worst; its GDP the best.
    assert (out.loc["co2", "rank"], out.loc["co2", "position"]) == (4, "weakness")
    assert (out.loc["gdp", "rank"], out.loc["gdp", "position"]) == (1, "strength")
    # With all units tied nobody stands out.
    flat = pd.DataFrame({"x": [1.0, 1.0, 1.0, 1.0]}, index=list("ABCD"))
    assert unit_profile(flat, "A", {}, top=0.5).loc[0, "position"] == "neutral"


@given(scores=st.lists(st.integers(min_value=0, max_value=6), min_size=2, max_size=8))
@FAST
def test_flipping_the_direction_swaps_strengths_and_weaknesses(scores: list[int]) -> None:
    units = [f"U{i}" for i in range(len(scores))]
    frame = pd.DataFrame({"x": [float(s) for s in scores]}, index=units)
    swap = {"strength": "weakness", "weakness": "strength", "neutral": "neutral"}
    for unit in units:
        up = unit_profile(frame, unit, {}, top=0.25).iloc[0]
        down = unit_profile(frame, unit, {}, directions={"x": -1}, top=0.25).iloc[0]
        assert down["position"] == swap[up["position"]]
        assert 1 <= up["rank"] <= len(scores) and 0 <= up["percentile"] <= 100
        # Rank counts the units strictly above: a higher score never ranks worse.
        assert up["rank"] == 1 + sum(s > frame.at[unit, "x"] for s in scores)


def test_unknown_unit_lists_valid_ones() -> None:
    with pytest.raises(InvalidData, match=r"unit 'Z' is not in scores \(units include A, B, C"):
        unit_profile(profile_scores(), "Z", PROFILE_PARENTS)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"top": 0.75}, InvalidData, "top=0.75"),
        ({"directions": {"i1": 2}}, InvalidFramework, "direction of 'i1' is 2"),
    ],
)
def test_unit_profile_rejects(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        unit_profile(profile_scores(), "A", PROFILE_PARENTS, **kwargs)


def test_hierarchy_levels_of_an_unbalanced_tree() -> None:
    # 'x' sits directly under the index next to an aggregate: it is still an indicator (1).
    parents = {"a": "S", "b": "S", "S": "I", "x": "I"}
    assert hierarchy_levels(["I", "S", "a", "x"], parents) == {"I": 3, "S": 2, "a": 1, "x": 1}


def test_too_few_units_for_a_quartile_are_all_neutral() -> None:
    # Three units, top 25 %: 0.75 of a rank is no rank, so everyone is neutral.
    three = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=list("ABC"))
    positions = [unit_profile(three, u, {}).loc[0, "position"] for u in "ABC"]
    assert positions == ["neutral"] * 3
