"""The DP query gate on the owner's node: lock → cost → budget check → compute → spend on
chain → answer → archive.

Only the consumer of a usable DP grant on a dataset this node owns may query it. Queries of
one (consumer, dataset) pair run one at a time, so concurrent queries cannot overspend; the
spend is a chain transaction that reverts past the grant's ceiling, so no node can answer
beyond the budget either; if the spend fails, no answer leaves the node. `estimate` and
`dummy` (the same query on synthetic data of the same schema) spend nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
import time
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.chain.errors import ContractReverted
from node.errors import InvalidInput, NotFound
from node.privacy.dp_queries import DatasetMeta, QueryRefused, QuerySpec, answer, cost
from node.privacy.models import QueryArchive, StoredVersion
from node.privacy.store import read_plaintext
from node.sharing.contracts import Mode
from node.sharing.service import GrantNotUsable, check_grant


class BudgetExhausted(QueryRefused):
    code = "dp_budget_exhausted"
    http_status = 409


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class DpGate:
    def __init__(self, runtime: Any) -> None:  # node.runtime.NodeRuntime
        self.rt = runtime
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    # -- checks ----------------------------------------------------------------------
    def _grant(self, request_id: int, caller: str):
        req = check_grant(self.rt.sharing, request_id, caller, self.rt.address, Mode.DP)
        row = self.rt.versions.find("0x" + req.dataset_id.hex(), req.version)
        if row is None:
            raise NotFound("the granted version is not stored on this node")
        if not row.dp_metadata:
            raise QueryRefused("the owner declared no DP metadata (bounds, keys) for this dataset")
        return req, row, DatasetMeta.model_validate(row.dp_metadata)

    def grant_for(self, dataset_id: str, caller: str) -> int:
        """The caller's newest usable DP grant on ``dataset_id`` (a dataset of this node)."""
        try:
            wanted = "0x" + bytes.fromhex(dataset_id.removeprefix("0x")).hex()
        except ValueError:
            raise InvalidInput(f"{dataset_id!r} is not a dataset id") from None
        sharing = self.rt.sharing
        for attempt in range(2):
            # by indexed arguments: this runs on every query that names a dataset
            grants = [
                e.args["requestId"]
                for e in self.rt.indexer.events(
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
                self.rt.wait_synced(self.rt.backend.block_number(), timeout=5.0)
        raise GrantNotUsable(
            f"you hold no usable DP grant on dataset {wanted} at this node"
            + (f" (requests {sorted(grants)} are not usable now)" if grants else "")
            + "; apply with: tanlian access request DATASET --mode dp --epsilon E"
        )

    def estimate(self, request_id: int, spec: QuerySpec, caller: str) -> dict[str, Any]:
        _req, _row, meta = self._grant(request_id, caller)
        ceiling, spent = self.rt.sharing.budget(request_id)
        c = cost(spec, meta)
        remaining = round(ceiling - spent, 3)
        return {
            "epsilon": c,
            "remaining": remaining,
            "fits": c <= remaining + 1e-9,
            "queries_of_this_kind_left": int((remaining + 1e-9) // c),
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
        return {"answer": answer(spec, meta, data, rng), "dummy": True, "epsilon_spent": 0.0}

    def query(self, request_id: int, spec: QuerySpec, caller: str) -> dict[str, Any]:
        req, row, meta = self._grant(request_id, caller)
        key = (caller, row.dataset_id)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            c = cost(spec, meta)
            ceiling, spent = self.rt.sharing.budget(request_id)
            if c > ceiling - spent + 1e-9:
                self._log_refusal(req, row, spec, c, ceiling - spent)
                raise BudgetExhausted(
                    f"the query costs ε {c} but only {round(ceiling - spent, 3)} of "
                    f"{ceiling} is left on request {request_id}",
                    detail={"cost": c, "remaining": round(ceiling - spent, 3)},
                )
            result = answer(spec, meta, self._load(row, meta))
            result_hash = hashlib.sha256(_canonical(result)).digest()
            try:
                paid = self.rt.sharing.spend(request_id, c, 0.0, spec.digest(), result_hash)
            except ContractReverted as exc:
                # No spend on chain, no answer.
                if exc.error == "BudgetExceeded":
                    self._log_refusal(req, row, spec, c, None)
                    raise BudgetExhausted(f"budget exhausted on chain: {exc.message}") from None
                raise
            self._archive(
                req, row, spec, c, result, result_hash, paid.tx_hash, paid.receipt.block_number
            )
        return {
            "answer": result,
            "epsilon_spent": c,
            "remaining": round(ceiling - spent - c, 3),
            "spend_tx": paid.tx_hash,
            "result_sha256": "0x" + result_hash.hex(),
        }

    def _load(self, row: StoredVersion, meta: DatasetMeta) -> dict[str, np.ndarray]:
        if row.format != "csv":
            raise QueryRefused(f"DP queries run on CSV datasets; this one is {row.format}")
        raw = read_plaintext(self.rt.blobs, row, self.rt.keys.encryption_key)
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
                out[name] = np.array([float(v) if v else np.nan for v in values])
            else:
                out[name] = np.array(values)
        return out

    def _log_refusal(
        self, req: Any, row: StoredVersion, spec: QuerySpec, eps: float, left: float | None
    ) -> None:
        """A query past the budget is an attempt the regulator sees."""
        self.rt.access_log.append(
            "dp_refused",
            block=self.rt.backend.block_number(),
            request_id=req.id,
            consumer=req.consumer,
            dataset_id=row.dataset_id,
            version=row.version,
            epsilon=eps,
            remaining=None if left is None else round(left, 3),
            query_sha256="0x" + spec.digest().hex(),
        )

    def _archive(
        self,
        req: Any,
        row: StoredVersion,
        spec: QuerySpec,
        eps: float,
        result: Any,
        result_hash: bytes,
        tx: str,
        block: int,
    ) -> None:
        with Session(self.rt.engine) as s, s.begin():
            s.add(
                QueryArchive(
                    request_id=req.id,
                    consumer=req.consumer,
                    dataset_id=row.dataset_id,
                    version=row.version,
                    spec=spec.model_dump(),
                    epsilon=eps,
                    result=_canonical(result).decode(),
                    query_hash="0x" + spec.digest().hex(),
                    result_hash="0x" + result_hash.hex(),
                    spend_tx=tx,
                    answered_at=time.time(),
                )
            )
        self.rt.access_log.append(
            "dp_answer",
            block=block,
            request_id=req.id,
            consumer=req.consumer,
            dataset_id=row.dataset_id,
            version=row.version,
            epsilon=eps,
            query_sha256="0x" + spec.digest().hex(),
            result_sha256="0x" + result_hash.hex(),
            spend_tx=tx,
        )

    def archive(self, request_id: int) -> list[dict[str, Any]]:
        with Session(self.rt.engine) as s:
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
