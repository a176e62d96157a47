"""A running department node's parts, wired from its settings and unlocked keys."""

from __future__ import annotations

import logging
import threading
import time

from node.api.nonces import JOURNAL_FILE, NonceStore
from node.chain.backend import backend_from_settings
from node.chain.client import ChainClient
from node.chain.indexer.indexer import EventIndexer
from node.db import make_engine
from node.errors import TanlianError
from node.registry.directory import MemberDirectory
from node.registry.keystore import NodeKeys
from node.registry.registry import ARTIFACT as REGISTRY_ARTIFACT
from node.registry.registry import Registry
from node.settings import NodeSettings

logger = logging.getLogger(__name__)


class NodeRuntime:
    """Chain client, event index, member directory and nonce store of one node."""

    def __init__(self, settings: NodeSettings, keys: NodeKeys) -> None:
        self.settings = settings
        self.keys = keys
        self.backend = backend_from_settings(settings)
        self.client = ChainClient(self.backend, keys.account)
        self.engine = make_engine(settings.db_url)
        self.indexer = EventIndexer(self.backend, self.engine)
        self.nonces = NonceStore(settings.home / JOURNAL_FILE, settings.api.max_clock_skew_seconds)
        self.registry: Registry | None = None
        self.directory: MemberDirectory | None = None
        if settings.contracts.registry:
            self.indexer.watch(settings.contracts.registry, REGISTRY_ARTIFACT)
            self.registry = Registry(self.client, settings.contracts.registry)
            self.directory = MemberDirectory(self.indexer, self.registry.address)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_sync_error: str | None = None

    @property
    def address(self) -> str:
        return self.keys.address

    def sync(self) -> None:
        self.indexer.sync()
        if self.directory is not None:
            self.directory.refresh()

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
        self.backend.close()
        self.engine.dispose()
        self.nonces.close()

    def wait_synced(self, block: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.indexer.cursor() < block and time.monotonic() < deadline:
            time.sleep(0.05)


class RegistrySession:
    """Chain access for one department's registry commands, without the node's server."""

    def __init__(self, settings: NodeSettings, keys: NodeKeys) -> None:
        if not settings.contracts.registry:
            raise RegistryMissing(
                f"{settings.home}/node.toml names no registry (contracts.registry); "
                "join a network first"
            )
        self.settings = settings
        self.keys = keys
        self.backend = backend_from_settings(settings)
        self.registry = Registry(
            ChainClient(self.backend, keys.account), settings.contracts.registry
        )

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> RegistrySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RegistryMissing(TanlianError):
    code = "registry_not_configured"
    http_status = 503
