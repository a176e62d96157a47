"""CSV from Excel on Chinese Windows (GBK) or with a byte-order mark is read like UTF-8; other
encodings are refused with how to convert them; JSON output keeps Chinese text readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics.errors import InvalidData
from analytics.indicators.ahp import read_matrix
from analytics.tables import decode_text, read_csv_frame
from tests.cli_run import tanlian

ROOT = Path(__file__).resolve().parents[2]
ACTIVITY = ROOT / "analytics" / "carbon" / "demo" / "activity_2015_2024.csv"


@pytest.mark.parametrize(
    ("encoding", "found"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gbk"), ("gb18030", "gb18030")],
)
def test_decode_text_names_the_encoding(encoding: str, found: str) -> None:
    text = "区县,人口\n锦江区,90.5\n" + ("㐀\n" if encoding == "gb18030" else "")
    assert decode_text(text.encode(encoding), "f.csv") == (text, found)


@pytest.mark.parametrize("data", ["区县\n".encode("utf-16"), b"name\ncaf\xe9,1\n"])
def test_other_encodings_say_how_to_convert(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(InvalidData, match=r"not UTF-8 or GBK.*iconv -f"):
        read_csv_frame(path, "panel")


def test_gbk_activity_and_matrix_are_read(tmp_path: Path) -> None:
    lines = ACTIVITY.read_text(encoding="utf-8").splitlines()[:200]
    rows = [lines[0] + ",备注", *(line + ",锦江区 样本" for line in lines[1:])]
    activity = tmp_path / "活动数据.csv"
    activity.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    proc = tanlian(
        "carbon", "inventory", "--activity", str(activity), "--grid", "sichuan:2022",
        "-o", str(tmp_path / "inv"), "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"] == 199
    assert "四川" in proc.stdout  # JSON for people keeps Chinese text, not \\u escapes
    matrix = tmp_path / "判断矩阵.csv"
    matrix.write_bytes(",经济,环境\n经济,1,3\n环境,1/3,1\n".encode("gbk"))
    assert list(read_matrix(matrix).names) == ["经济", "环境"]
