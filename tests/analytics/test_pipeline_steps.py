"""Each pipeline step on small hand-computed tables, and the properties every run must keep."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.errors import ComputationError, InvalidData, InvalidPipeline
from analytics.indicators import weighting
from analytics.indicators.aggregate import aggregate, weighted_mean
from analytics.indicators.denominate import denominate
from analytics.indicators.framework import parse_framework
from analytics.indicators.impute import impute
from analytics.indicators.normalise import normalise_series, parse_spec
from analytics.indicators.screen import screen
from analytics.indicators.treat import kurt, log_ct, skew, treat

X = pd.Series([2.0, 4.0, 6.0, np.nan, 10.0], index=list("abcde"), name="x")


@pytest.mark.parametrize(
    ("spec", "direction", "kw", "expected"),
    [
        ({"method": "minmax"}, 1, {}, [0, 25, 50, None, 100]),
        ({"method": "minmax", "range": [1, 100]}, -1, {}, [100, 75.25, 50.5, None, 1]),
        # mean 5.5, sample sd sqrt(35/3)
        (
            {"method": "zscore"},
            1,
            {},
            [(v - 5.5) / math.sqrt(35 / 3) for v in (2, 4, 6)]
            + [None]
            + [(10 - 5.5) / math.sqrt(35 / 3)],
        ),
        ({"method": "rank"}, 1, {}, [1, 2, 3, None, 4]),
        ({"method": "borda"}, -1, {}, [3, 2, 1, None, 0]),
        ({"method": "prank"}, 1, {}, [0, 1 / 3, 2 / 3, None, 1]),
        ({"method": "fracmax"}, 1, {}, [0.2, 0.4, 0.6, None, 1]),
        ({"method": "dist2max"}, 1, {}, [0, 0.25, 0.5, None, 1]),
        ({"method": "dist2ref", "ref_unit": "c"}, 1, {}, [0, 0.5, 1, None, 2]),
        ({"method": "dist2ref", "ref_unit": "c", "cap_max": True}, 1, {}, [0, 0.5, 1, None, 1]),
        ({"method": "dist2targ"}, 1, {"target": 6}, [0, 0.5, 1, None, 2]),
        # direction -1: from the maximum towards the target
        ({"method": "dist2targ", "cap_max": True}, -1, {"target": 4}, [1, 1, 2 / 3, None, 0]),
        ({"method": "goalposts"}, 1, {"goalposts": (4, 8)}, [0, 0, 50, None, 100]),
        ({"method": "goalposts", "worst": 10, "best": 2}, -1, {}, [100, 75, 50, None, 0]),
        (
            {"method": "goalposts", "worst": 4, "best": 8, "truncate": False, "scale": 1},
            1,
            {},
            [-0.5, 0, 0.5, None, 1.5],
        ),
        ({"method": "ref_ratio"}, 1, {"reference": 4}, [50, 100, 150, None, 250]),
        ({"method": "ref_ratio", "cap": 1}, -1, {"reference": 4}, [100, 100, 200 / 3, None, 40]),
        (
            {"method": "categorical", "bins": [4, 8], "scores": [0, 60, 100]},
            1,
            {},
            [0, 60, 60, None, 100],
        ),
    ],
)
def test_normalisation_table(spec, direction, kw, expected) -> None:
    got = normalise_series(X, parse_spec(spec, "test"), direction=direction, **kw)
    want = np.array([np.nan if v is None else v for v in expected], dtype=float)
    np.testing.assert_allclose(got.to_numpy(dtype=float), want, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"method": "minmax", "range": [0]}, "range"),
        ({"method": "softmax"}, "method"),
        ({"method": "categorical", "bins": [3, 1], "scores": [0, 1, 2]}, "increase"),
        ({"method": "categorical", "bins": [1], "scores": [0]}, "one more score"),
        ({"method": "rank", "extra": 1}, "extra"),
    ],
)
def test_bad_normalisation_specs_are_named(spec, fragment) -> None:
    with pytest.raises(InvalidPipeline, match=fragment):
        parse_spec(spec, "normalise")


def test_normalisation_refuses_what_it_cannot_compute() -> None:
    flat = pd.Series([3.0, 3.0, 3.0], name="flat")
    with pytest.raises(ComputationError, match="flat: the values have no range"):
        normalise_series(flat, parse_spec({"method": "minmax"}, "t"))
    with pytest.raises(ComputationError, match="standard deviation is zero"):
        normalise_series(flat, parse_spec({"method": "zscore"}, "t"))
    with pytest.raises(InvalidData, match="dist2targ needs a target"):
        normalise_series(X, parse_spec({"method": "dist2targ"}, "t"))
    with pytest.raises(InvalidData, match="reference unit zz"):
        normalise_series(X, parse_spec({"method": "dist2ref", "ref_unit": "zz"}, "t"))


@pytest.mark.parametrize(
    ("method", "x", "w", "expected"),
    [
        ("amean", [10, 20, 60], [1, 1, 2], (10 + 20 + 120) / 4),
        ("amean", [10, np.nan, 60], [1, 1, 2], (10 + 120) / 3),  # NaN skipped, weights renormalised
        ("gmean", [1, 100], [1, 1], 10.0),
        ("gmean", [4, np.nan, 16], [1, 5, 3], math.exp((math.log(4) + 3 * math.log(16)) / 4)),
        ("hmean", [1, 4], [1, 1], 2 / (1 + 0.25)),
        ("hmean", [2, np.nan, 6], [2, 1, 1], 3 / (2 / 2 + 1 / 6)),
        ("amean", [np.nan, np.nan], [1, 1], np.nan),
    ],
)
def test_weighted_means(method, x, w, expected) -> None:
    got = weighted_mean(np.array([x], float), np.array([w], float), method)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


def test_geometric_and_harmonic_means_refuse_non_positive_scores() -> None:
    with pytest.raises(ComputationError, match="geometric mean"):
        weighted_mean(np.array([[0.0, 2.0]]), np.array([[1.0, 1.0]]), "gmean")
    with pytest.raises(ComputationError, match="harmonic mean"):
        weighted_mean(np.array([[0.0, 2.0]]), np.array([[1.0, 1.0]]), "hmean")


FRAMEWORK = {
    "name": "tiny",
    "level_names": ["Indicator", "Pillar", "Index"],
    "index": {
        "code": "IDX",
        "children": [
            {
                "code": "P1",
                "weight": 2,
                "children": [
                    {"code": "a", "direction": 1, "weight": 1},
                    {"code": "b", "direction": -1, "weight": 3},
                ],
            },
            {"code": "P2", "children": [{"code": "c", "direction": 1}]},
        ],
    },
}


def test_aggregation_up_a_small_hierarchy() -> None:
    fw = parse_framework(FRAMEWORK)
    norm = pd.DataFrame({"a": [0.0, 100], "b": [100.0, np.nan], "c": [50.0, 20]}, index=["u", "v"])
    out = aggregate(norm, fw, weighting.given(fw), "amean")
    assert list(out.columns) == ["a", "b", "c", "P1", "P2", "IDX"]
    np.testing.assert_allclose(out["P1"], [75.0, 100.0])  # v: b missing, a alone
    np.testing.assert_allclose(out["IDX"], [(2 * 75 + 50) / 3, (2 * 100 + 20) / 3])
    per_level = aggregate(norm + 1, fw, weighting.given(fw), {2: "amean", 3: "gmean"})
    np.testing.assert_allclose(
        per_level["IDX"].iloc[0], math.exp((2 * math.log(76) + math.log(51)) / 3)
    )


def test_weights_are_shares_of_siblings() -> None:
    fw = parse_framework(FRAMEWORK)
    shares = weighting.normalised_weights(fw, weighting.given(fw))
    assert shares == {"IDX": 1.0, "P1": 2 / 3, "P2": 1 / 3, "a": 0.25, "b": 0.75, "c": 1.0}
    assert set(weighting.normalised_weights(fw, weighting.equal(fw)).values()) <= {1.0, 0.5}


def test_denominate_divides_and_never_divides_by_zero() -> None:
    data = pd.DataFrame({"co2": [10.0, 20.0, 5.0], "pm": [1.0, 2.0, 3.0]})
    sizes = pd.DataFrame({"pop": [2.0, 0.0, 5.0]})
    out = denominate(data, {"co2": "pop"}, sizes, {"co2": 10})
    np.testing.assert_allclose(out["co2"], [50.0, np.nan, 10.0])
    assert out["pm"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(InvalidData, match="denominator gdp"):
        denominate(data, {"co2": "gdp"}, sizes)


def test_imputation_methods() -> None:
    data = pd.DataFrame({"x": [1.0, np.nan, 3.0, 10.0, np.nan]})
    groups = pd.Series(["A", "A", "A", "B", "B"])
    assert impute(data, "mean")["x"].tolist() == [1, 14 / 3, 3, 10, 14 / 3]
    assert impute(data, "median")["x"].tolist() == [1, 3, 3, 10, 3]
    assert impute(data, "group_mean", groups=groups)["x"].tolist() == [1, 2, 3, 10, 10]
    panel = pd.DataFrame({"x": [1.0, np.nan, np.nan, 5.0, np.nan, 7.0]})
    units = pd.Series(["u", "u", "u", "v", "v", "v"])
    time = pd.Series([2020, 2021, 2022, 2020, 2021, 2022])
    filled = impute(panel, "carry_forward", time=time, units=units)["x"].tolist()
    assert filled == [1, 1, 1, 5, 5, 7]
    first_missing = impute(
        pd.DataFrame({"x": [np.nan, 2.0]}),
        "carry_forward",
        time=pd.Series([1, 2]),
        units=pd.Series(["u", "u"]),
    )
    assert np.isnan(first_missing["x"][0])  # nothing earlier to carry
    with pytest.raises(InvalidData, match="needs a group"):
        impute(data, "group_mean")


def test_screening_by_availability() -> None:
    data = pd.DataFrame(
        {"a": [1, np.nan, 0], "b": [1, np.nan, 0], "c": [1, 2, 0]}, index=["u", "v", "w"]
    )
    kept, table = screen(data, dat_thresh=0.5)
    assert kept.index.tolist() == ["u", "w"]
    np.testing.assert_allclose(table["Dat_Avail"], [1, 1 / 3, 1])
    kept, _ = screen(data, dat_thresh=0.5, unit_screen="byBoth", nonzero_thresh=0.5)
    assert kept.index.tolist() == ["u"]


def test_treatment_falls_back_to_log_when_winsorising_is_not_enough() -> None:
    x = pd.DataFrame({"x": [1.0] * 20 + [2.0, 3.0, 50.0, 1000.0, 100000.0]})
    out, report = treat(x, winmax=1)
    assert report[0].log and report[0].nwin == 1
    np.testing.assert_allclose(out["x"], log_ct(x["x"].to_numpy()))
    untouched, rep = treat(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0]}))
    assert rep[0].nwin == 0 and untouched["x"].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("values", [[1, 2, 3, 4, 10], [2, 4, 4, 4, 5, 5, 7, 9], [5, 1, 1, 1]])
def test_skew_and_kurtosis_are_the_bias_corrected_sample_ones(values) -> None:
    # scipy's bias-corrected estimators are Excel's SKEW and KURT (and e1071's type 2)
    from scipy import stats

    x = np.array(values, float)
    assert skew(x) == pytest.approx(stats.skew(x, bias=False), rel=1e-12)
    assert kurt(x) == pytest.approx(stats.kurtosis(x, bias=False), rel=1e-12)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    # whole numbers: values that stay distinct after scaling and shifting in floating point
    st.lists(st.integers(-(10**6), 10**6), min_size=3, max_size=12, unique=True),
    st.floats(0.01, 1e3),
    st.floats(-1e3, 1e3),
)
def test_minmax_is_invariant_to_scale_and_shift(values, a, b) -> None:
    x = pd.Series(values, name="x")
    spec = parse_spec({"method": "minmax"}, "t")
    np.testing.assert_allclose(
        normalise_series(x, spec), normalise_series(x * a + b, spec), atol=1e-6
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(finite, finite, finite), min_size=3, max_size=10),
    st.integers(0, 9),
    st.floats(0, 1e5),
)
def test_index_is_monotone_in_a_positive_indicator(rows, unit, bump) -> None:
    fw = parse_framework(FRAMEWORK)
    data = pd.DataFrame(rows, columns=["a", "b", "c"])
    unit %= len(data)
    spec = parse_spec({"method": "minmax"}, "t")

    def index(frame: pd.DataFrame) -> float | None:
        try:
            norm = pd.DataFrame(
                {
                    c: normalise_series(frame[c], spec, direction=1 if c != "b" else -1)
                    for c in frame
                }
            )
        except ComputationError:
            return None
        return aggregate(norm, fw, weighting.given(fw))["IDX"].iloc[unit]

    before = index(data)
    bumped = data.copy()
    bumped.loc[unit, "a"] += bump
    after = index(bumped)
    if before is not None and after is not None:
        assert after >= before - 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 100), min_size=2, max_size=6))
def test_shares_sum_to_one_per_group(ws) -> None:
    doc = {
        "name": "w",
        "index": {
            "code": "I",
            "children": [{"code": f"x{i}", "direction": 1, "weight": w} for i, w in enumerate(ws)],
        },
    }
    fw = parse_framework(doc)
    shares = weighting.normalised_weights(fw, weighting.given(fw))
    assert sum(v for k, v in shares.items() if k != "I") == pytest.approx(1.0)
