"""Streaming authenticated encryption of datasets and sealing of data keys.

Datasets are encrypted with libsodium's secretstream (XChaCha20-Poly1305) in 1 MiB
chunks: each chunk is authenticated on its own, the last carries TAG_FINAL, so truncation,
reordering and any flipped byte are detected, and memory stays constant whatever the size.
Data keys are sealed (X25519 sealed box) to a recipient's public key.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox

from node.errors import TanlianError

CHUNK = 1024 * 1024
HEADER = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
ABYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
KEY_BYTES = sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES
SEALED_KEY_BYTES = KEY_BYTES + 48


class IntegrityError(TanlianError):
    """Ciphertext or plaintext does not match what was anchored, or fails authentication."""

    code = "integrity_error"
    http_status = 422


def new_data_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def seal_key(data_key: bytes, recipient: bytes) -> bytes:
    return SealedBox(PublicKey(recipient)).encrypt(data_key)


def open_key(sealed: bytes, private_key: PrivateKey) -> bytes:
    try:
        return SealedBox(private_key).decrypt(sealed)
    except nacl.exceptions.CryptoError:
        raise IntegrityError(
            "the released key cannot be opened with this node's encryption key "
            "(sealed to another key?)"
        ) from None


@dataclass(frozen=True)
class Digests:
    plaintext_sha256: bytes
    ciphertext_sha256: bytes
    plaintext_size: int
    ciphertext_size: int


class _HashingWriter:
    """Hashes and writes ciphertext on a second thread while the first one encrypts.

    libsodium (through cffi) and hashlib both release the GIL on large buffers, so the two
    halves run on two cores. The queue is bounded: memory stays constant.
    """

    def __init__(self, write: Callable[[bytes], object], depth: int = 2) -> None:
        self._write = write
        self.hash = hashlib.sha256()
        self.size = 0
        self._q: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._t = threading.Thread(target=self._run, name="hash-write", daemon=True)
        self._t.start()

    def _run(self) -> None:
        while (block := self._q.get()) is not None:
            if self._error is None:
                try:
                    self.hash.update(block)
                    self._write(block)
                    self.size += len(block)
                except BaseException as exc:  # re-raised in the producer
                    self._error = exc

    def put(self, block: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._q.put(block)

    def close(self) -> None:
        self._q.put(None)
        self._t.join()
        if self._error is not None:
            raise self._error


def encrypt_stream(
    chunks: Iterable[bytes], key: bytes, write: Callable[[bytes], object]
) -> Digests:
    """Encrypt plaintext ``chunks`` to ``write``, hashing both sides on the way."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    plain = _HashingWriter(lambda b: None)  # hashes the plaintext on its own thread
    out = _HashingWriter(write)
    try:
        out.put(header)
        pending = b""
        for piece in _rechunk(chunks):
            if pending:
                out.put(
                    sodium.crypto_secretstream_xchacha20poly1305_push(
                        state, pending, None, TAG_MESSAGE
                    )
                )
            pending = piece
            plain.put(piece)
        out.put(sodium.crypto_secretstream_xchacha20poly1305_push(state, pending, None, TAG_FINAL))
    finally:
        plain.close()
        out.close()
    return Digests(plain.hash.digest(), out.hash.digest(), plain.size, out.size)


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Fixed CHUNK-sized pieces from arbitrary ones, without re-copying the stream."""
    carry = b""
    for c in chunks:
        if carry:
            need = CHUNK - len(carry)
            carry += c[:need]
            c = c[need:]
            if len(carry) < CHUNK:
                continue
            yield carry
            carry = b""
        if len(c) == CHUNK:
            yield c  # the common case: reads of exactly one chunk, passed on uncopied
            continue
        view = memoryview(c)
        full = len(c) - len(c) % CHUNK
        for i in range(0, full, CHUNK):
            yield bytes(view[i : i + CHUNK])
        carry = bytes(view[full:])
    if carry:
        yield carry


def decrypt_stream(chunks: Iterable[bytes], key: bytes, write: Callable[[bytes], object]) -> bytes:
    """Decrypt a secretstream to ``write``; returns the plaintext SHA-256.

    Raises IntegrityError on any failed chunk, a missing final chunk or trailing data.
    """
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    buf = bytearray()
    it = iter(chunks)
    while len(buf) < HEADER:
        try:
            buf += next(it)
        except StopIteration:
            raise IntegrityError("ciphertext is truncated (no stream header)") from None
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, bytes(buf[:HEADER]), key)
    del buf[:HEADER]
    out = _HashingWriter(write)  # plaintext hashing and writing on a second thread
    finished = False
    frame = CHUNK + ABYTES
    exhausted = False
    try:
        while True:
            while len(buf) < frame and not exhausted:
                try:
                    buf += next(it)
                except StopIteration:
                    exhausted = True
            if not buf:
                break
            if finished:
                raise IntegrityError("ciphertext has data after its final chunk")
            piece = bytes(buf[:frame])
            del buf[:frame]
            try:
                plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, piece, None)
            except nacl.exceptions.CryptoError:
                raise IntegrityError(
                    "ciphertext failed authentication (tampered, wrong key)"
                ) from None
            out.put(plain)
            if tag == TAG_FINAL:
                finished = True
    finally:
        out.close()
    if not finished:
        raise IntegrityError("ciphertext is truncated (no final chunk)")
    return out.hash.digest()


def file_chunks(fh: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    while True:
        block = fh.read(size)
        if not block:
            return
        yield block
