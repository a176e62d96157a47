"""Seen request nonces: a set in memory backed by an append-only journal file.

Every accepted (account, nonce) is appended to ``HOME/nonces.log`` with a single
``write`` before the request is served, so a replay fails even after the node is killed
and restarted: the line is in the operating system's cache once ``write`` returns (the
same guarantee SQLite gives in WAL mode without fsync). Entries are kept only while the
request's timestamp could still pass the freshness check; the journal is compacted at start
and whenever it holds mostly expired lines. A torn last line from a crash is ignored.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from node.peer.signing import AuthReplayed

JOURNAL_FILE = "nonces.log"


class NonceStore:
    """Accepts each (account, nonce) once while its timestamp could still be fresh."""

    def __init__(self, path: Path, ttl_seconds: int) -> None:
        self._path = Path(path)
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], int] = {}
        self._lines = 0
        self._load()
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _load(self) -> None:
        now = time.time()
        if self._path.exists():
            text = self._path.read_text(errors="replace")
            lines = text.split("\n")
            # The last element is "" after a complete write, or a torn line after a crash.
            for line in lines[:-1]:
                parts = line.split(" ")
                if len(parts) != 3 or not parts[0].isdigit():
                    continue  # torn write from a crash
                expires = int(parts[0])
                if expires >= now:
                    self._seen[(parts[1], parts[2])] = expires
        self._compact()

    def _compact(self) -> None:
        tmp = self._path.with_name(self._path.name + ".tmp")
        # 0600 like the journal itself (node.peer depends on nothing but node.errors)
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            for (account, nonce), expires in self._seen.items():
                fh.write(f"{expires} {account} {nonce}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._path)
        self._lines = len(self._seen)

    def use(self, account: str, nonce: str, timestamp: int) -> None:
        # A request stays acceptable until timestamp + ttl; remember its nonce that long.
        expires = timestamp + self._ttl + 1
        key = (account, nonce)
        with self._lock:
            if key in self._seen:
                raise AuthReplayed("this request was already used (nonce replayed)")
            os.write(self._fd, f"{expires} {account} {nonce}\n".encode())
            self._seen[key] = expires
            self._lines += 1
            if self._lines > 10_000 and self._lines > 2 * len(self._seen):
                self._rotate()
            elif self._lines % 1_000 == 0:
                self.purge()

    def purge(self) -> int:
        now = time.time()
        expired = [k for k, e in self._seen.items() if e < now]
        for k in expired:
            del self._seen[k]
        return len(expired)

    def _rotate(self) -> None:
        self.purge()
        os.close(self._fd)
        self._compact()
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
