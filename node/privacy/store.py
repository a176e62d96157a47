"""The owner's encrypted, content-addressed blob store and its SQL metadata.

A version is written as ``blobs/tmp/<random>`` (fsynced), then renamed to
``blobs/<first two hex>/<ciphertext sha256>`` (directory fsynced): a crash leaves either a
temporary file, removed by :meth:`BlobStore.cleanup`, or a complete blob. Its metadata row
is added only after the blob is in place, and the version becomes visible only once it is
anchored on chain.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from node.errors import NotFound
from node.privacy.crypto import (
    CHUNK,
    Digests,
    IntegrityError,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
    open_key,
    seal_key,
)
from node.privacy.models import StoredVersion


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class WrittenBlob:
    digests: Digests
    sealed_data_key: bytes
    path: Path


class BlobStore:
    """Content-addressed encrypted blobs.

    With ``fsync=False`` (the default, as for the embedded chain) a stored blob survives the
    death of the process (it is in the OS cache once written); with ``fsync=True`` it also
    survives power loss, at the cost of flushing every blob to the disk.
    """

    def __init__(self, root: Path, *, fsync: bool = False) -> None:
        self.fsync = fsync
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_for(self, ciphertext_hash: bytes) -> Path:
        h = ciphertext_hash.hex()
        return self.root / h[:2] / h

    def write_encrypted(self, chunks: Iterable[bytes], owner_public_key: bytes) -> WrittenBlob:
        """Encrypt ``chunks`` under a fresh data key into the store."""
        data_key = new_data_key()
        tmp = self.tmp / secrets.token_hex(16)
        try:
            with open(tmp, "wb", buffering=CHUNK * 4) as fh:
                digests = encrypt_stream(chunks, data_key, fh.write)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            final = self.path_for(digests.ciphertext_sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            if self.fsync:
                _fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return WrittenBlob(digests, seal_key(data_key, owner_public_key), final)

    def open(self, ciphertext_hash: bytes):
        path = self.path_for(ciphertext_hash)
        if not path.exists():
            raise NotFound(f"blob {ciphertext_hash.hex()} is missing from the store")
        return open(path, "rb")

    def stream(self, ciphertext_hash: bytes, chunk: int = CHUNK) -> Iterator[bytes]:
        with self.open(ciphertext_hash) as fh:
            while block := fh.read(chunk):
                yield block

    def cleanup(self, keep: set[str]) -> int:
        """Remove temporary files and blobs no metadata row refers to."""
        removed = 0
        for f in self.tmp.iterdir():
            f.unlink(missing_ok=True)
            removed += 1
        for sub in self.root.iterdir():
            if sub == self.tmp or not sub.is_dir():
                continue
            for blob in sub.iterdir():
                if blob.name not in keep:
                    blob.unlink(missing_ok=True)
                    removed += 1
        return removed


class VersionStore:
    """Metadata rows of stored versions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, **fields: object) -> int:
        with Session(self.engine) as s, s.begin():
            row = StoredVersion(created_at=time.time(), state="stored", **fields)
            s.add(row)
            s.flush()
            return row.id

    def mark_anchored(self, row_id: int, dataset_id: str, version: int, tx: str) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(StoredVersion, row_id)
            assert row is not None
            if row.state == "anchored" and tx == "recovered":
                return  # the publish itself got there first: keep its transaction hash
            row.dataset_id, row.version, row.anchor_tx, row.state = (
                dataset_id,
                version,
                tx,
                "anchored",
            )

    def drop(self, row_id: int) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(StoredVersion).where(StoredVersion.id == row_id))

    def unanchored(self) -> list[StoredVersion]:
        with Session(self.engine) as s:
            return list(s.scalars(select(StoredVersion).where(StoredVersion.state == "stored")))

    def anchored(self, dataset_id: str | None = None) -> list[StoredVersion]:
        q = select(StoredVersion).where(StoredVersion.state == "anchored")
        if dataset_id is not None:
            q = q.where(StoredVersion.dataset_id == dataset_id)
        with Session(self.engine) as s:
            return list(s.scalars(q.order_by(StoredVersion.id)))

    def find(self, dataset_id: str, version: int) -> StoredVersion | None:
        with Session(self.engine) as s:
            return s.scalar(
                select(StoredVersion).where(
                    StoredVersion.dataset_id == dataset_id,
                    StoredVersion.version == version,
                    StoredVersion.state == "anchored",
                )
            )

    def find_many(self, wanted: list[tuple[str, int]]) -> dict[tuple[str, int], StoredVersion]:
        """The anchored versions among ``wanted`` (dataset id, version), in one query."""
        ids = sorted({d for d, _ in wanted})
        keep = set(wanted)
        with Session(self.engine) as s:
            rows = s.scalars(
                select(StoredVersion).where(
                    StoredVersion.dataset_id.in_(ids), StoredVersion.state == "anchored"
                )
            )
            return {(r.dataset_id, r.version): r for r in rows if (r.dataset_id, r.version) in keep}

    def all_blob_names(self) -> set[str]:
        with Session(self.engine) as s:
            return {h[2:] for h in s.scalars(select(StoredVersion.ciphertext_hash))}


def read_plaintext(blobs: BlobStore, row: StoredVersion, private_key: PrivateKey) -> bytes:
    """The decrypted bytes of a stored version, checked against both of its hashes.

    The owner's node reads its own data this way (DP answers, desensitized releases): a blob
    edited on disk fails here instead of feeding a wrong answer.
    """
    cipher_hash = bytes.fromhex(row.ciphertext_hash[2:])
    data_key = open_key(row.sealed_data_key, private_key)
    h = hashlib.sha256()
    buf = io.BytesIO()

    def blocks() -> Iterator[bytes]:
        for b in blobs.stream(cipher_hash):
            h.update(b)
            yield b

    plain_hash = decrypt_stream(blocks(), data_key, buf.write)
    if h.digest() != cipher_hash:
        raise IntegrityError(f"stored blob of {row.name} v{row.version} fails its hash")
    if "0x" + plain_hash.hex() != row.plaintext_hash:
        raise IntegrityError(f"{row.name} v{row.version} decrypts to other data than anchored")
    return buf.getvalue()
