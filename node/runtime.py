"""A running department node's parts, wired from its settings and unlocked keys."""

from __future__ import annotations

import logging
import threading
import time

from node.audit.contracts import AUDIT, AuditAnchors
from node.audit.log import AccessLog
from node.chain.backend import backend_from_settings
from node.chain.client import ChainClient
from node.chain.indexer.indexer import EventIndexer
from node.commitments.contracts import VALUE_COMMITMENTS, CommitmentLedger
from node.db import create_schema, make_engine
from node.errors import TanlianError
from node.home import make_private
from node.joint.contracts import JOINT_QUERY
from node.peer.nonces import JOURNAL_FILE, NonceStore
from node.privacy.downloads import DownloadLogStore
from node.privacy.store import BlobStore, VersionStore
from node.quality.documents import DocumentStore
from node.quality.feedback import ring_public
from node.quality.ledger import QualityLedger
from node.registry.directory import MemberDirectory
from node.registry.keystore import NodeKeys
from node.registry.registry import ARTIFACT as REGISTRY_ARTIFACT
from node.registry.registry import Registry
from node.settings import CONFIG_FILE, ContractSettings, NodeSettings, load_settings
from node.sharing.contracts import ACCESS, CATALOG, Sharing
from node.sharing.download import close_interrupted
from node.sharing.service import Releaser, adopt_anchored, recover
from node.sharing.spends import SpendJournal

logger = logging.getLogger(__name__)


class NodeRuntime:
    """Chain client, event index, member directory and nonce store of one node."""

    def __init__(self, settings: NodeSettings, keys: NodeKeys) -> None:
        self.settings = settings
        self.keys = keys
        make_private(settings.home)
        self.backend = backend_from_settings(settings)
        self.client = ChainClient(self.backend, keys.account)
        self.engine = make_engine(settings.db_url)
        self.indexer = EventIndexer(self.backend, self.engine)
        self.nonces = NonceStore(settings.home / JOURNAL_FILE, settings.api.max_clock_skew_seconds)
        self.registry: Registry | None = None
        self.directory: MemberDirectory | None = None
        self.blobs = BlobStore(settings.home / "blobs", fsync=settings.store.fsync)
        self.versions = VersionStore(self.engine)
        self.sharing: Sharing | None = None
        self.releaser: Releaser | None = None
        self.access_log = AccessLog(self.engine)
        self.downloads = DownloadLogStore(self.engine)
        #: DP answers recorded before their spend (the gate's); reconciled at every sync
        self.spends = SpendJournal(self.engine, self.access_log)
        self.anchors: AuditAnchors | None = None
        self.commitments: CommitmentLedger | None = None
        self._joint_watched = False
        self._wire_contracts(settings.contracts)
        #: why node.toml as edited since the start is not in force (None: it is)
        self.settings_error: str | None = None
        self._settings_mtime = self._config_mtime()
        self._last_anchor = time.monotonic()
        self._release_cursor = -1
        self._request_owner: dict[int, bool] = {}  # request id -> a grant on our dataset
        self._adopt: dict[int, int] = {}  # stored row -> chain versions compared with it
        self._block_times: dict[int, int] = {}
        self._last_review_check = 0.0
        self._feedback_key_set = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_sync_error: str | None = None

    @property
    def address(self) -> str:
        return self.keys.address

    def _wire_contracts(self, contracts: ContractSettings) -> None:
        """Watch and use the network's contracts this node does not use yet."""
        if contracts.registry and self.registry is None:
            self.indexer.watch(contracts.registry, REGISTRY_ARTIFACT)
            self.registry = Registry(self.client, contracts.registry)
            self.directory = MemberDirectory(self.indexer, self.registry.address)
        if contracts.catalog and contracts.access and self.sharing is None:
            self.indexer.watch(contracts.catalog, CATALOG)
            self.indexer.watch(contracts.access, ACCESS)
            self.sharing = Sharing(self.client, contracts.catalog, contracts.access)
        if self.releaser is None and self.sharing is not None and self.registry is not None:
            self.releaser = Releaser(self.sharing, self.registry, self.versions, self.keys)
        if contracts.audit and self.anchors is None:
            self.indexer.watch(contracts.audit, AUDIT)
            self.anchors = AuditAnchors(self.client, contracts.audit)
        if contracts.commitments and self.commitments is None:
            self.indexer.watch(contracts.commitments, VALUE_COMMITMENTS)
            self.commitments = CommitmentLedger(self.client, contracts.commitments)
        if contracts.joint and not self._joint_watched:
            # indexed like every network contract: the audit compares whole indexes
            self.indexer.watch(contracts.joint, JOINT_QUERY)
            self._joint_watched = True

    def _config_mtime(self) -> int | None:
        try:
            return (self.settings.home / CONFIG_FILE).stat().st_mtime_ns
        except OSError:
            return None

    def reload_settings(self) -> None:
        """Apply node.toml as edited while the node runs: contracts it did not name before
        are taken up at once (a node configured by hand starts releasing keys); any other
        change is not in force until a restart, which ``settings_error`` and /healthz say."""
        mtime = self._config_mtime()
        if mtime == self._settings_mtime:
            return
        self._settings_mtime = mtime
        try:
            fresh = load_settings(self.settings.home)
        except TanlianError as exc:
            self.settings_error = f"node.toml as edited is not in force: {exc}"
            logger.error("%s", self.settings_error)
            return
        before = self.settings.contracts
        added = {
            field: value
            for field, value in fresh.contracts.model_dump().items()
            if value and getattr(before, field) is None
        }
        if added:
            self._wire_contracts(fresh.contracts)
            self.settings = self.settings.model_copy(
                update={"contracts": before.model_copy(update=added)}
            )
            logger.info("node.toml: now using %s", ", ".join(sorted(added)))
        changed = sorted(
            key
            for key, value in fresh.model_dump().items()
            if value != self.settings.model_dump()[key]
        )
        self.settings_error = (
            f"node.toml changed ({', '.join(changed)}) since the node started: "
            "restart it (tanlian node serve) to apply the change"
            if changed
            else None
        )
        if changed:
            logger.error("%s", self.settings_error)

    def sync(self) -> None:
        self.reload_settings()
        self.indexer.sync()
        if self.directory is not None:
            self.directory.refresh()
        if self.sharing is not None and adopt_anchored(self.versions, self.sharing, self._adopt):
            logger.info("adopted versions a killed publish anchored on chain")
        if self.sharing is not None:
            # answers whose spend a killed node sent: archived and logged, or abandoned
            self.spends.reconcile(self.indexer, self.sharing.access.address)
        if self.releaser is not None and self.sharing is not None:
            self._release_new()
        interval = self.settings.audit.anchor_interval_seconds
        if self.anchors is not None and time.monotonic() - self._last_anchor >= interval:
            self.anchor_log()
        if self.sharing is not None:
            self._quality_duties()

    def _quality_duties(self) -> None:
        """Register this department's feedback ring key (once), and run the reviews that
        are due on its datasets (every ``quality.review_check_seconds``)."""
        assert self.sharing is not None
        ledger = QualityLedger(self.sharing)
        if (
            not self._feedback_key_set
            and self.registry is not None
            and self.registry.member(self.address).status.label == "active"
        ):
            ours = ring_public(self.keys.account.key)
            if ledger.feedback_key(self.address) != ours:
                ledger.set_feedback_key(ours)
                logger.info("registered the feedback ring key")
            self._feedback_key_set = True
        every = self.settings.quality.review_check_seconds
        if time.monotonic() - self._last_review_check < every:
            return
        self._last_review_check = time.monotonic()
        from node.quality.review import review_due  # pandas and frictionless: only here

        review_due(
            ledger,
            DocumentStore(self.engine),
            self.blobs,
            self.versions,
            self.keys.encryption_key,
        )

    def anchor_log(self) -> list[int]:
        """Anchor the access log's unanchored entries now (also run on shutdown)."""
        self._last_anchor = time.monotonic()
        if self.anchors is None:
            return []
        return self.access_log.anchor(self.anchors, self.address)

    def recover(self) -> dict[str, int]:
        """Clean what a crash may have left in the blob store, and log the outcome of the
        downloads a stop cut off (run before serving)."""
        done = recover(self.blobs, self.versions, self.sharing)
        return {**done, "downloads_interrupted": close_interrupted(self.access_log, self.downloads)}

    def _release_new(self) -> None:
        """Release keys for requests authorized, or consumers re-keyed, since last time."""
        assert self.sharing is not None and self.releaser is not None
        cursor = self.indexer.cursor()
        if cursor <= self._release_cursor and not self.releaser.retry:
            return
        start = self._release_cursor + 1
        access = self.sharing.access.address
        ids = [
            e.args["requestId"]
            for e in self.indexer.events(
                address=access, event="AccessAuthorized", from_block=start, to_block=cursor
            )
        ]
        if self.registry is not None:
            rotated = {
                e.args["account"]
                for e in self.indexer.events(
                    address=self.registry.address,
                    event="EncryptionKeyRotated",
                    from_block=start,
                    to_block=cursor,
                )
            }
            if rotated:
                ids += [
                    e.args["requestId"]
                    for e in self.indexer.events(address=access, event="KeyReleased")
                    if self._consumer_in(e, rotated)
                ]
        ids += list(self.releaser.retry)
        if ids:
            for rid, tx in self.releaser.run(sorted(set(ids))):
                self._log_release(rid, tx.tx_hash, tx.receipt.block_number)
        # Every release of this node's grants on chain has its entry, also one whose
        # transaction was mined just before a kill -9 took the node down (the restarted
        # node reads all releases again): one entry per KeyReleased event, by its tx.
        for e in self.indexer.events(
            address=access, event="KeyReleased", from_block=start, to_block=cursor
        ):
            if self._owns_request(e.args["requestId"]):
                self._log_release(e.args["requestId"], e.tx_hash, e.block_number)
        # this department's decisions, wherever they were taken (node, CLI, scripts)
        for e in self.indexer.events(
            address=access, event="AccessApproved", from_block=start, to_block=cursor
        ):
            if e.args["approver"] == self.address:
                self.access_log.append(
                    "approval",
                    request_id=e.args["requestId"],
                    at=self._block_time(e.block_number),
                    block=e.block_number,
                    ref=e.tx_hash,
                    tx=e.tx_hash,
                    as_owner=e.args["isOwner"],
                )
        self._release_cursor = cursor

    def _log_release(self, request_id: int, tx: str, block: int) -> None:
        self.access_log.append(
            "key_release", request_id=request_id, block=block, ref=f"release:{tx}", tx=tx
        )

    def _owns_request(self, request_id: int) -> bool:
        """Whether a request is for a dataset of this node (an owner never changes)."""
        assert self.sharing is not None
        mine = self._request_owner.get(request_id)
        if mine is None:
            mine = self.sharing.request(request_id).owner == self.address
            self._request_owner[request_id] = mine
        return mine

    def _block_time(self, number: int) -> float:
        return float(self.backend.get_block(number).timestamp)

    def block_time(self, number: int) -> int:
        """Timestamp of block ``number`` (a mined block's time never changes: cached)."""
        known = self._block_times.get(number)
        if known is None:
            known = self._block_times[number] = int(self.backend.get_block(number).timestamp)
        return known

    def _consumer_in(self, event, accounts: set[str]) -> bool:
        assert self.sharing is not None
        return self.sharing.request(event.args["requestId"]).consumer in accounts

    def start_sync(self, interval: float = 0.2) -> None:
        """Keep the index in step with the chain from a background thread."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.sync()
                    self.last_sync_error = None
                except Exception as exc:  # keep serving; /healthz reports the error
                    if self.last_sync_error != str(exc):
                        logger.warning("index sync failed: %s", exc)
                    self.last_sync_error = str(exc)
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="index-sync", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            self.anchor_log()
        except Exception as exc:  # the chain may be gone; the next start anchors them
            logger.warning("could not anchor the access log on shutdown: %s", exc)
        self.backend.close()
        self.engine.dispose()
        self.nonces.close()

    def wait_synced(self, block: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.indexer.cursor() < block and time.monotonic() < deadline:
            time.sleep(0.05)


class NodeSession:
    """A department's chain contracts and local store, for one command (no server, no
    index): what the CLI and scripts use while the node process serves."""

    def __init__(self, settings: NodeSettings, keys: NodeKeys) -> None:
        if not settings.contracts.registry:
            raise RegistryMissing(
                f"{settings.home}/node.toml names no registry (contracts.registry); "
                "join a network first"
            )
        self.settings = settings
        self.keys = keys
        self.backend = backend_from_settings(settings)
        self.client = ChainClient(self.backend, keys.account)
        self.registry = Registry(self.client, settings.contracts.registry)
        self._engine = None
        c = settings.contracts
        self.sharing = Sharing(self.client, c.catalog, c.access) if c.catalog and c.access else None

    def require_sharing(self) -> Sharing:
        if self.sharing is None:
            raise RegistryMissing("node.toml names no data catalog (contracts.catalog/access)")
        return self.sharing

    def require_commitments(self) -> CommitmentLedger:
        address = self.settings.contracts.commitments
        if not address:
            raise RegistryMissing(
                "node.toml names no ValueCommitments contract (contracts.commitments); "
                "the network's operator deploys it with `tanlian network up`"
            )
        return CommitmentLedger(self.client, address)

    @property
    def engine(self):
        if self._engine is None:
            self._engine = make_engine(self.settings.db_url)
            create_schema(self._engine)
        return self._engine

    @property
    def blobs(self) -> BlobStore:
        return BlobStore(self.settings.home / "blobs", fsync=self.settings.store.fsync)

    @property
    def versions(self) -> VersionStore:
        return VersionStore(self.engine)

    def close(self) -> None:
        self.backend.close()
        if self._engine is not None:
            self._engine.dispose()

    def __enter__(self) -> NodeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RegistryMissing(TanlianError):
    code = "registry_not_configured"
    http_status = 503
