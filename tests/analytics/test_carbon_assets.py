"""The carbon-asset project pool: records, life cycle, grading, summaries and the demo pool."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from analytics.carbon.assets import (
    COLUMNS,
    GRADE_A_MIN_T,
    GRADE_B_MIN_T,
    STATUSES,
    advance,
    classify,
    demo_projects,
    pool_summary,
    read_projects,
    validate_projects,
)
from analytics.errors import InvalidData, InvalidPipeline

CHENGDU_ADCODES = {
    "510104", "510105", "510106", "510107", "510108", "510112", "510113", "510114", "510115",
    "510116", "510117", "510118", "510121", "510129", "510131", "510181", "510182", "510183",
    "510184", "510185",
}  # fmt: skip


def _project(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "project_id": "P1",
        "name": "Longquan afforestation",
        "district": "510112",
        "type": "CCER",
        "methodology": "CCER-14-001-V01",
        "sector": "forestry",
        "expected_annual_reduction_t": 20_000.0,
        "crediting_years": 20,
        "status": "reserve",
        "issued_t": 0.0,
        "vintage_start": 2022,
    }
    base.update(changes)
    return base


# A hand table whose totals are worked out below.
HAND = pd.DataFrame(
    [
        _project(project_id="A", district="510112", type="CCER", status="issued",
                 expected_annual_reduction_t=60_000.0, crediting_years=10, issued_t=45_000.0),
        _project(project_id="B", district="510112", type="CCER", status="reserve",
                 expected_annual_reduction_t=5_000.0, crediting_years=7),
        _project(project_id="C", district="510112", type="local_inclusion", status="traded",
                 expected_annual_reduction_t=2_000.0, crediting_years=3, issued_t=1_500.0),
        _project(project_id="D", district="510129", type="VCS", methodology="VM0047",
                 status="development", expected_annual_reduction_t=30_000.0, crediting_years=30),
    ]
)  # fmt: skip


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "projects.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- records
def test_read_projects_round_trip(tmp_path: Path) -> None:
    frame = read_projects(_write(tmp_path, HAND))
    assert list(frame.columns) == list(COLUMNS)
    assert frame["crediting_years"].dtype == "int64"
    assert frame["expected_annual_reduction_t"].tolist() == [60_000.0, 5_000.0, 2_000.0, 30_000.0]


def test_blank_issued_is_zero_and_extras_are_kept(tmp_path: Path) -> None:
    frame = HAND.drop(columns="issued_t").iloc[[1, 3]].assign(note="x")
    out = read_projects(_write(tmp_path, frame))
    assert out["issued_t"].tolist() == [0.0, 0.0]
    assert out["note"].tolist() == ["x", "x"]


@pytest.mark.parametrize(
    ("row", "column", "value", "fragment"),
    [
        (2, "type", "ETS", "column type"),
        (1, "sector", "nuclear", "column sector"),
        (3, "expected_annual_reduction_t", "-1", "column expected_annual_reduction_t"),
        (4, "expected_annual_reduction_t", "lots", "column expected_annual_reduction_t"),
        (2, "crediting_years", "0", "column crediting_years"),
        (1, "name", "", "column name"),
        (2, "issued_t", "100", "column issued_t"),  # row 2 is in reserve
        (3, "vintage_start", "20x4", "column vintage_start"),
    ],
)
def test_bad_rows_are_named(
    tmp_path: Path, row: int, column: str, value: str, fragment: str
) -> None:
    frame = HAND.astype(object)
    frame.loc[row - 1, column] = value
    with pytest.raises(InvalidData) as info:
        read_projects(_write(tmp_path, frame))
    assert f"data row {row}" in info.value.message
    assert fragment in info.value.message


def test_duplicate_project_id_names_both_rows(tmp_path: Path) -> None:
    frame = HAND.copy()
    frame.loc[3, "project_id"] = "A"
    with pytest.raises(InvalidData, match=r"data row 4, column project_id: 'A' repeats data row 1"):
        read_projects(_write(tmp_path, frame))


def test_missing_column_and_ragged_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidData, match="missing column"):
        read_projects(_write(tmp_path, HAND.drop(columns="status")))
    path = tmp_path / "ragged.csv"
    path.write_text(",".join(COLUMNS) + "\nA,B\n", encoding="utf-8")
    with pytest.raises(InvalidData, match="data row 1 has 2 values"):
        read_projects(path)


def test_validate_does_not_mutate() -> None:
    before = HAND.copy(deep=True)
    classify(HAND)
    pool_summary(HAND)
    pd.testing.assert_frame_equal(HAND, before)


# --------------------------------------------------------------------------- life cycle
@pytest.mark.parametrize(("start", "target"), list(itertools.pairwise(STATUSES)))
def test_advance_one_step(start: str, target: str) -> None:
    issued = 100.0 if start == "issued" else 0.0
    project = _project(status=start, issued_t=issued)
    kwargs = {"issued_t": 250.0} if target == "issued" else {}
    moved = advance(project, target, **kwargs)
    assert moved["status"] == target
    assert project["status"] == start  # the input is untouched
    if target == "issued":
        assert moved["issued_t"] == 250.0


@pytest.mark.parametrize(
    ("start", "target", "fragment"),
    [
        ("reserve", "issued", "cannot jump"),
        ("reserve", "traded", "cannot jump"),
        ("development", "traded", "cannot jump"),
        ("development", "reserve", "cannot go back"),
        ("traded", "issued", "cannot go back"),
        ("issued", "issued", "is already"),
        ("reserve", "sold", "unknown status"),
    ],
)
def test_advance_refuses(start: str, target: str, fragment: str) -> None:
    issued = 10.0 if start in ("issued", "traded") else 0.0
    with pytest.raises(InvalidData, match=fragment):
        advance(_project(status=start, issued_t=issued), target, issued_t=5.0)


def test_advance_to_issued_needs_quantity_and_accepts_a_row() -> None:
    with pytest.raises(InvalidData, match="needs the quantity"):
        advance(_project(status="development"), "issued")
    row = classify(HAND).iloc[0]  # A: issued, 45,000 t issued
    moved = advance(row, "traded", issued_t=5_000.0)
    assert moved["status"] == "traded"
    assert moved["issued_t"] == 50_000.0
    assert moved["grade"] == "A"  # extra fields travel along


# --------------------------------------------------------------------------- grading
@pytest.mark.parametrize(
    ("annual", "kind", "status", "grade"),
    [
        (GRADE_A_MIN_T, "CCER", "development", "A"),
        (GRADE_A_MIN_T, "GS", "traded", "A"),
        (GRADE_A_MIN_T, "VCS", "issued", "A"),
        (GRADE_A_MIN_T - 0.01, "CCER", "development", "B"),
        (GRADE_A_MIN_T, "local_inclusion", "issued", "B"),  # not a recognised scheme
        (GRADE_A_MIN_T * 10, "VCS", "reserve", "B"),  # still in the reserve
        (GRADE_B_MIN_T, "local_inclusion", "reserve", "B"),
        (GRADE_B_MIN_T - 0.01, "CCER", "traded", "C"),
        (0.0, "CCER", "reserve", "C"),
    ],
)
def test_grade_edges(annual: float, kind: str, status: str, grade: str) -> None:
    issued = 1.0 if status in ("issued", "traded") else 0.0
    frame = pd.DataFrame(
        [_project(expected_annual_reduction_t=annual, type=kind, status=status, issued_t=issued)]
    )
    out = classify(frame)
    assert out.loc[0, "grade"] == grade
    assert out.loc[0, "category"] == f"{kind}/forestry"


# --------------------------------------------------------------------------- summary
def test_summary_hand_table() -> None:
    out = pool_summary(HAND).set_index(["district", "type"])
    ccer = out.loc[("510112", "CCER")]
    assert ccer["projects"] == 2
    assert ccer["expected_annual_t"] == 65_000.0
    assert ccer["lifetime_potential_t"] == 60_000 * 10 + 5_000 * 7
    assert ccer["issued_t"] == 45_000.0
    assert (ccer["n_reserve"], ccer["n_issued"], ccer["n_traded"]) == (1, 1, 0)
    local = out.loc[("510112", "local_inclusion")]
    assert (local["lifetime_potential_t"], local["n_traded"]) == (6_000.0, 1)
    vcs = out.loc[("510129", "VCS")]
    assert (vcs["lifetime_potential_t"], vcs["n_development"]) == (900_000.0, 1)
    whole = pool_summary(HAND, by=())
    assert len(whole) == 1
    assert whole.loc[0, "lifetime_potential_t"] == 600_000 + 35_000 + 6_000 + 900_000


@pytest.mark.parametrize("by", [("district", "type"), ("status",), ("grade", "sector"), ()])
def test_summary_totals_equal_the_projects(by: tuple[str, ...]) -> None:
    projects = classify(demo_projects(seed=7))
    out = pool_summary(projects, by=by)
    assert out["projects"].sum() == len(projects)
    assert out["expected_annual_t"].sum() == pytest.approx(
        projects["expected_annual_reduction_t"].sum()
    )
    lifetime = (projects["expected_annual_reduction_t"] * projects["crediting_years"]).sum()
    assert out["lifetime_potential_t"].sum() == pytest.approx(lifetime)
    assert out["issued_t"].sum() == pytest.approx(projects["issued_t"].sum())
    counts = out[[f"n_{s}" for s in STATUSES]].sum(axis=1)
    assert counts.tolist() == out["projects"].tolist()


def test_summary_unknown_column() -> None:
    with pytest.raises(InvalidPipeline, match="unknown column"):
        pool_summary(HAND, by=("county",))


# --------------------------------------------------------------------------- demo
def test_demo_pool(tmp_path: Path) -> None:
    pool = demo_projects()
    assert len(pool) == 40
    assert set(pool["district"]) == CHENGDU_ADCODES
    assert (pool["synthetic"] == "yes").all()
    assert pool["project_id"].is_unique
    pd.testing.assert_frame_equal(pool, demo_projects())
    assert not pool.equals(demo_projects(seed=1))
    # Demo rows obey the record rules: they survive validation and a CSV round trip.
    pd.testing.assert_frame_equal(validate_projects(pool), pool)
    back = read_projects(_write(tmp_path, pool))
    pd.testing.assert_frame_equal(back, pool)
    issued = pool["status"].isin(["issued", "traded"])
    assert (pool.loc[~issued, "issued_t"] == 0).all()
    assert (pool.loc[issued, "issued_t"] > 0).all()
    assert set(classify(pool)["grade"]) == {"A", "B", "C"}
