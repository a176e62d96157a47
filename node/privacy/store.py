"""The owner's encrypted, content-addressed blob store and its SQL metadata.

A version is written as ``blobs/tmp/<random>`` (fsynced), then renamed to
``blobs/<first two hex>/<ciphertext sha256>`` (directory fsynced): a crash leaves either a
temporary file, removed by :meth:`BlobStore.cleanup`, or a complete blob. Its metadata row
is added only after the blob is in place, and the version becomes visible only once it is
anchored on chain.

The publish runs in the CLI's process while the node may restart beside it: it holds a
:class:`BlobLease` on its file from the first byte until the version is anchored, and the
node's start-up clean-up leaves leased files (and their rows) alone.
"""

from __future__ import annotations

import fcntl
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
from node.home import DIR_MODE
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


class BlobLease:
    """A publish's hold on the blob it writes: an exclusive lock (``flock``) on the file,
    from its first byte (as a temporary file) until the version is anchored.

    The kernel drops the lock when the holding process ends, however it ends (kill -9
    included), so a lease is held exactly as long as its publish is alive: no owner pid to
    outlive its process or be reused, no heartbeat to miss. Whoever cleans up asks
    :func:`leased` first."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    def intact(self) -> bool:
        """Whether the leased file is still at ``path`` (nobody removed or replaced it)."""
        try:
            there = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self.fd)
        return (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino) and mine.st_nlink > 0

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> BlobLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def leased(path: Path, *, remove: bool = False) -> bool:
    """Whether a live process holds the lease of the file at ``path``; ``remove``: remove
    the file when none does (while holding its lock, so that no writer takes it between)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if remove:
            path.unlink(missing_ok=True)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@dataclass(frozen=True)
class WrittenBlob:
    digests: Digests
    sealed_data_key: bytes
    path: Path
    #: the writer's lease on the blob (with ``hold=True``); release it once anchored
    lease: BlobLease | None = None


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
        self.root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        self.tmp.mkdir(exist_ok=True, mode=DIR_MODE)

    def path_for(self, ciphertext_hash: bytes) -> Path:
        h = ciphertext_hash.hex()
        return self.root / h[:2] / h

    def write_encrypted(
        self, chunks: Iterable[bytes], owner_public_key: bytes, *, hold: bool = False
    ) -> WrittenBlob:
        """Encrypt ``chunks`` under a fresh data key into the store, under a lease on the
        file from its first byte; ``hold``: keep the lease (the caller releases it)."""
        data_key = new_data_key()
        lease = self._new_leased_tmp()
        tmp = lease.path
        try:
            with open(os.dup(lease.fd), "wb", buffering=CHUNK * 4) as fh:  # shares the lock
                digests = encrypt_stream(chunks, data_key, fh.write)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            final = self.path_for(digests.ciphertext_sha256)
            final.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            os.replace(tmp, final)
            lease.path = final
            if self.fsync:
                _fsync_dir(final.parent)
        except BaseException:
            lease.release()
            raise
        finally:
            tmp.unlink(missing_ok=True)
        if not hold:
            lease.release()
        return WrittenBlob(
            digests, seal_key(data_key, owner_public_key), final, lease if hold else None
        )

    def _new_leased_tmp(self) -> BlobLease:
        while True:
            tmp = self.tmp / secrets.token_hex(16)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            lease = BlobLease(fd, tmp)
            if lease.intact():
                return lease
            # a clean-up took it between its creation and the lock: take another name
            lease.release()

    def leased(self, ciphertext_hash: bytes) -> bool:
        """Whether a live publish holds the blob of ``ciphertext_hash``."""
        return leased(self.path_for(ciphertext_hash))

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
        """Remove temporary files and blobs no metadata row refers to, except those a live
        publish holds (:class:`BlobLease`)."""
        removed = 0
        for f in self.tmp.iterdir():
            if not leased(f, remove=True):
                removed += 1
        for sub in self.root.iterdir():
            if sub == self.tmp or not sub.is_dir():
                continue
            for blob in sub.iterdir():
                if blob.name not in keep and not leased(blob, remove=True):
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

    def state_of(self, row_id: int) -> str | None:
        """A row's state ('stored', 'anchored'), None once it is gone."""
        with Session(self.engine) as s:
            return s.scalar(select(StoredVersion.state).where(StoredVersion.id == row_id))

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
