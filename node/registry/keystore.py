"""The department's encrypted keystore: its chain account and its X25519 encryption key.

Both secrets are sealed together with XSalsa20-Poly1305 (libsodium ``secretbox``) under a
key derived from the password by Argon2id; the parameters and salt are stored beside the
ciphertext, the public parts in clear. The file is written atomically with mode 0600. A
private key never touches disk unencrypted.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl.public import PrivateKey as X25519PrivateKey

from node.chain.accounts import KeyAccount
from node.errors import TanlianError

KEYSTORE_FILE = "keystore.json"
KEYSTORE_VERSION = 1
_KDF = nacl.pwhash.argon2id


class KeystoreError(TanlianError):
    code = "keystore_invalid"
    http_status = 500


class WrongPassword(KeystoreError):
    code = "keystore_wrong_password"
    http_status = 401


@dataclass(frozen=True)
class NodeKeys:
    """The unlocked secrets of one department."""

    account: KeyAccount
    encryption_key: X25519PrivateKey

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def encryption_public_key(self) -> bytes:
        return bytes(self.encryption_key.public_key)


def generate_keys() -> NodeKeys:
    return NodeKeys(KeyAccount.create(), X25519PrivateKey.generate())


def write_keystore(
    path: Path,
    keys: NodeKeys,
    password: str,
    *,
    opslimit: int = _KDF.OPSLIMIT_INTERACTIVE,
    memlimit: int = _KDF.MEMLIMIT_INTERACTIVE,
) -> None:
    """Seal ``keys`` under ``password`` into ``path`` (refuses to overwrite)."""
    if not password:
        raise KeystoreError("the keystore password must not be empty")
    if path.exists():
        raise KeystoreError(f"{path} exists; refusing to overwrite a keystore")
    salt = nacl.utils.random(_KDF.SALTBYTES)
    box_key = _KDF.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        password.encode(),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )
    secret = bytes(keys.account.key) + bytes(keys.encryption_key)
    sealed = nacl.secret.SecretBox(box_key).encrypt(secret)
    doc = {
        "version": KEYSTORE_VERSION,
        "address": keys.address,
        "encryption_public_key": "0x" + keys.encryption_public_key.hex(),
        "kdf": {"name": "argon2id", "opslimit": opslimit, "memlimit": memlimit, "salt": salt.hex()},
        "cipher": "xsalsa20-poly1305",
        "sealed": sealed.hex(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_public(path: Path) -> dict:
    """The keystore's public parts (address, encryption key) without a password."""
    doc = _load(path)
    return {"address": doc["address"], "encryption_public_key": doc["encryption_public_key"]}


def unlock(path: Path, password: str) -> NodeKeys:
    doc = _load(path)
    kdf = doc["kdf"]
    try:
        box_key = _KDF.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            password.encode(),
            bytes.fromhex(kdf["salt"]),
            opslimit=int(kdf["opslimit"]),
            memlimit=int(kdf["memlimit"]),
        )
        secret = nacl.secret.SecretBox(box_key).decrypt(bytes.fromhex(doc["sealed"]))
    except nacl.exceptions.CryptoError:
        raise WrongPassword(f"wrong password for keystore {path}") from None
    except (KeyError, ValueError) as exc:
        raise KeystoreError(f"keystore {path} is damaged: {exc}") from exc
    keys = NodeKeys(KeyAccount.from_key(secret[:32]), X25519PrivateKey(secret[32:64]))
    if keys.address != doc["address"]:
        raise KeystoreError(f"keystore {path} is damaged: address does not match its key")
    return keys


def _load(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeystoreError(f"no keystore at {path}; run `tanlian init` first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KeystoreError(f"keystore {path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("version") != KEYSTORE_VERSION:
        raise KeystoreError(f"keystore {path} has an unknown format")
    return doc


def resolve_password(
    *, password_file: Path | None = None, env: dict[str, str] | None = None
) -> str | None:
    """Password from a file or ``TANLIAN_PASSWORD``; None means: ask at the prompt."""
    if password_file is not None:
        try:
            return password_file.read_text().rstrip("\n")
        except OSError as exc:
            raise KeystoreError(f"cannot read password file {password_file}: {exc}") from exc
    env = os.environ if env is None else env
    return env.get("TANLIAN_PASSWORD")
