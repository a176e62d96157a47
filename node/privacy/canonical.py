"""Canonical bytes of a dataset file and the hash of its schema.

The same table must hash the same wherever it comes from, so text formats are normalized:
CSV to UTF-8 without BOM and with LF line ends (a GBK/GB18030 CSV, as Excel on Chinese
Windows saves it, is re-encoded and its original encoding reported); JSON/GeoJSON to sorted
keys and compact separators. Binary formats (Parquet, zipped shapefiles) are taken byte for byte.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from node.errors import InvalidInput

FORMATS = ("csv", "json", "geojson", "parquet", "zip")


@dataclass(frozen=True)
class Canonical:
    format: str
    schema_hash: bytes
    chunks: Iterator[bytes]
    #: what the file was saved in (a CSV may be GBK); the canonical bytes are UTF-8
    encoding: str = "utf-8"


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise InvalidInput(f"{path.name}: unsupported format; use one of {', '.join(FORMATS)}")


def canonicalize(path: Path, fmt: str | None = None) -> Canonical:
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return _csv(path)
    if fmt in ("json", "geojson"):
        return _json(path, fmt)
    if fmt == "zip":
        try:
            with zipfile.ZipFile(path) as z:
                names = sorted(z.namelist())
        except zipfile.BadZipFile:
            raise InvalidInput(f"{path.name} is not a valid zip archive") from None
        schema = hashlib.sha256(("zip\n" + "\n".join(names)).encode()).digest()
        return Canonical(fmt, schema, _raw(path))
    if fmt == "parquet":
        with open(path, "rb") as fh:
            if fh.read(4) != b"PAR1":
                raise InvalidInput(f"{path.name} is not a Parquet file")
        return Canonical(fmt, hashlib.sha256(b"parquet").digest(), _raw(path))
    raise InvalidInput(f"unsupported format {fmt!r}")


def _raw(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            yield block


#: Encodings a CSV may come in, tried in this order: Excel on Chinese Windows saves GBK
#: (GB18030 is its superset) or UTF-8 with a byte-order mark.
CSV_ENCODINGS = ("utf-8", "gbk", "gb18030")


def _decodes(path: Path, encoding: str, skip: int) -> bool:
    """Whether the whole file decodes in ``encoding``, read in blocks (constant memory)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fh:
            fh.seek(skip)
            while block := fh.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def csv_encoding(path: Path) -> str:
    """The encoding a CSV was saved in: ``utf-8-sig`` (UTF-8 with a BOM), ``utf-8``, ``gbk``
    or ``gb18030``; anything else is refused with how to convert it."""
    with open(path, "rb") as fh:
        bom = fh.read(3)
    if bom.startswith(b"\xef\xbb\xbf"):
        if _decodes(path, "utf-8", 3):
            return "utf-8-sig"
        candidates: tuple[str, ...] = ()
    elif bom.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ()
    else:
        candidates = CSV_ENCODINGS
    for encoding in candidates:
        if _decodes(path, encoding, 0):
            return encoding
    raise InvalidInput(
        f"{path.name} is not UTF-8 or GBK/GB18030 text: save it from Excel as "
        "'CSV UTF-8 (逗号分隔)', or convert it with "
        f"`iconv -f YOUR-ENCODING -t UTF-8 {path.name} > utf8.csv`"
    )


def _csv(path: Path) -> Canonical:
    encoding = csv_encoding(path)
    read_as = "utf-8" if encoding == "utf-8-sig" else encoding
    skip = 3 if encoding == "utf-8-sig" else 0
    with open(path, "rb") as fh:
        fh.seek(skip)
        first = fh.readline()
    header = first.decode(read_as).rstrip("\r\n")
    if not header:
        raise InvalidInput(f"{path.name} has no header line")
    schema = hashlib.sha256(("csv\n" + header).encode()).digest()

    def lines() -> Iterator[bytes]:
        # the canonical form is UTF-8 whatever the file was saved in; a GBK line is
        # decoded whole (a GBK character never straddles a line break)
        with open(path, "rb") as fh:
            fh.seek(skip)
            buf: list[bytes] = []
            size = 0
            for raw in fh:
                text = raw.decode(read_as) if read_as != "utf-8" else None
                line = (raw if text is None else text.encode("utf-8")).rstrip(b"\r\n") + b"\n"
                buf.append(line)
                size += len(line)
                if size >= 1 << 20:
                    yield b"".join(buf)
                    buf, size = [], 0
            if buf:
                yield b"".join(buf)

    return Canonical("csv", schema, lines(), encoding)


def _json(path: Path, fmt: str) -> Canonical:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name} is not valid JSON: {exc}") from None
    keys: set[str] = set()
    if fmt == "geojson" and isinstance(doc, dict):
        for feature in doc.get("features", []) or []:
            keys.update((feature.get("properties") or {}).keys())
    elif isinstance(doc, list):
        for row in doc:
            if isinstance(row, dict):
                keys.update(row.keys())
    schema = hashlib.sha256((fmt + "\n" + "\n".join(sorted(keys))).encode()).digest()
    body = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return Canonical(fmt, schema, iter([body]))
