"""The Arrow proof of validity (node.quality.proof), held to frictionless and the exact check.

The proof may only ever say "valid": on a table it proves, frictionless and the exact
check (``prove=False``) must find no error and count the same rows; on anything it is not
sure of it gives up, and the report is the exact check's. It must also actually engage on
the plain tables it is there for, or publishing stays slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import frictionless
import pytest
from frictionless import Schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.quality.proof import proven_rows
from node.quality.tabular import load_schema, validate_data, validate_table
from tests.quality.test_tabular import ADCODES, BENCH_LIKE, _clean_table, _reference

PLAIN = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "区", "type": "string", "constraints": {"enum": ["锦江区", "青羊区"]}},
        {"name": "v", "type": "number", "constraints": {"minimum": 0.3, "maximum": 10}},
        {"name": "on", "type": "date", "constraints": {"minimum": "2020-01-01"}},
        {"name": "y", "type": "year", "constraints": {"maximum": 2030}},
        {"name": "code", "type": "string", "constraints": {"pattern": "[A-Z]{2}\\d+"}},
    ],
    "missingValues": ["", "NA"],
}
PLAIN_HEADER = "id,区,v,on,y,code"
KEYED = {
    "fields": [
        {"name": "adcode", "type": "string", "constraints": {"enum": ADCODES}},
        {"name": "year", "type": "integer"},
        {"name": "value", "type": "number", "constraints": {"minimum": 0}},
    ],
    "primaryKey": ["adcode", "year"],
}


def _frictionless_valid(path: Path, descriptor: dict) -> bool:
    with frictionless.system.use_context(trusted=True):
        return frictionless.validate(str(path), schema=Schema.from_descriptor(descriptor)).valid


# (id, descriptor, text, encoding): valid tables the proof is there for
PROVED = [
    pytest.param(
        PLAIN,
        f"{PLAIN_HEADER}\n1,锦江区,0.3,2020-01-01,2030,AB1\n2,NA,10,,NA,CD22\n-3,青羊区,5.25,2024-02-29,0000,XY9\n",
        "utf-8",
        id="bounds-met-exactly-and-missing-values",
    ),
    pytest.param(
        PLAIN, f"{PLAIN_HEADER}\r\n1,锦江区,1,2021-05-01,2021,AB1\r\n", "utf-8", id="crlf"
    ),
    pytest.param(
        PLAIN, f"{PLAIN_HEADER}\n1,锦江区,1,2021-05-01,2021,AB1", "utf-8-sig", id="bom-no-eol"
    ),
    pytest.param(
        KEYED,
        "adcode,year,value\n510104,2023,0\n510104,2024,-0.0\n510105,2023,0.0\n",
        "utf-8",
        id="composite-key-and-zero-minimum",
    ),
    pytest.param(
        {**KEYED, "primaryKey": ["value"]},
        "adcode,year,value\n510104,2023,1\n510104,2023,2.5\n",
        "utf-8",
        id="number-key",
    ),
]


@pytest.mark.parametrize(("descriptor", "text", "encoding"), PROVED)
def test_plain_valid_tables_are_proved(
    tmp_path: Path, descriptor: dict, text: str, encoding: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    schema = load_schema(descriptor)
    assert _frictionless_valid(path, descriptor)
    exact = validate_table(path, schema, prove=False)
    assert exact.valid
    assert proven_rows(path.read_bytes(), schema) == exact.rows
    assert validate_table(path, schema).as_dict() == exact.as_dict()


# tables a careless proof would call valid, and tables it cannot be sure of: each gives up
GIVES_UP = [
    # a float tie the Decimal decides: 0.29999999999999999 == 0.3 as floats, < 0.3 exactly
    pytest.param(PLAIN, "0.29999999999999999", "v", id="float-tie-below-minimum"),
    pytest.param(PLAIN, "2023-02-29", "on", id="no-such-day"),
    pytest.param(PLAIN, "0001-01-01", "on", id="date-below-minimum"),
    pytest.param(PLAIN, "2031", "y", id="year-above-maximum"),
    pytest.param(PLAIN, "东城区", "区", id="enum-miss"),
    pytest.param(PLAIN, "ab1", "code", id="pattern-miss"),
    pytest.param(PLAIN, "NA", "id", id="required-missing"),
    pytest.param(PLAIN, "1", "id", id="repeated-unique"),
    pytest.param(PLAIN, "01", "id", id="leading-zero-is-the-same-integer"),
    pytest.param(PLAIN, "+2", "id", id="plus-sign-valid-but-not-plain"),
    pytest.param(PLAIN, "1e0", "v", id="exponent-valid-but-not-plain"),
    pytest.param(PLAIN, "1.0", "id", id="integer-with-a-point"),
    pytest.param(PLAIN, "inf", "v", id="infinity"),
    pytest.param(PLAIN, " 2", "id", id="padded"),
]


def _table(descriptor: dict, cell: str, field: str) -> str:
    rows = [["1", "锦江区", "1.5", "2021-01-01", "2021", "AB1"]]
    second = ["2", "青羊区", "2", "2022-01-01", "2022", "CD2"]
    names = [f["name"] for f in descriptor["fields"]]
    second[names.index(field)] = cell
    rows.append(second)
    return PLAIN_HEADER + "\n" + "".join(",".join(r) + "\n" for r in rows)


@pytest.mark.parametrize(("descriptor", "cell", "field"), GIVES_UP)
def test_what_the_proof_cannot_be_sure_of_goes_to_the_exact_check(
    tmp_path: Path, descriptor: dict, cell: str, field: str
) -> None:
    text = _table(descriptor, cell, field)
    schema = load_schema(descriptor)
    assert proven_rows(text.encode(), schema) is None
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    kinds, _ = _reference(text, "utf-8", json.dumps(descriptor))
    report = validate_table(path, schema)
    assert report.errors_by_kind == kinds
    assert report.as_dict() == validate_table(path, schema, prove=False).as_dict()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(PLAIN_HEADER + '\n1,锦江区,1,2021-01-01,2021,"AB1"\n', id="quoted"),
        pytest.param(PLAIN_HEADER + "\n1,锦江区,1,2021-01-01,2021,AB1\n\n", id="blank-line"),
        pytest.param(PLAIN_HEADER + "\r1,锦江区,1,2021-01-01,2021,AB1\r", id="lone-cr"),
        pytest.param(PLAIN_HEADER + "\n1,锦江区,1,2021-01-01,2021\n", id="short-row"),
        pytest.param(PLAIN_HEADER + "\n1,锦江区,1,2021-01-01,2021,AB1,x\n", id="long-row"),
        pytest.param("id,区,v,on,y,code2\n1,锦江区,1,2021-01-01,2021,AB1\n", id="label"),
        pytest.param(" id,区,v,on,y,code\n1,锦江区,1,2021-01-01,2021,AB1\n", id="spaced-label"),
    ],
)
def test_layouts_other_than_plain_go_to_the_exact_check(tmp_path: Path, text: str) -> None:
    schema = load_schema(PLAIN)
    assert proven_rows(text.encode(), schema) is None
    for encoding in ("utf-8", "gbk"):
        raw = text.encode(encoding)
        assert proven_rows(raw, schema) is None
        assert (
            validate_data(raw, schema).as_dict()
            == validate_data(raw, schema, prove=False).as_dict()
        )


def test_a_missing_value_that_reads_as_a_number_is_left_to_the_exact_check() -> None:
    descriptor = {**PLAIN, "missingValues": ["", "-1"]}
    text = PLAIN_HEADER + "\n1,锦江区,-1,2021-01-01,2021,AB1\n"
    assert proven_rows(text.encode(), load_schema(descriptor)) is None


def test_the_benchmark_table_is_proved(tmp_path: Path) -> None:
    descriptor = json.loads(json.dumps(BENCH_LIKE))
    descriptor["fields"][4]["constraints"]["enum"].append("transport")
    path = tmp_path / "clean.csv"
    _clean_table(path, 3000)
    schema = load_schema(descriptor)
    assert proven_rows(path.read_bytes(), schema) == 3000
    assert validate_table(path, schema, prove=False).valid


# -- property: the proof never says valid where the exact check finds an error ----------

_CELLS = {
    "id": [
        "1",
        "2",
        "3",
        "17",
        "-4",
        "0",
        "01",
        "+5",
        "1.0",
        "",
        "NA",
        "x",
        "99999999999999999999",
    ],
    "区": ["锦江区", "青羊区", "", "NA", "成华区", "锦江区 "],
    "v": [
        "0.3",
        "0.30",
        "0.29999999999999999",
        "0.30000000000000001",
        "10",
        "10.0",
        "1e1",
        "5",
        "",
        "NA",
        "-0",
        "abc",
        "9.99999999999999999",
    ],
    "on": [
        "2020-01-01",
        "2019-12-31",
        "2024-02-29",
        "2023-02-29",
        "2021-13-01",
        "",
        "NA",
        "2021-1-01",
        "0000-01-01",
        "2021-01-1 ",
        "２０２１-01-01",
        "20210101",
        "2021-01-01T00:00",
    ],
    "y": ["2030", "2031", "0000", "999", "", "NA", "2024"],
    "code": ["AB1", "AB12", "ab1", "A1", "", "NA", "ABC1"],
}


#: mostly valid cells, with the near misses a float or a lenient date parse would let through
_NEAR = {
    "id": ["1"],  # replaced by the row number: ids stay unique
    "区": ["锦江区", "青羊区", "NA"],
    "v": [
        "0.3",
        "0.30000000000000001",
        "0.29999999999999999",
        "10",
        "9.99999999999999999",
        "10.000000000000001",
        "5.5",
        "NA",
    ],
    "on": ["2020-01-01", "2024-02-29", "2023-02-29", "2019-12-31", "2021-04-30"],
    "y": ["2030", "2024", "0000", "NA"],
    "code": ["AB1", "XY99", "NA"],
}


@pytest.mark.parametrize("pool", [_CELLS, _NEAR], ids=["any-cells", "near-misses"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), eol=st.sampled_from(["\n", "\r\n"]))
def test_proved_means_valid_by_the_exact_check(
    pool: dict[str, list[str]], data: st.DataObject, eol: str
) -> None:
    schema = load_schema(PLAIN)
    cells = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in pool.items()})
    rows = data.draw(st.lists(cells, min_size=1, max_size=8))
    if pool is _NEAR:
        rows = [{**r, "id": str(i)} for i, r in enumerate(rows)]
    text = PLAIN_HEADER + eol + "".join(",".join(r.values()) + eol for r in rows)
    raw = text.encode()
    exact = validate_data(raw, schema, prove=False)
    proved = proven_rows(raw, schema)
    if proved is not None:
        assert exact.valid, exact.first_errors
        assert proved == exact.rows
    assert validate_data(raw, schema).as_dict() == exact.as_dict()
