"""Carbon budgets: allocation rules, annual paths, tracking against them, intensity targets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analytics.carbon.budget import allocate, budget_path, intensity_status, track
from analytics.errors import ComputationError, InvalidData, InvalidPipeline

# Three districts chosen so that each rule gives a different, easily checked split.
DISTRICTS = pd.DataFrame(
    {
        "district": ["Jinjiang", "Qingyang", "Shuangliu"],
        "base_emissions": [50.0, 30.0, 20.0],
        "population": [1.0, 2.0, 1.0],
        "gdp": [100.0, 100.0, 200.0],
    }
)

HAND_SHARES = {
    # ∝ base emissions 50 : 30 : 20
    "grandfathering": (0.5, 0.3, 0.2),
    # ∝ population 1 : 2 : 1
    "per_capita": (0.25, 0.5, 0.25),
    # common intensity benchmark: ∝ GDP 100 : 100 : 200
    "intensity": (0.25, 0.25, 0.5),
}


@pytest.mark.parametrize("method", list(HAND_SHARES))
def test_single_rules_on_a_hand_example(method: str) -> None:
    out = allocate(1000.0, DISTRICTS, method)
    assert list(out.index) == list(DISTRICTS["district"])
    assert out.index.name == "district"
    np.testing.assert_allclose(out["share"], HAND_SHARES[method], rtol=1e-15)
    np.testing.assert_allclose(out["budget"], np.array(HAND_SHARES[method]) * 1000.0)


def test_intensity_rule_favours_districts_cleaner_than_the_city() -> None:
    out = allocate(400.0, DISTRICTS, "intensity")
    # City intensity 100/400 = 0.25; I* = 400/400 = 1 per unit GDP for everyone.
    per_own_emissions = out["budget"].to_numpy() / DISTRICTS["base_emissions"].to_numpy()
    intensity = (DISTRICTS["base_emissions"] / DISTRICTS["gdp"]).to_numpy()
    np.testing.assert_allclose(per_own_emissions, 1.0 / intensity)
    assert np.argsort(per_own_emissions).tolist() == np.argsort(-intensity).tolist()


MIXES = [
    {"grandfathering": 0.5, "per_capita": 0.5},
    {"grandfathering": 0.2, "intensity": 0.8},
    {"per_capita": 3.0, "intensity": 1.0},  # normalised to 0.75 / 0.25
    {"grandfathering": 1.0, "per_capita": 1.0, "intensity": 2.0},
]


@pytest.mark.parametrize("weights", MIXES)
def test_mix_is_the_weighted_average_of_the_shares(weights: dict[str, float]) -> None:
    out = allocate(1000.0, DISTRICTS, "mix", weights)
    total = sum(weights.values())
    expected = sum(np.array(HAND_SHARES[m]) * w / total for m, w in weights.items())
    np.testing.assert_allclose(out["share"], expected, rtol=1e-12)
    assert out["budget"].sum() == pytest.approx(1000.0, rel=1e-12)


def test_a_zero_weighted_method_needs_no_column() -> None:
    table = DISTRICTS.drop(columns="gdp")
    out = allocate(10.0, table, "mix", {"grandfathering": 1.0, "intensity": 0.0})
    np.testing.assert_allclose(out["share"], HAND_SHARES["grandfathering"])


def test_allocate_does_not_touch_its_input() -> None:
    before = DISTRICTS.copy()
    allocate(1000.0, DISTRICTS, "mix", {"per_capita": 1.0, "intensity": 1.0})
    pd.testing.assert_frame_equal(DISTRICTS, before)


@st.composite
def district_tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=8))
    value = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)
    cols = {c: [draw(value) for _ in range(n)] for c in ("base_emissions", "population", "gdp")}
    return pd.DataFrame({"district": [f"d{i}" for i in range(n)], **cols})


weight = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(
    table=district_tables(),
    method=st.sampled_from(["grandfathering", "per_capita", "intensity", "mix"]),
    weights=st.tuples(weight, weight, weight),
    budget=st.floats(min_value=1e-3, max_value=1e12, allow_nan=False),
)
def test_property_shares_sum_to_one_and_budgets_to_the_city_budget(
    table: pd.DataFrame, method: str, weights: tuple[float, float, float], budget: float
) -> None:
    assume(all(table[c].sum() > 0 for c in ("base_emissions", "population", "gdp")))
    w = dict(zip(("grandfathering", "per_capita", "intensity"), weights, strict=True))
    if method == "mix":
        assume(sum(weights) > 0)
    out = allocate(budget, table, method, w if method == "mix" else None)
    assert (out["share"] >= 0).all()
    assert out["share"].sum() == pytest.approx(1.0, rel=1e-9)
    assert out["budget"].sum() == pytest.approx(budget, rel=1e-9)


def _with(column: str, row: int, value: float) -> pd.DataFrame:
    out = DISTRICTS.copy()
    out.loc[row, column] = value
    return out


BAD_ALLOCATIONS = [
    (
        "negative population",
        _with("population", 1, -2.0),
        "per_capita",
        InvalidData,
        r"'population' is negative for district 'Qingyang'",
    ),
    (
        "missing column",
        DISTRICTS.drop(columns="gdp"),
        "intensity",
        InvalidData,
        r"no 'gdp' column",
    ),
    (
        "zero total",
        DISTRICTS.assign(base_emissions=0.0),
        "grandfathering",
        InvalidData,
        r"'base_emissions' sums to zero",
    ),
    (
        "missing value",
        _with("gdp", 2, math.nan),
        "intensity",
        InvalidData,
        r"'gdp' is missing for district 'Shuangliu'",
    ),
    (
        "duplicate district",
        pd.concat([DISTRICTS, DISTRICTS.iloc[:1]]),
        "per_capita",
        InvalidData,
        r"'Jinjiang' appears twice",
    ),
    (
        "no district column",
        DISTRICTS.drop(columns="district"),
        "per_capita",
        InvalidData,
        r"no 'district' column",
    ),
    ("unknown method", DISTRICTS, "equal", InvalidPipeline, r"unknown method 'equal'"),
]


@pytest.mark.parametrize(
    ("case", "table", "method", "error", "message"),
    BAD_ALLOCATIONS,
    ids=[c[0] for c in BAD_ALLOCATIONS],
)
def test_bad_allocation_input(
    case: str, table: pd.DataFrame, method: str, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        allocate(1000.0, table, method)


@pytest.mark.parametrize("budget", [0.0, -5.0, math.inf, math.nan])
def test_bad_city_budget(budget: float) -> None:
    with pytest.raises(InvalidData, match="city budget"):
        allocate(budget, DISTRICTS, "per_capita")


@pytest.mark.parametrize(
    ("method", "weights", "message"),
    [
        ("mix", None, "weights must map"),
        ("mix", {"grandfathering": -1.0, "per_capita": 2.0}, "weight of 'grandfathering'"),
        ("mix", {"grandfathering": 0.0}, "sum to zero"),
        ("mix", {"mix": 1.0}, "'mix' is not a method to mix"),
        ("per_capita", {"per_capita": 1.0}, "weights apply to method 'mix' only"),
    ],
)
def test_bad_weights(method: str, weights: dict | None, message: str) -> None:
    with pytest.raises(InvalidPipeline, match=message):
        allocate(1000.0, DISTRICTS, method, weights)


# ---------------------------------------------------------------------------- budget paths
PATHS = [
    dict(total_budget=1000.0, start_year=2020, end_year=2029, start_emissions=120.0),
    dict(total_budget=3000.0, start_year=2021, end_year=2035, start_emissions=250.0),
    dict(total_budget=1500.0, start_year=2020, end_year=2029, start_emissions=100.0),  # rising
    dict(total_budget=600.0, start_year=2020, end_year=2029, start_emissions=120.0),  # to 0
    dict(
        total_budget=390.0,
        start_year=2020,
        end_year=2024,
        start_emissions=100.0,
        peak_year=2022,
        shape="peak_then_linear",
    ),
    dict(
        total_budget=5000.0,
        start_year=2020,
        end_year=2060,
        start_emissions=100.0,
        peak_year=2030,
        shape="peak_then_linear",
    ),
]


@pytest.mark.parametrize("kwargs", PATHS)
def test_path_sums_to_the_total_and_starts_at_current_emissions(kwargs: dict) -> None:
    path = budget_path(**kwargs)
    assert path.sum() == pytest.approx(kwargs["total_budget"], rel=1e-9)
    assert path.iloc[0] == pytest.approx(kwargs["start_emissions"], rel=1e-12)
    assert list(path.index) == list(range(kwargs["start_year"], kwargs["end_year"] + 1))
    assert (path >= -1e-12).all()
    second = np.diff(path.to_numpy(), 2)
    if kwargs.get("shape", "linear") == "linear":
        np.testing.assert_allclose(second, 0.0, atol=1e-9)
    else:
        peak = kwargs["peak_year"]
        assert path.idxmax() == peak
        assert path.iloc[-1] == pytest.approx(0.0, abs=1e-9)
        kink = peak - kwargs["start_year"] - 1  # second differences are centred one step later
        np.testing.assert_allclose(np.delete(second, kink), 0.0, atol=1e-9)


def test_linear_path_hand_example() -> None:
    # n = 10 years: e_N = 2·1000/10 − 120 = 80, falling by 40/9 a year.
    path = budget_path(1000.0, 2020, 2029, 120.0)
    np.testing.assert_allclose(path.to_numpy(), 120.0 - 40.0 / 9.0 * np.arange(10))


def test_peak_path_hand_example() -> None:
    # u = (1, ½, 0, 0, 0), v = (0, ½, 1, ½, 0): 390 = 100·1.5 + 2P, so P = 120.
    path = budget_path(390.0, 2020, 2024, 100.0, peak_year=2022, shape="peak_then_linear")
    np.testing.assert_allclose(path.to_numpy(), [100.0, 110.0, 120.0, 60.0, 0.0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(total_budget=599.0, start_year=2020, end_year=2029, start_emissions=120.0), "600"),
        (
            dict(
                total_budget=349.0,
                start_year=2020,
                end_year=2024,
                start_emissions=100.0,
                peak_year=2022,
                shape="peak_then_linear",
            ),
            "350",
        ),
    ],
)
def test_too_small_a_budget_says_the_least_needed(kwargs: dict, message: str) -> None:
    with pytest.raises(ComputationError, match=f"at least {message}"):
        budget_path(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(shape="peak_then_linear"), InvalidPipeline, "peak_year is required"),
        (dict(shape="peak_then_linear", peak_year=2020), InvalidPipeline, "strictly between"),
        (dict(shape="peak_then_linear", peak_year=2029), InvalidPipeline, "strictly between"),
        (dict(peak_year=2025), InvalidPipeline, "peak_year applies"),
        (dict(shape="exponential"), InvalidPipeline, "unknown shape"),
        (dict(end_year=2020), InvalidPipeline, "not after start_year"),
        (dict(start_emissions=-1.0), InvalidData, "start_emissions"),
        (dict(total_budget=0.0), InvalidData, "total budget"),
    ],
)
def test_bad_path_parameters(kwargs: dict, error: type, message: str) -> None:
    args = dict(total_budget=1000.0, start_year=2020, end_year=2029, start_emissions=100.0)
    with pytest.raises(error, match=message):
        budget_path(**{**args, **kwargs})


# -------------------------------------------------------------------------------- tracking
PLAN = pd.Series([100.0, 100.0, 100.0, 100.0], index=[2020, 2021, 2022, 2023])


def test_track_columns_on_a_hand_example() -> None:
    actual = pd.Series([90.0, 100.0, 110.0], index=[2020, 2021, 2022])
    out = track(actual, PLAN)
    assert list(out.index) == [2020, 2021, 2022]
    assert out["cum_actual"].tolist() == [90.0, 190.0, 300.0]
    assert out["cum_budget"].tolist() == [100.0, 200.0, 300.0]
    np.testing.assert_allclose(out["ratio"], [0.9, 0.95, 1.0])
    assert out["status"].tolist() == ["green", "yellow", "red"]


@pytest.mark.parametrize(
    ("first_year", "thresholds", "status"),
    [
        (94.99, {}, "green"),
        (95.0, {}, "yellow"),  # exactly yellow
        (99.99, {}, "yellow"),
        (100.0, {}, "red"),  # exactly red
        (130.0, {}, "red"),
        (79.0, {"yellow": 0.8, "red": 0.9}, "green"),
        (80.0, {"yellow": 0.8, "red": 0.9}, "yellow"),
        (90.0, {"yellow": 0.8, "red": 0.9}, "red"),
        (90.0, {"yellow": 0.9, "red": 0.9}, "red"),  # no yellow band
    ],
)
def test_status_edges(first_year: float, thresholds: dict, status: str) -> None:
    out = track(pd.Series([first_year], index=[2020]), PLAN, **thresholds)
    assert out.loc[2020, "status"] == status


@pytest.mark.parametrize(
    ("actual", "message"),
    [
        (pd.Series([90.0, 95.0], index=[2020, 2022]), "no value for 2021"),
        (pd.Series([90.0], index=[2021]), "no value for 2020"),
        (pd.Series([90.0, 1.0], index=[2020, 2030]), "year 2030 of actual"),
        (pd.Series([90.0, math.nan], index=[2020, 2021]), "missing or infinite in 2021"),
        (pd.Series([90.0, -1.0], index=[2020, 2021]), "negative in 2021"),
        (pd.Series([90.0], index=["2020"]), "integer years"),
    ],
)
def test_track_bad_actuals(actual: pd.Series, message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        track(actual, PLAN)


@pytest.mark.parametrize(("yellow", "red"), [(1.1, 1.0), (0.0, 1.0), (0.9, math.inf)])
def test_track_bad_thresholds(yellow: float, red: float) -> None:
    with pytest.raises(InvalidPipeline, match="thresholds"):
        track(pd.Series([90.0], index=[2020]), PLAN, yellow=yellow, red=red)


# -------------------------------------------------------------------- intensity targets
# A −18 % intensity target from 2020 to 2025 (a five-year plan), required linearly: 3.6 points
# a year. GDP 100 in 2020 growing by 10 a year.
EMISSIONS = pd.Series([100.0, 106.0, 112.2, 118.3, 121.0, 123.0, 120.0], index=range(2020, 2027))
GDP = pd.Series([100.0 + 10 * k for k in range(7)], index=range(2020, 2027))


def test_intensity_status_hand_example() -> None:
    out = intensity_status(EMISSIONS, GDP, 2020, 18.0, 2025)
    # intensity: 1.0, 0.963636, 0.935, 0.91, 0.864286, 0.82, 0.75
    achieved = 100.0 * (1.0 - (EMISSIONS / GDP) / 1.0)
    np.testing.assert_allclose(out["achieved_reduction_pct"], achieved)
    np.testing.assert_allclose(
        out["required_reduction_pct"], [0.0, 3.6, 7.2, 10.8, 14.4, 18.0, 18.0]
    )
    # 2021: 3.64 ≥ 3.6; 2022: 6.5 < 7.2; 2023: 9.0 < 10.8; 2024: 13.57 < 14.4;
    # 2025: 18.0 = 18 (met exactly); 2026: 25 ≥ 18 (held after the target year).
    assert out["on_track"].tolist() == [True, True, False, False, False, True, True]
    assert out.index.name == "year"


def test_intensity_status_ignores_years_before_the_base() -> None:
    out = intensity_status(EMISSIONS, GDP, 2022, 10.0, 2024)
    assert list(out.index) == [2022, 2023, 2024, 2025, 2026]
    assert out.loc[2022, "achieved_reduction_pct"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(base_year=2019), InvalidData, "base year 2019"),
        (dict(gdp=GDP.replace(130.0, 0.0)), InvalidData, "gdp is not positive in 2023"),
        (dict(target_year=2020), InvalidPipeline, "not after base_year"),
        (dict(target_reduction_pct=0.0), InvalidPipeline, "target_reduction_pct"),
        (dict(target_reduction_pct=120.0), InvalidPipeline, "target_reduction_pct"),
    ],
)
def test_intensity_status_bad_input(kwargs: dict, error: type, message: str) -> None:
    args = dict(
        emissions=EMISSIONS, gdp=GDP, base_year=2020, target_reduction_pct=18.0, target_year=2025
    )
    with pytest.raises(error, match=message):
        intensity_status(**{**args, **kwargs})
