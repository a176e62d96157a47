"""The embedded chain: py-evm, driven through eth-tester's PyEVM backend, durable on disk.

One process owns the chain (a file lock enforces it) and acts as its single sequencer:
an accepted transaction is applied, mined into its own block and committed to the store
before its hash is returned, or, past a served chain's clock bound, applied to the pending
block that is mined with the others of its second; a receipt is always durable.
Reads go through eth-tester's serializers; lookups that eth-tester does by scanning
history (transaction by hash, logs) use py-evm's own indexes and the header blooms instead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp
from eth.abc import BlockHeaderAPI
from eth.chains.base import MiningChain
from eth.constants import BLANK_ROOT_HASH
from eth.db.atomic import AtomicDB
from eth.db.schema import SchemaV1
from eth.exceptions import HeaderNotFound, TransactionNotFound
from eth.vm.forks import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_tester.backends.pyevm.main import PyEVMBackend, get_default_genesis_params
from eth_tester.backends.pyevm.serializers import (
    serialize_block,
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_utils import ValidationError as EVMValidationError
from eth_utils import to_canonical_address
from eth_utils.toolz import assoc

from node.chain.embedded.limits import (
    UNLIMITED,
    CallTimedOut,
    ChainLimits,
    DeadlinePassed,
    WriteAdmission,
    deadline_at,
    timed_computation,
)
from node.chain.embedded.permissioning import require_chain_id
from node.chain.embedded.store import SCHEMA_VERSION, DurableKV
from node.chain.errors import ChainStoreError, NotFoundOnChain, TransactionRejected, WriteRefused
from node.chain.raw import RawBlock, flat_list, header_roots

logger = logging.getLogger(__name__)

STORE_FILE = "chain.sqlite"
# Room for at least 33 writes of the fixed 15,000,000-gas allowance a block (to its gas
# target, half of this): past the clock bound a block a second carries every write of that
# second (see EmbeddedChain.submit).
DEFAULT_GAS_LIMIT = 1_000_000_000


@dataclass(frozen=True)
class GenesisSpec:
    """What a new embedded chain starts from; fixed forever once the chain exists."""

    chain_id: int = 20_260
    gas_limit: int = DEFAULT_GAS_LIMIT
    timestamp: int | None = None
    # Zero base fee: the chain is permissioned and gas-free, like Besu with min-gas-price 0.
    base_fee_per_gas: int = 0
    alloc: dict[str, int] = field(default_factory=dict)
    # Random by default so that two chains created alike never share a genesis hash.
    extra_data: bytes = field(default_factory=lambda: os.urandom(32))


BLOB_TX_TYPE = b"\x03"


@dataclass(frozen=True)
class Mined:
    """A transaction just mined into its own block."""

    tx_hash: bytes
    tx: Any
    receipt: Any
    header: BlockHeaderAPI


@dataclass(frozen=True)
class Queued:
    """A transaction applied to the pending block, which is mined later."""

    tx_hash: bytes


@dataclass
class _PendingBlock:
    """The block being filled while the chain's clock waits for the wall clock."""

    timestamp: int
    seal_at: int  # the chain time (EmbeddedChain.now) at which it is mined
    raws: list[bytes] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    receipts: list[Any] = field(default_factory=list)


class _TanlianChainBase(MiningChain):
    vm_configuration = ((0, PragueVM),)

    def create_header_from_parent(
        self, parent_header: BlockHeaderAPI, **header_params: Any
    ) -> BlockHeaderAPI:
        # A permissioned chain keeps its gas limit fixed instead of voting it up or down.
        return super().create_header_from_parent(
            parent_header, **assoc(header_params, "gas_limit", parent_header.gas_limit)
        )

    def get_transaction_builder(self):
        return self.get_vm().get_transaction_builder()


def _chain_class(chain_id: int) -> type[MiningChain]:
    return type("TanlianChain", (_TanlianChainBase,), {"chain_id": chain_id})


class _DurableBackend(PyEVMBackend):
    """eth-tester's PyEVM backend bound to an existing (durable) py-evm chain."""

    def __init__(self, chain: MiningChain) -> None:
        self.chain = chain
        self.account_keys = ()


class EmbeddedChain:
    """A durable single-sequencer chain in ``home``; thread-safe."""

    def __init__(
        self,
        home: Path,
        *,
        genesis: GenesisSpec | None = None,
        fsync: bool = False,
        limits: ChainLimits = UNLIMITED,
    ):
        self.home = Path(home)
        self.limits = limits
        self._admission = WriteAdmission(limits)
        #: seconds added to the wall clock for new blocks (a --dev host's evm_increaseTime)
        self._time_offset = 0
        path = self.home / STORE_FILE
        existed = path.exists()
        if not existed and Path(str(path) + "-wal").exists():
            raise ChainStoreError(
                f"chain store {path} is missing but its write-ahead log is present; "
                "refusing to start a new chain over it"
            )
        if not existed and genesis is None:
            raise ChainStoreError(
                f"no chain store at {path}; create one first (tanlian chain init)"
            )
        if existed and path.stat().st_size == 0:
            raise ChainStoreError(f"chain store {path} is empty (corrupted); refusing to start")
        self.home.mkdir(parents=True, exist_ok=True)
        self._kv = DurableKV(path, fsync=fsync)
        self._lock = threading.RLock()
        self._mined = threading.Condition(self._lock)
        self._pending: _PendingBlock | None = None
        self._closed = False
        try:
            meta = self._kv.get_meta()
            if not meta:
                if existed and not self._kv.is_empty():
                    raise ChainStoreError(
                        f"chain store {path} has no chain metadata (corrupted or not a chain)"
                    )
                if genesis is None:
                    raise ChainStoreError(f"no chain in {path}; create one first")
                self._create(genesis)
                meta = self._kv.get_meta()
            self._meta = meta
            self._open(meta)
        except BaseException:
            self._kv.close()
            raise

    # -- lifecycle -----------------------------------------------------------------
    def _create(self, genesis: GenesisSpec) -> None:
        params = get_default_genesis_params(
            {
                "gas_limit": genesis.gas_limit,
                "timestamp": genesis.timestamp or int(time.time()),
                "extra_data": genesis.extra_data,
            }
        )
        params["base_fee_per_gas"] = genesis.base_fee_per_gas
        state = {
            to_canonical_address(addr): {"balance": bal, "nonce": 0, "code": b"", "storage": {}}
            for addr, bal in genesis.alloc.items()
        }
        chain_cls = _chain_class(genesis.chain_id)
        chain = chain_cls.from_genesis(AtomicDB(self._kv), params, state)
        genesis_hash = chain.get_canonical_block_header_by_number(0).hash
        self._kv.commit(
            meta={
                "schema_version": SCHEMA_VERSION,
                "chain_id": str(genesis.chain_id),
                "genesis_hash": genesis_hash.hex(),
                "created_at": str(int(time.time())),
            }
        )
        logger.info("created embedded chain %s (id %s)", self.home, genesis.chain_id)

    def _open(self, meta: dict[str, str]) -> None:
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise ChainStoreError(
                f"chain store schema {meta.get('schema_version')!r} is not {SCHEMA_VERSION!r}"
            )
        try:
            self.chain_id = int(meta["chain_id"])
            genesis_hash = bytes.fromhex(meta["genesis_hash"])
        except (KeyError, ValueError) as exc:
            raise ChainStoreError(f"chain store metadata is corrupted: {exc}") from exc
        chain_cls = _chain_class(self.chain_id)
        try:
            chain = chain_cls(AtomicDB(self._kv))
            genesis_header = chain.get_canonical_block_header_by_number(0)
            head = chain.get_canonical_head()
        except (HeaderNotFound, KeyError, ValueError, EVMValidationError) as exc:
            raise ChainStoreError(f"chain store {self.home} is corrupted: {exc!r}") from exc
        except Exception as exc:  # rlp decoding errors have no common base
            raise ChainStoreError(f"chain store {self.home} is corrupted: {exc!r}") from exc
        if genesis_header.hash != genesis_hash:
            raise ChainStoreError("chain store genesis does not match its metadata")
        try:
            # The head's state root must be readable, or nothing can execute on it.
            if head.state_root != BLANK_ROOT_HASH:
                self._kv[head.state_root]
        except KeyError:
            raise ChainStoreError(
                f"chain store {self.home} is corrupted: head state {head.state_root.hex()} missing"
            ) from None
        self._chain = chain
        self._backend = _DurableBackend(chain)
        self._head = head
        self._backfill_logs()
        self._backfill_blocks()

    def _backfill(
        self, key: str, first: int, what: str, fill: Callable[[int, int], None], step: int
    ) -> None:
        """Bring a table added to the store after it was written up to the head (once):
        ``fill`` buffers blocks lo..hi, committed with the progress under ``key``."""
        done = int(self._kv.get_meta().get(key, str(first - 1)))
        head = self._head.block_number
        if done >= head:
            return
        logger.info("%s blocks %d..%d of %s", what, done + 1, head, self.home)
        for lo in range(done + 1, head + 1, step):
            hi = min(head, lo + step - 1)
            fill(lo, hi)
            self._kv.commit(meta={key: str(hi)})

    def _backfill_logs(self) -> None:
        """The log index (block 0 holds no logs)."""
        chaindb = self._chain.chaindb

        def fill(lo: int, hi: int) -> None:
            for number in range(lo, hi + 1):
                header = chaindb.get_canonical_block_header_by_number(number)
                receipt_cls = self._chain.get_vm_class(header).get_receipt_builder()
                self._kv.add_logs(
                    _log_rows(
                        number,
                        header.hash,
                        chaindb.get_block_transaction_hashes(header),
                        chaindb.get_receipts(header, receipt_cls),
                    )
                )

        self._backfill("logs_to", 1, "indexing the logs of", fill, 1000)

    def _backfill_blocks(self) -> None:
        """The block table, from py-evm's own records."""
        self._backfill(
            "blocks_to",
            0,
            "tabling",
            lambda lo, hi: self._add_blocks(lo, self._trie_blocks(lo, hi)),
            2000,
        )

    def _reload(self) -> None:
        self._kv.rollback()
        self._open(self._meta)

    def close(self) -> None:
        with self._lock:
            if self._pending is not None and not self._closed:
                # its senders hold hashes without receipts: mine what they were told was taken
                try:
                    self._seal_pending()
                except Exception:
                    logger.exception("sealing the pending block on close failed")
            self._closed = True
            self._kv.close()

    def __enter__(self) -> EmbeddedChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes --------------------------------------------------------------------
    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Apply one signed transaction; returns its hash once it is mined and committed,
        or, when the chain's clock is at its bound, once it is in the pending block."""
        return self.submit(raw).tx_hash

    def submit(self, raw: bytes) -> Mined | Queued:
        """Apply one signed transaction and mine it, or queue it in the pending block.

        While the next block's time is within the bound ahead of the wall clock, the
        transaction is mined into its own block and committed before this returns
        (:class:`Mined`). Past the bound, Ethereum's rule that a block is at least a second
        after its parent would run the chain's clock further ahead with every write (and
        grants would expire early), so the transaction joins the pending block, which is
        sealed with all it holds once the wall clock has caught up (:class:`Queued`; its
        receipt exists from then on: :meth:`wait_mined`). Throughput is then no longer one
        write a second but one block a second.
        """
        raw = bytes(raw)
        if raw[:1] == BLOB_TX_TYPE:
            raise TransactionRejected("blob transactions are not accepted on this chain")
        require_chain_id(raw)
        with self._lock:
            try:
                tx = (
                    self._chain.get_vm_class(self._chain.header)
                    .get_transaction_builder()
                    .decode(raw)
                )
            except Exception as exc:
                raise TransactionRejected(f"transaction rejected: {exc}") from exc
            if self.limits.writes_per_second is not None:
                self._admission.take(tx.sender)
            if self._pending is not None:
                return self._queue(raw, tx)
            # The pending header was made when the previous block was mined; give the
            # new block the current time (Ethereum requires it to grow by >= 1 s).
            now = self.now()
            timestamp = max(now, self._head.timestamp + 1)
            bound = self.limits.max_clock_ahead_seconds
            if bound is not None and timestamp - now > bound:
                self._pending = _PendingBlock(timestamp, seal_at=timestamp - bound)
                self._chain.set_header_timestamp(timestamp)
                queued = self._queue(raw, tx)
                self._schedule_seal()
                return queued
            try:
                self._chain.set_header_timestamp(timestamp)
                _, receipt, _ = self._chain.apply_transaction(tx)
            except ChainStoreError:
                self._reload()
                raise
            except Exception as exc:
                self._reload()
                raise TransactionRejected(f"transaction rejected: {exc}") from exc
            block = self._seal([tx.hash], [receipt])
            return Mined(tx_hash=tx.hash, tx=tx, receipt=receipt, header=block.header)

    def _queue(self, raw: bytes, tx: Any) -> Queued:
        """Apply ``tx`` to the pending block (the caller holds the lock)."""
        pending = self._pending
        assert pending is not None
        header = self._chain.header
        # Filled only to EIP-1559's gas target (half the limit): past it the base fee would
        # rise from 0 to 1 wei, and this gas-free chain's transactions would be refused.
        target = header.gas_limit // 2
        if header.gas_used + tx.gas > target:
            wait = max(0.0, pending.seal_at - self._time_offset - time.time()) + 0.05
            raise WriteRefused(
                f"the pending block is full ({header.gas_used} gas used of its target "
                f"{target}, {tx.gas} more asked); retry in {wait:.1f} s",
                reason="block_full",
                retry_after=round(wait, 3),
            )
        try:
            _, receipt, _ = self._chain.apply_transaction(tx)
        except Exception as exc:
            # A refused transaction may have left py-evm's pending state half-written:
            # rebuild the pending block from the transactions it had.
            self._replay_pending()
            if isinstance(exc, ChainStoreError):
                raise
            raise TransactionRejected(f"transaction rejected: {exc}") from exc
        pending.raws.append(raw)
        pending.hashes.append(tx.hash)
        pending.receipts.append(receipt)
        return Queued(tx_hash=tx.hash)

    def _replay_pending(self) -> None:
        pending = self._pending
        self._reload()
        if pending is None:
            return
        self._chain.set_header_timestamp(pending.timestamp)
        builder = self._chain.get_vm_class(self._chain.header).get_transaction_builder()
        receipts = []
        for raw in pending.raws:  # each was applied once on this very state: it applies again
            _, receipt, _ = self._chain.apply_transaction(builder.decode(raw))
            receipts.append(receipt)
        pending.receipts = receipts

    def _schedule_seal(self) -> None:
        pending = self._pending
        assert pending is not None
        delay = max(0.0, pending.seal_at - self._time_offset - time.time())
        timer = threading.Timer(delay, self._seal_due, args=(pending,))
        timer.daemon = True
        timer.start()

    def _seal_due(self, pending: _PendingBlock) -> None:
        with self._lock:
            if self._pending is not pending or self._closed:
                return  # sealed already (mine_empty, close)
            wait = pending.seal_at - self.now()
            if wait > 0:  # the --dev clock or the wall clock moved back: try again later
                self._schedule_seal()
                return
            try:
                self._seal_pending()
            except Exception:
                logger.exception("sealing the pending block failed; its transactions are dropped")

    def _seal_pending(self) -> BlockHeaderAPI:
        """Mine the pending block with every transaction queued in it (lock held)."""
        pending = self._pending
        assert pending is not None
        self._pending = None
        try:
            block = self._seal(pending.hashes, pending.receipts)
        finally:
            self._mined.notify_all()
        logger.debug(
            "sealed block %d with %d transactions", block.header.block_number, len(pending.hashes)
        )
        return block.header

    def _seal(self, hashes: list[bytes], receipts: list[Any]) -> Any:
        """Mine what has been applied and commit it durably (the caller holds the lock)."""
        try:
            block = self._chain.mine_block(mix_hash=os.urandom(32))
            # the block table's row is read back from the records just written (in
            # memory until the commit), by the same reader that fills old stores
            number = block.header.block_number
            self._kv.add_logs(_log_rows(number, block.header.hash, hashes, receipts))
            self._add_blocks(number, self._trie_blocks(number, number))
            self._kv.commit(meta={"logs_to": str(number), "blocks_to": str(number)})
        except BaseException:
            self._reload()
            raise
        self._head = block.header
        return block

    def wait_mined(self, tx_hash: bytes, timeout: float) -> bool:
        """Wait until no pending block holds ``tx_hash``; True if it is then on chain."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending is not None and tx_hash in self._pending.hashes:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._mined.wait(left)
            try:
                self._locate(tx_hash)
            except NotFoundOnChain:
                return False
            return True

    # -- the clock, and what only a --dev host asks for ------------------------------
    def now(self) -> int:
        """The time the next block gets (at least its parent's + 1)."""
        return int(time.time()) + self._time_offset

    def advance_time(self, seconds: int) -> int:
        """Move the clock of new blocks forward by ``seconds``; returns the total offset."""
        if seconds < 0:
            raise TransactionRejected("the chain's clock only moves forward")
        with self._lock:
            self._time_offset += seconds
            return self._time_offset

    def mine_empty(self) -> BlockHeaderAPI:
        """Mine and commit a block without transactions."""
        with self._lock:
            if self._pending is not None:
                return self._seal_pending()
            self._chain.set_header_timestamp(max(self.now(), self._head.timestamp + 1))
            return self._seal([], []).header

    # -- reads ---------------------------------------------------------------------
    @property
    def genesis_hash(self) -> bytes:
        return bytes.fromhex(self._meta["genesis_hash"])

    def head(self) -> BlockHeaderAPI:
        return self._head

    def block_number(self) -> int:
        return self._head.block_number

    def _header(self, block: int | str | bytes) -> BlockHeaderAPI:
        with self._lock:
            try:
                if isinstance(block, bytes):
                    header = self._chain.chaindb.get_block_header_by_hash(block)
                    canonical = self._chain.get_canonical_block_header_by_number(
                        header.block_number
                    )
                    if canonical.hash != header.hash:
                        raise NotFoundOnChain("block is not canonical")
                    return header
                if block in ("latest", "safe", "finalized", "pending"):
                    return self._head
                if block == "earliest":
                    return self._chain.get_canonical_block_header_by_number(0)
                if isinstance(block, int) and 0 <= block <= self._head.block_number:
                    return self._chain.get_canonical_block_header_by_number(block)
            except HeaderNotFound:
                pass
            raise NotFoundOnChain(f"no block {block!r}")

    def raw_headers(self, start: int, end: int) -> list[bytes]:
        """The RLP of canonical headers ``start``..``end``, as stored (for audits: a reader
        hashes them itself and checks each parent link)."""
        return [header for header, _, _ in self.stored_blocks(start, end)]

    def raw_blocks(self, start: int, end: int) -> list[RawBlock]:
        """Canonical blocks ``start``..``end`` as stored: each header's RLP and the values
        of its transaction and receipt tries, so a reader can hash the headers, recompute
        the roots they commit to and read the logs from the receipts themselves."""
        return [
            RawBlock(h, flat_list(txs), flat_list(receipts))
            for h, txs, receipts in self.stored_blocks(start, end)
        ]

    def stored_blocks(self, start: int, end: int) -> list[tuple[bytes, bytes, bytes]]:
        """Rows of the block table for ``start``..``end`` (up to the head): each header's
        RLP, the RLP list of its transactions and that of its receipts."""
        with self._lock:
            end = min(end, self._head.block_number)
            rows = self._kv.query_blocks(start, end)
        if [r[0] for r in rows] != list(range(start, end + 1)):
            raise ChainStoreError(f"blocks {start}..{end} are not all in the store's block table")
        return [(h, txs, receipts) for _, h, txs, receipts in rows]

    def _trie_blocks(self, start: int, end: int) -> list[RawBlock]:
        """Blocks ``start``..``end`` read from py-evm's own records (headers by number, then
        the nodes of each block's tries): what the block table is filled from."""
        db = self._chain.chaindb.db
        keys = [SchemaV1.make_block_number_to_hash_lookup_key(n) for n in range(start, end + 1)]
        hashes = self._kv.get_many(keys)
        if any(h is None for h in hashes):
            raise ChainStoreError(f"canonical blocks {start}..{end} are not all in the store")
        headers = self._kv.get_many([rlp.decode(h, sedes=rlp.sedes.binary) for h in hashes])
        if any(h is None for h in headers):
            raise ChainStoreError(f"headers of blocks {start}..{end} are not all in the store")
        # only the two roots are needed: fields 4 and 5 of each header's RLP list
        roots = [header_roots(h) for h in headers]
        wanted = sorted({r for pair in roots for r in pair if r != BLANK_ROOT_HASH})
        nodes = dict(zip(wanted, self._kv.get_many(wanted), strict=True))
        return [
            RawBlock(
                header,
                _trie_values(db, tx_root, nodes.get(tx_root)),
                _trie_values(db, receipt_root, nodes.get(receipt_root)),
            )
            for header, (tx_root, receipt_root) in zip(headers, roots, strict=True)
        ]

    def _add_blocks(self, start: int, blocks: list[RawBlock]) -> None:
        for number, b in enumerate(blocks, start):
            self._kv.add_block(number, b.header, rlp.encode(b.transactions), rlp.encode(b.receipts))

    def get_block(self, block: int | str | bytes, full_transactions: bool = False) -> dict:
        with self._lock:
            header = self._header(block)
            blk = self._chain.get_block_by_header(header)
            out = serialize_block(blk, full_transactions, False)
        # eth-tester pads extraData to 32 bytes; a client must see the header's own bytes
        out["extra_data"] = header.extra_data
        if full_transactions:
            for tx in out["transactions"]:
                tx["block_timestamp"] = header.timestamp
        return out

    def block_hashes(self, start: int, end: int) -> list[bytes]:
        """Hashes of canonical blocks ``start``..``end`` (up to the head)."""
        with self._lock:
            end = min(end, self._head.block_number)
            chaindb = self._chain.chaindb
            return [chaindb.get_canonical_block_hash(n) for n in range(max(0, start), end + 1)]

    def transaction_count(self, block: int | str | bytes) -> int:
        with self._lock:
            header = self._header(block)
            return len(self._chain.chaindb.get_block_transaction_hashes(header))

    def get_transaction_at(self, block: int | str | bytes, index: int) -> dict:
        """The transaction at ``index`` of a canonical block."""
        with self._lock:
            header = self._header(block)
            blk = self._chain.get_block_by_header(header)
            if not 0 <= index < len(blk.transactions):
                raise NotFoundOnChain(f"no transaction {index} in block {header.block_number}")
            return self._serialized_tx(blk, blk.transactions[index], index)

    def get_block_receipts(self, block: int | str | bytes) -> list[dict]:
        """The receipts of every transaction of a canonical block, in order."""
        with self._lock:
            blk = self._chain.get_block_by_header(self._header(block))
            receipts = blk.get_receipts(self._chain.chaindb)
            return [
                self._serialized_receipt(blk, receipts, tx, i)
                for i, tx in enumerate(blk.transactions)
            ]

    def _serialized_tx(self, block: Any, tx: Any, index: int) -> dict:
        out = serialize_transaction(block, tx, index, False)
        out["block_timestamp"] = block.header.timestamp
        return out

    def _serialized_receipt(self, block: Any, receipts: Any, tx: Any, index: int) -> dict:
        receipt = serialize_transaction_receipt(
            block, receipts, tx, index, False, self._chain.get_vm()
        )
        offset = sum(len(r.logs) for r in receipts[:index])
        for log in receipt["logs"]:
            log["log_index"] += offset
        receipt["logs_bloom"] = receipts[index].bloom
        return receipt

    def _locate(self, tx_hash: bytes) -> tuple[Any, Any, int]:
        try:
            number, index = self._chain.chaindb.get_transaction_index(tx_hash)
        except TransactionNotFound:
            raise NotFoundOnChain(f"no transaction 0x{tx_hash.hex()}") from None
        if number > self._head.block_number:
            raise NotFoundOnChain(f"no transaction 0x{tx_hash.hex()}")
        block = self._chain.get_canonical_block_by_number(number)
        return block, block.transactions[index], index

    def get_transaction(self, tx_hash: bytes) -> dict:
        with self._lock:
            block, tx, index = self._locate(tx_hash)
            return self._serialized_tx(block, tx, index)

    def get_receipt(self, tx_hash: bytes) -> dict:
        with self._lock:
            block, tx, index = self._locate(tx_hash)
            return self._serialized_receipt(
                block, block.get_receipts(self._chain.chaindb), tx, index
            )

    def get_nonce(self, address: bytes, block: int | str = "latest") -> int:
        with self._lock:
            return self._state_at(block).get_nonce(address)

    def get_balance(self, address: bytes, block: int | str = "latest") -> int:
        with self._lock:
            return self._state_at(block).get_balance(address)

    def get_code(self, address: bytes, block: int | str = "latest") -> bytes:
        with self._lock:
            return self._state_at(block).get_code(address)

    def get_storage_at(self, address: bytes, slot: int, block: int | str = "latest") -> int:
        with self._lock:
            return self._state_at(block).get_storage(address, slot)

    def _state_at(self, block: int | str | bytes):
        if block == "pending" and self._pending is not None:
            return self._chain.get_vm(self._chain.header).state  # with the queued writes
        header = self._header(block)
        return self._chain.get_vm(at_header=self._pending_header_after(header)).state

    def _pending_header_after(self, header: BlockHeaderAPI) -> BlockHeaderAPI:
        # py-evm executes against the state *after* a header by building its child, at
        # the time the next block would get (a --dev host's clock included).
        vm_cls = self._chain.get_vm_class_for_block_number(header.block_number + 1)
        return vm_cls.create_header_from_parent(
            header,
            gas_limit=header.gas_limit,
            timestamp=max(header.timestamp + 1, self.now()),
        )

    def fee_history(self, count: int, newest: int | str) -> dict:
        with self._lock:
            newest_header = self._header(newest)
            count = max(1, min(count, 1024, newest_header.block_number + 1))
            oldest = newest_header.block_number - count + 1
            base, ratio = [], []
            for n in range(oldest, newest_header.block_number + 1):
                h = self._chain.get_canonical_block_header_by_number(n)
                base.append(h.base_fee_per_gas)
                ratio.append(h.gas_used / h.gas_limit)
            base.append(self._pending_header_after(newest_header).base_fee_per_gas)
            return {"oldestBlock": oldest, "baseFeePerGas": base, "gasUsedRatio": ratio}

    def base_fee(self) -> int:
        """Base fee of the next block."""
        return self._chain.header.base_fee_per_gas

    # -- execution without mining --------------------------------------------------
    def _spoof(self, tx: dict, block: int | str) -> SpoofTransaction:
        header = self._header(block)
        sender = tx.get("from") or b"\x00" * 20
        normalized = {
            "to": tx.get("to") or b"",
            "data": tx.get("data") or b"",
            "value": tx.get("value") or 0,
            "gas": self._call_gas(tx.get("gas") or header.gas_limit),
            "nonce": tx.get("nonce", self._state_at(block).get_nonce(sender)),
            "chain_id": self.chain_id,
            "access_list": (),
            # Calls default to a zero price so that unfunded accounts can read, as on
            # any chain whose base fee is zero.
            "max_fee_per_gas": tx.get("max_fee_per_gas", tx.get("gas_price", 0)),
            "max_priority_fee_per_gas": tx.get("max_priority_fee_per_gas", 0),
        }
        unsigned = self._backend._create_type_aware_unsigned_transaction(normalized)
        return SpoofTransaction(unsigned, from_=sender)

    def _call_gas(self, gas: int) -> int:
        # like geth's --rpc.gascap: a call asking for more runs with the cap
        cap = self.limits.call_gas_cap
        return gas if cap is None else min(gas, cap)

    def _call_deadline(self) -> float | None:
        seconds = self.limits.call_seconds
        return None if seconds is None else time.monotonic() + seconds

    def _timed(self, state: Any, deadline: float | None) -> None:
        if deadline is not None:
            state.computation_class = timed_computation(state.computation_class)

    def _timed_out(self) -> CallTimedOut:
        return CallTimedOut(
            f"call stopped after {self.limits.call_seconds:g} s (the host's limit per call)"
        )

    def call(
        self, tx: dict, block: int | str = "latest", *, deadline: float | None = None
    ) -> tuple[bool, bytes, int]:
        """Execute ``tx`` against ``block``'s state; returns (success, output, gas used).
        Stopped at ``deadline`` (time.monotonic), by default the limits' time per call."""
        deadline = deadline if deadline is not None else self._call_deadline()
        with self._lock:
            spoof = self._spoof(tx, block)
            state = self._chain.get_vm(
                at_header=self._pending_header_after(self._header(block))
            ).state
            self._timed(state, deadline)
            snapshot = state.snapshot()
            try:
                with deadline_at(deadline):
                    computation = state.apply_transaction(spoof)
            except EVMValidationError as exc:
                raise TransactionRejected(f"call rejected: {exc}") from exc
            except DeadlinePassed:
                raise self._timed_out() from None
            finally:
                state.revert(snapshot)
            if computation.is_error:
                err = computation.error
                data = err.args[0] if err.args and isinstance(err.args[0], bytes) else b""
                return False, data, computation.get_gas_used()
            return True, computation.output, computation.get_gas_used()

    def estimate_gas(self, tx: dict, block: int | str = "latest") -> tuple[bool, bytes, int]:
        """Gas estimate by py-evm's binary search; (success, revert data, gas).
        The whole search gets one call's time and searches up to the call gas cap."""
        deadline = self._call_deadline()
        ok, data, _ = self.call(tx, block, deadline=deadline)
        if not ok:
            return False, data, 0
        with self._lock:
            header = self._pending_header_after(self._header(block))
            header = header.copy(gas_limit=self._call_gas(header.gas_limit))
            try:
                with (
                    self._chain.get_vm(header).in_costless_state() as state,
                    deadline_at(deadline),
                ):
                    self._timed(state, deadline)
                    gas = self._chain.gas_estimator(state, self._spoof(tx, block))
            except EVMValidationError as exc:
                raise TransactionRejected(f"estimate rejected: {exc}") from exc
            except DeadlinePassed:
                raise self._timed_out() from None
            return True, b"", gas

    # -- logs ----------------------------------------------------------------------
    def get_logs(
        self,
        from_block: int,
        to_block: int,
        addresses: Sequence[bytes] = (),
        topics: Sequence[Sequence[bytes] | None] = (),
    ) -> list[dict]:
        """Logs in [from_block, to_block] matching the addresses (any) and topic positions,
        read from the store's log index."""
        with self._lock:
            to_block = min(to_block, self._head.block_number)
            rows = self._kv.query_logs(
                max(0, from_block),
                to_block,
                [bytes(a) for a in addresses],
                [None if t is None else [bytes(x) for x in t] for t in topics],
            )
        return [
            {
                "address": r[5],
                "topics": [t for t in r[6:10] if t is not None],
                "data": r[10],
                "block_number": r[0],
                "block_hash": r[4],
                "transaction_hash": r[3],
                "transaction_index": r[2],
                "log_index": r[1],
                "removed": False,
            }
            for r in rows
        ]

    def store_size_bytes(self) -> int:
        total = 0
        for name in os.listdir(self.home):
            if name.startswith(STORE_FILE):
                total += (self.home / name).stat().st_size
        return total


def iter_topic_options(raw: Iterable[Any]) -> list[list[bytes] | None]:
    """Normalize a JSON-RPC topics filter (values, lists or nulls) to bytes lists."""
    out: list[list[bytes] | None] = []
    for entry in raw:
        if entry is None:
            out.append(None)
        elif isinstance(entry, list | tuple):
            out.append([_hex_bytes(v) for v in entry] or None)
        else:
            out.append([_hex_bytes(entry)])
    return out


def _hex_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return bytes.fromhex(str(value)[2:] if str(value).startswith("0x") else str(value))


# hex-prefix path of a leaf holding the whole key rlp(0) = 0x80: flag 2 (leaf, even), 8, 0
ONE_ITEM_PATH = b"\x20\x80"


def _trie_values(db: Any, root: bytes, root_node: bytes | None = None) -> list[bytes]:
    """The raw values of an index-keyed trie (a block's transactions or receipts), in key
    order, read node by node as stored.

    One walk over the trie's nodes, instead of a lookup per key from the root, because an
    audit reads every block: a one-transaction block's trie is a single leaf node. The keys
    must be rlp(0), rlp(1), … without a gap, as a block's tries are. ``root_node``: the root's
    stored node when the caller already read it (in a batch).
    """
    if root == BLANK_ROOT_HASH:
        return []
    found: list[tuple[int, bytes]] = []
    first = flat_list(root_node if root_node is not None else db[root])
    if len(first) == 2 and first[0] == ONE_ITEM_PATH:
        # the common block of one transaction: a single leaf at key rlp(0)
        return [bytes(first[1])]
    stack: list[tuple[tuple[int, ...], Any]] = [((), first)]
    while stack:
        path, node = stack.pop()
        if len(node) == 17:
            stack.extend(
                ((*path, i), _child(db, ref)) for i, ref in enumerate(node[:16]) if ref != b""
            )
            if node[16]:
                found.append((_key_index(path), bytes(node[16])))
        elif len(node) == 2:
            nibbles, leaf = _hex_prefix(node[0])
            if leaf:
                found.append((_key_index(path + nibbles), bytes(node[1])))
            else:
                stack.append((path + nibbles, _child(db, node[1])))
        else:
            raise ChainStoreError(f"malformed trie node under root 0x{root.hex()}")
    found.sort()
    if [k for k, _ in found] != list(range(len(found))):
        raise ChainStoreError(f"trie 0x{root.hex()} is not keyed 0..n-1")
    return [v for _, v in found]


def _child(db: Any, ref: Any) -> Any:
    """A node reference: an embedded node (already decoded) or the hash of a stored one."""
    return ref if isinstance(ref, list) else rlp.decode(db[ref])


def _hex_prefix(encoded: bytes) -> tuple[tuple[int, ...], bool]:
    """Nibbles and leaf flag of a hex-prefix encoded path (Yellow Paper, appendix C)."""
    flag = encoded[0] >> 4
    nibbles: list[int] = [] if flag % 2 == 0 else [encoded[0] & 0x0F]
    for b in encoded[1:]:
        nibbles += (b >> 4, b & 0x0F)
    return tuple(nibbles), flag >= 2


def _key_index(nibbles: tuple[int, ...]) -> int:
    """The integer whose RLP is the key spelled by ``nibbles``."""
    key = bytes((nibbles[i] << 4) | nibbles[i + 1] for i in range(0, len(nibbles), 2))
    return rlp.decode(key, sedes=rlp.sedes.big_endian_int)


def _log_rows(
    number: int, block_hash: bytes, tx_hashes: Sequence[bytes], receipts: Sequence[Any]
) -> list[tuple]:
    """Rows of the store's log index for one block (log_index counts across the block)."""
    rows = []
    log_index = 0
    for tx_index, (tx_hash, receipt) in enumerate(zip(tx_hashes, receipts, strict=True)):
        for log in receipt.logs:
            topics = [t.to_bytes(32, "big") for t in log.topics][:4]
            topics += [None] * (4 - len(topics))
            rows.append(
                (
                    number,
                    log_index,
                    tx_index,
                    bytes(tx_hash),
                    bytes(block_hash),
                    bytes(log.address),
                    *topics,
                    bytes(log.data),
                )
            )
            log_index += 1
    return rows
