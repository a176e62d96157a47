"""Publishing, key release, download checks and pulling: the sharing flows.

Publish: canonicalize → encrypt into the blob store → metadata row → anchor on chain
(create the dataset if new, publish the version) → mark anchored. A crash anywhere leaves a
row 'stored' (or nothing); :func:`recover` anchors nothing twice: it adopts versions the
chain already has and removes the rest, except what a publish still running in another
process (the CLI's, while the node restarts) holds under its lease; and a publish anchors
its version only after checking, under that lease, that its blob and row are still there.

Release: the owner's node seals the data key to the consumer's registered X25519 key for
every authorized RAW request on its datasets, and again after the consumer rotates its key.

Pull: the consumer opens the released key, downloads the ciphertext with a signed request,
checks it against the anchored ciphertext hash, decrypts it and checks the plaintext hash,
and only then moves the file into place.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address
from pydantic import ValidationError

from node.chain.client import TxResult
from node.chain.errors import ContractReverted
from node.errors import InvalidInput, NotFound, TanlianError, describe_validation
from node.peer.client import NodeClient
from node.privacy.canonical import canonicalize
from node.privacy.crypto import IntegrityError, decrypt_stream, open_key, seal_key
from node.privacy.desensitize import Profile, desensitize_lines, profile_hash, pseudonym_key
from node.privacy.dp_queries import DatasetMeta
from node.privacy.models import StoredVersion
from node.privacy.store import BlobStore, VersionStore, read_plaintext
from node.quality.catalog import CatalogEntry, describe
from node.quality.documents import DocumentStore
from node.quality.ledger import QualityLedger, Validation
from node.registry.keystore import NodeKeys
from node.registry.registry import Registry
from node.sharing.contracts import (
    ZERO_HASH,
    Lineage,
    Mode,
    Policy,
    RequestInfo,
    Sharing,
    State,
)
from node.sharing.prepublish import check_publish

if TYPE_CHECKING:
    from node.quality.tabular import TableSchema

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


class GrantError(TanlianError):
    code = "grant_refused"
    http_status = 403


class GrantNotYours(GrantError):
    code = "grant_not_yours"


class GrantMismatch(GrantError):
    code = "grant_mismatch"


class GrantNotUsable(GrantError):
    code = "grant_not_usable"


class PublishInterrupted(TanlianError):
    """The blob of a publish in progress was removed before its version was anchored."""

    code = "publish_interrupted"
    http_status = 409


@dataclass(frozen=True)
class Published:
    dataset_id: bytes
    version: int
    plaintext_hash: bytes
    ciphertext_hash: bytes
    schema_hash: bytes
    plaintext_size: int
    created_tx: str | None
    publish_tx: str
    #: what the file was saved in (the stored canonical form is UTF-8)
    source_encoding: str = "utf-8"

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset_id": "0x" + self.dataset_id.hex(),
            "version": self.version,
            "plaintext_sha256": "0x" + self.plaintext_hash.hex(),
            "ciphertext_sha256": "0x" + self.ciphertext_hash.hex(),
            "schema_hash": "0x" + self.schema_hash.hex(),
            "size": self.plaintext_size,
            "create_tx": self.created_tx,
            "publish_tx": self.publish_tx,
            "source_encoding": self.source_encoding,
        }


def publish(
    blobs: BlobStore,
    versions: VersionStore,
    sharing: Sharing,
    keys: NodeKeys,
    file: Path,
    *,
    name: str,
    classification: str | None = None,
    policy: Policy | None = None,
    fmt: str | None = None,
    progress: Progress | None = None,
    dp_metadata: dict[str, Any] | None = None,
    lineage: Lineage | None = None,
    new_version: bool = False,
    table_schema: TableSchema | None = None,
    accept_errors: bool = False,
    catalog: CatalogEntry | None = None,
) -> Published:
    """Publish ``file`` as a new dataset (``classification`` and ``policy``: defaults when
    None) or as the next version of dataset ``name``: of the same columns, or of others
    when ``new_version`` says so; policy options for an existing dataset must match its
    policy (change it with :meth:`Sharing.set_policy`). Every check runs before encrypting.

    With ``table_schema`` the file is validated first: a file with errors is refused with
    the report's first errors, unless ``accept_errors``; the schema's and the report's
    hashes and the error counts are anchored with the version, in its transaction.
    ``catalog`` (theme, metadata, review cycle) is anchored before the version."""
    meta_hash = ZERO_HASH
    if dp_metadata is not None:
        meta = validate_dp_metadata(dp_metadata)
        dp_metadata, meta_hash = meta.model_dump(), meta.digest()
    canonical = canonicalize(Path(file), fmt)
    chunks = canonical.chunks
    if progress is not None:
        total = Path(file).stat().st_size
        chunks = _counting(chunks, total, progress)
    plan = check_publish(
        sharing,
        keys.address,
        name=name,
        schema_hash=canonical.schema_hash,
        classification=classification,
        policy=policy,
        new_version=new_version,
        lineage=lineage,
    )
    dataset_id, existing, policy = plan.dataset_id, plan.existing, plan.policy
    report = None
    if table_schema is not None:
        if canonical.format != "csv":
            raise InvalidInput(
                f"a declared Table Schema applies to CSV files, not {canonical.format}"
            )
        from node.quality.tabular import TableRefused, validate_table  # pandas: only here

        report = validate_table(Path(file), table_schema)
        if not report.valid and not accept_errors:
            raise TableRefused(report)
    # leased until anchored: a node restarting meanwhile leaves this blob and its row alone
    written = blobs.write_encrypted(chunks, keys.encryption_public_key, hold=True)
    assert written.lease is not None
    with written.lease as lease:
        d = written.digests
        row = versions.add(
            name=name,
            dataset_id="0x" + dataset_id.hex(),
            version=None,
            format=canonical.format,
            plaintext_hash="0x" + d.plaintext_sha256.hex(),
            ciphertext_hash="0x" + d.ciphertext_sha256.hex(),
            schema_hash="0x" + canonical.schema_hash.hex(),
            plaintext_size=d.plaintext_size,
            ciphertext_size=d.ciphertext_size,
            sealed_data_key=written.sealed_data_key,
            dp_metadata=dp_metadata,
            source_encoding=canonical.encoding,
        )
        docs = DocumentStore(versions.engine)
        validation = None
        if report is not None and table_schema is not None:
            # documents first: an anchored hash always has its document at this node
            validation = Validation(
                docs.put_json("table-schema", table_schema.descriptor),
                docs.put_json("validation-report", report.as_dict()),
                report.error_count,
                report.kinds_text(),
            )
        created = None
        if existing is None:
            assert policy is not None
            created = sharing.create_dataset(name, classification or "internal", policy).tx_hash
        if catalog is not None:
            describe(QualityLedger(sharing), docs, dataset_id, catalog)
        anchor_args = (
            dataset_id,
            d.plaintext_sha256,
            d.ciphertext_sha256,
            canonical.schema_hash,
            d.plaintext_size,
        )
        # never a version on chain whose ciphertext is gone: checked under the lease
        if not lease.intact() or versions.state_of(row) != "stored":
            versions.drop(row)
            raise PublishInterrupted(
                f"the stored blob of {name!r} was removed before it was anchored (by a node "
                "that does not honour publish leases, or by hand); nothing was anchored: "
                "publish it again"
            )
        if validation is not None:
            assert lineage is None
            result = QualityLedger(sharing).publish_validated_version(
                *anchor_args, meta_hash, validation
            )
        elif lineage is None:
            result = sharing.publish_version(*anchor_args, meta_hash)
        else:
            result = sharing.publish_derived_version(*anchor_args, lineage, meta_hash)
        version = result.event("VersionPublished").args["version"]
        versions.mark_anchored(row, "0x" + dataset_id.hex(), version, result.tx_hash)
    return Published(
        dataset_id,
        version,
        d.plaintext_sha256,
        d.ciphertext_sha256,
        canonical.schema_hash,
        d.plaintext_size,
        created,
        result.tx_hash,
        canonical.encoding,
    )


def derive_desensitized(
    blobs: BlobStore,
    versions: VersionStore,
    sharing: Sharing,
    keys: NodeKeys,
    *,
    source: str,
    profile: Profile,
    name: str,
    work_dir: Path,
    source_version: int | None = None,
    classification: str | None = None,
    policy: Policy | None = None,
    new_version: bool = False,
) -> tuple[Published, dict[str, Any]]:
    """Apply ``profile`` to one of this node's own CSV datasets and publish the result as a
    version of dataset ``name``, anchored with its lineage (source version, profile hash,
    k-anonymity). Refused under the profile's ``min_k``; nothing is published then.

    Pseudonyms are keyed by the owner's account key and the *source* dataset's name, so an
    identifier gets the same pseudonym in every release of that dataset.
    """
    if name == source:
        raise InvalidInput("give the desensitized release a name of its own (not the source's)")
    source_id = "0x" + sharing.dataset_id(keys.address, source).hex()
    rows = versions.anchored(source_id)
    if source_version is not None:
        rows = [r for r in rows if r.version == source_version]
    if not rows:
        which = f"version {source_version} of " if source_version else ""
        raise NotFound(f"this node stores no anchored {which}dataset {source!r}")
    row = rows[-1]
    if row.format != "csv":
        raise InvalidInput(f"{source!r} is {row.format}; desensitization profiles apply to CSV")
    text = read_plaintext(blobs, row, keys.encryption_key).decode("utf-8")
    work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        out = Path(tmp) / f"{name.replace('/', '_')}.csv"
        report = desensitize_lines(
            profile,
            io.StringIO(text, newline=""),
            source,
            out,
            pseudonym_key(keys.account.key, source),
        )
        del text
        lineage = Lineage(
            bytes.fromhex(source_id[2:]),
            row.version,
            profile_hash(profile),
            report["k_anonymity"] if profile.quasi_identifiers else 0,
        )
        published = publish(
            blobs,
            versions,
            sharing,
            keys,
            out,
            name=name,
            classification=classification,
            policy=policy,
            fmt="csv",
            lineage=lineage,
            new_version=new_version,
        )
    return published, {**report, "lineage": lineage.as_dict()}


def publish_as(session: Any, file: Path, **options: Any) -> Published:
    """:func:`publish` with a department session's store, catalog and keys
    (``node.runtime.NodeSession``)."""
    return publish(
        session.blobs, session.versions, session.require_sharing(), session.keys, file, **options
    )


def validate_dp_metadata(data: dict[str, Any]) -> DatasetMeta:
    try:
        return DatasetMeta.model_validate(data)
    except ValidationError as exc:
        problems = describe_validation(exc, "metadata")
        raise InvalidInput(f"invalid DP metadata: {problems}") from None


def _counting(chunks, total: int, progress: Progress):
    done = 0
    for c in chunks:
        done += len(c)
        progress(min(done, total), total)
        yield c


def _anchored_as(sharing: Sharing, row: StoredVersion, after: int = 0) -> tuple[int | None, int]:
    """The version number under which the chain anchored a stored row's blob (None if no
    version after ``after`` did), and the dataset's number of versions."""
    dataset_id = bytes.fromhex(row.dataset_id[2:])
    ds = sharing.dataset(dataset_id)
    if ds is None:
        return None, 0
    for v in range(ds["versions"], after, -1):
        if "0x" + sharing.version(dataset_id, v)["ciphertext_hash"].hex() == row.ciphertext_hash:
            return v, ds["versions"]
    return None, ds["versions"]


def adopt_anchored(
    versions: VersionStore, sharing: Sharing, checked: dict[int, int] | None = None
) -> int:
    """Mark anchored the stored rows whose version the chain has: a publish that died
    between its anchoring transaction and its store update (a killed `tanlian dataset
    publish`). The running node calls this on every sync, so that it serves such a version
    without a restart; it drops nothing, since a publish may still be running.
    ``checked`` (row id -> versions already compared) spares reading a version twice."""
    checked = {} if checked is None else checked
    adopted = 0
    for row in versions.unanchored():
        found, count = _anchored_as(sharing, row, checked.get(row.id, 0))
        checked[row.id] = count
        if found is not None:
            versions.mark_anchored(row.id, row.dataset_id, found, "recovered")
            checked.pop(row.id)
            adopted += 1
    return adopted


def recover(blobs: BlobStore, versions: VersionStore, sharing: Sharing | None) -> dict[str, int]:
    """After a crash: adopt versions the chain has, drop the rest, clean the blob store;
    what a publish still running in another process holds (its lease) is left to it."""
    adopted = adopt_anchored(versions, sharing) if sharing is not None else 0
    dropped = in_progress = 0
    for row in versions.unanchored():
        if blobs.leased(bytes.fromhex(row.ciphertext_hash[2:])):
            in_progress += 1
            continue
        versions.drop(row.id)
        dropped += 1
    removed = blobs.cleanup(versions.all_blob_names())
    return {
        "adopted": adopted,
        "dropped": dropped,
        "publishing": in_progress,
        "files_removed": removed,
    }


def check_grant(
    sharing: Sharing,
    request_id: int,
    caller: str,
    me: str,
    mode: Mode,
    target: tuple[bytes, int] | None = None,
) -> RequestInfo:
    """The usable ``mode`` grant of ``caller`` on a dataset of this node (``me``) — on the
    ``target`` (dataset id, version) when given — or a GrantError saying why not: one check
    for raw downloads and DP queries alike."""
    try:
        req = sharing.request(request_id)
    except TanlianError:
        raise NotFound(f"no access request {request_id}") from None
    if req.consumer != caller:
        raise GrantNotYours(f"request {request_id} belongs to another consumer")
    if req.owner != me:
        raise GrantMismatch(f"request {request_id} is for a dataset of another node")
    if target is not None and (req.dataset_id, req.version) != target:
        raise GrantMismatch(f"request {request_id} is for another dataset version")
    if req.mode != mode:
        use = "no raw download" if mode == Mode.RAW else "no DP queries on it"
        raise GrantMismatch(f"request {request_id} is a {req.mode.name} grant: {use}")
    if not sharing.is_usable(request_id):
        raise GrantNotUsable(
            f"request {request_id} is {req.state.label} and not usable now "
            "(revoked, expired, not released, or a party is not active)"
        )
    return req


def check_download(
    sharing: Sharing, request_id: int, caller: str, dataset_id: bytes, version: int, me: str
) -> RequestInfo:
    """The grant behind a download, or a GrantError saying why not."""
    return check_grant(sharing, request_id, caller, me, Mode.RAW, (dataset_id, version))


# Reverts of AccessManager.release that no later attempt can get past.
_NEVER_RELEASABLE = frozenset(
    {"Expired", "WrongState", "NotRaw", "InvalidWrappedKey", "UnknownRequest"}
)


class Releaser:
    """Releases data keys for this owner's authorized RAW requests (run after each sync).

    Each release is tried with eth_call first: one that would revert is not sent (it would
    be mined anyway, reverted, and tried again after the next sync). What can never succeed
    (an expired, revoked or unknown grant) is dropped; the rest is checked again, by call
    only, on the next run.
    """

    def __init__(
        self, sharing: Sharing, registry: Registry, versions: VersionStore, keys: NodeKeys
    ) -> None:
        self.sharing = sharing
        self.registry = registry
        self.versions = versions
        self.keys = keys
        #: Requests whose release failed; tried again on the next run.
        self.retry: set[int] = set()

    def run(self, candidate_ids: list[int]) -> list[tuple[int, TxResult]]:
        """Release what is due among ``candidate_ids``: (request id, release transaction)."""
        released: list[tuple[int, TxResult]] = []
        now: int | None = None
        for rid in candidate_ids:
            try:
                req = self.sharing.request(rid)
            except TanlianError:
                continue
            if (
                req.owner != self.keys.address
                or req.mode != Mode.RAW
                or req.state not in (State.AUTHORIZED, State.RELEASED)
            ):
                self.retry.discard(rid)
                continue
            if now is None:
                now = self.sharing.client.backend.get_block("latest").timestamp
            if req.expires_at <= now + 1:  # the next block is later still
                logger.info(
                    "request %s expired at %s: its key is not released", rid, req.expires_at
                )
                self.retry.discard(rid)
                continue
            consumer_key = self.registry.client.call(
                self.registry.contract, "encryptionKeyOf", req.consumer
            )
            if req.state == State.RELEASED:
                _, sealed_for = self.sharing.wrapped_key(rid)
                if sealed_for == consumer_key:
                    continue  # released to the consumer's current key already
            row = self.versions.find("0x" + req.dataset_id.hex(), req.version)
            if row is None:
                logger.warning("request %s: version not in this node's store", rid)
                continue
            data_key = open_key(row.sealed_data_key, self.keys.encryption_key)
            sealed = seal_key(data_key, consumer_key)
            try:
                self.sharing.client.call(self.sharing.access, "release", rid, sealed, consumer_key)
            except ContractReverted as exc:
                if exc.error in _NEVER_RELEASABLE:
                    logger.info("request %s cannot be released (%s); dropped", rid, exc.error)
                    self.retry.discard(rid)
                else:
                    logger.warning("release of request %s would revert (%s)", rid, exc.error)
                    self.retry.add(rid)
                continue
            except TanlianError as exc:
                logger.warning("release of request %s not checked (will retry): %s", rid, exc)
                self.retry.add(rid)
                continue
            try:
                tx = self.sharing.release(rid, sealed, consumer_key)
            except TanlianError as exc:
                logger.warning("release of request %s failed (will retry): %s", rid, exc)
                self.retry.add(rid)
                continue
            self.retry.discard(rid)
            released.append((rid, tx))
        return released


def prefetch(
    blocks: Iterable[bytes], depth: int = 3, on_block: Callable[[bytes], object] | None = None
) -> Iterator[bytes]:
    """Read ``blocks`` (and run ``on_block`` on each) on a second thread, so that receiving
    and hashing overlap decrypting."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def run() -> None:
        try:
            for b in blocks:
                if on_block is not None:
                    on_block(b)
                q.put(b)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)
        q.put(done)

    t = threading.Thread(target=run, name="prefetch", daemon=True)
    t.start()
    while (item := q.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item
    t.join()


def known_request(sharing: Sharing, request_id: int) -> RequestInfo:
    """The request as the chain holds it; an id the chain never gave is :class:`NotFound`."""
    try:
        return sharing.request(request_id)
    except ContractReverted as exc:
        if exc.error == "UnknownRequest":
            raise NotFound(f"no access request {request_id}") from None
        raise


def pull(
    sharing: Sharing,
    registry: Registry,
    keys: NodeKeys,
    request_id: int,
    out: Path,
    progress: Progress | None = None,
    wait: float = 0,
) -> dict[str, Any]:
    """Download, verify and decrypt a released RAW grant into ``out``; an authorized grant
    whose key the owner's node has not released yet is waited for up to ``wait`` seconds."""
    out = Path(out)
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder: name the file to write, e.g. {out / 'data.csv'}")
    req = known_request(sharing, request_id)
    if req.consumer != keys.address:
        raise GrantNotYours(f"request {request_id} belongs to {req.consumer}, not to you")
    if req.mode != Mode.RAW:
        raise GrantMismatch(f"request {request_id} is a DP grant: use tanlian query")
    deadline = time.monotonic() + wait
    while req.state == State.AUTHORIZED and time.monotonic() < deadline:
        time.sleep(0.5)  # the owner's node releases at its next index sync
        req = sharing.request(request_id)
    if req.state != State.RELEASED:
        raise GrantNotUsable(f"request {request_id} is {req.state.label}; no key released")
    sealed, sealed_for = sharing.wrapped_key(request_id)
    if sealed_for != keys.encryption_public_key:
        raise GrantNotUsable(
            f"request {request_id}'s key was released to an older encryption key; "
            "the owner's node re-releases it to your current key"
        )
    data_key = open_key(sealed, keys.encryption_key)
    anchored = sharing.version(req.dataset_id, req.version)
    owner = registry.member(req.owner)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    path = f"/v1/datasets/0x{req.dataset_id.hex()}/versions/{req.version}/blob"
    cipher_h = hashlib.sha256()
    received = 0

    def download(node: NodeClient):
        nonlocal received
        blocks = node.stream("GET", path, params={"request": request_id}, chunk=1 << 20)
        for block in prefetch(blocks, on_block=cipher_h.update):
            received += len(block)
            if progress:
                progress(received, anchored["size"])
            yield block

    # One pass: download, hash and decrypt into a file with no name; it gets one (and becomes
    # OUT) only after both hashes match what the owner anchored on chain, so a kill at any
    # point before leaves no unverified plaintext in OUT's folder.
    with _PlainFile(out) as dst, NodeClient(owner.endpoint, keys.account.key) as node:
        plain_hash = decrypt_stream(download(node), data_key, dst.write)
        if cipher_h.digest() != anchored["ciphertext_hash"]:
            raise IntegrityError("downloaded ciphertext does not match the anchored hash")
        if plain_hash != anchored["plaintext_hash"]:
            raise IntegrityError("decrypted data does not match the anchored plaintext hash")
        dst.commit()
    return {
        "request": request_id,
        "dataset_id": "0x" + req.dataset_id.hex(),
        "version": req.version,
        "owner": to_checksum_address(req.owner),
        "file": str(out),
        "size": out.stat().st_size,
        "plaintext_sha256": "0x" + plain_hash.hex(),
        "verified": True,
    }


#: Prefix of the named temporary files a pull writes where O_TMPFILE is not supported.
PULL_TMP_PREFIX = ".tanlian-"


class _PlainFile:
    """Where a pull decrypts to: an anonymous O_TMPFILE in OUT's folder (Linux, on file
    systems that support it), linked into place by :meth:`commit` only; a kill before
    leaves nothing behind, since the kernel frees a file that has no name.

    Elsewhere (the fallback) a named ``.tanlian-*`` file, which a SIGKILL leaves: every
    pull into that folder first removes such files that no running pull holds (each holds
    an exclusive lock on its own)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.dir = out.parent
        self.name: str | None = None
        self.fd = -1
        self._committed = False

    def __enter__(self) -> _PlainFile:
        removed = clean_stale_pulls(self.dir)
        if removed:
            logger.warning(
                "removed %d temporary file(s) killed pulls left in %s", removed, self.dir
            )
        try:
            self.fd = os.open(self.dir, os.O_TMPFILE | os.O_WRONLY, 0o600)
        except (AttributeError, OSError):  # no O_TMPFILE here: a named file
            logger.info("O_TMPFILE unsupported in %s: pulling through a named file", self.dir)
            self.fd, self.name = tempfile.mkstemp(prefix=PULL_TMP_PREFIX, dir=self.dir)
        # held until closed: the next pull's clean-up leaves this file alone
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return self

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def commit(self) -> None:
        """Make the verified file OUT (durably)."""
        os.fsync(self.fd)
        if self.name is None:
            dir_fd = os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                # a name for the anonymous file, then the rename over OUT; a kill between
                # the two leaves a verified .tanlian-* copy, removed by the next pull
                name = f"{PULL_TMP_PREFIX}{os.urandom(6).hex()}"
                os.link(f"/proc/self/fd/{self.fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
                self.name = str(self.dir / name)
                os.replace(self.name, self.out)
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        else:
            os.replace(self.name, self.out)
        self._committed = True

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
        if self.name is not None and not self._committed:
            Path(self.name).unlink(missing_ok=True)


def clean_stale_pulls(folder: Path) -> int:
    """Remove the ``.tanlian-*`` files killed pulls left in ``folder`` (not those a running
    pull holds locked); how many."""
    removed = 0
    for p in Path(folder).glob(PULL_TMP_PREFIX + "*"):
        try:
            fd = os.open(p, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a running pull's
        finally:
            os.close(fd)
        p.unlink(missing_ok=True)
        removed += 1
    return removed
