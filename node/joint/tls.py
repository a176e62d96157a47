"""Mutually authenticated TLS between the parties of one joint run, pinned to the chain.

Each party makes a fresh P-256 key and a self-signed certificate for one run and announces
the certificate's SHA-256 on chain (``JointQuery.join``) from its registered account: the
chain binds the certificate to the party's registry entry. A party trusts exactly the
certificates whose fingerprints the run's participants announced, and checks the peer's
name (``party{pid}.{run}.joint.tanlian``) when it connects, so a node that is not an
announced participant of this run cannot complete a handshake with anyone.

Python's ``ssl`` loads keys from files only; the key is written encrypted under a random
password that lives in memory, loaded, and the file removed at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def party_name(run: str, pid: int) -> str:
    return f"party{pid}.{run.lower().removeprefix('0x')[:16]}.joint.tanlian"


@dataclass(frozen=True)
class Identity:
    cert_pem: str
    key_pem: str

    @property
    def fingerprint(self) -> bytes:
        return fingerprint(self.cert_pem)


def fingerprint(cert_pem: str) -> bytes:
    """SHA-256 of the certificate's DER encoding (what goes on chain)."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()


def make_identity(run: str, pid: int) -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    name = party_name(run, pid)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Identity(
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )


def _load_identity(context: ssl.SSLContext, identity: Identity) -> None:
    password = secrets.token_bytes(32)
    key = serialization.load_pem_private_key(identity.key_pem.encode(), None)
    sealed = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    with tempfile.TemporaryDirectory(prefix="tanlian-joint-") as tmp:
        cert_path = os.path.join(tmp, "cert.pem")
        key_path = os.path.join(tmp, "key.pem")
        for path, data in ((cert_path, identity.cert_pem.encode()), (key_path, sealed)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        context.load_cert_chain(cert_path, key_path, password=password)


def contexts(identity: Identity, trusted: list[str]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) contexts trusting exactly ``trusted`` (the announced certificates)."""
    cadata = "".join(trusted)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for ctx in (server, client):
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        _load_identity(ctx, identity)
        ctx.load_verify_locations(cadata=cadata)
        ctx.verify_mode = ssl.CERT_REQUIRED
    client.check_hostname = True
    return server, client
