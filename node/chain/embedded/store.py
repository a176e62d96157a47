"""Durable key/value store under py-evm's database interface.

py-evm writes trie nodes, headers, bodies and the canonical-head pointer into a flat
key/value database. This store keeps them in one SQLite file and buffers every write in
memory until :meth:`DurableKV.commit`, which applies the buffer in a single SQLite
transaction. The embedded chain commits once per mined block, after which it returns the
receipt: a ``kill -9`` before the commit leaves the previous block as head, a ``kill -9``
after it leaves the new block fully present. Nothing in between is ever visible.

SQLite runs in WAL mode. With ``fsync=False`` (``synchronous=NORMAL``) a committed block
survives the death of the process, because the WAL write has reached the OS; with
``fsync=True`` (``synchronous=FULL``) it also survives power loss, at the cost of one
fsync per block.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from eth.db.backends.base import BaseDB

from node.chain.errors import ChainStoreError, ChainStoreLocked
from node.home import DIR_MODE, open_private

# keys per IN (...) query: well under SQLite's variable limit
_MANY_CHUNK = 900
_DELETED = None
SCHEMA_VERSION = "1"


class DurableKV(BaseDB):
    """py-evm ``BaseDB`` on SQLite with a write buffer and a read cache."""

    def __init__(self, path: Path, *, fsync: bool = False, cache_entries: int = 200_000) -> None:
        self.path = Path(path)
        self._lock_file = _acquire_lock(self.path.with_suffix(".lock"))
        try:
            # the store's folder is its own, and private, whoever created it
            os.chmod(self.path.parent, DIR_MODE)
            # created 0600 before SQLite does (its WAL and shm files take the same mode)
            os.close(open_private(self.path, os.O_WRONLY | os.O_CREAT))
            self._conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
            # Trie keys are hashes, so every block dirties pages all over the table: a
            # large page cache and rarer checkpoints keep each page's rewrites together.
            self._conn.execute("PRAGMA cache_size=-65536")
            self._conn.execute("PRAGMA wal_autocheckpoint=8192")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)"
            )
            # A log index beside the trie: eth_getLogs reads rows instead of decoding every
            # block's receipts. Written in the same transaction as the block it belongs to.
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS logs (block INTEGER NOT NULL, log_index INTEGER "
                "NOT NULL, tx_index INTEGER NOT NULL, tx_hash BLOB NOT NULL, block_hash BLOB "
                "NOT NULL, address BLOB NOT NULL, topic0 BLOB, topic1 BLOB, topic2 BLOB, "
                "topic3 BLOB, data BLOB NOT NULL, PRIMARY KEY (block, log_index)) WITHOUT ROWID"
            )
            self._conn.execute(
                "CREATE INDEX IF NOT EXISTS logs_by_address ON logs (address, block)"
            )
            # Each canonical block as stored (header RLP, RLP lists of its trie-encoded
            # transactions and receipts), in block order: an audit reads them all, and a
            # range scan here costs a fraction of four hash lookups per block in kv.
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, header BLOB "
                "NOT NULL, txs BLOB NOT NULL, receipts BLOB NOT NULL)"
            )
        except sqlite3.DatabaseError as exc:
            self._release()
            raise ChainStoreError(
                f"chain store {self.path} is not a readable database: {exc}"
            ) from exc
        self._pending: dict[bytes, bytes | None] = {}
        self._pending_logs: list[tuple] = []
        self._pending_blocks: list[tuple[int, bytes, bytes, bytes]] = []
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()
        self._cache_entries = cache_entries

    # -- py-evm BaseDB -------------------------------------------------------------
    def __getitem__(self, key: bytes) -> bytes:
        if key in self._pending:
            value = self._pending[key]
            if value is _DELETED:
                raise KeyError(key)
            return value
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise ChainStoreError(f"chain store {self.path} is unreadable: {exc}") from exc
        if row is None:
            raise KeyError(key)
        value = bytes(row[0])
        self._remember(key, value)
        return value

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        """Values of ``keys`` (None where absent), read in a few queries.

        For bulk readers (an audit walks every block): one query per chunk of keys instead
        of one per key, and the answers are not cached so they do not evict hot entries.
        """
        out: list[bytes | None] = [None] * len(keys)
        misses: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            if key in self._pending:
                value = self._pending[key]
                out[i] = None if value is _DELETED else value
            elif (cached := self._cache.get(key)) is not None:
                out[i] = cached
            else:
                misses.setdefault(bytes(key), []).append(i)
        wanted = list(misses)
        try:
            for lo in range(0, len(wanted), _MANY_CHUNK):
                chunk = wanted[lo : lo + _MANY_CHUNK]
                marks = ",".join("?" * len(chunk))
                for k, v in self._conn.execute(f"SELECT k, v FROM kv WHERE k IN ({marks})", chunk):
                    for i in misses[k]:
                        out[i] = v
        except sqlite3.DatabaseError as exc:
            raise ChainStoreError(f"chain store {self.path} is unreadable: {exc}") from exc
        return out

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[bytes(key)] = bytes(value)

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[bytes(key)] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    # -- durability ----------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return bool(self._pending)

    def commit(self, meta: dict[str, str] | None = None) -> None:
        """Write the buffered changes (and optional metadata) in one transaction."""
        upserts = [(k, v) for k, v in self._pending.items() if v is not _DELETED]
        deletes = [(k,) for k, v in self._pending.items() if v is _DELETED]
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if upserts:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", upserts
                    )
                if deletes:
                    self._conn.executemany("DELETE FROM kv WHERE k = ?", deletes)
                if self._pending_logs:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        self._pending_logs,
                    )
                if self._pending_blocks:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?)", self._pending_blocks
                    )
                for k, v in (meta or {}).items():
                    self._conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (k, v))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise ChainStoreError(f"could not write chain store {self.path}: {exc}") from exc
        for k, v in upserts:
            self._remember(k, v)
        for (k,) in deletes:
            self._cache.pop(k, None)
        self._pending.clear()
        self._pending_logs.clear()
        self._pending_blocks.clear()

    def rollback(self) -> None:
        """Forget every write since the last commit."""
        self._pending.clear()
        self._pending_logs.clear()
        self._pending_blocks.clear()

    def add_logs(self, rows: list[tuple]) -> None:
        """Buffer log rows (block, log_index, tx_index, tx_hash, block_hash, address,
        topic0..3, data) for the next commit."""
        self._pending_logs.extend(rows)

    def add_block(self, number: int, header: bytes, txs: bytes, receipts: bytes) -> None:
        """Buffer one block's stored form (see the ``blocks`` table) for the next commit."""
        self._pending_blocks.append((number, header, txs, receipts))

    def query_blocks(self, start: int, end: int) -> list[tuple[int, bytes, bytes, bytes]]:
        """Rows (number, header, txs, receipts) of blocks ``start``..``end``, in order."""
        try:
            return self._conn.execute(
                "SELECT number, header, txs, receipts FROM blocks WHERE number BETWEEN ? AND ? "
                "ORDER BY number",
                (start, end),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise ChainStoreError(f"chain store {self.path} is unreadable: {exc}") from exc

    def query_logs(
        self,
        from_block: int,
        to_block: int,
        addresses: list[bytes],
        topics: list[list[bytes] | None],
    ) -> list[tuple]:
        sql = "SELECT * FROM logs WHERE block BETWEEN ? AND ?"
        args: list = [from_block, to_block]
        if addresses:
            sql += f" AND address IN ({','.join('?' * len(addresses))})"
            args += addresses
        for i, options in enumerate(topics[:4]):
            if options:
                sql += f" AND topic{i} IN ({','.join('?' * len(options))})"
                args += options
        sql += " ORDER BY block, log_index"
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise ChainStoreError(f"chain store {self.path} is unreadable: {exc}") from exc

    def get_meta(self) -> dict[str, str]:
        try:
            return dict(self._conn.execute("SELECT k, v FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise ChainStoreError(f"chain store {self.path} is unreadable: {exc}") from exc

    def is_empty(self) -> bool:
        try:
            return self._conn.execute("SELECT 1 FROM kv LIMIT 1").fetchone() is None
        except sqlite3.DatabaseError as exc:
            raise ChainStoreError(f"chain store {self.path} is unreadable: {exc}") from exc

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def _remember(self, key: bytes, value: bytes) -> None:
        self._cache[key] = value
        if len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)


def _acquire_lock(lock_path: Path):
    """One process owns a chain store at a time; a second one gets a clear error."""
    lock_path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    flags = os.O_RDWR | os.O_CREAT | os.O_APPEND
    handle = os.fdopen(open_private(lock_path, flags), "a+")  # held for the store's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise ChainStoreLocked(
            f"chain store {lock_path.with_suffix('.sqlite')} is in use by pid {owner}"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
