"""Many stored ciphertexts in one response, for the regulator's hash check.

One signed request per version cost the provider a signature check, a nonce write and a
response each (10^3 versions: most of the check's time). ``POST /v1/audit/blobs`` answers a
list of versions with one stream of frames, in the order asked:

    status (1 byte: 0 the ciphertext, 1 an error) | size (8 bytes, big-endian) | payload

An error's payload is JSON ``{"code", "message"}``. The regulator hashes each ciphertext
itself as it streams by; nothing here is trusted beyond framing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import orjson

from node.errors import TanlianError

FOUND, ERROR = 0, 1
HEADER = 9
CHUNK = 1 << 20
#: versions per request (a provider streams them one after another)
MAX_VERSIONS = 1000


class FrameError(TanlianError):
    code = "bad_frames"
    http_status = 502


def error_frame(code: str, message: str) -> bytes:
    payload = orjson.dumps({"code": code, "message": message})
    return bytes((ERROR,)) + len(payload).to_bytes(8, "big") + payload


def file_frames(fh: BinaryIO, name: str) -> Iterator[bytes]:
    """One open ciphertext file as a frame, read in chunks."""
    size = os.fstat(fh.fileno()).st_size
    yield bytes((FOUND,)) + size.to_bytes(8, "big")
    left = size
    while left:
        block = fh.read(min(CHUNK, left))
        if not block:
            # a blob is never rewritten in place; if it shrank, stop rather than let the
            # next frame be read as this one's bytes
            raise OSError(f"{name} shrank while it was being sent")
        left -= len(block)
        yield block


class FrameReader:
    """Reads the frames of a ``POST /v1/audit/blobs`` response from its byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buf = b""
        self._pos = 0

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buf = self._buf[self._pos :] + chunk
                self._pos = 0
                return True
        return False

    def _take(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n:
            if not self._fill():
                raise FrameError("the provider's stream of ciphertexts ended early")
        out = self._buf[self._pos : self._pos + n]
        self._pos += n
        return out

    def header(self) -> tuple[bool, int]:
        """(is a ciphertext, payload size) of the next frame."""
        head = self._take(HEADER)
        if head[0] not in (FOUND, ERROR):
            raise FrameError(f"unknown frame status {head[0]}")
        return head[0] == FOUND, int.from_bytes(head[1:], "big")

    def pieces(self, size: int) -> Iterator[bytes]:
        """The next ``size`` bytes, as they arrive."""
        while size:
            if self._pos == len(self._buf) and not self._fill():
                raise FrameError("the provider's stream of ciphertexts ended early")
            piece = self._buf[self._pos : self._pos + size]
            self._pos += len(piece)
            size -= len(piece)
            yield piece

    def error(self, size: int) -> tuple[str, str]:
        """The (code, message) of an error frame's payload."""
        try:
            body = orjson.loads(self._take(size))
            return str(body["code"]), str(body["message"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise FrameError("an error frame without a code and message") from None

    def end(self) -> None:
        """The stream must hold nothing after the frames asked for."""
        if self._pos < len(self._buf) or self._fill():
            raise FrameError("the provider sent more frames than versions asked for")
