"""Canonical bytes of a dataset file and the hash of its schema.

The same table must hash the same wherever it comes from, so text formats are normalized:
CSV to UTF-8 without BOM and with LF line ends; JSON/GeoJSON to sorted keys and compact
separators. Binary formats (Parquet, zipped shapefiles) are taken byte for byte.
"""

from __future__ import annotations

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


def _csv(path: Path) -> Canonical:
    with open(path, "rb") as fh:
        first = fh.readline()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    try:
        header = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name} is not UTF-8 text") from None
    if not header:
        raise InvalidInput(f"{path.name} has no header line")
    schema = hashlib.sha256(("csv\n" + header).encode()).digest()

    def lines() -> Iterator[bytes]:
        with open(path, "rb") as fh:
            buf: list[bytes] = []
            size = 0
            for i, raw in enumerate(fh):
                if i == 0 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise InvalidInput(f"{path.name} line {i + 1} is not UTF-8") from None
                line = raw.rstrip(b"\r\n") + b"\n"
                buf.append(line)
                size += len(line)
                if size >= 1 << 20:
                    yield b"".join(buf)
                    buf, size = [], 0
            if buf:
                yield b"".join(buf)

    return Canonical("csv", schema, lines())


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
