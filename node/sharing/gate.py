"""The DP query gate on the owner's node: lock → cost → budget check → compute → record the
answer as pending → spend on chain → archive and log → answer.

Only the consumer of a usable DP grant on a dataset this node owns may query it. Queries of
one (consumer, dataset) pair run one at a time, so concurrent queries cannot overspend; the
spend is a chain transaction that reverts past the grant's ceiling, so no node can answer
beyond the budget either; if the spend fails, no answer leaves the node. `estimate` and
`dummy` (the same query on synthetic data of the same schema) spend nothing.

Budgets are exact (:mod:`node.privacy.budget`): the ε checked, charged on chain, logged and
given to the mechanisms is one integer of milli-ε. Everything decided before the spend
depends on the query, the metadata and the budget only, never on the rows: an empty cell is
answered and paid like any other.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from nacl.public import PrivateKey
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from node.chain.errors import ContractReverted
from node.chain.indexer.indexer import EventIndexer
from node.errors import InvalidInput, NotFound, TanlianError
from node.privacy.budget import Charge, Epsilon
from node.privacy.dp_queries import DatasetMeta, QueryRefused, QuerySpec, answer, cost
from node.privacy.models import QueryArchive, StoredVersion
from node.privacy.store import BlobStore, VersionStore, read_plaintext
from node.sharing.contracts import Mode, RequestInfo, Sharing
from node.sharing.service import GrantNotUsable, check_grant
from node.sharing.spends import SpendJournal

logger = logging.getLogger(__name__)


class CatalogNotConfigured(TanlianError):
    code = "registry_not_configured"
    http_status = 503


class BudgetExhausted(QueryRefused):
    code = "dp_budget_exhausted"
    http_status = 409


class LifetimeBudgetExhausted(BudgetExhausted):
    """The grant has budget left, but the consumer's (or its department's) lifetime budget
    on the dataset, which every grant draws on, has not."""

    code = "dp_lifetime_budget_exhausted"


class MetadataNotAnchored(QueryRefused):
    """The DP metadata stored for the version is not what was anchored with it: bounds or
    public keys changed in the node's database are never used."""

    code = "dp_metadata_not_anchored"
    http_status = 409


#: the chain's refusals of a spend past a lifetime budget (AccessManager)
LIFETIME_ERRORS = ("LifetimeBudgetExceeded", "DepartmentBudgetExceeded")


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class AccessLogWriter(Protocol):
    """Where the gate records answers and refusals (node.audit.log.AccessLog)."""

    def append(self, kind: str, **fields: Any) -> Any: ...


@dataclass(frozen=True)
class GateContext:
    """What the gate needs of its node, and nothing else."""

    #: this node's account: the owner the grants must name
    address: str
    #: None on a node whose settings name no catalog: every query is then refused
    sharing: Sharing | None
    #: the node's database (the answer archive)
    engine: Engine
    versions: VersionStore
    blobs: BlobStore
    #: the node's X25519 key, to open its own stored versions
    encryption_key: PrivateKey
    #: AccessRequested events by indexed argument, to find a caller's grant on a dataset
    events: EventIndexer
    access_log: AccessLogWriter
    #: the chain's head block number
    head: Callable[[], int]
    #: wait until the event index reaches a block (at most ``timeout`` seconds)
    wait_synced: Callable[[int, float], None]


class DpGate:
    def __init__(self, context: GateContext) -> None:
        self.ctx = context
        self.spends = SpendJournal(context.engine, context.access_log)
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def sharing(self) -> Sharing:
        if self.ctx.sharing is None:
            raise CatalogNotConfigured("node.toml names no data catalog (contracts.catalog/access)")
        return self.ctx.sharing

    # -- checks ----------------------------------------------------------------------
    def _grant(
        self, request_id: int, caller: str
    ) -> tuple[RequestInfo, StoredVersion, DatasetMeta]:
        req = check_grant(self.sharing, request_id, caller, self.ctx.address, Mode.DP)
        row = self.ctx.versions.find("0x" + req.dataset_id.hex(), req.version)
        if row is None:
            raise NotFound("the granted version is not stored on this node")
        if not row.dp_metadata:
            raise QueryRefused("the owner declared no DP metadata (bounds, keys) for this dataset")
        anchored = self.sharing.version(req.dataset_id, req.version)["dp_metadata_hash"]
        try:
            meta = DatasetMeta.model_validate(row.dp_metadata)
        except ValidationError:
            meta = None
        if meta is None or meta.digest() != anchored:
            logger.error(
                "DP metadata of %s v%s does not match its anchor 0x%s: refusing queries",
                row.dataset_id,
                row.version,
                anchored.hex(),
            )
            raise MetadataNotAnchored(
                f"the DP metadata stored for version {req.version} is not the one anchored on "
                "chain with it; no query is answered with it",
                detail={"anchored": "0x" + anchored.hex()},
            )
        return req, row, meta

    def grant_for(self, dataset_id: str, caller: str) -> int:
        """The caller's newest usable DP grant on ``dataset_id`` (a dataset of this node)."""
        try:
            wanted = "0x" + bytes.fromhex(dataset_id.removeprefix("0x")).hex()
        except ValueError:
            raise InvalidInput(f"{dataset_id!r} is not a dataset id") from None
        sharing = self.sharing
        for attempt in range(2):
            # by indexed arguments: this runs on every query that names a dataset
            grants = [
                e.args["requestId"]
                for e in self.ctx.events.events(
                    address=sharing.access.address,
                    event="AccessRequested",
                    args={"datasetId": wanted, "consumer": caller},
                )
                if e.args["mode"] == Mode.DP
            ]
            for rid in sorted(grants, reverse=True):
                if sharing.is_usable(rid):
                    return rid
            if attempt == 0:
                # The grant may be in a block this node has not indexed yet.
                self.ctx.wait_synced(self.ctx.head(), 5.0)
        raise GrantNotUsable(
            f"you hold no usable DP grant on dataset {wanted} at this node"
            + (f" (requests {sorted(grants)} are not usable now)" if grants else "")
            + "; apply with: tanlian access request DATASET --mode dp --epsilon E"
        )

    def estimate(self, request_id: int, spec: QuerySpec, caller: str) -> dict[str, Any]:
        _req, _row, meta = self._grant(request_id, caller)
        remaining, _delta = self.sharing.remaining(request_id)
        charge = cost(spec, meta)
        # JSON numbers whose text is the exact decimal (0.4), here at the node's boundary
        return {
            "epsilon": charge.epsilon.as_json(),
            "remaining": remaining.as_json(),
            "fits": charge.epsilon <= remaining,
            "queries_of_this_kind_left": remaining // charge.epsilon,
        }

    # -- answers -------------------------------------------------------------------------
    def dummy(self, request_id: int, spec: QuerySpec, caller: str) -> dict[str, Any]:
        """The query on synthetic rows of the same schema: shows the shape, spends nothing."""
        _req, _row, meta = self._grant(request_id, caller)
        rng = np.random.default_rng()
        n = 1000
        data: dict[str, np.ndarray] = {}
        for name, col in meta.columns.items():
            if col.keys:
                data[name] = rng.choice(col.keys, n)
            elif col.lower is not None:
                data[name] = rng.uniform(col.lower, col.upper, n)
            else:
                data[name] = np.array([f"x{i}" for i in range(n)])
        return {
            "answer": answer(spec, meta, data, rng),
            "dummy": True,
            "epsilon_spent": Epsilon(0).as_json(),
        }

    def query(self, request_id: int, spec: QuerySpec, caller: str) -> dict[str, Any]:
        req, row, meta = self._grant(request_id, caller)
        key = (caller, row.dataset_id)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            charge = cost(spec, meta)
            budget = self.sharing.budget(request_id)
            left, delta_left = self.sharing.remaining(request_id)
            if charge.epsilon > budget.remaining:
                self._log_refusal(req, row, spec, charge, budget.remaining)
                raise BudgetExhausted(
                    f"the query costs ε {charge.epsilon} but only {budget.remaining} of "
                    f"{budget.ceiling} is left on request {request_id}",
                    detail={
                        "cost": charge.epsilon.as_json(),
                        "remaining": budget.remaining.as_json(),
                    },
                )
            if charge.epsilon > left or charge.delta > delta_left:
                # a new grant draws on what earlier grants left, never on a fresh budget
                self._log_refusal(req, row, spec, charge, left)
                raise LifetimeBudgetExhausted(
                    f"the query costs ε {charge.epsilon} (δ {charge.delta}) but only ε {left} "
                    f"(δ {delta_left}) is left of your lifetime budget on this dataset "
                    f"(over all your grants and your department's); request {request_id} "
                    f"itself has {budget.remaining} left",
                    detail={
                        "cost": charge.epsilon.as_json(),
                        "remaining": left.as_json(),
                        "grant_remaining": budget.remaining.as_json(),
                    },
                )
            # Whether this succeeds never depends on the rows (an empty cell is answered like
            # a full one, in the same shape), and no answer leaves before the spend is mined.
            result = answer(spec, meta, self._load(row, meta))
            result_hash = hashlib.sha256(_canonical(result)).digest()
            # Recorded before the spend is sent: a kill after it is mined leaves the answer
            # for the restarted node to archive and log (node.sharing.spends).
            pending = self.spends.record(
                request_id=req.id,
                consumer=req.consumer,
                dataset_id=row.dataset_id,
                version=row.version,
                spec=spec.model_dump(),
                epsilon=charge.epsilon.as_json(),
                result=_canonical(result).decode(),
                query_hash="0x" + spec.digest().hex(),
                result_hash="0x" + result_hash.hex(),
            )
            try:
                try:
                    paid = self.sharing.spend(
                        request_id, charge.epsilon, charge.delta, spec.digest(), result_hash
                    )
                except ContractReverted as exc:
                    # No spend on chain, no answer.
                    self.spends.abandon(pending)
                    if exc.error == "BudgetExceeded":
                        self._log_refusal(req, row, spec, charge, None)
                        raise BudgetExhausted(f"budget exhausted on chain: {exc.message}") from None
                    if exc.error in LIFETIME_ERRORS:
                        self._log_refusal(req, row, spec, charge, None)
                        raise LifetimeBudgetExhausted(
                            f"lifetime budget exhausted on chain: {exc.message}"
                        ) from None
                    raise
                self.spends.settle(pending, paid.tx_hash, paid.receipt.block_number)
            finally:
                self.spends.finish(pending)
        return {
            "answer": result,
            "epsilon_spent": charge.epsilon.as_json(),
            "remaining": (left - charge.epsilon).as_json(),
            "spend_tx": paid.tx_hash,
            "result_sha256": "0x" + result_hash.hex(),
        }

    def _load(self, row: StoredVersion, meta: DatasetMeta) -> dict[str, np.ndarray]:
        if row.format != "csv":
            raise QueryRefused(f"DP queries run on CSV datasets; this one is {row.format}")
        raw = read_plaintext(self.ctx.blobs, row, self.ctx.encryption_key)
        reader = csv.reader(io.StringIO(raw.decode("utf-8")))
        header = next(reader)
        columns: dict[str, list[str]] = {h: [] for h in header}
        for r in reader:
            for h, v in zip(header, r, strict=False):
                columns[h].append(v)
        out: dict[str, np.ndarray] = {}
        for name, values in columns.items():
            col = meta.columns.get(name)
            if col is not None and col.lower is not None:
                out[name] = np.array([_number(v) for v in values])
            else:
                out[name] = np.array(values)
        return out

    def _log_refusal(
        self,
        req: RequestInfo,
        row: StoredVersion,
        spec: QuerySpec,
        charge: Charge,
        left: Epsilon | None,
    ) -> None:
        """A query past the budget is an attempt the regulator sees."""
        self.ctx.access_log.append(
            "dp_refused",
            block=self.ctx.head(),
            request_id=req.id,
            consumer=req.consumer,
            dataset_id=row.dataset_id,
            version=row.version,
            epsilon=charge.epsilon.as_json(),
            remaining=None if left is None else left.as_json(),
            query_sha256="0x" + spec.digest().hex(),
        )

    def archive(self, request_id: int) -> list[dict[str, Any]]:
        with Session(self.ctx.engine) as s:
            rows = s.scalars(
                select(QueryArchive)
                .where(QueryArchive.request_id == request_id)
                .order_by(QueryArchive.id)
            )
            return [
                {
                    "spec": r.spec,
                    "epsilon": r.epsilon,
                    "result": json.loads(r.result),
                    "query_sha256": r.query_hash,
                    "result_sha256": r.result_hash,
                    "spend_tx": r.spend_tx,
                    "answered_at": r.answered_at,
                    "consumer": r.consumer,
                }
                for r in rows
            ]


def _number(text: str) -> float:
    """A bounded column's cell; an empty or non-numeric one is missing (NaN), which the
    computation leaves out of its cell instead of failing on it."""
    try:
        return float(text)
    except ValueError:
        return np.nan
