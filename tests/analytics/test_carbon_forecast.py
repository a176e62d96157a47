"""Forecasts: Holt and OLS trend against hand computations, interval formulas, peak year."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from analytics.carbon.forecast import Forecast, holt, linear_trend, peak_year
from analytics.errors import ComputationError, InvalidData, InvalidPipeline

Z95 = 1.959963984540054  # Φ⁻¹(0.975)


def _years(values: list[float] | np.ndarray, start: int = 2005) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=range(start, start + len(values)))


def _months(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.period_range("2019-01", periods=len(values), freq="M"))


LINE = 40.0 + 2.5 * np.arange(12)
# A trend with deterministic wiggles, so fits and intervals are reproducible.
NOISY = 100.0 + 3.0 * np.arange(20) + 4.0 * np.sin(np.arange(20) * 2.1)
HUGE = [1e154, 5e154, 2e154, 9e154, 3e154, 8e154]


@pytest.mark.parametrize("make", [_years, _months], ids=["years", "months"])
@pytest.mark.parametrize(
    "method",
    [lambda s, h: holt(s, h), lambda s, h: linear_trend(s, h)],
    ids=["holt", "linear_trend"],
)
def test_a_perfect_line_is_forecast_exactly(make, method) -> None:
    series = make(LINE)
    before = series.copy()
    f = method(series, 5)
    pd.testing.assert_series_equal(series, before)
    expected = 40.0 + 2.5 * np.arange(12, 17)
    np.testing.assert_allclose(f.mean.to_numpy(), expected, rtol=1e-12)
    assert (f.lower <= f.mean).all() and (f.mean <= f.upper).all()
    np.testing.assert_allclose((f.upper - f.lower).to_numpy(), 0.0, atol=1e-9)
    assert f.mean.index[0] == series.index[-1] + 1
    assert len(f.mean.index) == 5
    assert f.sigma == pytest.approx(0.0, abs=1e-9)


# Holt with α = 0.8, β = 0.2 on y = 10, 12, 13, 15, 18, iterated by hand from ℓ1 = 10, b1 = 2:
#   t  ŷ_t = ℓ + b    e_t       ℓ_t = 0.8 y + 0.2 ŷ    b_t = 0.2 (ℓ_t − ℓ_{t−1}) + 0.8 b
#   2  12             0         12                     0.2·2      + 1.6    = 2
#   3  14            −1         13.2                   0.2·1.2    + 1.6    = 1.84
#   4  15.04         −0.04      15.008                 0.2·1.808  + 1.472  = 1.8336
#   5  16.8416        1.1584    17.76832               0.2·2.76032 + 1.46688 = 2.018944
# Forecasts ℓ5 + h·b5: 19.787264, 21.806208, 23.825152.
# SSE = 1 + 0.0016 + 1.34189056 = 2.34349056 over e3..e5, nothing fitted: σ² = SSE / 3.
# ETS β = αβ* = 0.16; variance factors 1 + (h−1)(α² + αβh + β²h(2h−1)/6) = 1, 1.9216, 3.176.
def test_holt_matches_a_hand_iteration() -> None:
    f = holt(_years([10, 12, 13, 15, 18], start=2016), 3, alpha=0.8, beta=0.2)
    np.testing.assert_allclose(f.mean.to_numpy(), [19.787264, 21.806208, 23.825152])
    assert list(f.mean.index) == [2021, 2022, 2023]
    assert f.params["final_level"] == pytest.approx(17.76832)
    assert f.params["final_trend"] == pytest.approx(2.018944)
    assert f.params["sse"] == pytest.approx(2.34349056)
    sigma = math.sqrt(2.34349056 / 3)
    assert f.sigma == pytest.approx(sigma)
    half = Z95 * sigma * np.sqrt([1.0, 1.9216, 3.176])
    np.testing.assert_allclose((f.upper - f.mean).to_numpy(), half)
    np.testing.assert_allclose((f.mean - f.lower).to_numpy(), half)
    assert f.method == "holt"
    assert f.level == 0.95


# OLS on y = 1, 3, 2, 5 (t = 0..3), by hand: t̄ = 1.5, Sxx = 5, Sxy = 5.5, slope 1.1,
# intercept 1.1, residuals −0.1, 0.8, −1.3, 0.6, SSE 2.7, s² = 1.35 (2 df).
# At t = 4: ŷ = 5.5, se = √(1.35 (1 + 1/4 + 2.5²/5)) = √3.375; t_{0.975, 2} = 4.302653.
def test_linear_trend_matches_a_hand_computation() -> None:
    f = linear_trend(_years([1, 3, 2, 5], start=2020), 1)
    assert f.params["slope"] == pytest.approx(1.1)
    assert f.params["intercept"] == pytest.approx(1.1)
    assert f.sigma == pytest.approx(math.sqrt(1.35))
    assert f.mean.iloc[0] == pytest.approx(5.5)
    half = 4.302653 * math.sqrt(3.375)
    assert f.upper.iloc[0] - f.mean.iloc[0] == pytest.approx(half, rel=1e-6)
    assert f.mean.iloc[0] - f.lower.iloc[0] == pytest.approx(half, rel=1e-6)
    assert f.mean.index[0] == 2024


def test_linear_trend_allows_gaps_and_uses_real_time() -> None:
    series = pd.Series([10.0, 14.0, 15.0, 22.0], index=[2010, 2012, 2013, 2016])
    f = linear_trend(series, 2)
    assert list(f.mean.index) == [2017, 2018]
    t = np.array([0, 2, 3, 6])
    slope, intercept = np.polyfit(t, series.to_numpy(), 1)
    np.testing.assert_allclose(f.mean.to_numpy(), intercept + slope * np.array([7, 8]))
    assert (f.upper - f.lower > 0).all()


def _table_8_8(alpha: float, beta: float, phi: float, h: int) -> float:
    """FPP Table 8.8 variance factors for ETS(A,A,N) and ETS(A,Ad,N); β is the ETS β = αβ*."""
    if phi == 1.0:
        return 1 + (h - 1) * (alpha**2 + alpha * beta * h + beta**2 * h * (2 * h - 1) / 6)
    return (
        1
        + alpha**2 * (h - 1)
        + (beta * phi * h / (1 - phi) ** 2) * (2 * alpha * (1 - phi) + beta * phi)
        - (beta * phi * (1 - phi**h) / ((1 - phi) ** 2 * (1 - phi**2)))
        * (2 * alpha * (1 - phi**2) + beta * phi * (1 + 2 * phi - phi**h))
    )


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"alpha": 0.5, "beta": 0.3}, {"damped": True, "phi": 0.9}, {"damped": True}],
    ids=["fitted", "fixed", "damped fixed phi", "damped fitted"],
)
def test_intervals_follow_table_8_8(kwargs: dict) -> None:
    f = holt(_years(NOISY), 8, **kwargs)
    a, b, phi = f.params["alpha"], f.params["beta"], f.params["phi"]
    factors = ((f.upper - f.mean) / (Z95 * f.sigma)).to_numpy() ** 2
    expected = [_table_8_8(a, a * b, phi, h) for h in range(1, 9)]
    np.testing.assert_allclose(factors, expected, rtol=1e-9)
    assert f.sigma > 0


@pytest.mark.parametrize(
    "method",
    [
        lambda s: holt(s, 10),
        lambda s: holt(s, 10, damped=True),
        lambda s: linear_trend(s, 10),
        lambda s: linear_trend(s, 10, level=0.8),
    ],
    ids=["holt", "holt damped", "linear_trend", "linear_trend 80%"],
)
def test_intervals_widen_with_the_horizon(method) -> None:
    f = method(_years(NOISY))
    width = (f.upper - f.lower).to_numpy()
    assert (width > 0).all()
    assert (np.diff(width) > 0).all()


def test_fitted_parameters_minimise_the_sse() -> None:
    series = _years(NOISY)
    fitted = holt(series, 1)
    assert 1e-4 <= fitted.params["alpha"] <= 0.9999
    assert 1e-4 <= fitted.params["beta"] <= 0.9999
    for a in (0.05, 0.3, 0.6, 0.95):
        for b in (0.05, 0.3, 0.6, 0.95):
            fixed = holt(series, 1, alpha=a, beta=b)
            assert fitted.params["sse"] <= fixed.params["sse"] + 1e-9


def test_damping_flattens_the_trend() -> None:
    series = _years(NOISY)
    damped = holt(series, 15, damped=True)
    assert 0.8 <= damped.params["phi"] <= 0.98
    steps = np.diff(damped.mean.to_numpy())
    assert (np.diff(steps) * np.sign(steps[0]) < 0).all()
    assert damped.method == "holt_damped"
    undamped = holt(series, 5, alpha=0.4, beta=0.2)
    same = holt(series, 5, alpha=0.4, beta=0.2, damped=True, phi=1.0)
    np.testing.assert_allclose(same.mean.to_numpy(), undamped.mean.to_numpy())


def _forecast(values: list[float], start: int | str) -> Forecast:
    if isinstance(start, str):
        index = pd.period_range(start, periods=len(values), freq="M")
    else:
        index = pd.Index(range(start, start + len(values)))
    mean = pd.Series(values, index=index, dtype=float)
    return Forecast(mean, mean - 1, mean + 1, "given", {}, 1.0, 0.95)


HISTORY = _years([100, 110, 118, 122, 121, 119], start=2015)  # peak 2018
RISING = _years([100, 104, 108, 112], start=2017)

PEAKS = [
    # history peaks and the forecast keeps falling: reached
    (HISTORY, _forecast([117, 115, 112], 2021), (2018, 122.0, True, True)),
    # the forecast climbs back to the historic peak exactly: not reached
    (HISTORY, _forecast([120, 122, 118], 2021), (2018, 122.0, False, True)),
    # rising history, forecast peaks in 2023 then falls: peak within the horizon
    (RISING, _forecast([115, 117, 116, 113], 2021), (2022, 117.0, False, True)),
    # still rising at the end of the horizon: the peak lies beyond it
    (RISING, _forecast([115, 118, 121], 2021), (2023, 121.0, False, False)),
]


@pytest.mark.parametrize(("history", "forecast", "expected"), PEAKS)
def test_peak_year(history: pd.Series, forecast: Forecast, expected: tuple) -> None:
    out = peak_year(history, forecast)
    assert out == dict(
        zip(("peak_year", "peak_value", "reached", "within_horizon"), expected, strict=True)
    )
    assert isinstance(out["peak_year"], int)


def test_peak_year_with_a_real_forecast_of_a_rising_then_falling_series() -> None:
    series = _years([100, 108, 115, 120, 122, 121, 118, 114, 109], start=2015)
    out = peak_year(series, holt(series, 10, alpha=0.8, beta=0.5))
    assert out == {"peak_year": 2019, "peak_value": 122.0, "reached": True, "within_horizon": True}


def test_peak_year_of_monthly_periods_is_a_calendar_year() -> None:
    values = np.array([10, 12, 15, 19, 22, 24, 23, 21, 18, 16, 13, 11, 10, 9], dtype=float)
    series = _months(values)  # 2019-01 … 2020-02, peak in 2019-06
    out = peak_year(series, _forecast([8.0, 7.0, 6.0], "2020-03"))
    assert out == {"peak_year": 2019, "peak_value": 24.0, "reached": True, "within_horizon": True}
    with pytest.raises(InvalidData, match="not of the history's kind"):
        peak_year(series, _forecast([8.0, 7.0, 6.0], 2021))


def test_three_points_suffice_when_the_parameters_are_fixed() -> None:
    # ℓ1 = 1, b1 = 1, ŷ3 = ℓ2 + b2 = 3 (e2 = 0 by construction), e3 = 4 − 3 = 1, σ = |e3|.
    f = holt(_years([1, 2, 4]), 2, alpha=0.5, beta=0.5)
    assert f.params["sse"] == pytest.approx(1.0)
    assert f.sigma == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: holt(_years([1, 2]), 3), InvalidData, "2 points, at least 3"),
        (lambda: linear_trend(_years([1, 2]), 3), InvalidData, "2 points, at least 3"),
        (lambda: holt(_years([1, 2, 4, 5]), 3), InvalidData, "need at least 5"),
        (
            lambda: holt(pd.Series([1.0, 2.0, 3.0, 5.0], index=[2010, 2011, 2013, 2014]), 2),
            InvalidData,
            "gap after 2011",
        ),
        (lambda: holt(_years([1, 2, math.nan, 5, 6]), 2), InvalidData, "2007 is missing"),
        (
            lambda: linear_trend(pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"]), 2),
            InvalidData,
            "integer years or periods",
        ),
        (
            lambda: linear_trend(pd.Series([1.0, 2.0, 3.0], index=[2012, 2011, 2013]), 2),
            InvalidData,
            "increasing order",
        ),
        (lambda: holt(_years(NOISY), 0), InvalidPipeline, "horizon"),
        (lambda: linear_trend(_years(NOISY), 3, level=95), InvalidPipeline, "level"),
        (lambda: holt(_years(NOISY), 3, alpha=1.5), InvalidPipeline, "alpha"),
        (lambda: holt(_years(NOISY), 3, phi=0.9), InvalidPipeline, "damped method only"),
        (
            lambda: peak_year(RISING, _forecast([1.0, 2.0], 2030)),
            InvalidData,
            "not right after 2020",
        ),
        # squares beyond float64: refused, not returned as infinite bounds and SSE
        (lambda: holt(_years(HUGE), 3), ComputationError, "holt: the sse overflows"),
        (
            lambda: holt(_years(HUGE), 3, damped=True),
            ComputationError,
            "holt: the sse overflows",
        ),
        (
            lambda: linear_trend(_years(HUGE), 3),
            ComputationError,
            "linear_trend: the sigma overflows",
        ),
    ],
)
def test_bad_input(call, error: type, message: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no numpy overflow warning on the way
        with pytest.raises(error, match=message):
            call()
