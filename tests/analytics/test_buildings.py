"""Building energy: validation, conversion to tce and CO2, totals and intensities."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from analytics import buildings as bld
from analytics.errors import InvalidData

HEADER = "adcode,district,building_type,month,floor_area_m2,electricity_kwh,gas_m3\n"
ROWS = [
    # adcode, type, month, area, kWh, m³
    ("510104", "office", "2023-01", 1000, 10000, 500),
    ("510104", "office", "2023-02", 1000, 8000, 300),
    ("510104", "residential", "2023-01", 3000, 6000, 900),
    ("510104", "office", "2024-01", 1200, 9000, 400),
    ("510105", "office", "2023-01", 500, 4000, 0),
]


def frame(rows=ROWS) -> pd.DataFrame:
    text = HEADER + "".join(f"{a},name,{t},{m},{f},{e},{g}\n" for a, t, m, f, e, g in rows)
    return bld.validate(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False))


@pytest.mark.parametrize(
    "row,message",
    [
        (("510104", "barn", "2023-01", 1, 1, 1), "unknown building type"),
        (("510104", "office", "2023-13", 1, 1, 1), "is not YYYY-MM"),
        (("510104", "office", "2023-03", -1, 1, 1), "floor_area_m2 '-1' is not a whole number"),
        (("510104", "office", "2023-03", 1, 1.5, 1), "electricity_kwh '1.5'"),
        (("510104", "office", "2023-01", 1, 1, 1), "a second row for the same district"),
    ],
)
def test_bad_rows_are_refused_with_their_line(row, message) -> None:
    with pytest.raises(InvalidData, match=message):
        frame([*ROWS, row])


def test_a_missing_column_is_named() -> None:
    with pytest.raises(InvalidData, match=r"missing column.*gas_m3"):
        bld.validate(pd.DataFrame({c: ["1"] for c in list(bld.COLUMNS)[:-1]}))


def test_conversions_follow_the_stated_factors() -> None:
    d = bld.derive(frame())
    r = d.iloc[0]  # 10,000 kWh and 500 m³
    assert r["energy_tce"] == pytest.approx((10000 * 0.1229 + 500 * 389.31 / 29.3076 / 10) / 1000)
    assert r["co2_scope2_t"] == pytest.approx(10000 * 0.1404 / 1000)
    assert r["co2_scope1_t"] == pytest.approx(500 * 2.16219 / 1000)
    gas_only = bld.derive(frame(), ["gas"]).iloc[0]
    assert gas_only["co2_scope2_t"] == 0 and gas_only["co2_t"] == pytest.approx(1.081095)
    assert gas_only["energy_tce"] == pytest.approx(500 * 389.31 / 29.3076 / 10 / 1000)


@pytest.mark.parametrize(
    "sel,expected_kwh",
    [
        (bld.Selection(), 37000),
        (bld.Selection(districts=("510104",)), 33000),
        (bld.Selection(building_types=("residential",)), 6000),
        (bld.Selection(years=(2024, 2024)), 9000),
        (bld.Selection(districts=("510105",), years=(2024, 2024)), 0),
    ],
)
def test_select_filters_rows(sel, expected_kwh) -> None:
    rows = bld.select(frame(), sel)
    assert rows["electricity_mwh"].sum() * 1000 == pytest.approx(expected_kwh)


def test_yearly_floor_area_is_the_mean_of_the_months_not_their_sum() -> None:
    t = bld.totals(bld.derive(frame()), ["adcode"], "year")
    # 510104 in 2023: January 1000 + 3000 m², February 1000 m² -> mean 2500
    assert t.loc[("510104", 2023), "floor_area_m2"] == 2500
    assert t.loc[("510104", 2023), "electricity_mwh"] == pytest.approx(24.0)
    monthly = bld.totals(bld.derive(frame()), ["adcode"], "month")
    assert monthly.loc[("510104", "2023-01"), "floor_area_m2"] == 4000


def test_intensities_per_gdp_and_person() -> None:
    t = bld.totals(bld.derive(frame()), ["adcode"], "year")
    panel = pd.DataFrame(
        {
            "adcode": ["510104", "510105"],
            "year": [2023, 2023],
            "gdp_bn_yuan": [2.0, 1.0],
            "population_10k": [1.0, 0.5],
        }
    )
    out = bld.with_intensities(t, bld.stats_panel(panel))
    co2 = t.loc[("510104", 2023), "co2_t"]
    assert out.loc[("510104", 2023), "carbon_intensity"] == pytest.approx(co2 / 2e5)
    assert out.loc[("510104", 2023), "co2_per_capita_t"] == pytest.approx(co2 / 1e4)
    assert out.loc[("510104", 2023), "kwh_per_m2"] == pytest.approx(24000 / 2500)
    assert pd.isna(out.loc[("510104", 2024), "carbon_intensity"])  # no GDP for 2024


def test_bad_selections_are_refused() -> None:
    with pytest.raises(InvalidData, match="unknown building type"):
        bld.Selection(building_types=("barn",))
    with pytest.raises(InvalidData, match="fuels"):
        bld.Selection(fuels=())
    with pytest.raises(InvalidData, match="reversed"):
        bld.Selection(years=(2024, 2020))


def test_change_pct() -> None:
    s = pd.Series({2020: 100.0, 2023: 90.0, 2024: 99.0})
    assert bld.change_pct(s, 2024, 2023) == pytest.approx(10.0)
    assert bld.change_pct(s, 2024, 2020) == pytest.approx(-1.0)
    assert bld.change_pct(s, 2024, 2019) is None


def test_complete_years_need_all_twelve_months() -> None:
    full = [("510104", "office", f"2023-{m:02d}", 1, 1, 1) for m in range(1, 13)]
    assert bld.complete_years(frame(full)) == (2023, 2023)
    assert bld.complete_years(frame([*full, ("510104", "office", "2024-01", 1, 1, 1)])) == (
        2023,
        2023,
    )
    assert bld.complete_years(frame(ROWS)) is None
