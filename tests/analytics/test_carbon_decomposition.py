"""LMDI-I decomposition: hand-worked and reference examples, exactness, zero values, bad input.

Ang (2005, Energy Policy 33:867–871) has a worked example, but its full text was not
available to us, so the reference cases are (a) a two-sector example worked by hand below and
(b) the published test values of the LMDIR R package (MatthewHeun/LMDIR,
tests/testthat/test_lmdi.R), an independent additive LMDI-I implementation.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.carbon.decomposition import EFFECTS, LmdiResult, lmdi, lmdi_by, log_mean
from analytics.errors import ComputationError, InvalidData


def _table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period", "sector", "activity", "energy", "emissions"])


def _assert_exact(result: LmdiResult) -> None:
    # Rounding is relative to the size of the terms, which can dwarf a small net change.
    scale = max(1.0, float(result.by_sector.abs().to_numpy().sum()))
    assert abs(result.residual) <= 1e-9 * scale
    assert sum(result.effects.values()) == pytest.approx(result.total_change, abs=1e-9 * scale)
    sums = result.by_sector[list(EFFECTS)].sum()
    for name in EFFECTS:
        assert sums[name] == pytest.approx(result.effects[name], abs=1e-9 * scale)
    row_sums = result.by_sector[list(EFFECTS)].sum(axis=1)
    np.testing.assert_allclose(row_sums, result.by_sector["total"], atol=1e-9 * scale)


# Worked by hand. Q = 40 + 60 = 100 in 2015 and 50 + 110 = 160 in 2020.
#
#              Q_i   E_i   C_i    S_i      I_i    F_i
# industry 15   40    80   200    0.4      2.0    2.5
# industry 20   50    75   150    0.3125   1.5    2.0
# services 15   60    30    60    0.6      0.5    2.0
# services 20  110    44    88    0.6875   0.4    2.0
#
# Weights: L(150, 200) = −50 / ln 0.75 = 173.80297;  L(88, 60) = 28 / ln(88/60) = 73.10853.
# Log ratios: ln(160/100) = 0.470004 (both sectors);
#   industry: ln(0.3125/0.4) = −0.246860, ln(1.5/2) = −0.287682, ln(2/2.5) = −0.223144
#   services: ln(0.6875/0.6) = 0.136132, ln(0.4/0.5) = −0.223144, ln(2/2) = 0
# Effects (weight × log ratio):
#   industry: activity 81.6881, structure −42.9050, intensity −50.0000, factor −38.7831
#   services: activity 34.3613, structure 9.9524, intensity −16.3137, factor 0
#   city:     activity 116.0494, structure −32.9526, intensity −66.3137, factor −38.7831
# Their sum is −22.0000 = (150 + 88) − (200 + 60).
HAND = _table(
    [
        (2015, "industry", 40.0, 80.0, 200.0),
        (2015, "services", 60.0, 30.0, 60.0),
        (2020, "industry", 50.0, 75.0, 150.0),
        (2020, "services", 110.0, 44.0, 88.0),
    ]
)
HAND_BY_SECTOR = {
    "industry": (81.6881, -42.9050, -50.0000, -38.7831),
    "services": (34.3613, 9.9524, -16.3137, 0.0),
}
HAND_EFFECTS = (116.0494, -32.9526, -66.3137, -38.7831)


def test_hand_worked_two_sector_example() -> None:
    result = lmdi(HAND, 2015, 2020)
    for name, expected in HAND_BY_SECTOR.items():
        got = result.by_sector.loc[name, list(EFFECTS)].to_numpy()
        np.testing.assert_allclose(got, expected, atol=1e-4)
    np.testing.assert_allclose([result.effects[k] for k in EFFECTS], HAND_EFFECTS, atol=1e-4)
    assert result.total_change == pytest.approx(-22.0)
    assert result.by_sector["total"].to_dict() == pytest.approx(
        {"industry": -50.0, "services": 28.0}
    )
    _assert_exact(result)


# LMDIR's three-factor example V_i = x1·x2·x3, 1971 → 1972. Mapping x1 = Q_i, x2 = I_i,
# x3 = F_i (so E_i = x1·x2 and C_i = x1·x2·x3), its factor-1 effect is our activity + structure
# effect and its factors 2 and 3 are our intensity and emission-factor effects.
LMDIR_X = {
    (1971, "subcat 1"): (1, 10, 2),
    (1971, "subcat 2"): (4, 5, 3),
    (1972, "subcat 1"): (4, 5, 3),
    (1972, "subcat 2"): (5, 6, 4),
}
LMDIR_Z = {  # Z_1 in test_lmdi.R: rows subcat, columns factor 1..3
    "subcat 1": (50.47438029, -25.23719014, 14.76280986),
    "subcat 2": (19.31568569, 15.78206435, 24.90224996),
}
LMDIR_DV = (69.79006598, -9.455125793, 39.66505981)


def test_matches_lmdir_reference_values() -> None:
    data = _table(
        [(year, s, x1, x1 * x2, x1 * x2 * x3) for (year, s), (x1, x2, x3) in LMDIR_X.items()]
    )
    result = lmdi(data, 1971, 1972)
    by = result.by_sector
    for s, (z1, z2, z3) in LMDIR_Z.items():
        assert by.loc[s, "activity"] + by.loc[s, "structure"] == pytest.approx(z1, abs=1e-7)
        assert by.loc[s, "intensity"] == pytest.approx(z2, abs=1e-7)
        assert by.loc[s, "emission_factor"] == pytest.approx(z3, abs=1e-7)
    e = result.effects
    assert e["activity"] + e["structure"] == pytest.approx(LMDIR_DV[0], abs=1e-7)
    assert e["intensity"] == pytest.approx(LMDIR_DV[1], abs=1e-7)
    assert e["emission_factor"] == pytest.approx(LMDIR_DV[2], abs=1e-7)
    assert result.total_change == pytest.approx(100.0)


EXACT_TABLES = {
    "hand": HAND,
    "three sectors, mixed moves": _table(
        [
            (0, "a", 10.0, 50.0, 120.0),
            (0, "b", 30.0, 20.0, 35.0),
            (0, "c", 60.0, 12.0, 9.0),
            (1, "a", 9.0, 40.0, 100.0),
            (1, "b", 45.0, 27.0, 30.0),
            (1, "c", 90.0, 15.0, 12.0),
        ]
    ),
    "tiny and huge magnitudes": _table(
        [
            (0, "a", 1e-6, 2e-6, 3e-6),
            (0, "b", 1e9, 4e9, 8e9),
            (1, "a", 2e-6, 1e-6, 5e-6),
            (1, "b", 1.1e9, 4.1e9, 7.9e9),
        ]
    ),
    "one sector": _table([(0, "a", 1.0, 2.0, 3.0), (1, "a", 1.5, 2.5, 3.5)]),
    "nearly equal emissions": _table([(0, "a", 1.0, 2.0, 3.0), (1, "a", 1.0, 2.0, 3.0 + 1e-12)]),
    "a new sector": _table(
        [
            (0, "a", 10.0, 10.0, 10.0),
            (0, "new", 0.0, 0.0, 0.0),
            (1, "a", 12.0, 11.0, 10.0),
            (1, "new", 3.0, 4.0, 5.0),
        ]
    ),
    "a sector that stops emitting": _table(
        [
            (0, "a", 10.0, 10.0, 10.0),
            (0, "b", 5.0, 5.0, 2.0),
            (1, "a", 12.0, 11.0, 10.0),
            (1, "b", 6.0, 5.0, 0.0),
        ]
    ),
}


@pytest.mark.parametrize("name", list(EXACT_TABLES))
def test_effects_sum_to_the_total_change(name: str) -> None:
    data = EXACT_TABLES[name]
    periods = sorted(data["period"].unique())
    result = lmdi(data, periods[0], periods[1])
    expected = (
        data.loc[data["period"] == periods[1], "emissions"].sum()
        - data.loc[data["period"] == periods[0], "emissions"].sum()
    )
    assert result.total_change == pytest.approx(expected, rel=1e-12, abs=1e-18)
    _assert_exact(result)


positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def two_period_tables(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=6))
    rows = []
    for i in range(n):
        for p in (0, 1):
            q, e, c = draw(positive), draw(positive), draw(positive)
            rows.append((p, f"s{i}", q, e, c))
    return _table(rows)


@settings(max_examples=120, deadline=None)
@given(two_period_tables())
def test_property_exact_and_time_reversal(data: pd.DataFrame) -> None:
    forward = lmdi(data, 0, 1)
    _assert_exact(forward)
    backward = lmdi(data, 1, 0)
    # L is symmetric and each log ratio changes sign, so LMDI-I is time-reversal antisymmetric.
    for name in EFFECTS:
        assert backward.effects[name] == pytest.approx(-forward.effects[name], rel=1e-9, abs=1e-6)


BASE = [(0, "a", 40.0, 80.0, 200.0), (0, "b", 60.0, 30.0, 60.0)]


def _target(rows: list[tuple]) -> pd.DataFrame:
    return _table([*BASE, *rows])


# Target periods in which only one factor moves; the whole change must land on it.
SINGLE_FACTOR = {
    # Q, E, C all × 1.5: shares, intensities and factors unchanged.
    "activity": _target([(1, "a", 60.0, 120.0, 300.0), (1, "b", 90.0, 45.0, 90.0)]),
    # Q stays 100, a's share 0.4 → 0.5; E and C follow Q_i so I_i and F_i are unchanged.
    "structure": _target([(1, "a", 50.0, 100.0, 250.0), (1, "b", 50.0, 25.0, 50.0)]),
    # E and C × 0.8 in a, × 1.2 in b, same activity: only intensities move.
    "intensity": _target([(1, "a", 40.0, 64.0, 160.0), (1, "b", 60.0, 36.0, 72.0)]),
    # Only emissions change (a cleaner fuel mix in a, a dirtier one in b).
    "emission_factor": _target([(1, "a", 40.0, 80.0, 150.0), (1, "b", 60.0, 30.0, 66.0)]),
}


@pytest.mark.parametrize("moved", list(SINGLE_FACTOR))
def test_a_single_moving_factor_takes_the_whole_change(moved: str) -> None:
    result = lmdi(SINGLE_FACTOR[moved], 0, 1)
    assert result.total_change != 0
    assert result.effects[moved] == pytest.approx(result.total_change, rel=1e-12)
    for other in EFFECTS:
        if other != moved:
            assert result.effects[other] == pytest.approx(0.0, abs=1e-9)


# (base row of sector z, target row of sector z, effect that must take z's whole change)
ZERO_CASES = [
    ((0.0, 0.0, 0.0), (3.0, 4.0, 5.0), "structure"),  # z appears
    ((5.0, 0.0, 0.0), (6.0, 4.0, 5.0), "intensity"),  # z starts using energy
    ((5.0, 4.0, 0.0), (6.0, 5.0, 5.0), "emission_factor"),  # z starts emitting
    ((6.0, 5.0, 5.0), (5.0, 4.0, 0.0), "emission_factor"),  # z stops emitting (electrified)
    ((6.0, 5.0, 5.0), (0.0, 0.0, 0.0), "structure"),  # z closes
]


@pytest.mark.parametrize(("z0", "zt", "effect"), ZERO_CASES)
def test_zero_values_take_the_limit_of_the_small_value_strategy(
    z0: tuple, zt: tuple, effect: str
) -> None:
    data = _table(
        [(0, "a", 10.0, 10.0, 10.0), (0, "z", *z0), (1, "a", 12.0, 11.0, 10.0), (1, "z", *zt)]
    )
    result = lmdi(data, 0, 1)
    z = result.by_sector.loc["z"]
    assert z[effect] == pytest.approx(zt[2] - z0[2])
    assert (z[list(EFFECTS)].drop(effect) == 0).all()
    _assert_exact(result)

    # Ang & Liu (2007): replacing the zeros by δ converges to this limit as δ → 0, but only
    # like 1/|ln δ|, which is why the limit is computed directly.
    numeric = ["activity", "energy", "emissions"]
    errors = []
    for delta in (1e-10, 1e-50, 1e-300):
        approx = lmdi(data.replace({c: {0.0: delta} for c in numeric}), 0, 1).by_sector.loc[
            "z", list(EFFECTS)
        ]
        errors.append(float((approx - z[list(EFFECTS)]).abs().max()))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05 * abs(zt[2] - z0[2])


def test_zero_emissions_in_both_periods_contribute_nothing() -> None:
    data = _table(
        [
            (0, "a", 10.0, 10.0, 10.0),
            (0, "z", 4.0, 2.0, 0.0),
            (1, "a", 12.0, 11.0, 10.0),
            (1, "z", 0.0, 0.0, 0.0),
        ]
    )
    result = lmdi(data, 0, 1)
    assert (result.by_sector.loc["z"] == 0).all()
    _assert_exact(result)


def test_custom_column_names_and_inputs_untouched() -> None:
    data = HAND.rename(
        columns={
            "period": "year",
            "sector": "industry_code",
            "activity": "gva",
            "energy": "tce",
            "emissions": "tco2",
        }
    )
    before = data.copy()
    result = lmdi(
        data,
        2015,
        2020,
        sector="industry_code",
        period="year",
        activity="gva",
        energy="tce",
        emissions="tco2",
    )
    pd.testing.assert_frame_equal(data, before)
    assert result.by_sector.index.name == "industry_code"
    np.testing.assert_allclose([result.effects[k] for k in EFFECTS], HAND_EFFECTS, atol=1e-4)


def test_lmdi_by_decomposes_each_group_on_its_own() -> None:
    other = HAND.assign(emissions=HAND["emissions"] * [1.0, 2.0, 0.5, 3.0])
    data = pd.concat([HAND.assign(district="Jinjiang"), other.assign(district="Qingyang")])
    before = data.copy()
    out = lmdi_by(data, 2015, 2020, by="district")
    pd.testing.assert_frame_equal(data, before)
    assert list(out.index) == ["Jinjiang", "Qingyang"]
    assert out.index.name == "district"
    for name, frame in (("Jinjiang", HAND), ("Qingyang", other)):
        single = lmdi(frame, 2015, 2020)
        for effect in EFFECTS:
            assert out.loc[name, effect] == pytest.approx(single.effects[effect])
        assert out.loc[name, "total"] == pytest.approx(single.total_change)
        assert out.loc[name, list(EFFECTS)].sum() == pytest.approx(out.loc[name, "total"])


def test_lmdi_by_names_the_group_at_fault() -> None:
    bad = HAND.iloc[:3].assign(district="Wuhou")
    data = pd.concat([HAND.assign(district="Jinjiang"), bad])
    with pytest.raises(InvalidData, match=r"district 'Wuhou'.*services"):
        lmdi_by(data, 2015, 2020)


def _with(value: float, row: int, column: str) -> pd.DataFrame:
    out = HAND.copy()
    out.loc[row, column] = value
    return out


BAD_INPUT = [
    ("sector in one period only", HAND.iloc[:3], InvalidData, r"'services'.*2015.*2020"),
    ("missing column", HAND.drop(columns="energy"), InvalidData, r"energy column 'energy'"),
    ("missing period", HAND, InvalidData, r"period 2030"),
    ("negative value", _with(-1.0, 1, "energy"), InvalidData, r"'energy' is negative.*services"),
    ("missing value", _with(math.nan, 2, "activity"), InvalidData, r"missing.*industry.*2020"),
    ("duplicate row", pd.concat([HAND, HAND.iloc[:1]]), InvalidData, r"'industry'.*more than"),
    (
        "energy without activity",
        _with(0.0, 3, "activity"),
        ComputationError,
        r"'services' uses energy but has no activity in period 2020",
    ),
    (
        "emissions without energy",
        _with(0.0, 0, "energy"),
        ComputationError,
        r"'industry' emits without using energy in period 2015",
    ),
]


@pytest.mark.parametrize(
    ("case", "data", "error", "message"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_refused_with_a_readable_message(
    case: str, data: pd.DataFrame, error: type, message: str
) -> None:
    target = 2030 if case == "missing period" else 2020
    with pytest.raises(error, match=message):
        lmdi(data, 2015, target)


def test_zero_total_activity_is_refused() -> None:
    data = _table([(0, "a", 0.0, 0.0, 0.0), (1, "a", 1.0, 1.0, 1.0)])
    with pytest.raises(ComputationError, match="total activity is zero in period 0"):
        lmdi(data, 0, 1)


def test_effects_beyond_float64_are_refused_by_sector() -> None:
    # b's share falls by 1e-300 while a's rises by 1e300: the ratio underflows to 0, whose
    # log is -inf; that is refused by name, not summed into an infinite effect.
    data = _table(
        [
            (0, "a", 1.0, 1.0, 1.0),
            (1, "a", 1e300, 1e300, 1e300),
            (0, "b", 1.0, 1.0, 1.0),
            (1, "b", 1e-300, 1e-300, 1e-300),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ComputationError, match="overflow floating point for sector 'b'"):
            lmdi(data, 0, 1)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (2.0, 2.0, 2.0),
        (math.e, 1.0, math.e - 1.0),
        (1.0, math.e, math.e - 1.0),
        (1.0 + 1e-12, 1.0, 1.0 + 5e-13),
    ],
)
def test_log_mean(a: float, b: float, expected: float) -> None:
    assert float(log_mean(np.array(a), np.array(b))) == pytest.approx(expected, rel=1e-12)
