"""Canonical CSV bytes whatever encoding Excel saved the file in (UTF-8, BOM, GBK, GB18030)."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.errors import InvalidInput
from node.privacy.canonical import canonicalize

TEXT = "district,year,gdp\r\n锦江区,2023,1342.5\r\n武侯区,2023,1428.0\r\n"
CANONICAL = TEXT.replace("\r\n", "\n").encode("utf-8")


@pytest.mark.parametrize(
    ("encoding", "recorded", "text"),
    [
        ("utf-8", "utf-8", TEXT),
        ("utf-8-sig", "utf-8-sig", TEXT),
        ("gbk", "gbk", TEXT),
        # 㐀 (CJK extension A) is in GB18030 but not in GBK
        ("gb18030", "gb18030", TEXT.replace("武侯区", "武侯㐀区")),
    ],
)
def test_excel_encodings_give_the_same_canonical_utf8(
    tmp_path: Path, encoding: str, recorded: str, text: str
) -> None:
    path = tmp_path / "panel.csv"
    path.write_bytes(text.encode(encoding))
    canon = canonicalize(path)
    assert canon.encoding == recorded
    body = b"".join(canon.chunks)
    assert body == text.replace("\r\n", "\n").encode("utf-8")
    assert "锦江区" in body.decode("utf-8")
    # the schema hash does not depend on how the file was saved
    plain = tmp_path / "plain.csv"
    plain.write_bytes(CANONICAL)
    assert canon.schema_hash == canonicalize(plain).schema_hash


@pytest.mark.parametrize(
    "data",
    [
        "district\r\nJinjiang\r\n".encode("utf-16"),  # Excel's "Unicode text"
        b"\xef\xbb\xbfdistrict\n\xff\xfe\n",  # a BOM, then bytes that are not UTF-8
        b"district\n\x81\x0a\n",  # half a GBK character
    ],
)
def test_other_encodings_are_refused_with_how_to_convert(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "panel.csv"
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match=r"not UTF-8 or GBK/GB18030 text.*iconv"):
        b"".join(canonicalize(path).chunks)
