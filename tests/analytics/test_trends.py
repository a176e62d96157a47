"""Trends: year-on-year change, CAGR, Mann–Kendall and Theil–Sen on small, hand-checked panels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analytics.errors import ComputationError, InvalidData
from analytics.indicators.trends import cagr, mann_kendall, theil_sen, year_on_year

NAN = float("nan")
FAST = settings(max_examples=25, deadline=None)


def one_unit(times: list[int], values: list[float], code: str = "x") -> pd.DataFrame:
    return pd.DataFrame({"uCode": ["A"] * len(times), "Time": times, code: values})


def assert_same(actual: list[float], expected: list[float]) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        if math.isnan(e):
            assert math.isnan(a), (actual, expected)
        else:
            assert a == pytest.approx(e, rel=1e-12), (actual, expected)


# -- year on year ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("times", "values", "expected"),
    [
        # (x_t − x_{t−1}) / |x_{t−1}|, worked by hand.
        ([2018, 2019, 2020, 2021], [100.0, 110.0, 99.0, 99.0], [NAN, 0.1, -0.1, 0.0]),
        # Zero previous value: no relative change; from zero on it is defined again.
        ([2018, 2019, 2020], [0.0, 5.0, 10.0], [NAN, NAN, 1.0]),
        # Missing previous or current value.
        ([2018, 2019, 2020, 2021], [4.0, NAN, 6.0, 3.0], [NAN, NAN, NAN, -0.5]),
        # A gap: 2020 has no 2019 row, so no year-on-year change (not a two-year one).
        ([2017, 2018, 2020, 2021], [1.0, 2.0, 8.0, 10.0], [NAN, 1.0, NAN, 0.25]),
        # A negative base: −4 → −2 is a rise, +0.5 of |−4|; −2 → 1 rises by 1.5 of |−2|.
        ([2018, 2019, 2020], [-4.0, -2.0, 1.0], [NAN, 0.5, 1.5]),
        # Rows out of order are sorted by time first.
        ([2021, 2019, 2020], [30.0, 10.0, 20.0], [NAN, 1.0, 0.5]),
    ],
)
def test_year_on_year_table(times: list[int], values: list[float], expected: list[float]) -> None:
    out = year_on_year(one_unit(times, values))
    assert list(out["Time"]) == sorted(times)
    assert_same(list(out["x"]), expected)


def test_year_on_year_keeps_units_apart_and_leaves_input_alone() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["B", "A", "B", "A"],
            "Time": [2021, 2021, 2020, 2020],
            "x": [3.0, 4.0, 2.0, 1.0],
            "y": [1.0, 1.0, 1.0, 1.0],
        }
    )
    before = panel.copy()
    out = year_on_year(panel, codes=["x"])
    pd.testing.assert_frame_equal(panel, before)
    assert list(out.columns) == ["uCode", "Time", "x"]
    assert list(out["uCode"]) == ["A", "A", "B", "B"]
    assert_same(list(out["x"]), [NAN, 3.0, NAN, 0.5])


def test_year_on_year_with_periods() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["A"] * 3,
            "Time": pd.PeriodIndex(["2020Q4", "2021Q1", "2021Q3"], freq="Q"),
            "x": [2.0, 3.0, 6.0],
        }
    )
    # 2021Q3 follows 2021Q2, which is absent.
    assert_same(list(year_on_year(panel)["x"]), [NAN, 0.5, NAN])


@given(
    value=st.floats(min_value=-1e6, max_value=1e6).filter(lambda v: abs(v) > 1e-6),
    n=st.integers(min_value=2, max_value=8),
)
@FAST
def test_year_on_year_of_a_constant_series_is_zero(value: float, n: int) -> None:
    out = year_on_year(one_unit(list(range(2000, 2000 + n)), [value] * n))
    assert math.isnan(out["x"].iloc[0])
    assert (out["x"].iloc[1:] == 0).all()


# -- CAGR --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("times", "values", "start", "end", "expected"),
    [
        # 100 → 121 over two years: √1.21 − 1 = 0.1.
        ([2018, 2019, 2020], [100.0, 105.0, 121.0], None, None, 0.1),
        # 50 → 400 over three years: ∛8 − 1 = 1.
        ([2010, 2011, 2012, 2013], [50.0, 1.0, 1.0, 400.0], None, None, 1.0),
        # Missing endpoints: the first and last non-missing values (2011: 10, 2013: 40).
        ([2010, 2011, 2012, 2013, 2014], [NAN, 10.0, 99.0, 40.0, NAN], None, None, 1.0),
        # A window: 2011–2012 only, 10 → 15.
        ([2010, 2011, 2012, 2013], [1.0, 10.0, 15.0, 40.0], 2011, 2012, 0.5),
        # Only a start: 2012 → 2013, 15 → 40 ... over one year.
        ([2010, 2011, 2012, 2013], [1.0, 10.0, 15.0, 40.0], 2012, None, 40 / 15 - 1),
        # A gap in years counts as elapsed time: 2010 → 2014 is four years, 16× → 2× a year.
        ([2010, 2014], [1.0, 16.0], None, None, 1.0),
        # A fall: 200 → 50 over two years, √0.25 − 1.
        ([2000, 2001, 2002], [200.0, 80.0, 50.0], None, None, -0.5),
        # Non-positive endpoints have no growth rate.
        ([2018, 2019, 2020], [0.0, 5.0, 10.0], None, None, NAN),
        ([2018, 2019, 2020], [-10.0, -5.0, -2.0], None, None, NAN),
        ([2018, 2019, 2020], [10.0, 5.0, -2.0], None, None, NAN),
        # One point is no growth.
        ([2018, 2019, 2020], [NAN, 5.0, NAN], None, None, NAN),
        ([2018, 2019, 2020], [1.0, 2.0, 4.0], 2020, 2020, NAN),
    ],
)
def test_cagr_table(
    times: list[int],
    values: list[float],
    start: int | None,
    end: int | None,
    expected: float,
) -> None:
    out = cagr(one_unit(times, values), start=start, end=end)
    assert list(out.index) == ["A"]
    assert_same([out.loc["A", "x"]], [expected])


def test_cagr_per_unit_and_code_with_periods() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["A", "A", "B", "B"],
            "Time": pd.PeriodIndex(["2019", "2021", "2019", "2021"], freq="Y"),
            "x": [1.0, 4.0, 9.0, 1.0],
            "y": [2.0, 2.0, NAN, 3.0],
        }
    )
    out = cagr(panel, start=2019, end="2021")
    assert out.index.name == "uCode"
    assert_same(list(out["x"]), [1.0, 1 / 3 - 1])
    assert_same(list(out["y"]), [0.0, NAN])


@given(
    first=st.floats(min_value=0.01, max_value=1e4),
    ratio=st.floats(min_value=0.2, max_value=3.0),
    n=st.integers(min_value=2, max_value=10),
)
@FAST
def test_cagr_of_a_geometric_series_is_its_ratio_minus_one(
    first: float, ratio: float, n: int
) -> None:
    values = [first * ratio**k for k in range(n)]
    out = cagr(one_unit(list(range(1990, 1990 + n)), values))
    assert out.loc["A", "x"] == pytest.approx(ratio - 1, rel=1e-9, abs=1e-12)


def test_cagr_rejects_an_inverted_window() -> None:
    with pytest.raises(InvalidData, match="start=2020 is after end=2019"):
        cagr(one_unit([2018, 2019, 2020], [1.0, 2.0, 3.0]), start=2020, end=2019)


# -- the panel contract ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("panel", "message"),
    [
        (
            pd.DataFrame({"uCode": ["A", "A"], "Time": [2020, 2020], "x": [1.0, 2.0]}),
            "unit A has more than one row for Time 2020",
        ),
        (pd.DataFrame({"uCode": ["A"], "x": [1.0]}), "no 'Time' column"),
        (pd.DataFrame({"uCode": ["A"], "Time": [2020]}), "no indicator columns"),
        (
            pd.DataFrame({"uCode": ["A"], "Time": [2020], "x": ["high"]}),
            "indicator column 'x' is not numeric",
        ),
        (
            pd.DataFrame({"uCode": ["A", "B"], "Time": [2020, 2020], "x": [1.0, np.inf]}),
            "'x' is infinite for unit B at Time 2020",
        ),
        (
            pd.DataFrame({"uCode": ["A"], "Time": [2020.5], "x": [1.0]}),
            "Time 2020.5 is neither a whole year nor a period",
        ),
        (
            pd.DataFrame({"uCode": ["A"], "Time": ["last year"], "x": [1.0]}),
            "Time 'last year'",
        ),
    ],
)
def test_malformed_panels_are_rejected(panel: pd.DataFrame, message: str) -> None:
    for fn in (year_on_year, cagr, theil_sen):
        with pytest.raises(InvalidData, match=message):
            fn(panel)


def test_unknown_code_is_named() -> None:
    with pytest.raises(InvalidData, match="indicator 'co2' is not a column"):
        year_on_year(one_unit([2020, 2021], [1.0, 2.0]), codes=["co2"])


# -- Mann–Kendall ------------------------------------------------------------------------------
# Reference values from pymannkendall 1.4.3, ``original_test(x)`` (alpha 0.05), computed once
# outside the project (pip install --no-deps --target /tmp/pmk pymannkendall) and pasted here;
# the 7th and 8th series are rounded random walks from numpy's default_rng(20261125).
MK_REFERENCE = [
    # series, s, var_s, z, p, tau, trend
    (
        [4.2, 4.8, 5.1, 4.9, 5.6, 6.0, 5.8, 6.4],
        24.0,
        65.33333333333333,
        2.8455120410060126,
        0.0044340083031007005,
        0.8571428571428571,
        "increasing",
    ),
    (
        [10, 9, 9, 8, 8, 8, 7, 9, 6, 5],
        -31.0,
        117.66666666666667,
        -2.7656328773835095,
        0.005681245397957113,
        -0.6888888888888889,
        "decreasing",
    ),
    (
        [3.1, 2.7, 3.5, 2.9, 3.3, 3.0, 3.4, 2.8, 3.2],
        2.0,
        92.0,
        0.10425720702853739,
        0.9169652366288645,
        0.05555555555555555,
        "no trend",
    ),
    (
        [1, 2, 2, 2, 3, 3, 4, 4, 4, 4, 5, 6],
        56.0,
        199.33333333333334,
        3.8955853583615565,
        9.796185399824076e-05,
        0.8484848484848485,
        "increasing",
    ),
    (
        [0.52, NAN, 0.61, 0.58, 0.66, NAN, 0.70, 0.69],
        11.0,
        28.333333333333332,
        1.8786728732554487,
        0.060289173990602185,
        0.7333333333333333,
        "no trend",
    ),
    ([5, 5, 5, 6, 5, 5, 5], 0.0, 16.0, 0.0, 1.0, 0.0, "no trend"),
    (
        [
            -1.92,
            -2.29,
            -1.16,
            -0.15,
            -1.49,
            -1.54,
            -1.55,
            -1.39,
            -0.91,
            -1.65,
            -1.34,
            -1.67,
            -1.73,
            -2.06,
            -2.15,
        ],
        -29.0,
        408.3333333333333,
        -1.3856406460551018,
        0.1658566603429099,
        -0.2761904761904762,
        "no trend",
    ),
    (
        [
            0.3,
            1.3,
            2.1,
            2.8,
            3.9,
            5.2,
            4.4,
            3.4,
            3.9,
            4.4,
            5.3,
            6.4,
            6.1,
            5.4,
            4.9,
            6.0,
            5.7,
            5.9,
            6.9,
            5.7,
        ],
        131.0,
        947.0,
        4.224432380033337,
        2.3954376036972036e-05,
        0.6894736842105263,
        "increasing",
    ),
]


@pytest.mark.parametrize(("series", "s", "var_s", "z", "p", "tau", "trend"), MK_REFERENCE)
def test_mann_kendall_matches_pymannkendall(
    series: list[float], s: float, var_s: float, z: float, p: float, tau: float, trend: str
) -> None:
    mk = mann_kendall(series)
    assert mk.s == s
    assert mk.var_s == pytest.approx(var_s, rel=1e-12)
    assert mk.z == pytest.approx(z, rel=1e-12)
    assert mk.p == pytest.approx(p, rel=1e-9)
    assert mk.tau == pytest.approx(tau, rel=1e-12)
    assert mk.trend == trend


def test_mann_kendall_by_hand() -> None:
    # [1, 3, 2, 4]: of the six pairs only (3, 2) falls, so S = 5 − 1 = 4;
    # Var(S) = 4·3·13/18 = 26/3; Z = (4 − 1)/√(26/3); tau = 4/6.
    mk = mann_kendall([1, 3, 2, 4])
    assert (mk.n, mk.s) == (4, 4.0)
    assert mk.var_s == pytest.approx(26 / 3)
    assert mk.z == pytest.approx(3 / math.sqrt(26 / 3))
    assert mk.tau == pytest.approx(2 / 3)
    assert mk.trend == "no trend"


def test_mann_kendall_tie_correction() -> None:
    # Ties of sizes 3 and 2 remove 3·2·11 + 2·1·9 = 84 from n(n−1)(2n+5) = 7·6·19 = 798.
    mk = mann_kendall([1, 1, 1, 2, 2, 3, 4])
    assert mk.var_s == pytest.approx((798 - 84) / 18)


def test_monotone_and_constant_series() -> None:
    up = mann_kendall(list(range(10)))
    assert up.trend == "increasing" and up.p < 0.05 and up.tau == 1.0
    down = mann_kendall([9.0, 7.5, 7.0, 6.1, 4.0, 3.3])
    assert down.trend == "decreasing" and down.p < 0.05 and down.tau == -1.0
    flat = mann_kendall([2.5] * 8)
    assert (flat.s, flat.var_s, flat.z, flat.p, flat.trend) == (0.0, 0.0, 0.0, 1.0, "no trend")


def test_a_stricter_alpha_can_drop_the_trend() -> None:
    # p ≈ 0.0603 for this series: a trend at alpha 0.1, none at 0.05.
    series = [0.52, NAN, 0.61, 0.58, 0.66, NAN, 0.70, 0.69]
    assert mann_kendall(series, alpha=0.1).trend == "increasing"
    assert mann_kendall(series, alpha=0.05).trend == "no trend"


@given(st.lists(st.integers(min_value=-50, max_value=50), min_size=3, max_size=25))
@FAST
def test_mann_kendall_reversed_series_flips_sign(values: list[int]) -> None:
    forward, backward = mann_kendall(values), mann_kendall(values[::-1])
    assert backward.s == -forward.s
    assert backward.z == pytest.approx(-forward.z)
    assert backward.p == pytest.approx(forward.p)


@pytest.mark.parametrize(
    ("values", "alpha", "error", "message"),
    [
        ([1.0, NAN, 2.0], 0.05, ComputationError, "at least 3 non-missing values, got 2"),
        ([1.0, 2.0, 3.0], 1.5, InvalidData, "alpha=1.5"),
        ([1.0, np.inf, 3.0], 0.05, InvalidData, "infinite"),
    ],
)
def test_mann_kendall_rejects(
    values: list[float], alpha: float, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        mann_kendall(values, alpha=alpha)


# -- Theil–Sen ---------------------------------------------------------------------------------
def test_theil_sen_recovers_an_exact_line() -> None:
    years = list(range(2010, 2020))
    panel = one_unit(years, [3.0 + 0.5 * (t - 2010) for t in years])
    row = theil_sen(panel).iloc[0]
    assert row["slope"] == pytest.approx(0.5)
    # The intercept is at year 0: 3 − 0.5 × 2010.
    assert row["intercept"] == pytest.approx(3.0 - 0.5 * 2010)
    assert row["slope_low"] == pytest.approx(0.5) and row["slope_high"] == pytest.approx(0.5)
    assert (row["n"], row["trend"], row["mk_tau"]) == (10, "increasing", 1.0)
    assert row["mk_p"] < 0.05


def test_theil_sen_is_robust_to_one_outlier_and_reports_the_mk_test() -> None:
    years = list(range(2000, 2011))
    values = [2.0 * (t - 2000) for t in years]
    values[5] = 500.0
    row = theil_sen(one_unit(years, values)).iloc[0]
    assert row["slope"] == pytest.approx(2.0)
    assert row["slope_low"] <= row["slope"] <= row["slope_high"]
    mk = mann_kendall(values)
    assert (row["mk_tau"], row["mk_z"], row["mk_p"]) == (mk.tau, mk.z, mk.p)


def test_theil_sen_rows_per_unit_and_code() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["B"] * 4 + ["A"] * 4,
            "Time": [2020, 2021, 2022, 2023] * 2,
            "x": [4.0, 3.0, 2.0, 1.0, 7.0, 7.0, 7.0, 7.0],
            "y": [1.0, NAN, NAN, 2.0, 1.0, 1.0, 2.0, 2.0],
        }
    )
    out = theil_sen(panel)
    assert list(out.columns) == [
        "uCode",
        "code",
        "n",
        "slope",
        "intercept",
        "slope_low",
        "slope_high",
        "mk_tau",
        "mk_z",
        "mk_p",
        "trend",
    ]
    assert list(zip(out["uCode"], out["code"], strict=True)) == [
        ("A", "x"),
        ("A", "y"),
        ("B", "x"),
        ("B", "y"),
    ]
    assert list(out["trend"]) == ["no trend", "no trend", "no trend", "insufficient data"]
    assert list(out["n"]) == [4, 4, 4, 2]
    assert out.loc[0, "slope"] == 0.0 and out.loc[0, "mk_p"] == 1.0
    assert out.loc[2, "slope"] == pytest.approx(-1.0) and out.loc[2, "mk_tau"] == -1.0
    insufficient = out.loc[3, ["slope", "intercept", "slope_low", "slope_high", "mk_p"]]
    assert insufficient.isna().all()


def test_theil_sen_slope_counts_quarters_for_quarterly_periods() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["A"] * 4,
            "Time": pd.PeriodIndex(["2020Q1", "2020Q2", "2020Q3", "2020Q4"], freq="Q"),
            "x": [1.0, 2.0, 3.0, 4.0],
        }
    )
    assert theil_sen(panel).loc[0, "slope"] == pytest.approx(1.0)


@given(
    values=st.lists(st.integers(min_value=-1000, max_value=1000), min_size=3, max_size=12),
    shift=st.integers(min_value=-(10**6), max_value=10**6),
)
@FAST
def test_theil_sen_slope_is_invariant_to_adding_a_constant(values: list[int], shift: int) -> None:
    years = list(range(2000, 2000 + len(values)))
    base = theil_sen(one_unit(years, [float(v) for v in values])).iloc[0]
    moved = theil_sen(one_unit(years, [float(v + shift) for v in values])).iloc[0]
    for col in ("slope", "slope_low", "slope_high", "mk_z", "mk_p"):
        assert moved[col] == pytest.approx(base[col], abs=1e-9)
    assert moved["intercept"] == pytest.approx(base["intercept"] + shift, abs=1e-6)
    assert moved["trend"] == base["trend"]


def test_theil_sen_rejects_a_bad_alpha() -> None:
    with pytest.raises(InvalidData, match="alpha=0"):
        theil_sen(one_unit([2020, 2021, 2022], [1.0, 2.0, 3.0]), alpha=0)


def test_theil_sen_interval_is_the_confidence_interval_at_one_minus_alpha() -> None:
    years = list(range(2000, 2012))
    values = [1.0, 3.0, 2.0, 5.0, 4.0, 4.5, 7.0, 6.0, 9.0, 7.5, 10.0, 9.0]
    panel = one_unit(years, values)
    wide = theil_sen(panel, alpha=0.01).iloc[0]
    narrow = theil_sen(panel, alpha=0.5).iloc[0]
    # A 99 % interval holds a 50 % one, and here is strictly wider on both sides.
    assert wide["slope_low"] < narrow["slope_low"] <= narrow["slope"]
    assert narrow["slope"] <= narrow["slope_high"] < wide["slope_high"]
    # The default is scipy's 95 % interval.
    ref = stats.theilslopes(values, years, alpha=0.95)
    default = theil_sen(panel).iloc[0]
    assert (default["slope_low"], default["slope_high"]) == (ref.low_slope, ref.high_slope)
