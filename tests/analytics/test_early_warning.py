"""Early warning: traffic lights on their edges, and the Iglewicz–Hoaglin anomaly rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.errors import InvalidData, InvalidFramework
from analytics.indicators.early_warning import robust_anomalies, traffic_light, warning_summary

NAN = float("nan")
FAST = settings(max_examples=25, deadline=None)
GOODNESS = {"green": 0, "yellow": 1, "red": 2}


def column(values: list[float], code: str = "x") -> pd.DataFrame:
    units = [f"U{i}" for i in range(len(values))]
    return pd.DataFrame({code: values}, index=pd.Index(units, name="uCode"))


def light(value: float, target: float, direction: int, band: float = 0.1) -> str:
    out = traffic_light(column([value]), {"x": target}, {"x": direction}, yellow_band=band)
    return str(out.iloc[0, 0])


# -- traffic lights ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "target", "direction", "band", "expected"),
    [
        # Higher is better, target 100, band 10 % → yellow from 90 up to (not incl.) 100.
        (100.0, 100.0, 1, 0.1, "green"),  # exactly at the target
        (130.0, 100.0, 1, 0.1, "green"),
        (99.99, 100.0, 1, 0.1, "yellow"),
        (90.0, 100.0, 1, 0.1, "yellow"),  # on the band's edge
        (89.99, 100.0, 1, 0.1, "red"),
        # Lower is better, target 100: yellow up to 110.
        (100.0, 100.0, -1, 0.1, "green"),
        (60.0, 100.0, -1, 0.1, "green"),
        (110.0, 100.0, -1, 0.1, "yellow"),
        (110.01, 100.0, -1, 0.1, "red"),
        # Band edges that binary rounding would otherwise push out: 0.3 ± 0.1 × 0.3.
        (0.27, 0.3, 1, 0.1, "yellow"),
        (0.33, 0.3, -1, 0.1, "yellow"),
        (0.269, 0.3, 1, 0.1, "red"),
        # A negative target: the band is 10 % of |−10|, so −11 is the edge.
        (-11.0, -10.0, 1, 0.1, "yellow"),
        (-11.5, -10.0, 1, 0.1, "red"),
        (-9.0, -10.0, -1, 0.1, "yellow"),
        (-8.9, -10.0, -1, 0.1, "red"),
        # A zero target has no band; a zero band has no yellow.
        (0.0, 0.0, 1, 0.1, "green"),
        (-0.001, 0.0, 1, 0.1, "red"),
        (99.0, 100.0, 1, 0.0, "red"),
        # A wider band.
        (75.0, 100.0, 1, 0.25, "yellow"),
        # Missing value.
        (NAN, 100.0, 1, 0.1, "grey"),
    ],
)
def test_target_rule(value: float, target: float, direction: int, band: float, expected: str):
    assert light(value, target, direction, band) == expected


def test_grey_without_target_and_bands_per_code() -> None:
    values = pd.DataFrame(
        {"a": [95.0, 85.0], "b": [95.0, 85.0], "c": [1.0, 2.0], "d": [1.0, 2.0]},
        index=pd.Index(["P", "Q"], name="uCode"),
    )
    before = values.copy()
    out = traffic_light(
        values,
        targets={"a": 100.0, "b": 100.0, "d": NAN, "not_in_data": 1.0},
        directions={"a": 1, "b": 1},
        yellow_band={"b": 0.2},
    )
    pd.testing.assert_frame_equal(values, before)
    assert list(out.columns) == ["a", "b", "c", "d"] and list(out.index) == ["P", "Q"]
    # 'a' falls back to the default band of 10 %, 'b' has 20 %; 'c' has no target, 'd' a NaN one.
    assert out.to_dict("list") == {
        "a": ["yellow", "red"],
        "b": ["yellow", "yellow"],
        "c": ["grey", "grey"],
        "d": ["grey", "grey"],
    }


@pytest.mark.parametrize(
    ("value", "direction", "green_at", "red_at", "expected"),
    [
        (80.0, 1, 80.0, 50.0, "green"),
        (79.0, 1, 80.0, 50.0, "yellow"),
        (51.0, 1, 80.0, 50.0, "yellow"),
        (50.0, 1, 80.0, 50.0, "red"),
        (2.0, -1, 2.0, 5.0, "green"),
        (4.9, -1, 2.0, 5.0, "yellow"),
        (5.0, -1, 2.0, 5.0, "red"),
        (7.0, 1, 7.0, 7.0, "green"),  # equal thresholds: green wins the tie
        (NAN, 1, 80.0, 50.0, "grey"),
    ],
)
def test_thresholds_override_the_target(
    value: float, direction: int, green_at: float, red_at: float, expected: str
) -> None:
    out = traffic_light(
        column([value]),
        targets={"x": 1000.0},  # would make everything red or green on its own
        directions={"x": direction},
        thresholds={"x": (green_at, red_at)},
    )
    assert out.iloc[0, 0] == expected


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"targets": {"x": 1.0}, "directions": {}}, InvalidFramework, "'x' has a target"),
        ({"targets": {"x": 1.0}, "directions": {"x": 0}}, InvalidFramework, "direction of 'x'"),
        (
            {"targets": {}, "directions": {"x": 1}, "thresholds": {"x": (1.0, 5.0)}},
            InvalidFramework,
            "green_at=1.0 of 'x' must be above red_at=5.0",
        ),
        (
            {"targets": {}, "directions": {"x": 1}, "thresholds": {"x": (1.0,)}},
            InvalidFramework,
            "thresholds of 'x' must be a pair",
        ),
        (
            {"targets": {"x": 1.0}, "directions": {"x": 1}, "yellow_band": -0.1},
            InvalidData,
            "yellow band of 'x' is -0.1",
        ),
        ({"targets": {"x": "high"}, "directions": {"x": 1}}, InvalidFramework, "target of 'x'"),
    ],
)
def test_traffic_light_rejects(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        traffic_light(column([1.0, 2.0]), **kwargs)


def test_traffic_light_rejects_bad_values() -> None:
    dup = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["A", "A"], name="uCode"))
    with pytest.raises(InvalidData, match="unit A appears more than once"):
        traffic_light(dup, {"x": 1.0}, {"x": 1})
    with pytest.raises(InvalidData, match="'x' is infinite for unit U1"):
        traffic_light(column([1.0, np.inf]), {"x": 1.0}, {"x": 1})


@given(
    a=st.floats(min_value=-1e4, max_value=1e4),
    b=st.floats(min_value=-1e4, max_value=1e4),
    target=st.floats(min_value=-1e3, max_value=1e3),
    band=st.floats(min_value=0, max_value=1),
    direction=st.sampled_from([1, -1]),
)
@FAST
def test_traffic_lights_are_monotone_in_the_value(
    a: float, b: float, target: float, band: float, direction: int
) -> None:
    better, worse = (max(a, b), min(a, b)) if direction == 1 else (min(a, b), max(a, b))
    lights = traffic_light(column([better, worse]), {"x": target}, {"x": direction}, band)
    assert GOODNESS[lights.iloc[0, 0]] <= GOODNESS[lights.iloc[1, 0]]


def test_warning_summary_counts() -> None:
    lights = pd.DataFrame(
        {"a": ["green", "red", "grey"], "b": ["yellow", "red", "green"]},
        index=pd.Index(["P", "Q", "R"], name="uCode"),
    )
    summary = warning_summary(lights)
    per_unit = summary.loc["unit"]
    assert per_unit.loc["Q"].to_dict() == {"green": 0, "yellow": 0, "red": 2, "grey": 0, "total": 2}
    assert list(per_unit["green"]) == [1, 0, 1]
    per_code = summary.loc["code"]
    assert per_code.loc["a"].to_dict() == {"green": 1, "yellow": 0, "red": 1, "grey": 1, "total": 3}
    assert per_code.loc["b"].to_dict() == {"green": 1, "yellow": 1, "red": 1, "grey": 0, "total": 3}


def test_warning_summary_rejects_unknown_colours() -> None:
    with pytest.raises(InvalidData, match="unit P, code 'a' has 'amber'"):
        warning_summary(pd.DataFrame({"a": ["amber"]}, index=["P"]))


# -- robust anomalies --------------------------------------------------------------------------
def series_panel(values: list[float], unit: str = "A", start: int = 2000) -> pd.DataFrame:
    times = list(range(start, start + len(values)))
    return pd.DataFrame({"uCode": [unit] * len(values), "Time": times, "x": values})


def test_iglewicz_hoaglin_rule_by_hand() -> None:
    # Sorted: 4.9 9 9 10 10 10 11 11 15.2 → median 10; |x − 10| sorted:
    # 0 0 0 1 1 1 1 5.1 5.2 → MAD 1. M = 0.6745 (x − 10): 15.2 → 3.5074 (> 3.5, an outlier),
    # 4.9 → −3.43995 (not), 9 → −0.6745, 11 → 0.6745, 10 → 0.
    values = [10.0, 9.0, 11.0, 15.2, 10.0, 9.0, 4.9, 11.0, 10.0]
    out = robust_anomalies(series_panel(values), only_anomalies=False)
    assert list(out["median"].unique()) == [10.0] and list(out["mad"].unique()) == [1.0]
    expected = [0.0, -0.6745, 0.6745, 3.5074, 0.0, -0.6745, -3.43995, 0.6745, 0.0]
    assert list(out["robust_z"]) == pytest.approx(expected, abs=1e-9)
    assert list(out["anomaly"]) == [v == 15.2 for v in values]
    only = robust_anomalies(series_panel(values))
    assert list(only["Time"]) == [2003] and list(only["value"]) == [15.2]
    # A stricter cut-off lets 15.2 through as well; a looser one catches 4.9 too.
    assert robust_anomalies(series_panel(values), threshold=3.6).empty
    assert list(robust_anomalies(series_panel(values), threshold=3.4)["value"]) == [15.2, 4.9]


def test_an_injected_spike_is_the_only_anomaly() -> None:
    smooth = [100 + 5 * math.sin(k / 3) for k in range(20)]
    spiked = list(smooth)
    spiked[11] *= 1.3
    calm = series_panel(smooth, unit="B")
    panel = pd.concat([series_panel(spiked, unit="A"), calm], ignore_index=True)
    out = robust_anomalies(panel)
    assert list(zip(out["uCode"], out["Time"], out["code"], strict=True)) == [("A", 2011, "x")]
    assert out.loc[0, "value"] == pytest.approx(spiked[11])
    assert robust_anomalies(calm).empty


def test_zero_mad() -> None:
    # More than half the values equal: MAD is 0; equal values get NaN, the other one ±inf.
    out = robust_anomalies(series_panel([5.0, 5.0, 5.0, 4.0, 5.0]), only_anomalies=False)
    assert out["mad"].eq(0).all()
    assert out["robust_z"].isna().tolist() == [True, True, True, False, True]
    assert out.loc[3, "robust_z"] == -math.inf
    assert out["anomaly"].tolist() == [False, False, False, True, False]


def test_by_time_compares_units_within_a_period_and_skips_missing() -> None:
    panel = pd.DataFrame(
        {
            "uCode": ["A", "B", "C", "D", "E", "A", "B"],
            "Time": [2020] * 5 + [2021] * 2,
            "x": [1.0, 1.1, 0.9, 1.0, 9.0, 1.0, NAN],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )
    before = panel.copy()
    out = robust_anomalies(panel, by="time", only_anomalies=False)
    pd.testing.assert_frame_equal(panel, before)
    assert list(out.columns) == [
        "uCode",
        "Time",
        "code",
        "value",
        "median",
        "mad",
        "robust_z",
        "anomaly",
    ]
    # One row per non-missing value, by unit, time and then code in the panel's order.
    assert len(out) == 13
    assert list(out["code"][:2]) == ["x", "y"]
    flagged = out[out["anomaly"]]
    assert list(zip(flagged["uCode"], flagged["code"], strict=True)) == [("E", "x")]
    # Per unit instead: E has one value per code, so nothing stands out.
    assert robust_anomalies(panel, by="unit").empty


@given(
    values=st.lists(st.integers(min_value=-1000, max_value=1000), min_size=3, max_size=15),
    scale=st.integers(min_value=1, max_value=100),
    shift=st.integers(min_value=-(10**5), max_value=10**5),
)
@FAST
def test_anomalies_are_invariant_to_rescaling(values: list[int], scale: int, shift: int) -> None:
    base = robust_anomalies(series_panel([float(v) for v in values]), only_anomalies=False)
    moved_values = [float(v * scale + shift) for v in values]
    moved = robust_anomalies(series_panel(moved_values), only_anomalies=False)
    assert moved["anomaly"].tolist() == base["anomaly"].tolist()
    np.testing.assert_allclose(moved["robust_z"], base["robust_z"], rtol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0}, "threshold=0 must be a positive number"),
        ({"by": "region"}, "by='region'"),
        ({"codes": ["co2"]}, "indicator 'co2' is not a column"),
    ],
)
def test_robust_anomalies_rejects(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        robust_anomalies(series_panel([1.0, 2.0, 3.0]), **kwargs)
