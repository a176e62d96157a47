"""The owner's review cycle: re-check the current version of each dataset whose review is
due, and record the review on chain.

A review decrypts the stored version, checks its plaintext against the anchored hash (the
store was not tampered with), and re-validates the rows against the declared Table Schema
with the fast checks (:func:`node.quality.tabular.validate_data`). The report is
stored before its hash is anchored. A version published without a declared schema is
reviewed for integrity only.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from node.privacy.crypto import IntegrityError
from node.privacy.store import BlobStore, VersionStore, read_plaintext
from node.quality.documents import DocumentStore
from node.quality.ledger import QualityLedger
from node.quality.tabular import load_schema, validate_data

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Review:
    dataset_id: str
    name: str
    version: int
    errors: int
    intact: bool
    report_sha256: str
    tx: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def review_version(
    ledger: QualityLedger,
    docs: DocumentStore,
    blobs: BlobStore,
    versions: VersionStore,
    encryption_key: Any,
    dataset_id: str,
    version: int,
) -> Review:
    started = time.perf_counter()
    raw_id = bytes.fromhex(dataset_id[2:])
    row = versions.find(dataset_id, version)
    if row is None:
        raise LookupError(f"this node stores no anchored version {version} of {dataset_id}")
    anchored = ledger.plaintext_hash(raw_id, version)
    try:
        data = read_plaintext(blobs, row, encryption_key)
        intact = hashlib.sha256(data).digest() == anchored
    except (IntegrityError, OSError) as exc:
        # a blob altered or gone: what the review exists to find, so it is recorded
        logger.error(
            "review of %s v%d: the stored version is not intact: %s", dataset_id, version, exc
        )
        data, intact = b"", False
    report: dict[str, Any] = {
        "dataset_id": dataset_id,
        "version": version,
        "checked_at": int(time.time()),
        "plaintext_intact": intact,
    }
    errors = 0 if intact else 1
    validation = ledger.validation(raw_id, version)
    if validation is not None and intact:
        schema = load_schema(docs.get_json("0x" + validation.table_schema_hash.hex()))
        result = validate_data(data, schema)
        report["validation"] = result.as_dict()
        errors = result.error_count
    del data
    digest = docs.put_json("review-report", report)
    tx = ledger.record_review(raw_id, version, digest, errors)
    return Review(
        dataset_id,
        row.name,
        version,
        errors,
        intact,
        "0x" + digest.hex(),
        tx.tx_hash,
        time.perf_counter() - started,
    )


def review_due(
    ledger: QualityLedger,
    docs: DocumentStore,
    blobs: BlobStore,
    versions: VersionStore,
    encryption_key: Any,
    *,
    now: int | None = None,
    force: bool = False,
) -> list[Review]:
    """Review every dataset of this node whose review is due (all with a cycle: ``force``)."""
    now = ledger.now() if now is None else now
    latest: dict[str, int] = {}
    for row in versions.anchored():
        assert row.version is not None
        latest[row.dataset_id] = max(latest.get(row.dataset_id, 0), row.version)
    done = []
    for dataset_id, version in sorted(latest.items()):
        raw_id = bytes.fromhex(dataset_id[2:])
        if ledger.version_count(raw_id) != version:
            continue  # a later version is being published; the next round reviews it
        status = ledger.review_status(raw_id)
        if status.review_period == 0 or (not force and not status.overdue(now)):
            continue
        done.append(
            review_version(ledger, docs, blobs, versions, encryption_key, dataset_id, version)
        )
        logger.info("reviewed %s v%d: %d error(s)", dataset_id, version, done[-1].errors)
    return done
