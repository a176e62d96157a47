"""The vectorized Table Schema validation, held to the reference implementation.

Every table here is validated twice: by ``frictionless.validate`` (the reference) and by
:mod:`node.quality.tabular`; the error counts by type, and the first errors (row number,
type, field, message), must be the same. The tables are small, so both ways of checking a
column are run on each: cell by cell, and once per distinct string (the path large
columns of years, adcodes or dates take).
"""

from __future__ import annotations

import collections
import csv
import functools
import json
from pathlib import Path
from typing import Any

import frictionless
import numpy as np
import pandas as pd
import pytest
from frictionless import Schema

import node.quality.tabular as tabular
from node.errors import TanlianError
from node.quality.tabular import (
    QualityError,
    Report,
    SchemaInvalid,
    TableRefused,
    TableSchema,
    TableUnreadable,
    load_schema,
    read_table,
    typed_frame,
    validate_frame,
    validate_table,
)

ADMIN_UNITS = (
    Path(__file__).resolve().parents[2]
    / "analytics"
    / "frameworks"
    / "data"
    / "chengdu_metro_admin_units.csv"
)


def _adcodes() -> list[str]:
    with open(ADMIN_UNITS, encoding="utf-8") as fh:
        return [r["adcode"] for r in csv.DictReader(x for x in fh if not x.startswith("#"))]


ADCODES = _adcodes()

EMISSIONS = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"unique": True}},
        {"name": "v", "type": "number", "constraints": {"minimum": 0, "required": True}},
        {"name": "s", "type": "string", "constraints": {"maxLength": 3}},
    ]
}
CHINESE = {
    "fields": [
        {"name": "地区", "type": "string", "constraints": {"enum": ["成都", "德阳", "眉山"]}},
        {"name": "年份", "type": "year", "constraints": {"minimum": 2015}},
        {"name": "排放量", "type": "number", "constraints": {"minimum": 0}},
    ]
}
CHINESE_ROWS = (
    "地区,年份,排放量\n成都,2023,1.5\n德阳,2023,-2\n眉山,23,abc\n资阳,2024,\n成都,2014,0\n"
)
ADMIN = {
    "fields": [
        {"name": "adcode", "type": "string", "constraints": {"required": True, "enum": ADCODES}},
        {"name": "code", "type": "integer", "constraints": {"enum": [int(a) for a in ADCODES]}},
        {"name": "年份", "type": "integer", "constraints": {"minimum": 2005, "maximum": 2030}},
    ]
}
KEYED = {
    "fields": [
        {"name": "adcode", "type": "string"},
        {"name": "year", "type": "integer"},
        {"name": "value", "type": "number"},
    ],
    "primaryKey": ["adcode", "year"],
}
MARKERS = {
    "fields": [
        {"name": "a", "type": "integer", "constraints": {"required": True}},
        {"name": "b", "type": "string"},
        {"name": "c", "type": "date"},
    ],
    "missingValues": ["NA", "-"],
}
TYPES = {
    "fields": [
        {"name": "d", "type": "date", "constraints": {"minimum": "2020-01-01", "unique": True}},
        {"name": "t", "type": "datetime"},
        {"name": "y", "type": "year", "constraints": {"maximum": 2024}},
        {"name": "b", "type": "boolean", "trueValues": ["是"], "falseValues": ["否"]},
        {"name": "g", "type": "boolean"},
    ]
}
STRINGS = {
    "fields": [
        {
            "name": "code",
            "type": "string",
            "constraints": {
                "pattern": "[A-Z]{2}\\d+",
                "minLength": 3,
                "maxLength": 5,
                "enum": ["AB1", "AB12", "ab1", "ABCDEF"],
                "unique": True,
            },
        },
        {"name": "n", "type": "number", "constraints": {"minimum": 0.3, "maximum": 10}},
    ]
}
OTHER = {
    "fields": [
        {"name": "t", "type": "time"},
        {"name": "i", "type": "integer", "bareNumber": False, "constraints": {"maximum": 100}},
        {"name": "e", "type": "string", "format": "email"},
    ]
}

# (id, descriptor, file contents, encoding)
TABLES: list[Any] = [
    pytest.param(EMISSIONS, "id,v,s\n1,1.5,ab\n1,x,abcd\n1,-1,\n2,,a\n,3,a\n", "utf-8", id="kinds"),
    pytest.param(
        EMISSIONS,
        "id,v,s\n1,1,a\n2,2\n3,3,a,b\n\n4,4,a\n,,\n5,5,a\n\n",
        "utf-8",
        id="ragged-and-blank",
    ),
    pytest.param(EMISSIONS, "id,vv,s\n1,1,a\n", "utf-8", id="incorrect-label"),
    pytest.param(EMISSIONS, "v,id,s\n1,1,a\n", "utf-8", id="swapped-labels"),
    pytest.param(EMISSIONS, "id,v\n1,1\n2\n", "utf-8", id="missing-label"),
    pytest.param(EMISSIONS, "id,v,s,x\n1,1,a,\n2,2,b\n3,3,c,4,5\n", "utf-8", id="extra-label"),
    pytest.param(EMISSIONS, "id,id,\n1,1,a\n", "utf-8", id="duplicate-and-blank-label"),
    pytest.param(EMISSIONS, "id,v,s\r\n1,1,a\r\n\r\n01,x,a\r\n", "utf-8", id="crlf"),
    pytest.param(CHINESE, CHINESE_ROWS, "utf-8", id="chinese-headers"),
    pytest.param(CHINESE, CHINESE_ROWS, "gbk", id="gbk"),
    pytest.param(CHINESE, CHINESE_ROWS, "utf-8-sig", id="utf8-bom"),
    pytest.param(
        CHINESE, " 地区 ,年份,排放量\n成都,2023,1.5\n德阳,2023,-1\n", "utf-8", id="spaced-label"
    ),
    pytest.param(
        ADMIN,
        "adcode,code,年份\n510104,510104,2023\n510132,510132,2023\n,510105,2004\n"
        "510118,0510118,2031\n 510105,5101050,x\n",
        "utf-8",
        id="adcode-enum",
    ),
    pytest.param(
        KEYED,
        "adcode,year,value\n510104,2023,1\n510104,2023,2\n510104,02023,3\n510105,2023,4\n"
        ",2023,5\n,2023,6\n,,7\n\n,,\n510106,x,8\n510106,,9\n510106,,10\n",
        "utf-8",
        id="composite-primary-key",
    ),
    pytest.param(
        {**KEYED, "primaryKey": ["adcode"]},
        "adcode,year,value\n510104,2023,1\n510104,2024,2\n,2023,3\n510105,2023,4\n",
        "utf-8",
        id="single-primary-key",
    ),
    pytest.param(
        MARKERS,
        "a,b,c\nNA,-,NA\n1,NA,2024-01-01\n-,x,-\n,,\n2,,2024-02-30\nNA,-,NA,\n",
        "utf-8",
        id="missing-value-markers",
    ),
    pytest.param(
        {
            "fields": [
                {"name": "a", "type": "integer", "constraints": {"unique": True}},
                {"name": "n", "type": "number", "constraints": {"unique": True}},
                {"name": "区", "type": "string"},
            ]
        },
        "a,n,区\n1,1.0,成都\n01,1.00,成都\n+1,1,成都\n1.0,x,成都\n 1 ,1e0,成都\n1_0,nan,成都\n"
        "10,NaN,成都\n99999999999999999999,2,成都\n99999999999999999999,3,成都\n",
        "utf-8",
        id="unique-typed-values",
    ),
    pytest.param(
        TYPES,
        "d,t,y,b,g\n2020-01-01,2020-01-01T10:00:00,2020,是,true\n"
        "2019-12-31,2020-01-01T25:00:00,2025,否,yes\n2020-1-5,2020-01-01 10:00:00,20,true,1\n"
        "2021-02-29,2020-01-01T10:00:00Z,-001,否,FALSE\n2024-02-29,x,2024,,0\n"
        "2020-01-05,2020-01-01T10:00:00,2024,是,true\n",
        "utf-8",
        id="dates-years-booleans",
    ),
    pytest.param(
        STRINGS,
        "code,n\nAB1,0.3\nab1,0.30000000000000001\nAB123456,0.29999999999999999\nABCDEF,10\n"
        "A,10.0000000000000001\nAB1,inf\nAB12,-0\n",
        "utf-8",
        id="strings-and-number-bounds",
    ),
    pytest.param(
        {"fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "integer"}]},
        'a,b\n"x,y",1\n"multi\nline",2\n"q""q",3\n"x",z\n"r,s",4,5\n"t"\n',
        "utf-8",
        id="quoted",
    ),
    pytest.param(
        {"fields": [{"name": "a", "type": "string"}], "missingValues": ["NA"]},
        'a\nx\n\nNA\n""\ny\n',
        "utf-8",
        id="one-column",
    ),
    pytest.param(
        OTHER,
        "t,i,e\n10:00:00,$50,a@b.cn\nxx,150 €,bad\n25:00:00,abc,\n",
        "utf-8",
        id="slow-types",
    ),
]


def _write(tmp_path: Path, text: str, encoding: str) -> Path:
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode(encoding))
    return path


@functools.cache
def _reference(text: str, encoding: str, descriptor_json: str) -> tuple[dict[str, int], list]:
    """frictionless.validate's (error counts by type, first errors), cached per table."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), text, encoding)
        schema = Schema.from_descriptor(json.loads(descriptor_json))
        with frictionless.system.use_context(trusted=True):  # absolute paths
            report = frictionless.validate(str(path), schema=schema)
    errors = report.tasks[0].errors
    assert len(errors) < 1000  # frictionless stops counting there
    kinds = dict(collections.Counter(e.type for e in errors))
    first = [(getattr(e, "row_number", None) or 1, e.type, e.message) for e in errors[:20]]
    return kinds, first


@pytest.fixture(params=["cell-by-cell", "per-distinct-string"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "per-distinct-string":  # as large low-cardinality columns go
        monkeypatch.setattr(tabular, "_SAMPLE", 2)
        monkeypatch.setattr(tabular, "_DISTINCT_SHARE", 1.0)
    return request.param


@pytest.mark.parametrize(("descriptor", "text", "encoding"), TABLES)
def test_same_errors_as_frictionless(
    tmp_path: Path, engine: str, descriptor: dict, text: str, encoding: str
) -> None:
    kinds, first = _reference(text, encoding, json.dumps(descriptor))
    assert kinds, "every table here has planted errors"
    report = validate_table(_write(tmp_path, text, encoding), load_schema(descriptor))
    assert report.errors_by_kind == kinds
    assert report.error_count == sum(kinds.values())
    assert [(e["row"], e["type"], e["message"]) for e in report.first_errors] == first
    assert not report.valid


@pytest.mark.parametrize(("descriptor", "text", "encoding"), TABLES)
def test_recheck_from_bytes_gives_the_same_report(
    tmp_path: Path, descriptor: dict, text: str, encoding: str
) -> None:
    schema = load_schema(descriptor)
    on_file = validate_table(_write(tmp_path, text, encoding), schema)
    from_bytes = validate_frame(read_table(text.encode(encoding)), schema)
    assert from_bytes.as_dict() == on_file.as_dict()
    assert from_bytes.digest() == on_file.digest()


def test_a_frame_read_by_pandas_as_strings_is_validated_alike(tmp_path: Path) -> None:
    text = "地区,年份,排放量\n成都,2023,1.5\n德阳,2023,-2\n眉山,23,abc\n资阳,2024,\n"
    path = _write(tmp_path, text, "utf-8")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    schema = load_schema(CHINESE)
    assert validate_frame(frame, schema).as_dict() == validate_table(path, schema).as_dict()


def test_first_errors_are_capped_and_counts_complete(tmp_path: Path) -> None:
    rows = "".join(f"{i},-{i}.5,toolong\n" for i in range(1, 60))
    text = "id,v,s\n" + rows
    report = validate_table(_write(tmp_path, text, "utf-8"), load_schema(EMISSIONS))
    kinds, first = _reference(text, "utf-8", json.dumps(EMISSIONS))
    assert report.errors_by_kind == kinds == {"constraint-error": 118}
    assert len(report.first_errors) == 20
    assert [e["row"] for e in report.first_errors] == [f[0] for f in first]
    assert report.first_errors[0] == {
        "row": 2,
        "field": "v",
        "type": "constraint-error",
        "message": 'The cell "-1.5" in row at position "2" and field "v" at position "2" '
        'does not conform to a constraint: constraint "minimum" is "0"',
    }
    json.dumps(report.as_dict())  # JSON-serializable


def _clean_table(path: Path, rows: int) -> None:
    rng = np.random.default_rng(7)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,adcode,year,month,sector,emission_t,facilities,reported_on\n")
        for i in range(rows):
            fh.write(
                f"R{i:06d},{ADCODES[i % len(ADCODES)]},{2015 + i % 10},{1 + i % 12},"
                f"{['energy', 'industry', 'transport'][i % 3]},{rng.gamma(2, 400):.3f},"
                f"{i % 400},2023-{1 + i % 12:02d}-{1 + i % 28:02d}\n"
            )


BENCH_LIKE = {
    "fields": [
        {"name": "id", "type": "string", "constraints": {"required": True, "unique": True}},
        {"name": "adcode", "type": "string", "constraints": {"required": True, "enum": ADCODES}},
        {"name": "year", "type": "integer", "constraints": {"minimum": 2005, "maximum": 2030}},
        {"name": "month", "type": "integer", "constraints": {"minimum": 1, "maximum": 12}},
        {"name": "sector", "type": "string", "constraints": {"enum": ["energy", "industry"]}},
        {"name": "emission_t", "type": "number", "constraints": {"minimum": 0}},
        {"name": "facilities", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "reported_on", "type": "date"},
    ],
    "missingValues": ["", "NA"],
}


def test_a_clean_table_of_1000_rows_is_valid(tmp_path: Path) -> None:
    descriptor = json.loads(json.dumps(BENCH_LIKE))
    descriptor["fields"][4]["constraints"]["enum"].append("transport")
    path = tmp_path / "clean.csv"
    _clean_table(path, 1000)
    schema = load_schema(descriptor)
    report = validate_table(path, schema)
    assert report.valid and report.error_count == 0
    assert report.rows == 1000
    assert report.errors_by_kind == {} and report.first_errors == []
    assert report.kinds_text() == ""
    assert report.schema_sha256 == "0x" + schema.digest().hex()
    with frictionless.system.use_context(trusted=True):
        assert frictionless.validate(str(path), schema=Schema.from_descriptor(descriptor)).valid


def test_a_large_low_cardinality_table_takes_the_per_distinct_path(tmp_path: Path) -> None:
    # 40k rows: above the sample size, so years, adcodes, sectors and dates are checked
    # once per distinct string; "transport" is not in the enum (a third of the rows)
    path = tmp_path / "large.csv"
    _clean_table(path, 40_000)
    schema = load_schema(BENCH_LIKE)
    report = validate_table(path, schema)
    assert report.errors_by_kind == {"constraint-error": 13_333}
    assert [e["row"] for e in report.first_errors[:3]] == [4, 7, 10]
    assert all(e["field"] == "sector" for e in report.first_errors)


# -- unreadable tables -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b"id;v;s\n1;2;a\n", "';'", id="semicolons"),
        pytest.param(b"id\tv\ts\n1\t2\ta\n", "tab", id="tabs"),
        pytest.param(bytes(range(256)) * 8, "not UTF-8 or GBK", id="binary"),
        pytest.param("id,v,s\n1,2,a\n".encode("utf-16"), "not UTF-8 or GBK", id="utf-16"),
        pytest.param(b"", "no header", id="empty"),
        pytest.param(b"\nid,v,s\n1,2,a\n", "no header", id="blank-first-line"),
        pytest.param(b"id,v,s\n1,2,\x00\n", "NUL", id="nul-bytes"),
        pytest.param(b'id,v,s\n1,2,"a\n3,4,b\n', "not a readable CSV", id="unterminated-quote"),
    ],
)
def test_unreadable_tables_are_refused_with_one_clear_line(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    schema = load_schema(EMISSIONS)
    for attempt in (
        lambda: validate_table(path, schema),
        lambda: validate_frame(read_table(content), schema),
    ):
        with pytest.raises(TableUnreadable) as info:
            attempt()
        assert words in info.value.message
        assert "\n" not in info.value.message
        assert info.value.code == "table_unreadable"
        assert info.value.http_status == 400


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(TableUnreadable, match="not a file"):
        validate_table(tmp_path / "nowhere.csv", load_schema(EMISSIONS))


def test_read_table_marks_absent_cells_and_keeps_labels() -> None:
    frame = read_table("\ufeffa,b\n1,x\n2\n3,y,z\n".encode())
    assert frame.attrs[tabular.LABELS_ATTR] == ["a", "b"]
    assert list(frame.columns[:2]) == ["a", "b"]
    assert frame.to_numpy().tolist() == [["1", "x", None], ["2", None, None], ["3", "y", "z"]]
    gbk = read_table("区,值\n成都,1\n".encode("gbk"))
    assert gbk.attrs[tabular.LABELS_ATTR] == ["区", "值"]
    assert gbk.to_numpy().tolist() == [["成都", "1"]]
    # 㐀 (CJK extension A) is in GB18030, not in GBK
    gb18030 = read_table("区,值\n成都,㐀\n".encode("gb18030"))
    assert gb18030.to_numpy().tolist() == [["成都", "㐀"]]


# -- schemas -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("descriptor", "words"),
    [
        pytest.param({"fields": [{"name": "a", "type": "integr"}]}, "integr", id="unknown-type"),
        pytest.param(
            {"fields": [{"name": "a", "type": "string", "constraints": {"minLength": "3"}}]},
            "minLength",
            id="constraint-wrong-type",
        ),
        pytest.param(
            {"fields": [{"name": "a", "type": "integer", "constraints": {"minimum": "abc"}}]},
            "minimum",
            id="bound-not-of-the-type",
        ),
        pytest.param(
            {"fields": [{"name": "a", "type": "date", "constraints": {"enum": ["2020-13-01"]}}]},
            "enum",
            id="enum-member-not-of-the-type",
        ),
        pytest.param(
            {"fields": [{"name": "a", "type": "integer"}], "primaryKey": ["b"]},
            "primary key",
            id="primary-key-unknown-field",
        ),
        pytest.param(
            {"fields": [{"name": "a", "type": "integer"}, {"name": "a", "type": "string"}]},
            "not unique",
            id="duplicate-names",
        ),
        pytest.param(
            {"fields": [{"name": "a", "type": "string", "constraints": {"pattern": "("}}]},
            "pattern",
            id="pattern-does-not-compile",
        ),
        pytest.param(
            {"fields": [{"name": "a", "type": "integer", "constraints": {"pattern": "1"}}]},
            "pattern",
            id="constraint-not-for-the-type",
        ),
        pytest.param({"fields": "a"}, "fields", id="fields-not-a-list"),
        pytest.param({"fields": []}, "no fields", id="no-fields"),
        pytest.param({}, "fields", id="empty"),
        pytest.param(
            {
                "fields": [{"name": "a", "type": "integer"}],
                "foreignKeys": [{"fields": ["a"], "reference": {"resource": "", "fields": ["a"]}}],
            },
            "foreignKeys",
            id="foreign-keys",
        ),
    ],
)
def test_bad_schemas_are_refused_with_one_line(descriptor: dict, words: str) -> None:
    with pytest.raises(SchemaInvalid) as info:
        load_schema(descriptor)
    assert words in info.value.message
    assert "\n" not in info.value.message
    assert info.value.code == "schema_invalid"


def test_schema_files(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps(CHINESE, ensure_ascii=False), encoding="utf-8")
    yaml_text = "fields:\n" + "".join(
        f"  - name: {f['name']}\n    type: {f['type']}\n    constraints: "
        f"{json.dumps(f['constraints'], ensure_ascii=False)}\n"
        for f in CHINESE["fields"]
    )
    (tmp_path / "s.yaml").write_text(yaml_text, encoding="utf-8")
    from_json, from_yaml = load_schema(tmp_path / "s.json"), load_schema(str(tmp_path / "s.yaml"))
    assert from_json.digest() == from_yaml.digest() == load_schema(CHINESE).digest()
    assert from_json.field_names() == ["地区", "年份", "排放量"]
    (tmp_path / "bad.json").write_text("{'fields': ")
    for bad in (tmp_path / "bad.json", tmp_path / "missing.json", [1, 2]):
        with pytest.raises(SchemaInvalid):
            load_schema(bad)  # type: ignore[arg-type]


def test_schema_digest_is_stable_across_key_order() -> None:
    reordered = {
        "missingValues": ["NA", "-"],
        "fields": [
            {"constraints": {"required": True}, "type": "integer", "name": "a"},
            {"type": "string", "name": "b"},
            {"type": "date", "name": "c"},
        ],
    }
    a, b = load_schema(MARKERS), load_schema(reordered)
    assert a.digest() == b.digest()
    assert len(a.digest()) == 32
    canonical = json.dumps(a.descriptor, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    import hashlib

    assert a.digest() == hashlib.sha256(canonical.encode()).digest()
    assert load_schema({**MARKERS, "missingValues": ["NA"]}).digest() != a.digest()
    assert (
        isinstance(a, TableSchema)
        and a.descriptor == Schema.from_descriptor(MARKERS).to_descriptor()
    )


# -- reports -----------------------------------------------------------------------------


def _report(kinds: dict[str, int]) -> Report:
    return Report(
        rows=10,
        error_count=sum(kinds.values()),
        errors_by_kind=kinds,
        first_errors=[],
        schema_sha256="0x" + "00" * 32,
    )


def test_kinds_text() -> None:
    assert _report({"type-error": 1, "constraint-error": 3}).kinds_text() == (
        "constraint-error=3;type-error=1"
    )
    assert _report({}).kinds_text() == ""
    many = {f"kind-{i:02d}-{'x' * 20}": 10**6 + i for i in range(20)}
    text = _report(many).kinds_text()
    assert len(text.encode()) <= 256
    entries = text.split(";")
    assert entries == [f"{k}={v}" for k, v in sorted(many.items())][: len(entries)]
    assert len(entries) < 20


def test_report_digest_is_its_canonical_json(tmp_path: Path) -> None:
    text = "id,v,s\n1,1.5,ab\n1,x,abcd\n"
    schema = load_schema(EMISSIONS)
    report = validate_table(_write(tmp_path, text, "utf-8"), schema)
    doc = report.as_dict()
    assert doc["valid"] is False and doc["rows"] == 2
    assert doc["errors_by_kind"] == {"constraint-error": 1, "type-error": 1, "unique-error": 1}
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    import hashlib

    assert report.digest() == hashlib.sha256(canonical.encode()).digest()
    again = validate_frame(
        read_table(text.encode()), load_schema(json.loads(json.dumps(EMISSIONS)))
    )
    assert again.digest() == report.digest()


def test_table_refused_lists_the_first_three_errors(tmp_path: Path) -> None:
    text = "id,v,s\n1,1.5,ab\n1,x,abcd\n1,-1,\n"
    report = validate_table(_write(tmp_path, text, "utf-8"), load_schema(EMISSIONS))
    exc = TableRefused(report)
    assert isinstance(exc, QualityError) and isinstance(exc, TanlianError)
    assert exc.report is report
    assert exc.code == "table_invalid" and exc.http_status == 422
    assert exc.detail == report.as_dict()
    first = report.first_errors
    assert (
        f"row 3, field v: type-error: {first[0]['message']}; "
        f"row 3, field s: constraint-error: {first[1]['message']}; "
        f"row 3, field id: unique-error: {first[2]['message']}"
    ) in exc.message
    assert first[3]["row"] == 4 and first[3]["message"] not in exc.message
    assert "constraint-error=2;type-error=1;unique-error=2" in exc.message
    assert QualityError.code == "quality_error" and QualityError.http_status == 400


# -- pandera -----------------------------------------------------------------------------

PANDERA = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"unique": True, "minimum": 1}},
        {
            "name": "adcode",
            "type": "string",
            "constraints": {"enum": ADCODES, "required": True, "pattern": "51\\d+", "maxLength": 6},
        },
        {"name": "e", "type": "number", "constraints": {"minimum": 0, "maximum": 100}},
        {"name": "d", "type": "date", "constraints": {"minimum": "2020-01-01"}},
        {"name": "b", "type": "boolean", "constraints": {"enum": [True]}},
        {"name": "y", "type": "year", "constraints": {"maximum": 2024}},
    ],
    "primaryKey": ["adcode", "d"],
}


def test_pandera_schema_agrees_on_the_typed_table() -> None:
    import pandera.pandas as pa

    text = (
        "id,adcode,e,d,b,y\n1,510104,1.5,2020-01-01,true,2020\n1,510199,-1,2019-12-31,false,2025\n"
        "0,,101,2021-01-01,true,2020\n3,5101045,50,2020-01-01,true,2020\n"
        "4,510104,5,2020-01-01,1,2020\n5,610104,5,2020-01-01,1,2020\n"
    )
    schema = load_schema(PANDERA)
    frame = read_table(text.encode())
    report = validate_frame(frame, schema)
    typed = typed_frame(frame, schema)
    assert str(typed["id"].dtype) == "Int64" and str(typed["d"].dtype) == "datetime64[s]"
    pandera_schema = schema.to_pandera()
    with pytest.raises(pa.errors.SchemaErrors) as info:
        pandera_schema.validate(typed, lazy=True)
    cases = info.value.failure_cases
    counted: collections.Counter[str] = collections.Counter()
    for row in cases.itertuples():
        if row.check == "not_nullable":
            counted["constraint-error"] += 1
        elif row.check == "field_uniqueness":
            counted["unique-error"] += 1
        elif row.check != "multiple_fields_uniqueness":
            names = pandera_schema.columns[row.column].metadata["constraints"]
            assert names[int(row.check_number)] in (
                "minimum",
                "maximum",
                "enum",
                "maxLength",
                "pattern",
            )
            counted["constraint-error"] += 1
    keys = cases[cases.check == "multiple_fields_uniqueness"]["index"].nunique()
    counted["primary-key"] = keys
    assert (
        dict(counted)
        == report.errors_by_kind
        == {
            "constraint-error": 12,
            "unique-error": 1,
            "primary-key": 1,
        }
    )
    valid = read_table(b"id,adcode,e,d,b,y\n1,510104,1.5,2020-01-01,true,2020\n")
    pandera_schema.validate(typed_frame(valid, schema), lazy=True)
