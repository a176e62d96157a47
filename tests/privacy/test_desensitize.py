"""Desensitization profiles: each rule on a table of cases, k-anonymity, refusals."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from node.errors import InvalidInput
from node.privacy.desensitize import (
    KAnonymityTooLow,
    desensitize_csv,
    load_profile,
    pseudonym_key,
)

KEY = pseudonym_key(b"\x01" * 32, "stations")


def run(tmp_path: Path, rows: list[list[str]], profile: dict) -> tuple[list[list[str]], dict]:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    with open(src, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    report = desensitize_csv(load_profile(profile), src, dst, KEY)
    with open(dst, newline="") as fh:
        return list(csv.reader(fh)), report


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ({"keep": True}, "锦江区", "锦江区"),
        ({"round": -3}, "12345", "12000"),
        ({"round": 1}, "3.14159", "3.1"),
        ({"bin": [0, 18, 60]}, "17", "[0, 18)"),
        ({"bin": [0, 18, 60]}, "18", "[18, 60)"),
        ({"bin": [0, 18, 60]}, "75", ">=60"),
        ({"bin": [0, 18, 60]}, "-1", "<0"),
        ({"top_code": 100000}, "250000", ">=100000"),
        ({"top_code": 100000, "bottom_code": 10}, "5", "<=10"),
        ({"top_code": 100000}, "500", "500"),
        ({"map": {"春熙路街道": "锦江区"}, "default": "other"}, "春熙路街道", "锦江区"),
        ({"map": {"春熙路街道": "锦江区"}, "default": "other"}, "x", "other"),
        ({"truncate_date": "month"}, "2024-03-17", "2024-03"),
        ({"truncate_date": "year"}, "2024-03-17", "2024"),
        ({"round": 0}, "", ""),
    ],
)
def test_each_rule(tmp_path: Path, rule: dict, value: str, expected: str) -> None:
    out, _ = run(tmp_path, [["c"], [value]], {"columns": {"c": rule}})
    assert out == [["c"], [expected]]


def test_pseudonyms_are_stable_keyed_and_not_reversible(tmp_path: Path) -> None:
    rows = [["id"], ["E0001"], ["E0002"], ["E0001"]]
    out, _ = run(tmp_path, rows, {"columns": {"id": {"pseudonymize": True}}})
    ids = [r[0] for r in out[1:]]
    assert ids[0] == ids[2] != ids[1] and "E0001" not in ids[0]
    again, _ = run(tmp_path, rows, {"columns": {"id": {"pseudonymize": True}}})
    assert again == out  # the same in every version of the dataset
    assert pseudonym_key(b"\x01" * 32, "other") != KEY
    assert pseudonym_key(b"\x02" * 32, "stations") != KEY


def test_free_text_is_suppressed_and_k_reported(tmp_path: Path) -> None:
    rows = [["street", "age", "note"]] + [
        ["春熙路街道", str(20 + i % 3), f"secret {i}"] for i in range(9)
    ]
    profile = {
        "columns": {
            "street": {"map": {"春熙路街道": "锦江区"}},
            "age": {"bin": [0, 30, 60]},
            "note": {"suppress": True},
        },
        "quasi_identifiers": ["street", "age"],
        "min_k": 5,
    }
    out, report = run(tmp_path, rows, profile)
    assert out[0] == ["street", "age"]
    assert all("secret" not in cell for row in out for cell in row)
    assert report == {
        "rows": 9,
        "columns": ["street", "age"],
        "quasi_identifiers": ["street", "age"],
        "k_anonymity": 9,
        "groups": 1,
        "min_k": 5,
    }


def test_release_under_min_k_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    rows = [["district", "age"], ["锦江区", "31"], ["锦江区", "32"], ["青羊区", "33"]]
    with pytest.raises(KAnonymityTooLow) as info:
        run(
            tmp_path,
            rows,
            {
                "columns": {"district": {"keep": True}, "age": {"keep": True}},
                "quasi_identifiers": ["district", "age"],
                "min_k": 2,
            },
        )
    assert info.value.detail == {"k": 1, "min_k": 2, "groups": 3}
    assert not (tmp_path / "out.csv").exists()
    assert not list(tmp_path.glob(".desens-*"))
    # generalizing the age gives k = 1 still for 青羊区; coarser geography fixes it
    _out, report = run(
        tmp_path,
        rows,
        {
            "columns": {
                "district": {"map": {"锦江区": "central", "青羊区": "central"}},
                "age": {"bin": [0, 30, 60]},
            },
            "quasi_identifiers": ["district", "age"],
            "min_k": 2,
        },
    )
    assert report["k_anonymity"] == 3


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"columns": {}}, "columns"),
        ({"columns": {"a": {"shuffle": True}}}, "columns.a"),
        ({"columns": {"a": {"bin": [3, 1]}}}, "ascending"),
        ({"columns": {"a": {"keep": True}}, "quasi_identifiers": ["b"]}, "no rule"),
        ({"columns": {"a": {"suppress": True}}, "quasi_identifiers": ["a"]}, "suppressed"),
        ({"columns": {"a": {"keep": True}}, "min_k": 0}, "min_k"),
        ("columns: [unclosed", "unreadable"),
    ],
)
def test_bad_profiles_are_explained(profile: dict | str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_profile(profile)


@pytest.mark.parametrize(
    ("rows", "profile", "message"),
    [
        ([["a", "b"], ["1", "2"]], {"columns": {"a": {"keep": True}}}, "no rule for columns b"),
        ([["a"], ["1"]], {"columns": {"a": {"keep": True}, "b": {"keep": True}}}, "lacks"),
        ([["a"], ["x"]], {"columns": {"a": {"round": 0}}}, "not a number"),
        ([["a"], ["x"]], {"columns": {"a": {"map": {"y": "z"}}}}, "no mapping"),
        ([["a"], ["03/2024"]], {"columns": {"a": {"truncate_date": "year"}}}, "ISO date"),
        ([["a", "b"], ["1"]], {"columns": {"a": {"keep": True}, "b": {"keep": True}}}, "line 2"),
    ],
)
def test_bad_data_is_refused(tmp_path: Path, rows: list, profile: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        run(tmp_path, rows, profile)
    assert not (tmp_path / "out.csv").exists()


def test_profile_from_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(
        "columns:\n  id: {pseudonymize: true}\n  kwh: {round: -2}\n"
        "quasi_identifiers: [kwh]\nmin_k: 1\n"
    )
    out, report = run(tmp_path, [["id", "kwh"], ["E1", "1234"]], load_profile(path).model_dump())
    assert out[1][1] == "1200" and report["k_anonymity"] == 1
