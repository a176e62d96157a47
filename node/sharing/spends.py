"""The DP gate's spend journal: an answer is recorded before its ε is spent on chain.

The gate computes an answer, records it here as *pending* (with the query and result
hashes the spend carries), sends the spend, and then *settles* it: the access log's
``dp_answer`` entry and the archived answer, the consumer's to fetch again
(``GET /v1/query/archive``). A node killed between the spend being mined and the settling
used to leave ε spent on chain with no answer archived and nothing logged, which the audit
reports as ``unlogged_answer`` for ever. Now the restarted node (and the running one, at
every index sync) reconciles its pending rows against the ``BudgetSpent`` events on chain:

* a spend of the request with the row's query and result hashes (and not already the
  spend of another archived answer) is on chain: settle the row with that transaction;
* none, and the spend can no longer land: the row is *abandoned* (nothing was paid and
  no answer left the node, so there is nothing to refund or to log).

A spend can no longer land once no process is waiting for it and ``LAND_SECONDS`` have
passed since it was prepared: the chain host mines a transaction while it accepts it, and
the node waits at most 60 s for the receipt of one it sent.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from node.chain.indexer.indexer import EventIndexer
from node.privacy.models import PendingAnswer, QueryArchive

logger = logging.getLogger(__name__)

#: Seconds after which a pending answer whose spend is not on chain is abandoned.
LAND_SECONDS = 120.0
PENDING, DONE, ABANDONED = "pending", "done", "abandoned"

# Keys of the rows this process is sending spends for right now: reconciling leaves them
# to the gate (a row is added here before it is written, so no reconciler sees it first).
_in_flight: set[str] = set()
_in_flight_lock = threading.Lock()


class SpendJournal:
    """Pending DP answers of one node, in its database, logged in its access log."""

    def __init__(self, engine: Engine, access_log: Any) -> None:
        self.engine = engine
        self.access_log = access_log

    # -- the gate's side -------------------------------------------------------------------
    def record(
        self,
        *,
        request_id: int,
        consumer: str,
        dataset_id: str,
        version: int,
        spec: dict[str, Any],
        epsilon: float,
        result: str,
        query_hash: str,
        result_hash: str,
    ) -> str:
        """Durably record an answer about to be paid for; its key (in flight until
        :meth:`finish`)."""
        key = secrets.token_hex(16)
        with _in_flight_lock:
            _in_flight.add(key)
        with Session(self.engine) as s, s.begin():
            s.add(
                PendingAnswer(
                    key=key,
                    state=PENDING,
                    request_id=request_id,
                    consumer=consumer,
                    dataset_id=dataset_id,
                    version=version,
                    spec=spec,
                    epsilon=epsilon,
                    result=result,
                    query_hash=query_hash,
                    result_hash=result_hash,
                    created_at=time.time(),
                )
            )
        return key

    def settle(self, key: str, tx: str, block: int) -> None:
        """The spend ``tx`` (mined in ``block``) paid for the row: log and archive it.

        The log entry first, keyed by the spend (a second call adds none), then the archive
        row and the row's state in one transaction: a kill between the two leaves the row
        pending, and reconciling settles it again."""
        with Session(self.engine, expire_on_commit=False) as s:
            row = s.scalar(select(PendingAnswer).where(PendingAnswer.key == key))
        if row is None or row.state == DONE:
            return
        self.access_log.append(
            "dp_answer",
            block=block,
            ref=f"dp_answer:{tx}",
            request_id=row.request_id,
            consumer=row.consumer,
            dataset_id=row.dataset_id,
            version=row.version,
            # exact decimal text in the log; the audit reads it back as an Epsilon
            epsilon=row.epsilon,
            query_sha256=row.query_hash,
            result_sha256=row.result_hash,
            spend_tx=tx,
        )
        with Session(self.engine) as s, s.begin():
            s.add(
                QueryArchive(
                    request_id=row.request_id,
                    consumer=row.consumer,
                    dataset_id=row.dataset_id,
                    version=row.version,
                    spec=row.spec,
                    epsilon=row.epsilon,
                    result=row.result,
                    query_hash=row.query_hash,
                    result_hash=row.result_hash,
                    spend_tx=tx,
                    answered_at=time.time(),
                )
            )
            mine = s.get(PendingAnswer, row.id)
            assert mine is not None
            mine.state, mine.spend_tx, mine.settled_at = DONE, tx, time.time()

    def abandon(self, key: str) -> None:
        """The spend was refused (reverted): nothing paid, no answer given."""
        with Session(self.engine) as s, s.begin():
            row = s.scalar(select(PendingAnswer).where(PendingAnswer.key == key))
            if row is not None and row.state == PENDING:
                row.state, row.settled_at = ABANDONED, time.time()

    @staticmethod
    def finish(key: str) -> None:
        """The gate is done with the row (settled, abandoned, or left to reconciling)."""
        with _in_flight_lock:
            _in_flight.discard(key)

    # -- reconciling -----------------------------------------------------------------------
    def pending(self) -> list[PendingAnswer]:
        with Session(self.engine, expire_on_commit=False) as s:
            return list(
                s.scalars(
                    select(PendingAnswer)
                    .where(PendingAnswer.state == PENDING)
                    .order_by(PendingAnswer.id)
                )
            )

    def reconcile(
        self, events: EventIndexer, access: str, now: float | None = None
    ) -> dict[str, int]:
        """Settle or abandon the pending rows no process is sending a spend for, from the
        ``BudgetSpent`` events indexed so far (run after an index sync)."""
        now = time.time() if now is None else now
        with _in_flight_lock:
            busy = set(_in_flight)
        counts = {"settled": 0, "abandoned": 0}
        rows = [r for r in self.pending() if r.key not in busy]
        if not rows:
            return counts
        with Session(self.engine) as s:
            paid_for = set(
                s.scalars(
                    select(QueryArchive.spend_tx).where(
                        QueryArchive.request_id.in_({r.request_id for r in rows})
                    )
                )
            )
        for row in rows:
            spend = next(
                (
                    e
                    for e in events.events(
                        address=access, event="BudgetSpent", args={"requestId": row.request_id}
                    )
                    if e.tx_hash not in paid_for
                    and e.args["queryHash"] == row.query_hash
                    and e.args["resultHash"] == row.result_hash
                ),
                None,
            )
            if spend is not None:
                self.settle(row.key, spend.tx_hash, spend.block_number)
                paid_for.add(spend.tx_hash)
                counts["settled"] += 1
                logger.info(
                    "request %s: answer paid by %s before a crash, now archived and logged",
                    row.request_id,
                    spend.tx_hash,
                )
            elif now - row.created_at > LAND_SECONDS:
                self.abandon(row.key)
                counts["abandoned"] += 1
                logger.info(
                    "request %s: an answer whose spend never reached the chain is abandoned",
                    row.request_id,
                )
        return counts
