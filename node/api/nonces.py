"""Seen request nonces, kept in SQL so that a replay fails even across a node restart."""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, Engine, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from node.api.signing import AuthReplayed
from node.db import Base


class RequestNonce(Base):
    __tablename__ = "request_nonce"

    account: Mapped[str] = mapped_column(String(42), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)


class NonceStore:
    """Accepts each (account, nonce) once while its timestamp could still be fresh."""

    def __init__(self, engine: Engine, ttl_seconds: int) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._inserts = 0
        self._table = RequestNonce.__table__

    def use(self, account: str, nonce: str, timestamp: int) -> None:
        # A request stays acceptable until timestamp + ttl; remember its nonce that long.
        expires = timestamp + self._ttl + 1
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    self._table.insert(),
                    {"account": account, "nonce": nonce, "expires_at": expires},
                )
        except IntegrityError:
            raise AuthReplayed("this request was already used (nonce replayed)") from None
        self._inserts += 1
        if self._inserts % 1000 == 0:
            self.purge()

    def purge(self) -> int:
        with self._engine.begin() as conn:
            result = conn.execute(delete(RequestNonce).where(RequestNonce.expires_at < time.time()))
            return result.rowcount or 0
