"""`tanlian audit verify`: a regulator checks the chain and every node, trusting none.

The chain is walked block by block (each parent hash); a fresh index is rebuilt from it and
compared with each node's own; every anchored version's ciphertext is fetched from its
owner and hashed; every node's access log is re-hashed and its batches checked against the
roots anchored on chain; every logged download and DP answer is checked against the grant
as it stood at that moment (authorized, not yet expired or revoked, parties active); DP
spending is compared between chain and logs; every approval is checked against the
registry. Each problem becomes a finding with a severity, the department and the evidence.

Only members active at the audited head are contacted, at the endpoint the registry holds,
and every request is signed for that member's own registry address: a node cannot have the
regulator's requests addressed to another department, and a pending registration (anyone
can file one) receives nothing. Each answer must come within ``node_timeout`` (a slow or
silent endpoint is a finding, not a hang) and be well-formed JSON of the expected shape.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import math
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson
import rlp
from eth_utils import keccak
from pydantic import ValidationError

# safe-pysha3's C keccak directly: the audit hashes 3 to 4 items per block, and the generic
# wrappers (eth-hash's, pycryptodome's) cost more than the hash itself
from sha3 import keccak_256
from trie import HexaryTrie

from node.audit import merkle
from node.audit.blob_frames import FrameReader
from node.audit.commitments import check_commitment_totals
from node.audit.contracts import AUDIT
from node.audit.digest import index_digest
from node.audit.joint import check_joint_runs
from node.audit.log import entry_hash
from node.audit.quality import check_quality_documents
from node.chain.abi import checksum
from node.chain.artifacts import load_artifact
from node.chain.backend import ChainBackend, RawLog
from node.chain.client import ChainClient
from node.chain.indexer.indexer import IndexedEvent, decode_events, decode_logs, watched_abis
from node.chain.raw import RawBlock, header_links, receipt_logs
from node.commitments.contracts import VALUE_COMMITMENTS
from node.errors import TanlianError
from node.joint.contracts import JOINT_QUERY
from node.peer.client import NodeApiError, NodeClient
from node.privacy.budget import BudgetError, BudgetTooFine, Epsilon
from node.privacy.downloads import INTERRUPTED, STARTED
from node.privacy.dp_queries import DatasetMeta
from node.registry.registry import ARTIFACT as REGISTRY
from node.registry.registry import mask_to_roles
from node.sharing.contracts import ACCESS, CATALOG

logger = logging.getLogger(__name__)
SEVERITIES = ("critical", "high", "medium", "low", "info")
FOREVER = float("inf")
#: versions asked of one owner per request (four requests run at once)
BLOB_BATCH = 250
#: seconds a node has for one JSON answer (and, between two bytes, for a ciphertext stream)
NODE_TIMEOUT = 120.0
#: slowest ciphertext stream accepted: a stream's deadline grows by its anchored size at this rate
MIN_BLOB_RATE = 1 << 20
#: largest JSON answer read from a node (a 10^6-entry log is about 400 MB)
MAX_ANSWER = 1 << 30
#: a member's status after each registry event
STATUS_AFTER = {
    "MemberRegistered": "pending",
    "MemberActivated": "active",
    "MemberSuspended": "suspended",
    "MemberReinstated": "active",
}


class NodeTooSlow(TanlianError):
    code = "node_timeout"


class NodeAnswerInvalid(TanlianError):
    code = "node_answer_invalid"


def _within(chunks: Iterator[bytes], deadline: float, limit: int, what: str) -> Iterator[bytes]:
    """``chunks`` until the stream ends; NodeTooSlow past ``deadline`` (monotonic), however
    slowly the bytes trickle in, NodeAnswerInvalid past ``limit`` bytes. ``chunks`` must
    yield each piece as it arrives (a chunker that waits to fill a size would wait on a
    trickle past the deadline)."""
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if time.monotonic() > deadline:
                raise NodeTooSlow(f"{what}: no complete answer in the time allowed")
            if size > limit:
                raise NodeAnswerInvalid(f"{what}: answer larger than {limit} bytes")
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


_NONE = type(None)
_INT = frozenset({int})
_NUMBER = frozenset({int, float})  # (orjson reads no NaN or Infinity)
_STR = frozenset({str})
#: the types each field of a served log entry may have
_ENTRY_TYPES: dict[str, frozenset[type]] = {
    "seq": _INT,
    "at": _NUMBER,
    "kind": _STR,
    "request_id": _INT | {_NONE},
    "consumer": _STR | {_NONE},
    "dataset_id": _STR | {_NONE},
    "version": _INT | {_NONE},
    "detail": frozenset({dict}),
    "entry_hash": _STR,
    "batch": _INT | {_NONE},
    "leaf": _INT | {_NONE},
}
#: the detail keys the checks read, when present
_DETAIL_TYPES: dict[str, frozenset[type]] = {
    "block": _INT,
    "logged_at": _NUMBER,
    "epsilon": _NUMBER,
    "bytes": _INT,
    "tx": _STR | {_NONE},
    "download": _INT,
    "intent": _INT | {_NONE},
}


def _int(v: Any) -> bool:
    return type(v) is int


def _entry_ok(e: Any) -> bool:
    """Whether a served log entry can be checked (written out: it runs for 10^5 entries)."""
    if type(e) is not dict or len(e) < len(_ENTRY_TYPES):
        return False
    try:
        d = e["detail"]
        return (
            type(e["seq"]) is int
            and type(e["at"]) in _NUMBER
            and type(e["kind"]) is str
            and type(e["entry_hash"]) is str
            and type(d) is dict
            and type(e["request_id"]) in _ENTRY_TYPES["request_id"]
            and type(e["consumer"]) in _ENTRY_TYPES["consumer"]
            and type(e["dataset_id"]) in _ENTRY_TYPES["dataset_id"]
            and type(e["version"]) in _ENTRY_TYPES["version"]
            and type(e["batch"]) in _ENTRY_TYPES["batch"]
            and type(e["leaf"]) in _ENTRY_TYPES["leaf"]
            and ("block" not in d or type(d["block"]) is int)
            and ("logged_at" not in d or type(d["logged_at"]) in _NUMBER)
            and ("epsilon" not in d or type(d["epsilon"]) in _NUMBER)
            and ("bytes" not in d or type(d["bytes"]) is int)
            and ("tx" not in d or type(d["tx"]) in _DETAIL_TYPES["tx"])
            and ("download" not in d or type(d["download"]) is int)
            and ("intent" not in d or type(d["intent"]) in _DETAIL_TYPES["intent"])
        )
    except KeyError:
        return False


def _entry_problem(e: Any) -> str:
    """Why a served log entry (one ``_entry_ok`` refused) cannot be checked."""
    if type(e) is not dict:
        return "an entry is not an object"
    for name, types in _ENTRY_TYPES.items():
        if name not in e or type(e[name]) not in types:
            return f"entry {e.get('seq')!r}: field {name!r} is missing or of the wrong type"
    for name, types in _DETAIL_TYPES.items():
        if name in e["detail"] and type(e["detail"][name]) not in types:
            return f"entry {e['seq']}: detail {name!r} is of the wrong type"
    return f"entry {e['seq']!r} is not readable"


BLANK_ROOT = keccak(rlp.encode(b""))


def _download_rows(got: Any) -> list[dict[str, Any]]:
    """The rows of a node's ``/v1/downloads`` answer (or the error reading it), checked."""
    if isinstance(got, BaseException):
        raise got
    if not isinstance(got, dict) or not isinstance(got.get("downloads"), list):
        raise NodeAnswerInvalid("the download log answer is not {downloads: [...]}")
    for r in got["downloads"]:
        if not (
            type(r) is dict
            and type(r.get("id")) is int
            and type(r.get("request_id")) is int
            and type(r.get("bytes")) is int
            and type(r.get("outcome")) is str
        ):
            raise NodeAnswerInvalid(f"a download log row is not readable: {str(r)[:80]}")
    return got["downloads"]


def _rlp_prefix(length: int, short: int) -> bytes:
    """RLP length prefix: ``short`` is 0x80 for a string, 0xC0 for a list."""
    if length < 56:
        return bytes([short + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([short + 55 + len(size)]) + size


def trie_root(items: list[bytes]) -> bytes:
    """Root of the Merkle-Patricia trie of ``items`` keyed by their RLP index (as Ethereum
    commits a block's transactions and receipts in its header)."""
    if not items:
        return BLANK_ROOT
    if len(items) == 1:
        # one leaf at key rlp(0) = 0x80, hex-prefix encoded as a leaf: 0x20 0x80 (the
        # embedded chain's blocks hold one transaction each: 1 hash instead of a trie);
        # its RLP is written out here because it is computed for every block
        item = items[0]
        n = len(item)
        if n == 1 and item[0] < 0x80:
            value = item
        elif n < 56:
            value = bytes((0x80 + n,)) + item
        elif n < 256:
            value = b"\xb8" + bytes((n,)) + item
        elif n < 65536:
            value = b"\xb9" + n.to_bytes(2, "big") + item
        else:
            value = _rlp_prefix(n, 0x80) + item
        size = 3 + len(value)
        if size < 56:
            head = bytes((0xC0 + size,))
        elif size < 256:
            head = b"\xf8" + bytes((size,))
        elif size < 65536:
            head = b"\xf9" + size.to_bytes(2, "big")
        else:
            head = _rlp_prefix(size, 0xC0)
        return keccak_256(head + b"\x82\x20\x80" + value).digest()
    trie = HexaryTrie({}, BLANK_ROOT)
    with trie.squash_changes() as memory:
        for i, item in enumerate(items):
            memory[rlp.encode(i, sedes=rlp.sedes.big_endian_int)] = item
    return trie.root_hash


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The audit holds 10^6 live objects (blocks, events, log entries) and makes no cycles:
    Python's cyclic collector would walk them all again and again (a third of the audit's
    time at 10^5 events) to free nothing. Reference counting still frees what is dropped."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


ZERO_DIGEST = "0x" + "00" * 32


def _dp_digest(meta: Any) -> str | None:
    """The digest of stored DP metadata as the gate computes it (None: not valid metadata,
    which the gate refuses too)."""
    try:
        return "0x" + DatasetMeta.model_validate(meta).digest().hex()
    except ValidationError:
        return None


def _logged_milli(value: Any) -> int:
    """An answer's logged ε in milli-ε, rounded up: an answer logged at ε 0.00149 (before
    budgets were exact) used more than the 0.001 it was charged, and the check says so."""
    try:
        return Epsilon.parse(value, allow_zero=True).milli
    except BudgetTooFine:
        text = repr(value) if isinstance(value, float) else str(value)
        return math.ceil(Fraction(Decimal(text)) * Epsilon.SCALE)
    except BudgetError:  # not a number: a garbled entry counts for nothing
        return 0


@dataclass
class Finding:
    kind: str
    severity: str
    department: str | None
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Grant:
    id: int
    dataset_id: str
    consumer: str
    owner: str | None
    mode: str
    ceiling_milli: int
    requested_block: int
    authorized_block: int | None = None
    expires_at: float | None = None
    revoked_block: int | None = None
    spent_milli: int = 0
    spends: list[tuple[float, int, str]] = field(default_factory=list)
    #: δ spent, in nano-δ (the sum of the grant's BudgetSpent events)
    spent_nano: int = 0


@dataclass
class ChainFacts:
    """What the chain says, read from a freshly rebuilt index."""

    head: int
    times: dict[int, int]
    names: dict[str, str] = field(default_factory=dict)
    #: account → "pending" | "active" | "suspended" at the head
    status: dict[str, str] = field(default_factory=dict)
    #: account → [[from block, to block)] periods of suspension
    suspended: dict[str, list[list[float]]] = field(default_factory=lambda: defaultdict(list))
    #: account → [(block, roles)] activations (roles as names)
    roles: dict[str, list[tuple[int, list[str]]]] = field(default_factory=lambda: defaultdict(list))
    owners: dict[str, str] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)
    grants: dict[int, Grant] = field(default_factory=dict)
    approvals: list[IndexedEvent] = field(default_factory=list)
    #: KeyReleased events: (request id, tx, block)
    releases: list[tuple[int, str, int]] = field(default_factory=list)
    batches: dict[str, dict[int, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    events: list[IndexedEvent] = field(default_factory=list)
    #: account → the department it was assigned to (a member is otherwise its own)
    departments: dict[str, str] = field(default_factory=dict)

    def suspended_at(self, account: str, block: int) -> bool:
        return any(a <= block < b for a, b in self.suspended.get(account, []))

    def provider_at(self, account: str, block: int) -> bool:
        active = [r for at, r in self.roles.get(account, []) if at <= block]
        return bool(active) and "provider" in active[-1] and not self.suspended_at(account, block)


@dataclass
class AuditResult:
    head: int
    findings: list[Finding]
    checks: dict[str, dict[str, Any]]
    counts: dict[str, int]
    logs: dict[str, list[dict[str, Any]]]
    facts: ChainFacts | None = None

    @property
    def problems(self) -> list[Finding]:
        """Findings above 'info' (an 'info' finding is a refused attempt, for the record)."""
        return [f for f in self.findings if f.severity != "info"]

    def as_dict(self) -> dict[str, Any]:
        by_severity = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            by_severity[f.severity] += 1
        return {
            "head": self.head,
            "clean": not self.problems,
            "findings_by_severity": by_severity,
            "counts": self.counts,
            "checks": self.checks,
            "findings": [asdict(f) for f in self.findings],
        }


class Auditor:
    """Runs every check as a regulator (``key`` signs the requests to the nodes)."""

    def __init__(
        self,
        backend: ChainBackend,
        contracts: dict[str, str],
        key: bytes,
        *,
        max_log_delay: float = 300.0,
        roots: bool = True,
        node_timeout: float = NODE_TIMEOUT,
        client_factory: Callable[..., NodeClient] = NodeClient,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.contracts = contracts
        self.key = key
        #: seconds from when a node could first anchor a log entry until it must have
        self.max_log_delay = max_log_delay
        self.node_timeout = node_timeout
        #: recompute each block's transaction and receipt roots where the backend serves them
        self.roots = roots
        self.roots_checked = 0
        self.client_factory = client_factory
        self.now = now
        self.findings: list[Finding] = []
        self.checks: dict[str, dict[str, Any]] = {}
        self.endpoints: dict[str, str] = {}
        self._futures: dict[tuple, Future] = {}
        #: each node's download log (or why it could not be read), read before its access log
        self._downloads: dict[str, Any] = {}

    def find(
        self, kind: str, severity: str, account: str | None, message: str, **evidence: Any
    ) -> None:
        name = self.facts.names.get(account, account) if account else None
        self.findings.append(Finding(kind, severity, name, message, evidence))

    @contextmanager
    def check(self, name: str) -> Iterator[dict[str, Any]]:
        info: dict[str, Any] = {"items": 0}
        before = len(self.findings)
        started = time.perf_counter()
        try:
            yield info
        finally:
            info["seconds"] = round(time.perf_counter() - started, 3)
            info["findings"] = len(self.findings) - before
            self.checks[name] = info

    # -- the run ---------------------------------------------------------------------------
    def run(self, progress: Callable[[str], None] | None = None) -> AuditResult:
        say = progress or (lambda _m: None)
        head = self.backend.block_number()
        # The nodes compute their index digests and serve their logs in their own processes
        # while this one walks the chain and rebuilds the index: ask them first.
        pool = ThreadPoolExecutor(max_workers=4)
        try:
            for account in self._early_members(head):
                self._prefetch(pool, account, "/v1/audit/index", to_block=head)
                self._futures[(account, "log")] = pool.submit(self._fetch_logs, account)
            with _cyclic_gc_paused():
                return self._run(head, say)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _early_members(self, head: int) -> list[str]:
        """The members active at ``head`` (the only ones contacted) and every endpoint, from
        the registry's events alone (a few rows)."""
        if not self.contracts.get("registry"):
            return []
        abi = load_artifact(REGISTRY).abi
        status: dict[str, str] = {}
        for log in self.backend.get_logs(0, head, [self.contracts["registry"]]):
            e = abi.decode_log(log)
            if e is None:
                continue
            if e.event in STATUS_AFTER:
                status[e.args["account"]] = STATUS_AFTER[e.event]
            if e.event in ("MemberRegistered", "EndpointChanged"):
                self.endpoints[e.args["account"]] = e.args["endpoint"]
        return [a for a, s in status.items() if s == "active" and a in self.endpoints]

    def watched(self) -> dict[str, str]:
        """The audited contracts: address → artifact."""
        return {
            self.contracts[key]: artifact
            for key, artifact in (
                ("registry", REGISTRY),
                ("catalog", CATALOG),
                ("access", ACCESS),
                ("audit", AUDIT),
                ("commitments", VALUE_COMMITMENTS),
                ("joint", JOINT_QUERY),
            )
            if self.contracts.get(key)
        }

    def _prefetch(self, pool: ThreadPoolExecutor, account: str, path: str, **params: Any) -> None:
        key = (account, path, tuple(sorted(params.items())))
        self._futures[key] = pool.submit(self._fetch, account, path, params)

    def _run(self, head: int, say: Callable[[str], None]) -> AuditResult:
        say(f"walking {head + 1} blocks")
        with self.check("chain") as info:
            times, logs = self._walk_chain(head)
            info["items"] = head + 1
            info["roots_checked"] = self.roots_checked
        say("rebuilding the event index from the chain")
        with self.check("index_rebuild") as info:
            if logs is not None:
                # read from the receipts whose roots the walk just checked
                events = decode_logs(logs, watched_abis(self.watched()))
                info["source"] = "receipts"
            else:
                events = decode_events(self.backend, self.watched(), 0, head)
                info["source"] = "eth_getLogs"
            info["items"] = len(events)
            self.facts = self._facts(head, times, events)
            reference = index_digest(events)
        for account, status in self.facts.status.items():
            if status == "suspended":
                self.find(
                    "member_not_contacted",
                    "info",
                    account,
                    "suspended at this head: its node's index, log and stored versions were "
                    "not checked (they are again once it is reinstated)",
                )
        say("comparing every node's index")
        with self.check("node_indexes") as info:
            self._check_indexes(head, reference)
            info["items"] = len(self.endpoints)
        say(f"hashing {len(self.facts.versions)} stored versions")
        with self.check("stored_blobs") as info:
            self._check_blobs()
            info["items"] = len(self.facts.versions)
        with self.check("dp_metadata") as info:
            info["items"] = self._check_dp_metadata()
        with self.check("quality_documents") as info:
            info["items"] = check_quality_documents(self)
        with self.check("commitment_totals") as info:
            info["items"] = check_commitment_totals(self)
        say("verifying the access logs against their anchored roots")
        with self.check("access_logs") as info:
            logs = self._check_logs()
            info["items"] = sum(len(v) for v in logs.values())
        with self.check("downloads_logged") as info:
            info["items"] = self._check_downloads(logs)
        with self.check("grants_at_access_time") as info:
            info["items"] = self._check_access(logs)
        with self.check("budgets") as info:
            info["items"] = self._check_budgets(logs)
        with self.check("joint_runs") as info:
            info["items"] = check_joint_runs(self, logs)
        with self.check("lifetime_budgets") as info:
            info["items"] = self._check_lifetime(head)
        with self.check("approvals") as info:
            info["items"] = self._check_approvals(logs)
        with self.check("key_releases") as info:
            info["items"] = self._check_releases(logs)
        order = {s: i for i, s in enumerate(SEVERITIES)}
        self.findings.sort(key=lambda f: (order[f.severity], f.kind))
        counts = {
            "blocks": head + 1,
            "events": len(self.facts.events),
            "members": len(self.facts.names),
            "dataset_versions": len(self.facts.versions),
            "grants": len(self.facts.grants),
            "log_entries": sum(len(v) for v in logs.values()),
        }
        return AuditResult(head, self.findings, self.checks, counts, logs, self.facts)

    # -- chain -----------------------------------------------------------------------------
    def _walk_chain(self, head: int) -> tuple[dict[int, int], list[RawLog] | None]:
        """Each block must link to the one before. Where the backend serves blocks as stored
        the hashes are computed here (keccak of the header), not taken from the node, each
        block's transaction and receipt roots are recomputed (unless ``roots`` is off), and
        the watched contracts' logs are read from those receipts (None: the backend serves
        no stored blocks, ask ``get_logs`` instead)."""
        times: dict[int, int] = {}
        previous: tuple[int, bytes] | None = None
        # raw address → checksummed, for reading receipts
        watched = {bytes.fromhex(a[2:]): checksum(a) for a in self.watched()}
        logs: list[RawLog] | None = []

        def fetch(lo: int, hi: int) -> tuple[list | None, list | None, list]:
            full = self.backend.raw_blocks(lo, hi)
            raw = None if full is not None else self.backend.raw_headers(lo, hi)
            plain = self.backend.get_blocks(lo, hi) if full is None and raw is None else []
            return full, raw, plain

        # The chain host reads the next ranges while this thread hashes the current one.
        ranges = [(lo, min(head, lo + 1999)) for lo in range(0, head + 1, 2000)]
        pool = ThreadPoolExecutor(max_workers=2)
        pending = deque(pool.submit(fetch, *r) for r in ranges[:2])
        ahead = iter(ranges[2:])
        while pending:
            full, raw, plain = pending.popleft().result()
            if (nxt := next(ahead, None)) is not None:
                pending.append(pool.submit(fetch, *nxt))
            if full is not None:
                blocks = []
                for b in full:
                    parent, tx_root, receipt_root, number, timestamp = header_links(b.header)
                    block_hash = keccak_256(b.header).digest()
                    if self.roots:
                        self._check_roots(number, tx_root, receipt_root, b)
                    if logs is not None:
                        self._receipt_logs(number, block_hash, b, watched, logs)
                    blocks.append((number, block_hash, parent, timestamp))
            elif raw is not None:
                logs = None  # no receipts from this backend: the index comes from get_logs
                blocks = []
                for r in raw:
                    parent, _, _, number, timestamp = header_links(r)
                    blocks.append((number, keccak_256(r).digest(), parent, timestamp))
            else:
                logs = None
                blocks = [(b.number, b.hash, b.parent_hash, b.timestamp) for b in plain]
            for number, block_hash, parent_hash, timestamp in blocks:
                if previous is not None and parent_hash != previous[1]:
                    self.findings.append(
                        Finding(
                            "chain_broken",
                            "critical",
                            None,
                            f"block {number} does not link to block {previous[0]}",
                            {
                                "block": number,
                                "parent_hash": "0x" + parent_hash.hex(),
                                "previous_hash": "0x" + previous[1].hex(),
                            },
                        )
                    )
                times[number] = timestamp
                previous = (number, block_hash)
        pool.shutdown()
        return times, logs

    def _check_roots(
        self, number: int, tx_root: bytes, receipt_root: bytes, block: RawBlock
    ) -> None:
        self.roots_checked += 1
        for what, items, committed in (
            ("transaction", block.transactions, tx_root),
            ("receipt", block.receipts, receipt_root),
        ):
            root = trie_root(items)
            if root != committed:
                self.findings.append(
                    Finding(
                        "block_roots_mismatch",
                        "critical",
                        None,
                        f"block {number}'s {what}s do not hash to the {what} root its header "
                        "commits to",
                        {
                            "block": number,
                            "committed": "0x" + committed.hex(),
                            "recomputed": "0x" + root.hex(),
                        },
                    )
                )

    def _receipt_logs(
        self,
        number: int,
        block_hash: bytes,
        block: RawBlock,
        watched: dict[bytes, str],
        out: list[RawLog],
    ) -> None:
        """The watched contracts' logs of one block, from its receipts (log indexes count
        every log of the block, as the chain numbers them)."""
        if len(block.receipts) != len(block.transactions):
            self.findings.append(
                Finding(
                    "block_unreadable",
                    "critical",
                    None,
                    f"block {number} holds {len(block.transactions)} transactions but "
                    f"{len(block.receipts)} receipts",
                    {"block": number},
                )
            )
            return
        log_index = 0
        for tx_index, receipt in enumerate(block.receipts):
            try:
                found = receipt_logs(receipt)
            except ValueError as exc:
                self.findings.append(
                    Finding(
                        "block_unreadable",
                        "critical",
                        None,
                        f"block {number}'s receipt {tx_index} is not a receipt ({exc})",
                        {"block": number, "tx_index": tx_index},
                    )
                )
                continue
            tx_hash = None
            for address, topics, data in found:
                account = watched.get(address)
                if account is not None:
                    if tx_hash is None:
                        tx_hash = keccak_256(block.transactions[tx_index]).digest()
                    out.append(
                        RawLog(
                            account,
                            topics,
                            data,
                            number,
                            block_hash,
                            tx_hash,
                            tx_index,
                            log_index,
                        )
                    )
                log_index += 1

    def _facts(self, head: int, times: dict[int, int], events: list[IndexedEvent]) -> ChainFacts:
        facts = ChainFacts(head=head, times=times, events=events)
        c = {k: (v or "").lower() for k, v in self.contracts.items()}
        for e in events:
            t = float(times.get(e.block_number, 0))
            a = e.args
            addr = e.address.lower()
            if addr == c.get("registry"):
                if e.event in STATUS_AFTER:
                    facts.status[a["account"]] = STATUS_AFTER[e.event]
                if e.event == "MemberRegistered":
                    facts.names[a["account"]] = a["name"]
                    self.endpoints[a["account"]] = a["endpoint"]
                elif e.event == "EndpointChanged":
                    self.endpoints[a["account"]] = a["endpoint"]
                elif e.event == "MemberActivated":
                    facts.roles[a["account"]].append((e.block_number, mask_to_roles(a["roles"])))
                elif e.event == "MemberSuspended":
                    facts.suspended[a["account"]].append([e.block_number, FOREVER])
                elif e.event == "MemberReinstated" and facts.suspended.get(a["account"]):
                    facts.suspended[a["account"]][-1][1] = e.block_number
                elif e.event == "DepartmentAssigned":
                    facts.departments[a["account"]] = a["department"]
            elif addr == c.get("catalog"):
                if e.event == "DatasetCreated":
                    facts.owners[a["datasetId"]] = a["owner"]
                elif e.event == "VersionPublished":
                    facts.versions.append(
                        {
                            "dataset_id": a["datasetId"],
                            "version": a["version"],
                            "owner": facts.owners.get(a["datasetId"]),
                            "ciphertext_hash": a["ciphertextHash"],
                            "size": int(a["size"]),
                            "dp_metadata_hash": a["dpMetadataHash"],
                            "tx": e.tx_hash,
                        }
                    )
            elif addr == c.get("access"):
                rid = a.get("requestId")
                g = facts.grants.get(rid)
                if e.event == "AccessRequested":
                    facts.grants[rid] = Grant(
                        rid,
                        a["datasetId"],
                        a["consumer"],
                        facts.owners.get(a["datasetId"]),
                        "dp" if a["mode"] == 1 else "raw",
                        int(a["epsilonMilli"]),
                        e.block_number,
                    )
                elif g is None:
                    continue
                elif e.event == "AccessAuthorized":
                    g.authorized_block, g.expires_at = e.block_number, float(a["expiresAt"])
                elif e.event == "AccessRevoked":
                    g.revoked_block = e.block_number
                elif e.event == "AccessApproved":
                    facts.approvals.append(e)
                elif e.event == "KeyReleased":
                    facts.releases.append((rid, e.tx_hash, e.block_number))
                elif e.event == "BudgetSpent":
                    g.spent_milli = int(a["spentMilli"])
                    g.spends.append((t, int(a["epsilonMilli"]), e.tx_hash))
                    g.spent_nano += int(a["deltaNano"])
            elif addr == c.get("audit") and e.event == "LogBatchAnchored":
                facts.batches[a["node"]][int(a["seq"])] = {
                    "root": a["root"],
                    "count": int(a["count"]),
                    "first_at": int(a["firstAt"]),
                    "last_at": int(a["lastAt"]),
                    "anchored_at": t,
                    "tx": e.tx_hash,
                }
        return facts

    # -- nodes -----------------------------------------------------------------------------
    def _nodes(self) -> list[str]:
        """The members contacted: active at the head, at their registered endpoint."""
        status = self.facts.status
        return [a for a in self.facts.names if status.get(a) == "active" and a in self.endpoints]

    def _client(self, account: str) -> NodeClient:
        # the audience is the member's registry address, never what its endpoint says it is
        return self.client_factory(
            self.endpoints[account], self.key, audience=account, timeout=self.node_timeout
        )

    def _fetch(self, account: str, path: str, params: dict[str, Any]) -> Any:
        deadline = time.monotonic() + self.node_timeout
        with self._client(account) as c:
            chunks = c.stream("GET", path, params=params or None, chunk=None)
            body = b"".join(_within(chunks, deadline, MAX_ANSWER, path))
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise NodeAnswerInvalid(
                f"{path} answered {len(body)} bytes that are not JSON: {body[:80]!r}"
            ) from None

    def _get(self, account: str, path: str, **params: Any) -> Any:
        future = self._futures.pop((account, path, tuple(sorted(params.items()))), None)
        if future is not None:
            return future.result()
        return self._fetch(account, path, params)

    def _fetch_logs(self, account: str) -> Any:
        """A node's access log, after its download log (kept in ``_downloads``): every
        download listed then has its intent entry, written in the same transaction as its
        download-log row, in the access log read afterwards."""
        try:
            self._downloads[account] = self._fetch(account, "/v1/downloads", {})
        except (TanlianError, OSError) as exc:
            self._downloads[account] = exc
        return self._fetch(account, "/v1/audit/log", {})

    def _log_of(self, account: str) -> Any:
        future = self._futures.pop((account, "log"), None)
        return self._fetch_logs(account) if future is None else future.result()

    def _check_indexes(self, head: int, reference: tuple[str, int]) -> None:
        for account in self._nodes():
            try:
                got = self._get(account, "/v1/audit/index", to_block=head)
                if not (
                    isinstance(got, dict)
                    and isinstance(got.get("digest"), str)
                    and _int(got.get("events"))
                ):
                    raise NodeAnswerInvalid("the index answer is not {digest, events}")
            except (TanlianError, OSError) as exc:
                self.find("node_unreachable", "medium", account, f"index not readable: {exc}")
                continue
            if (got["digest"], got["events"]) != reference:
                self.find(
                    "index_mismatch",
                    "high",
                    account,
                    f"its index up to block {head} differs from the chain's "
                    f"({got['events']} events vs {reference[1]})",
                    node_digest=got["digest"],
                    chain_digest=reference[0],
                )

    def _check_blobs(self) -> None:
        """Fetch every anchored version's ciphertext from its owner and hash it here (the
        versions of each owner asked for in batches, each answered as one stream)."""
        todo: dict[str, list[dict[str, Any]]] = defaultdict(list)
        contacted = set(self._nodes())
        for v in self.facts.versions:
            if v["owner"] in contacted:
                todo[v["owner"]].append(v)
        batches = [
            (owner, vs[i : i + BLOB_BATCH])
            for owner, vs in todo.items()
            for i in range(0, len(vs), BLOB_BATCH)
        ]

        def fetch(owner: str, batch: list[dict[str, Any]]) -> list[tuple]:
            body = {
                "versions": [
                    {"dataset_id": v["dataset_id"], "version": v["version"]} for v in batch
                ]
            }
            out: list[tuple[dict[str, Any], str | None, str | None]] = []
            # as long as the anchored sizes take at MIN_BLOB_RATE, and no longer
            allowed = self.node_timeout + sum(v["size"] for v in batch) / MIN_BLOB_RATE
            try:
                with self._client(owner) as c:
                    chunks = c.stream("POST", "/v1/audit/blobs", chunk=None, body=body)
                    frames = FrameReader(
                        _within(chunks, time.monotonic() + allowed, 1 << 62, "/v1/audit/blobs")
                    )
                    for v in batch:
                        found, size = frames.header()
                        if not found:
                            out.append((v, None, frames.error(size)[0]))
                            continue
                        h = hashlib.sha256()
                        for piece in frames.pieces(size):
                            h.update(piece)
                        out.append((v, "0x" + h.hexdigest(), None))
                    frames.end()
            except NodeApiError as exc:  # the provider refused: each version is unchecked
                return out + [(v, None, exc.code) for v in batch[len(out) :]]
            except (TanlianError, OSError) as exc:
                unreachable[owner] = str(exc)
                return out
            return out

        unreachable: dict[str, str] = {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = [r for part in pool.map(lambda b: fetch(*b), batches) for r in part]
        for owner, why in unreachable.items():
            done = {(v["dataset_id"], v["version"]) for v, *_ in results}
            left = [v for v in todo[owner] if (v["dataset_id"], v["version"]) not in done]
            self.find(
                "node_unreachable",
                "medium",
                owner,
                f"{len(left)} stored versions could not be fetched for hashing: {why}",
                versions=[[v["dataset_id"], v["version"]] for v in left],
            )
        for v, stored, error in results:
            owner = v["owner"]
            if error is not None:
                self.find(
                    "blob_missing",
                    "high",
                    owner,
                    f"version {v['version']} of {v['dataset_id'][:10]}… cannot be fetched: {error}",
                    dataset_id=v["dataset_id"],
                    version=v["version"],
                    anchor_tx=v["tx"],
                )
            elif stored != v["ciphertext_hash"]:
                self.find(
                    "hash_mismatch",
                    "critical",
                    owner,
                    f"the stored ciphertext of {v['dataset_id'][:10]}… v{v['version']} does "
                    "not match the hash anchored on chain",
                    dataset_id=v["dataset_id"],
                    version=v["version"],
                    anchored=v["ciphertext_hash"],
                    stored=stored,
                    anchor_tx=v["tx"],
                )

    def _check_dp_metadata(self) -> int:
        """The DP metadata each owner stores (the bounds and public keys its gate answers
        with) must be what was anchored with the version: a public key added in the node's
        database would let group-bys answer on it."""
        contacted = set(self._nodes())
        anchored: dict[str, dict[tuple[str, int], dict[str, Any]]] = defaultdict(dict)
        for v in self.facts.versions:
            if v["owner"] in contacted:
                anchored[v["owner"]][(v["dataset_id"].lower(), v["version"])] = v
        checked = 0
        for owner, versions in anchored.items():
            try:
                got = self._get(owner, "/v1/audit/dp-metadata")
                stored = {
                    (str(x["dataset_id"]).lower(), int(x["version"])): x["dp_metadata"]
                    for x in got["versions"]
                }
            except (TanlianError, OSError) as exc:
                self.find("node_unreachable", "medium", owner, f"DP metadata not readable: {exc}")
                continue
            except (KeyError, TypeError, ValueError) as exc:
                self.find(
                    "node_unreachable", "medium", owner, f"DP metadata answer malformed: {exc!r}"
                )
                continue
            for key, v in versions.items():
                meta = stored.get(key)
                if meta is None and v["dp_metadata_hash"] == ZERO_DIGEST:
                    continue
                checked += 1
                digest = _dp_digest(meta) if meta is not None else None
                if digest == v["dp_metadata_hash"]:
                    continue
                self.find(
                    "dp_metadata_mismatch",
                    "high",
                    owner,
                    f"the DP metadata stored for {v['dataset_id'][:10]}… v{v['version']} "
                    + (
                        "is missing"
                        if meta is None
                        else "does not match the digest anchored with the version"
                    )
                    + ": bounds or public keys were changed off chain",
                    dataset_id=v["dataset_id"],
                    version=v["version"],
                    anchored=v["dp_metadata_hash"],
                    stored=digest,
                    anchor_tx=v["tx"],
                )
        return checked

    def _check_logs(self) -> dict[str, list[dict[str, Any]]]:
        logs: dict[str, list[dict[str, Any]]] = {}
        now = self.now()
        for account in self._nodes():
            try:
                got = self._log_of(account)
                if not isinstance(got, dict) or not isinstance(got.get("entries"), list):
                    raise NodeAnswerInvalid("the log answer is not {entries: [...]}")
                entries = got["entries"]
                for e in entries:
                    if not _entry_ok(e):
                        raise NodeAnswerInvalid(_entry_problem(e))
            except (TanlianError, OSError) as exc:
                self.find("node_unreachable", "medium", account, f"log not readable: {exc}")
                continue
            logs[account] = entries
            by_batch: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for e in entries:
                e["_hash"] = entry_hash(e)
                e["_tampered"] = "0x" + e["_hash"].hex() != e["entry_hash"]
                if e["batch"] is None:
                    logged = float(e["detail"].get("logged_at", e["at"]))
                    if now - logged > self.max_log_delay:
                        self.find(
                            "unanchored_log",
                            "medium",
                            account,
                            f"log entry {e['seq']} ({e['kind']}) was written "
                            f"{int(now - logged)} s ago and is not anchored on chain",
                            seq=e["seq"],
                        )
                else:
                    by_batch[e["batch"]].append(e)
            anchored = self.facts.batches.get(account, {})
            for seq, b in sorted(anchored.items()):
                mine = by_batch.pop(seq, [])
                if len(mine) > 1:
                    mine.sort(key=lambda e: e["leaf"])
                if not mine:
                    self.find(
                        "log_batch_missing",
                        "critical",
                        account,
                        f"batch {seq} ({b['count']} entries) is anchored on chain but gone "
                        "from the node's log",
                        batch=seq,
                        anchor_tx=b["tx"],
                        root=b["root"],
                    )
                    continue
                root = merkle.root([merkle.leaf_hash(e["_hash"]) for e in mine])
                if len(mine) != b["count"] or "0x" + root.hex() != b["root"]:
                    edited = [e["seq"] for e in mine if e["_tampered"]]
                    self.find(
                        "log_tampered",
                        "critical",
                        account,
                        f"batch {seq} no longer matches its anchored root: entries edited, "
                        f"dropped or reordered ({len(mine)} of {b['count']} entries left"
                        + (f"; edited: {edited}" if edited else "")
                        + ")",
                        batch=seq,
                        anchored_root=b["root"],
                        recomputed_root="0x" + root.hex(),
                        anchor_tx=b["tx"],
                        edited_entries=edited,
                    )
                    for e in mine:
                        e["_unproven"] = True
                oldest = min(mine, key=self._anchorable_at)
                delay = b["anchored_at"] - self._anchorable_at(oldest)
                if delay > self.max_log_delay:
                    self.find(
                        "late_log_batch",
                        "low",
                        account,
                        f"batch {seq} was anchored {int(delay)} s after its entry "
                        f"{oldest['seq']} was written (limit {self.max_log_delay:g} s)",
                        batch=seq,
                        seq=oldest["seq"],
                        delay=int(delay),
                        anchor_tx=b["tx"],
                    )
            for seq, mine in by_batch.items():
                self.find(
                    "log_batch_unanchored",
                    "high",
                    account,
                    f"the node's log claims batch {seq} ({len(mine)} entries), which is not "
                    "on chain",
                    batch=seq,
                )
        return logs

    def _anchorable_at(self, e: dict[str, Any]) -> float:
        """From when the node could have anchored entry ``e``, on the anchoring block's clock.

        The node's wall clock when it wrote the entry (``logged_at``, else ``at``): after a
        quiet period the head block it acted on is minutes old, and a prompt anchor must not
        look late. Or that block's time, when later: the embedded chain's clock runs ahead of
        the wall clock under load (each block at least 1 s after the last)."""
        logged = float(e["detail"].get("logged_at", e["at"]))
        seen = self.facts.times.get(e["detail"].get("block", -1))
        return logged if seen is None else max(logged, float(seen))

    # -- rules -----------------------------------------------------------------------------
    def _check_access(self, logs: dict[str, list[dict[str, Any]]]) -> int:
        """Each download and DP answer against its grant as it stood at the logged block."""
        n = 0
        times = self.facts.times
        for node, entries in logs.items():
            # intents whose download ended (not interrupted) before its first byte
            nothing_sent = {
                e["detail"].get("intent")
                for e in entries
                if e["kind"] == "download"
                and "download" in e["detail"]
                and e["detail"].get("bytes") == 0
                and e["detail"].get("outcome") != INTERRUPTED
            }
            for e in entries:
                if e["kind"] not in ("download_intent", "download", "dp_answer"):
                    continue
                if e["kind"] == "download_intent" and e["seq"] in nothing_sent:
                    continue
                # a download is judged by its intent (at the block it was decided on); an
                # outcome entry only where it has none (logged before intents were)
                if e["kind"] == "download" and (
                    "download" in e["detail"] or not e["detail"].get("bytes")
                ):
                    continue
                n += 1
                block = e["detail"].get("block")
                g = self.facts.grants.get(e["request_id"])
                what = f"{e['kind']} (log entry {e['seq']}, request {e['request_id']})"
                evidence = {"seq": e["seq"], "request": e["request_id"], "block": block}
                need = "dp" if e["kind"] == "dp_answer" else "raw"
                if (
                    g is None
                    or not isinstance(block, int)
                    or block > self.facts.head
                    or g.consumer != e["consumer"]
                    or g.owner != node
                    or g.mode != need
                    or (e["dataset_id"] and g.dataset_id != e["dataset_id"])
                    or g.authorized_block is None
                    or block < g.authorized_block
                ):
                    self.find(
                        "access_without_grant",
                        "critical",
                        node,
                        f"{what} to {self.facts.names.get(e['consumer'], e['consumer'])} "
                        "had no matching authorized grant",
                        **evidence,
                    )
                    continue
                if g.revoked_block is not None and block >= g.revoked_block:
                    self.find(
                        "access_after_revocation",
                        "high",
                        node,
                        f"{what} served at block {block}, after the grant was revoked at "
                        f"block {g.revoked_block}",
                        revoked_block=g.revoked_block,
                        **evidence,
                    )
                elif g.expires_at is not None and times.get(block, 0) > g.expires_at:
                    self.find(
                        "access_after_expiry",
                        "high",
                        node,
                        f"{what} served {int(times[block] - g.expires_at)} s (chain time) "
                        "after the grant expired",
                        expires_at=g.expires_at,
                        **evidence,
                    )
                for party, role in ((g.consumer, "consumer"), (node, "owner")):
                    if self.facts.suspended_at(party, block):
                        self.find(
                            "suspended_node_activity",
                            "high",
                            party,
                            f"{what} while the {role} "
                            f"{self.facts.names.get(party, party)} was suspended",
                            **evidence,
                        )
        return n

    def _check_downloads(self, logs: dict[str, list[dict[str, Any]]]) -> int:
        """Each node's download log against its access log: every download has the intent
        entry written before its first byte (an entry deleted later, even unanchored, is
        found here), and its outcome entry agrees with the download log."""
        n = 0
        for node, entries in logs.items():
            try:
                rows = _download_rows(self._downloads.get(node))
            except (TanlianError, OSError) as exc:
                self.find("node_unreachable", "medium", node, f"download log not readable: {exc}")
                continue
            intents: dict[int, dict[str, Any]] = {}
            outcomes: dict[int, dict[str, Any]] = {}
            legacy: Counter[int] = Counter()  # outcome entries from before intents were logged
            for e in entries:
                dl = e["detail"].get("download")
                if e["kind"] == "download_intent" and dl is not None:
                    intents[dl] = e
                elif e["kind"] == "download" and dl is not None:
                    outcomes[dl] = e
                elif e["kind"] == "download":
                    legacy[e["request_id"]] += 1
            for r in rows:
                n += 1
                dl, rid = r["id"], r["request_id"]
                what = f"download {dl} of request {rid}"
                evidence = {"download": dl, "request": rid, "bytes": r["bytes"]}
                out = outcomes.get(dl)
                if dl not in intents:
                    if out is None and legacy[rid] > 0:
                        legacy[rid] -= 1
                        continue
                    self.find(
                        "unlogged_download",
                        "high",
                        node,
                        f"{what} ({r['bytes']} bytes, {r['outcome']}) is in the node's "
                        "download log but its access log has no intent entry for it",
                        outcome=r["outcome"],
                        **evidence,
                    )
                elif out is None and r["outcome"] == STARTED:
                    self.find(
                        "download_unfinished",
                        "info",
                        node,
                        f"{what} has no outcome yet: in flight, or its node stopped "
                        "mid-stream and has not restarted since",
                        seq=intents[dl]["seq"],
                        **evidence,
                    )
                elif out is None:
                    self.find(
                        "unlogged_download_outcome",
                        "medium",
                        node,
                        f"{what} ended ({r['outcome']}, {r['bytes']} bytes) without its "
                        "outcome entry in the access log",
                        seq=intents[dl]["seq"],
                        **evidence,
                    )
                if out is not None and (
                    out["detail"].get("bytes") != r["bytes"]
                    or out["detail"].get("outcome") != r["outcome"]
                ):
                    self.find(
                        "download_log_mismatch",
                        "medium",
                        node,
                        f"{what}: the access log says {out['detail'].get('bytes')} bytes, "
                        f"{out['detail'].get('outcome')}; the download log {r['bytes']} "
                        f"bytes, {r['outcome']}",
                        seq=out["seq"],
                        **evidence,
                    )
            # intents newer than the download log read before the access log are not judged
            listed = {r["id"] for r in rows}
            newest = max(listed, default=0)
            for dl, e in sorted(intents.items()):
                if dl not in listed and dl <= newest:
                    self.find(
                        "download_record_missing",
                        "medium",
                        node,
                        f"download {dl} of request {e['request_id']} (log entry {e['seq']}) is "
                        "missing from the node's download log",
                        seq=e["seq"],
                        download=dl,
                        request=e["request_id"],
                    )
        return n

    def _check_budgets(self, logs: dict[str, list[dict[str, Any]]]) -> int:
        # exact milli-ε: the log's decimal ε read back as the integer the chain charged
        logged: dict[int, int] = defaultdict(int)
        for node, entries in logs.items():
            for e in entries:
                if e["kind"] in ("dp_answer", "joint_spent"):
                    logged[e["request_id"]] += _logged_milli(e["detail"].get("epsilon", 0))
                elif e["kind"] == "dp_refused":
                    self.find(
                        "budget_overrun_attempt",
                        "info",
                        e["consumer"],
                        f"asked {e['detail'].get('epsilon')} ε past the budget of request "
                        f"{e['request_id']} (refused by {self.facts.names.get(node, node)})",
                        seq=e["seq"],
                        request=e["request_id"],
                        owner=self.facts.names.get(node, node),
                    )
        dp = [g for g in self.facts.grants.values() if g.mode == "dp"]
        for g in dp:
            spent = Epsilon(g.spent_milli)
            if g.spent_milli > g.ceiling_milli:
                self.find(
                    "budget_overrun",
                    "critical",
                    g.owner,
                    f"request {g.id} spent ε {spent} over its ceiling {Epsilon(g.ceiling_milli)}",
                    request=g.id,
                    spend_txs=[tx for *_, tx in g.spends],
                )
            have = Epsilon(logged.get(g.id, 0))
            if have > spent:
                self.find(
                    "answer_without_spend",
                    "critical",
                    g.owner,
                    f"request {g.id}: answers worth ε {have} logged, ε {spent} paid on chain",
                    request=g.id,
                )
            elif have < spent and g.owner in logs:
                self.find(
                    "unlogged_answer",
                    "medium",
                    g.owner,
                    f"request {g.id}: ε {spent} paid on chain, answers worth ε {have} logged",
                    request=g.id,
                    spend_txs=[tx for *_, tx in g.spends],
                )
        return len(dp)

    def _check_lifetime(self, head: int) -> int:
        """The lifetime ledgers the access contract keeps (per consumer account and per
        department, on each dataset; a new grant draws only from what they leave) must be the
        sums of every BudgetSpent on chain: a ledger below them would let grants reset the
        budget."""
        access_address = self.contracts.get("access")
        if not access_address:
            return 0
        accounts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        departments: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for g in self.facts.grants.values():
            if g.mode != "dp" or not g.spends:
                continue
            department = self.facts.departments.get(g.consumer, g.consumer).lower()
            for ledger in (
                accounts[(g.consumer, g.dataset_id)],
                departments[(department, g.dataset_id)],
            ):
                ledger[0] += g.spent_milli
                ledger[1] += g.spent_nano
        client = ChainClient(self.backend)
        access = client.at(load_artifact(ACCESS), access_address)
        seen: set[tuple[str, str]] = set()
        for (consumer, dataset), (milli, nano) in accounts.items():
            b = client.call(
                access, "lifetimeBudgetOf", consumer, bytes.fromhex(dataset[2:]), block=head
            )
            department, held = b[0], (int(b[2]), int(b[4]))
            if held != (milli, nano):
                self.find(
                    "lifetime_ledger_mismatch",
                    "critical",
                    consumer,
                    f"lifetime budget on {dataset[:10]}…: the contract holds ε {Epsilon(held[0])} "
                    f"(δ {held[1]} nano) spent, its grants spent ε {Epsilon(milli)} "
                    f"(δ {nano} nano)",
                    dataset_id=dataset,
                    ledger=list(held),
                    spends=[milli, nano],
                )
            key = (str(department).lower(), dataset)
            if key in seen:
                continue
            seen.add(key)
            want = departments.get(key, [0, 0])
            held = (int(b[6]), int(b[8]))
            if held != tuple(want):
                self.find(
                    "lifetime_ledger_mismatch",
                    "critical",
                    department,
                    f"department lifetime budget on {dataset[:10]}…: the contract holds "
                    f"ε {Epsilon(held[0])} (δ {held[1]} nano) spent, the grants of its "
                    f"accounts spent ε {Epsilon(want[0])} (δ {want[1]} nano)",
                    dataset_id=dataset,
                    ledger=list(held),
                    spends=want,
                )
        return len(accounts) + len(seen)

    def _check_releases(self, logs: dict[str, list[dict[str, Any]]]) -> int:
        """Each key released on chain is in its owner's log: by its transaction, or by its
        request for an entry written before entries named the transaction."""
        by_tx: set[tuple[str, str]] = set()
        untagged: Counter[tuple[str, int]] = Counter()
        for node, entries in logs.items():
            for e in entries:
                if e["kind"] != "key_release":
                    continue
                if e["detail"].get("tx"):
                    by_tx.add((node, e["detail"]["tx"]))
                else:
                    untagged[(node, e["request_id"])] += 1
        for rid, tx, block in self.facts.releases:
            owner = self.facts.grants[rid].owner
            if owner not in logs or (owner, tx) in by_tx:
                continue
            if untagged[(owner, rid)] > 0:
                untagged[(owner, rid)] -= 1
                continue
            self.find(
                "unlogged_key_release",
                "medium",
                owner,
                f"the key of request {rid} was released on chain (block {block}), "
                "not in the owner's log",
                request=rid,
                tx=tx,
            )
        return len(self.facts.releases)

    def _check_approvals(self, logs: dict[str, list[dict[str, Any]]]) -> int:
        on_chain = set()
        for e in self.facts.approvals:
            a = e.args
            on_chain.add((a["approver"], e.tx_hash))
            g = self.facts.grants.get(a["requestId"])
            if g is None:
                continue
            if a["approver"] == g.owner:
                continue
            if a["approver"] == g.consumer or not self.facts.provider_at(
                a["approver"], e.block_number
            ):
                self.find(
                    "non_reviewer_approval",
                    "high",
                    a["approver"],
                    f"approved request {g.id} without being a reviewer at that time",
                    request=g.id,
                    tx=e.tx_hash,
                )
        for node, entries in logs.items():
            for e in entries:
                if e["kind"] == "approval" and (node, e["detail"].get("tx")) not in on_chain:
                    self.find(
                        "non_reviewer_approval",
                        "high",
                        node,
                        f"log entry {e['seq']} records an approval of request "
                        f"{e['request_id']} that is not on chain",
                        seq=e["seq"],
                        tx=e["detail"].get("tx"),
                    )
        return len(self.facts.approvals)
