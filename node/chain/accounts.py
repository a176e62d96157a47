"""A secp256k1 key and its address: what signs transactions and requests.

eth-keys derives the address; eth-account would do the same, but importing it costs about
a second (its keyfile module loads py_ecc's BLS12-381), paid by every command and node
start for nothing else we use from it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from eth_keys import keys

#: secp256k1's group order: a private key is in [1, n)
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True, repr=False)
class KeyAccount:
    key: bytes
    #: EIP-55 checksummed
    address: str

    @classmethod
    def from_key(cls, key: bytes) -> KeyAccount:
        private = keys.PrivateKey(bytes(key))  # ValidationError unless 32 bytes in [1, n)
        return cls(private.to_bytes(), private.public_key.to_checksum_address())

    @classmethod
    def create(cls) -> KeyAccount:
        return cls.from_key((1 + secrets.randbelow(_N - 1)).to_bytes(32, "big"))

    def __repr__(self) -> str:  # never the key
        return f"KeyAccount({self.address})"
