"""Streaming authenticated encryption of datasets and sealing of data keys.

Datasets are encrypted with libsodium's secretstream (XChaCha20-Poly1305) in 64 KiB
chunks: each chunk is authenticated on its own, the last carries TAG_FINAL, so truncation,
reordering and any flipped byte are detected, and memory stays constant whatever the size.
Data keys are sealed (X25519 sealed box) to a recipient's public key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox

from node.errors import TanlianError

CHUNK = 64 * 1024
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


def encrypt_stream(
    chunks: Iterable[bytes], key: bytes, write: Callable[[bytes], object]
) -> Digests:
    """Encrypt plaintext ``chunks`` to ``write``, hashing both sides on the way."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    plain_h, cipher_h = hashlib.sha256(), hashlib.sha256()
    plain_n = 0
    write(header)
    cipher_h.update(header)
    cipher_n = len(header)
    pending = b""
    for piece in _rechunk(chunks):
        if pending:
            ct = sodium.crypto_secretstream_xchacha20poly1305_push(
                state, pending, None, TAG_MESSAGE
            )
            write(ct)
            cipher_h.update(ct)
            cipher_n += len(ct)
        pending = piece
        plain_h.update(piece)
        plain_n += len(piece)
    ct = sodium.crypto_secretstream_xchacha20poly1305_push(state, pending, None, TAG_FINAL)
    write(ct)
    cipher_h.update(ct)
    cipher_n += len(ct)
    return Digests(plain_h.digest(), cipher_h.digest(), plain_n, cipher_n)


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    buf = bytearray()
    for c in chunks:
        buf += c
        while len(buf) >= CHUNK:
            yield bytes(buf[:CHUNK])
            del buf[:CHUNK]
    if buf:
        yield bytes(buf)


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
    plain_h = hashlib.sha256()
    finished = False
    frame = CHUNK + ABYTES
    exhausted = False
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
                "ciphertext failed authentication (tampered or wrong key)"
            ) from None
        plain_h.update(plain)
        write(plain)
        if tag == TAG_FINAL:
            finished = True
    if not finished:
        raise IntegrityError("ciphertext is truncated (no final chunk)")
    return plain_h.digest()


def file_chunks(fh: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    while True:
        block = fh.read(size)
        if not block:
            return
        yield block
