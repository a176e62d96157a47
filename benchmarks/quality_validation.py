"""Validating a published CSV against its Table Schema, next to the encrypted publish.

A SYNTHETIC table of N rows (default 1,000,000) with the columns a department's emission
table typically has — id (unique), adcode (enum of Chengdu's admin units), year, month,
sector (enum), emission_t (number >= 0), facilities (integer >= 0), reported_on (date) —
is written to a temporary folder, then, in the same run (best of --repeat):

* baseline — raw AEAD: read the file, secretstream-encrypt 1 MiB chunks, write (as
             benchmarks/sharing_transfer.py measures it);
  publish  — the node's encrypted publish of the same file without the chain:
             canonicalize (CSV to UTF-8/LF lines) and BlobStore.write_encrypted (encrypt,
             hash both sides, write);
* validate — validate_table on the file: the Arrow proof of validity
             (node/quality/proof.py), which a plain valid table takes; and with prove=False,
             the exact check (read_table + validate_frame) that an invalid or unusual table
             takes; target: validation at most 1.5 x publish;
* re-check — validate_data on the decrypted bytes (the review's path), and the exact
             check on the frame already read and from the bytes: target 1 s for 1M rows;
* pandera  — the same constraints through TableSchema.to_pandera() on the typed frame
             (lazy validation), to show why the rows are not checked through pandera;
* reference — frictionless.validate on the first --reference-rows rows, scaled to 100k.

Usage: python benchmarks/quality_validation.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import numpy as np
from nacl.public import PrivateKey

from node.privacy.canonical import canonicalize
from node.privacy.crypto import CHUNK, TAG_FINAL, TAG_MESSAGE, new_data_key
from node.privacy.store import BlobStore
from node.quality.proof import proven_rows
from node.quality.tabular import (
    load_schema,
    read_table,
    typed_frame,
    validate_data,
    validate_frame,
    validate_table,
)

ADMIN_UNITS = (
    Path(__file__).resolve().parent.parent
    / "analytics"
    / "frameworks"
    / "data"
    / "chengdu_metro_admin_units.csv"
)
SECTORS = ["energy", "industry", "transport", "building", "agriculture", "waste"]


def adcodes() -> list[str]:
    with open(ADMIN_UNITS, encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return [row["adcode"] for row in csv.DictReader(lines)]


def descriptor(units: list[str]) -> dict[str, Any]:
    return {
        "fields": [
            {"name": "id", "type": "string", "constraints": {"required": True, "unique": True}},
            {"name": "adcode", "type": "string", "constraints": {"required": True, "enum": units}},
            {"name": "year", "type": "integer", "constraints": {"minimum": 2005, "maximum": 2030}},
            {"name": "month", "type": "integer", "constraints": {"minimum": 1, "maximum": 12}},
            {"name": "sector", "type": "string", "constraints": {"enum": SECTORS}},
            {"name": "emission_t", "type": "number", "constraints": {"minimum": 0}},
            {"name": "facilities", "type": "integer", "constraints": {"minimum": 0}},
            {"name": "reported_on", "type": "date"},
        ],
        "missingValues": ["", "NA"],
    }


def write_table(path: Path, rows: int, units: list[str]) -> None:
    rng = np.random.default_rng(2026)
    unit = np.array(units)[rng.integers(0, len(units), rows)]
    ids = np.char.add(np.char.add(unit, "-"), np.char.zfill(np.arange(rows).astype(str), 7))
    year = rng.integers(2015, 2025, rows).astype(str)
    month = rng.integers(1, 13, rows).astype(str)
    sector = np.array(SECTORS)[rng.integers(0, len(SECTORS), rows)]
    emission = np.char.mod("%.3f", rng.gamma(2.0, 400.0, rows))
    facilities = rng.integers(0, 400, rows).astype(str)
    day = np.datetime64("2016-01-01") + rng.integers(0, 3650, rows).astype("timedelta64[D]")
    columns = [ids, unit, year, month, sector, emission, facilities, day.astype(str)]
    header = "id,adcode,year,month,sector,emission_t,facilities,reported_on\n"
    step = 100_000
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header)
        for start in range(0, rows, step):
            block = [c[start : start + step] for c in columns]
            fh.write("\n".join(",".join(cells) for cells in zip(*block, strict=True)) + "\n")


def best_of(fn: Callable[[], Any], n: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def raw_encrypt(src: Path, dst: Path) -> None:
    key = new_data_key()
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fout.write(sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key))
        prev = fin.read(CHUNK)
        while True:
            nxt = fin.read(CHUNK)
            tag = TAG_FINAL if not nxt else TAG_MESSAGE
            fout.write(sodium.crypto_secretstream_xchacha20poly1305_push(state, prev, None, tag))
            if not nxt:
                break
            prev = nxt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference-rows", type=int, default=20_000)
    parser.add_argument("--no-pandera", action="store_true", help="skip the pandera timing")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tanlian-quality-", dir=os.environ.get("TMPDIR")))
    try:
        units = adcodes()
        schema = load_schema(descriptor(units))
        table = work / "emissions.csv"
        write_table(table, args.rows, units)
        size = table.stat().st_size
        mib = size / 2**20
        n = args.repeat

        raw_t, _ = best_of(lambda: raw_encrypt(table, work / "raw.enc"), n)
        store = BlobStore(work / "blobs")
        owner = bytes(PrivateKey.generate().public_key)

        def publish() -> None:
            written = store.write_encrypted(canonicalize(table).chunks, owner)
            written.path.unlink()

        pub_t, _ = best_of(publish, n)
        data = table.read_bytes()
        assert proven_rows(data, schema) == args.rows, "the plain table must take the proof"
        val_t, report = best_of(lambda: validate_table(table, schema), n)
        assert report.valid, report.as_dict()
        exact_t, report0 = best_of(lambda: validate_table(table, schema, prove=False), n)
        frame = read_table(table)
        frame_t, report2 = best_of(lambda: validate_frame(frame, schema), n)
        recheck_t, report1 = best_of(lambda: validate_data(data, schema), n)
        bytes_t, report3 = best_of(lambda: validate_frame(read_table(data), schema), n)
        read_t, _ = best_of(lambda: read_table(data), n)
        digests = {r.digest() for r in (report, report0, report1, report2, report3)}
        assert len(digests) == 1, "every path gives the same report"

        print(f"\nTable Schema validation, {args.rows:,} rows x 8 columns, {mib:.0f} MiB CSV")
        print(f"(best of {n}; one machine, {os.cpu_count()} CPUs)")
        print(f"{'step':<44} {'seconds':>8} {'MiB/s':>7} {'x publish':>10} {'x raw':>6}")
        rows = [
            ("raw AEAD encrypt (baseline)", raw_t),
            ("encrypted publish (canonicalize + store)", pub_t),
            ("validate_table (Arrow proof)", val_t),
            ("validate_table, exact check (prove=False)", exact_t),
            ("  of which read_table (pandas C engine)", read_t),
            ("re-check: validate_data(bytes) (the review)", recheck_t),
            ("re-check: validate_frame on the read frame", frame_t),
            ("re-check: read_table(bytes) + validate_frame", bytes_t),
        ]
        for label, secs in rows:
            print(
                f"{label:<44} {secs:>8.3f} {mib / secs:>7.0f} "
                f"{secs / pub_t:>10.2f} {secs / raw_t:>6.2f}"
            )
        verdict = "met" if val_t <= 1.5 * pub_t else "MISSED"
        print(
            f"\nvalidation / publish = {val_t / pub_t:.2f} (target <= 1.5: {verdict}); "
            f"validation / raw AEAD = {val_t / raw_t:.2f}"
        )
        scale = 1_000_000 / args.rows
        for label, secs in (
            ("validate_data (the review)", recheck_t),
            ("exact, on the read frame", frame_t),
            ("exact, from bytes", bytes_t),
        ):
            per_m = secs * scale
            verdict = "met" if per_m <= 1.0 else "MISSED"
            print(f"re-check {label}: {per_m:.3f} s per 1M rows (target <= 1 s: {verdict})")

        if not args.no_pandera:
            typed_t, typed = best_of(lambda: typed_frame(frame, schema), 1)
            pandera_schema = schema.to_pandera()
            pa_t, _ = best_of(lambda: pandera_schema.validate(typed, lazy=True), 1)
            print(
                f"\npandera (lazy) on the typed frame: {pa_t:.3f} s, plus {typed_t:.3f} s to "
                f"type it; validate_frame does types and checks in {frame_t:.3f} s"
            )

        if args.reference_rows:
            import frictionless
            from frictionless import Schema

            sample = work / "sample.csv"
            with open(table, encoding="utf-8") as fin, open(sample, "w", encoding="utf-8") as out:
                for i, line in enumerate(fin):
                    if i > args.reference_rows:
                        break
                    out.write(line)
            ref_schema = Schema.from_descriptor(schema.descriptor)
            start = time.perf_counter()
            with frictionless.system.use_context(trusted=True):
                ref = frictionless.validate(str(sample), schema=ref_schema)
            ref_t = time.perf_counter() - start
            ours_t, ours = best_of(lambda: validate_table(sample, schema, prove=False), n)
            assert ref.valid == ours.valid
            per = 100_000 / args.reference_rows
            print(
                f"frictionless.validate (the reference), {args.reference_rows:,} rows: "
                f"{ref_t * per:.2f} s per 100k rows; exact check: {ours_t * per:.3f} s "
                f"per 100k rows on the same rows ({ref_t / ours_t:.0f}x)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
