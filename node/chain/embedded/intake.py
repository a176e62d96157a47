"""Request intake of the chain host: bound a request's body before anything parses it.

A JSON body nested 10^5 levels deep crashes a decoder that recurses (the eth libraries
raise Python's recursion limit, so the C decoder's own guard no longer holds). Every
request to the host is read here first, up to a size limit, and its nesting is measured by
a scan of the bytes before any parser sees it; only then does the route run.
"""

from __future__ import annotations

import asyncio
import re
from itertools import accumulate
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Largest request body the host reads (a signed transaction is at most 128 KiB in geth).
MAX_BODY_BYTES = 1 << 20
#: Deepest nesting of arrays and objects in a request (a batch of eth_getLogs filters
#: with topic lists is 6 deep).
MAX_JSON_DEPTH = 32
#: A client gets this long to send its whole body.
BODY_READ_SECONDS = 30.0

# JSON-RPC error codes for refused requests (EIP-1474's "limit exceeded", JSON-RPC 2.0's
# "invalid request").
LIMIT_EXCEEDED = -32005
INVALID_REQUEST = -32600

# a string to its closing quote, or to the end of the body when it has none (so that no
# input makes the scan backtrack)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class BodyRefused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``, brackets inside JSON strings
    not counted; linear in the size and never recursive."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(_STEP[b] for b in brackets)))


def parse_json(body: bytes) -> Any:
    """Parse a body the intake let through: strict JSON (no NaN or Infinity, numbers
    beyond a double refused), by a decoder that does not recurse in Python."""
    return orjson.loads(body)


class BoundedBody:
    """ASGI middleware: every request's body is read up to ``max_body_bytes`` (413 past
    it, 408 if it takes longer than ``read_seconds``) and its nesting measured (400 past
    ``max_depth``) before the app sees it. Refusals are JSON: a JSON-RPC error on the
    JSON-RPC route ``/``, the host's ``{"code", "message"}`` shape on the others."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_depth: int = MAX_JSON_DEPTH,
        read_seconds: float = BODY_READ_SECONDS,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth
        self.read_seconds = read_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
            # a large body is scanned off the event loop (about 50 ms a MiB)
            depth = (
                await asyncio.to_thread(nesting_depth, body)
                if len(body) > 65_536
                else nesting_depth(body)
            )
            if depth > self.max_depth:
                raise BodyRefused(
                    400, INVALID_REQUEST, f"JSON nested deeper than {self.max_depth} levels"
                )
        except BodyRefused as refused:
            await _refuse(scope, send, refused)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # http.disconnect, once the response is sent

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        too_large = BodyRefused(
            413, LIMIT_EXCEEDED, f"request body larger than {self.max_body_bytes} bytes"
        )
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body_bytes:
                        raise too_large
                except ValueError:
                    raise BodyRefused(400, INVALID_REQUEST, "bad Content-Length") from None
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.read_seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        break
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise too_large
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise BodyRefused(
                408, LIMIT_EXCEEDED, f"request body not received in {self.read_seconds:g} s"
            ) from None
        return b"".join(chunks)


async def _refuse(scope: Scope, send: Send, refused: BodyRefused) -> None:
    if scope.get("path", "/") == "/":
        payload: dict[str, Any] = {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": refused.code, "message": refused.message},
        }
    else:
        code = "body_too_large" if refused.status == 413 else "invalid_input"
        payload = {"code": code, "message": refused.message, "detail": None}
    body = orjson.dumps(payload)
    await send(
        {
            "type": "http.response.start",
            "status": refused.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
