"""A small client for node APIs that signs every request with the caller's account."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
from eth_keys import keys

from node.errors import TanlianError
from node.peer.signing import sign_request


class NodeApiError(TanlianError):
    """An error answered by a node, carrying the node's own stable code."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message, detail=detail)
        self.http_status = status
        self.code = code


class NodeUnreachable(TanlianError):
    code = "node_unreachable"
    http_status = 503


class NodeClient:
    """Talks to one node; learns the node's address (the signature audience) on first use."""

    def __init__(
        self,
        base_url: str,
        key: keys.PrivateKey | bytes | None = None,
        *,
        audience: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if isinstance(key, bytes):
            key = keys.PrivateKey(key)
        self._key = key
        self._audience = audience
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def audience(self) -> str:
        if self._audience is None:
            self._audience = self.health()["address"]
        return self._audience

    def health(self) -> dict[str, Any]:
        return self._send("GET", "/healthz", signed=False)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._send("POST", path, body=body)

    def post_unsigned(self, path: str, body: Any) -> Any:
        """A request that authenticates itself in its body (anonymous feedback's ring
        signature): an account signature would name the sender."""
        return self._send("POST", path, body=body, signed=False)

    def document(self, sha256: str) -> bytes:
        """The exact bytes of a quality document (the caller checks them by hash)."""
        return b"".join(self.stream("GET", f"/v1/documents/{sha256}", chunk=None))

    def stream(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        chunk: int | None = 1 << 16,
        body: Any = None,
    ) -> Iterator[bytes]:
        """A signed request (with an optional JSON ``body``) whose (large) response body is
        yielded in chunks (``chunk`` None: each piece as it arrives)."""
        url, content, headers = self._prepare(method, path, params, body, signed=True)
        try:
            with self._http.stream(method, url, content=content, headers=headers) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise(response)
                yield from response.iter_bytes(chunk)
        except httpx.TransportError as exc:
            raise NodeUnreachable(f"transfer from {self.base_url} failed: {exc}") from exc

    @staticmethod
    def _raise(response: httpx.Response) -> None:
        try:
            err = response.json()
            code, message, detail = err["code"], err["message"], err.get("detail")
        except (ValueError, KeyError, TypeError):
            code, message, detail = (
                "http_error",
                f"{response.status_code}: {response.text[:200]}",
                None,
            )
        raise NodeApiError(response.status_code, code, message, detail)

    def _prepare(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, *, signed: bool
    ) -> tuple[str, bytes, dict[str, str]]:
        """The URL, the JSON body's bytes and the headers (signed over those bytes)."""
        query = urlencode(params or {}, doseq=True)
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"content-type": "application/json"} if body is not None else {}
        if signed:
            if self._key is None:
                raise TanlianError("this client has no key to sign requests with")
            headers.update(
                sign_request(self._key, method, urlsplit(path).path, query, content, self.audience)
            )
        return path + (f"?{query}" if query else ""), content, headers

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        signed: bool = True,
    ) -> Any:
        url, content, headers = self._prepare(method, path, params, body, signed=signed)
        try:
            response = self._http.request(method, url, content=content, headers=headers)
        except httpx.TransportError as exc:
            raise NodeUnreachable(f"node {self.base_url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            self._raise(response)
        return orjson.loads(response.content)  # audit reads carry 10^5 entries
