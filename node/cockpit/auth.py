"""Officials' accounts: Argon2id passwords, server-side sessions, CSRF tokens, a login limit.

The browser holds only a random session token in an HttpOnly, SameSite=Strict cookie; the
database holds its SHA-256, so a copy of the database opens no session. Each session has its
own CSRF token, which every state-changing request must echo in a header or form field.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from node.cockpit.errors import (
    CsrfRefused,
    InvalidUser,
    LoginFailed,
    LoginRateLimited,
    LoginRequired,
    UserExists,
)
from node.cockpit.models import CockpitSession, CockpitUser
from node.db import durable_session

ROLES = ("viewer", "analyst")
NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
# argon2-cffi's defaults are RFC 9106's second recommended option (Argon2id, 64 MiB, t=3)
_hasher = PasswordHasher()
# verifying against this when the user is unknown costs as much as a real check
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class LoggedIn:
    user: str
    role: str
    csrf: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Users:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, role: str, password: str) -> None:
        if not NAME.fullmatch(name):
            raise InvalidUser(f"user name {name!r}: use 1-64 letters, digits, '_', '.', '-'")
        if role not in ROLES:
            raise InvalidUser(f"role {role!r}: use {' or '.join(ROLES)}")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidUser(f"the password needs {MIN_PASSWORD}-{MAX_PASSWORD} characters")
        with durable_session(self.engine) as s:
            if s.get(CockpitUser, name) is not None:
                raise UserExists(f"user {name} exists already")
            s.add(
                CockpitUser(
                    name=name,
                    role=role,
                    password_hash=_hasher.hash(password),
                    created_at=time.time(),
                )
            )

    def check(self, name: str, password: str) -> str:
        """The user's role when the password is right; LoginFailed otherwise (the same
        message, and about the same time, for an unknown user and a wrong password)."""
        with Session(self.engine) as s:
            row = s.get(CockpitUser, name) if NAME.fullmatch(name) else None
            stored = row.password_hash if row is not None else _DUMMY
            role = row.role if row is not None else None
        try:
            _hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            role = None
        if role is None:
            raise LoginFailed("wrong user name or password")
        return role

    def names(self) -> list[tuple[str, str]]:
        with Session(self.engine) as s:
            return [
                (u.name, u.role) for u in s.scalars(select(CockpitUser).order_by(CockpitUser.name))
            ]


class Sessions:
    def __init__(self, engine: Engine, idle_seconds: float, max_seconds: float) -> None:
        self.engine = engine
        self.idle = idle_seconds
        self.max = max_seconds

    def open(self, user: str) -> tuple[str, str]:
        """A new session for ``user``: (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = time.time()
        with durable_session(self.engine) as s:
            s.add(
                CockpitSession(
                    token_hash=_token_hash(token),
                    user=user,
                    csrf=csrf,
                    created_at=now,
                    last_seen=now,
                )
            )
        return token, csrf

    def get(self, token: str | None, users: Users) -> LoggedIn:
        if not token or len(token) > 128:
            raise LoginRequired("log in first")
        now = time.time()
        ended = None
        with Session(self.engine) as s, s.begin():
            row = s.get(CockpitSession, _token_hash(token))
            if row is None:
                raise LoginRequired("your session has ended: log in again")
            user = s.get(CockpitUser, row.user)
            if now - row.last_seen > self.idle or now - row.created_at > self.max:
                ended = "your session has expired: log in again"
            elif user is None:
                ended = "your account no longer exists"
            else:
                if now - row.last_seen > 30:  # spares a write per request
                    row.last_seen = now
                return LoggedIn(user.name, user.role, row.csrf)
        self.close(token)  # its own transaction: the refusal below must not roll it back
        raise LoginRequired(ended)

    def close(self, token: str | None) -> None:
        if token:
            with durable_session(self.engine) as s:
                s.execute(
                    delete(CockpitSession).where(CockpitSession.token_hash == _token_hash(token))
                )

    def sweep(self) -> int:
        now = time.time()
        with Session(self.engine) as s, s.begin():
            gone = s.execute(
                delete(CockpitSession).where(
                    (CockpitSession.last_seen < now - self.idle)
                    | (CockpitSession.created_at < now - self.max)
                )
            )
            return gone.rowcount or 0


def check_csrf(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRefused("missing or wrong CSRF token: reload the page and try again")


class LoginLimiter:
    """At most ``limit`` failed logins per user name and per client address in ``window``
    seconds. Each attempt is counted as failed before its password is checked (Argon2 takes
    a moment, and concurrent attempts must not all pass the check first); a success takes
    its own count back."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def attempt(self, *keys: str) -> float:
        """Count one attempt against every key, or refuse it; the attempt's stamp."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.limit:
                    wait = int(q[0] + self.window - now) + 1
                    self._prune(now)
                    raise LoginRateLimited(
                        f"too many failed logins: try again in {wait} s",
                        detail={"retry_after": wait},
                    )
            for key in keys:
                self._fails[key].append(now)
            self._prune(now)
        return now

    def succeeded(self, stamp: float, *keys: str) -> None:
        with self._lock:
            for key in keys:
                q = self._fails.get(key)
                if q is not None and stamp in q:
                    q.remove(stamp)
                    if not q:
                        del self._fails[key]

    def _prune(self, now: float) -> None:
        # names tried once do not stay in memory for ever
        if len(self._fails) > 1000:
            for key in [k for k, q in self._fails.items() if not q or q[-1] < now - self.window]:
                del self._fails[key]
