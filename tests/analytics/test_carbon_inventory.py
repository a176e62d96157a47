"""Emission factors, units and the inventory: hand-computed rows and every kind of bad row."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.carbon import factors, units
from analytics.carbon.demo import write
from analytics.carbon.inventory import COLUMNS, compute, intensities, read_activity
from analytics.errors import InvalidData

SICHUAN_2022 = factors.parse_grid("sichuan:2022")


def frame(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame([tuple(map(str, r)) for r in rows], columns=list(COLUMNS))


@pytest.mark.parametrize(
    ("fuel", "quantity", "unit", "fuel_set", "grid", "expected"),
    [
        # the two hand-computed rows
        ("diesel", 1000, "t", "ipcc2006", None, 3186.3),  # 43.0 GJ/t × 74,100 kg/TJ
        ("electricity", 1000, "MWh", "ipcc2006", SICHUAN_2022, 140.4),  # 0.1404 t/MWh
        ("electricity", 1_000_000, "kWh", "ipcc2006", SICHUAN_2022, 140.4),
        ("电力", 100, "万千瓦时", "ipcc2006", SICHUAN_2022, 140.4),
        ("Gas/Diesel Oil", 1, "kt", "ipcc2006", None, 3186.3),
        ("diesel", 43_000, "GJ", "ipcc2006", None, 3186.3),  # energy given directly
        # China's enterprise defaults: NCV × carbon content × oxidation × 44/12
        ("diesel", 1000, "t", "cn-enterprise", None, 1000 * 43.33 * 0.0202 * 0.98 * 44 / 12),
        ("natural_gas", 1, "10^4 Nm3", "cn-enterprise", None, 389.31 * 0.0153 * 0.99 * 44 / 12),
        ("天然气", 10_000, "Nm3", "cn-enterprise", None, 389.31 * 0.0153 * 0.99 * 44 / 12),
        ("natural_gas", 1, "TJ", "ipcc2006", None, 56.1),  # 56,100 kg/TJ
        ("bituminous_coal", 1, "tce", "ipcc2006", None, 29.3076 * 94.6e-3),
    ],
)
def test_hand_computed_rows(fuel, quantity, unit, fuel_set, grid, expected) -> None:
    gpc = "I.3.2" if fuel in ("electricity", "电力") else "I.3.1"
    inv = compute(
        frame(("510104", "2022", "industry", gpc, fuel, quantity, unit)),
        fuel_set,
        [grid] if grid else [],
    )
    assert inv.rejected.empty, inv.rejected
    assert inv.total == pytest.approx(expected, rel=1e-12)
    assert inv.rows["factor"].iloc[0] in (
        f"{fuel_set}:diesel",
        f"{fuel_set}:natural_gas",
        f"{fuel_set}:bituminous_coal",
        SICHUAN_2022.id,
    )


@pytest.mark.parametrize(
    ("value", "unit", "to", "expected"),
    [
        (1, "tce", "GJ", 29.3076),
        (1, "MWh", "kWh", 1000),
        (1, "GWh", "GJ", 3600),
        (1, "10^4 t", "kg", 1e7),
        (3, "万立方米", "Nm3", 30_000),
        (1, "toe", "tce", 41.868 / 29.3076),
        (2, "吨标准煤", "MJ", 58_615.2),
    ],
)
def test_unit_conversions(value, unit, to, expected) -> None:
    assert units.convert(value, unit, to) == pytest.approx(expected, rel=1e-12)


def test_unit_errors() -> None:
    with pytest.raises(InvalidData, match="cannot convert t \\(mass\\) to GJ"):
        units.convert(1, "t", "GJ")
    with pytest.raises(InvalidData, match="unknown unit 'bushel'"):
        units.convert(1, "bushel", "t")


def test_every_bad_row_is_reported_with_its_line_and_nothing_else_is_lost() -> None:
    rows = [
        ("510104", "2022", "transport", "II.1.1", "diesel", "1000", "t"),  # line 2: good
        ("510104", "2022-13", "industry", "I.3.1", "diesel", "1", "t"),
        ("510104", "2022", "industry", "I.3.1", "dieesel", "1", "t"),
        ("510104", "2022", "industry", "I.3.1", "diesel", "-4", "t"),
        ("510104", "2022", "industry", "I.3.1", "diesel", "", "t"),
        ("510104", "2022", "industry", "I.9.9", "diesel", "3", "t"),
        ("510104", "2022", "industry", "I.3.1", "natural_gas", "3", "10^4 Nm3"),
        ("510104", "2022", "industry", "I.3.1", "diesel", "3", "bushel"),
        ("510104", "2022", "industry", "I.3.1", "diesel", "abc", "t"),
        ("510104", "2022", "industry", "I.3.2", "diesel", "1", "t"),
        ("510104", "2022", "industry", "I.3.1", "electricity", "1", "MWh"),
        ("", "2022", "industry", "I.3.1", "diesel", "1", "t"),
        ("510104", "2022", "industry", "I.3.2", "electricity", "5", "t"),
        ("510104", "2022", "industry", "I.3.1", "lng", "5", "t"),  # no IPCC default
        ("510104", "2022", "industry", "I.3.2", "electricity", "1000", "MWh"),  # good
    ]
    inv = compute(frame(*rows), "ipcc2006", [SICHUAN_2022])
    reasons = dict(zip(inv.rejected["row"], inv.rejected["reason"], strict=True))
    assert reasons == {
        3: "period '2022-13' is not YYYY or YYYY-MM",
        4: "unknown fuel 'dieesel'",
        5: "negative quantity -4",
        6: "missing quantity",
        7: "unknown GPC number 'I.9.9'",
        8: "'10^4 Nm3' is a volume; the ipcc2006 calorific value of this fuel is per tonne",
        9: "unknown unit 'bushel'",
        10: "quantity 'abc' is not a number",
        11: "fuel combustion is scope 1 (or 3), not scope-2 GPC 'I.3.2'",
        12: "electricity is scope 2 (or 3), not scope-1 GPC 'I.3.1'",
        13: "missing region",
        14: "electricity in 't': give kWh or MWh",
        15: "fuel 'lng' has no default in ipcc2006",
    }
    assert inv.rows["row"].tolist() == [2, 16]
    assert len(inv.rows) + len(inv.rejected) == len(rows)
    assert inv.total == pytest.approx(3186.3 + 140.4)


def test_electricity_needs_one_explicit_series() -> None:
    row = frame(("510104", "2022", "industry", "I.3.2", "electricity", "1000", "MWh"))
    inv = compute(row, "ipcc2006", [])
    assert inv.rejected["reason"].tolist() == [
        "electricity rows need a grid factor (--grid REGION:YEAR)"
    ]
    market = factors.parse_grid("carbon-market:national:2022")
    assert compute(row, "ipcc2006", [market]).total == pytest.approx(570.3)
    with pytest.raises(InvalidData, match="mixes electricity series carbon-market and mee-average"):
        compute(row, "ipcc2006", [market, factors.parse_grid("sichuan:2021")])
    with pytest.raises(InvalidData, match="years: 2021, 2022"):
        factors.parse_grid("sichuan:2024")
    with pytest.raises(InvalidData, match="unknown electricity series"):
        factors.parse_grid("green:sichuan:2022")


def test_one_grid_factor_per_year() -> None:
    rows = frame(
        ("510104", "2021-06", "industry", "I.3.2", "electricity", "1000", "MWh"),
        ("510104", "2022-06", "industry", "I.3.2", "electricity", "1000", "MWh"),
        ("510104", "2023-06", "industry", "I.3.2", "electricity", "1000", "MWh"),
    )
    grid = [factors.parse_grid("sichuan:2021"), SICHUAN_2022]
    inv = compute(rows, "ipcc2006", grid)
    assert inv.rows["co2_t"].tolist() == pytest.approx([125.5, 140.4])
    assert inv.rows["factor"].tolist() == ["mee-average:四川:2021", "mee-average:四川:2022"]
    assert inv.rejected["reason"].tolist() == ["no grid factor for the year of '2023-06'"]


def test_totals_by_gpc_scope_district_month_and_intensities() -> None:
    rows = frame(
        ("A", "2022-01", "transport", "II.1.1", "diesel", "1000", "t"),
        ("A", "2022-02", "industry", "I.3.2", "electricity", "1000", "MWh"),
        ("B", "2022-01", "residential", "I.1.3", "electricity", "1000", "MWh"),
    )
    inv = compute(rows, "ipcc2006", [SICHUAN_2022])
    gpc = inv.by_gpc().set_index(["gpc_sector", "scope"])["co2_t"]
    assert gpc.to_dict() == pytest.approx(
        {
            ("Stationary energy", 2): 140.4,
            ("Stationary energy", 3): 140.4,
            ("Transportation", 1): 3186.3,
        }
    )
    monthly = inv.by(["region", "period"])
    assert monthly["co2_t"].tolist() == pytest.approx([3186.3, 140.4, 140.4])
    gdp = pd.DataFrame({"region": ["A", "B"], "year": [2022, 2022], "gdp_bn_yuan": [1.0, 2.0]})
    pop = pd.DataFrame({"region": ["A"], "year": [2022], "population_10k": [10.0]})
    out = intensities(inv, gdp, pop).set_index("region")
    assert out.loc["A", "t_per_10k_yuan"] == pytest.approx(3326.7 / 1e5)
    assert out.loc["A", "t_per_capita"] == pytest.approx(3326.7 / 1e5)
    assert np.isnan(out.loc["B", "t_per_capita"])  # no population given: not guessed


def test_library_version_names_the_tables() -> None:
    assert factors.version().startswith("ghg-") and len(factors.version()) == 16
    assert compute(frame(("A", "2022", "x", "I.3.1", "diesel", "1", "t"))).library == (
        factors.version()
    )


def test_committed_demo_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "analytics" / "carbon" / "demo"
    for name, path in write(tmp_path).items():
        assert path.read_bytes() == (shipped / path.name).read_bytes(), name
    inv = compute(read_activity(shipped / "activity_2015_2024.csv"), "ipcc2006", [SICHUAN_2022])
    assert inv.rejected.empty and len(inv.rows) == 20 * 120 * 11
    assert set(inv.by(["scope"])["scope"]) == {1, 2}


def test_rejected_rows_name_the_line_a_person_sees(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "region,period,sector,gpc_ref,fuel,quantity,unit\n"
        "510104,2022,transport,II.1.1,diesel,1000,t\n"
        "\n"
        '510104,2022,"two\nline sector",II.1.1,diesel,-5,t\n'
        "510104,2022,transport,II.1.1,diesel,inf,t\n"
        "510104,2022,industry,I.3.2,electricity,3,tce\n"
    )
    inv = compute(read_activity(path), "ipcc2006", [SICHUAN_2022])
    assert dict(zip(inv.rejected["row"], inv.rejected["reason"], strict=True)) == {
        4: "negative quantity -5",
        6: "quantity 'inf' is not finite",
        7: "electricity in 'tce' is ambiguous: give kWh or MWh",
    }
    assert inv.rows["row"].tolist() == [2]


def test_combinations_present_give_what_the_full_grid_gives(monkeypatch) -> None:
    from analytics.carbon import inventory as module

    shipped = Path(__file__).resolve().parents[2] / "analytics" / "carbon" / "demo"
    data = read_activity(shipped / "activity_2015_2024.csv").head(3000)
    data.loc[5, "fuel"] = "dieesel"
    grid = compute(data, "ipcc2006", [SICHUAN_2022])
    monkeypatch.setattr(module, "GRID_LIMIT", 1)
    present = compute(data, "ipcc2006", [SICHUAN_2022])
    pd.testing.assert_frame_equal(grid.rows, present.rows)
    pd.testing.assert_frame_equal(grid.rejected, present.rejected)
    assert present.rejected["row"].tolist() == [7]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "the file is empty"),
        ("region,period\n", "missing column(s) sector"),
        (b"\xff\xfe\x00x", "not UTF-8"),
    ],
)
def test_unreadable_activity_files(tmp_path: Path, content, fragment) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InvalidData, match=re.escape(fragment)):
        read_activity(path)
    with pytest.raises(InvalidData, match="is a folder"):
        read_activity(tmp_path)


def test_line_numbers_on_the_fast_reader_path(tmp_path: Path) -> None:
    # no quote in the file: pandas reads it; blank lines still count
    path = tmp_path / "a.csv"
    path.write_text(
        "region,period,sector,gpc_ref,fuel,quantity,unit\n"
        "\n"
        " 510104 ,2022,transport,II.1.1,diesel,1000,t\n"
        "\n"
        "\n"
        "510104,2022,transport,II.1.1,diesel,-1,t\n"
        "510104,2022,transport,II.1.1,diesel,7\n"
    )
    data = read_activity(path)
    assert data["line"].tolist() == [3, 6, 7]
    inv = compute(data, "ipcc2006")
    assert inv.rows["row"].tolist() == [3] and inv.rows["region"].tolist() == ["510104"]
    assert dict(zip(inv.rejected["row"], inv.rejected["reason"], strict=True)) == {
        6: "negative quantity -1",
        7: "missing unit",
    }
