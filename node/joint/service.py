"""A joint run, on both sides: the owner's node (:class:`JointOwner`, behind
``/v1/joint``) and the consumer's command (:func:`propose`, :func:`run`).

1. The consumer proposes the query's hash over its DP grants (JointQuery.propose); preset
   policies admit at once, other owners decide (``tanlian joint admit|reject``).
2. ``prepare``: each owner's node checks the spec against the hash and its participant
   entry, reduces its own rows to its input vector and commits to it (a Pedersen
   commitment per entry, given with its join and fixed by the contract at its first run: a
   retry must feed the same input), makes a run certificate and joins the run with its
   fingerprint; the join spends the input's ε on its grant with the query's hash in the
   same transaction (AccessManager.spendForJoint: before any output exists).
3. ``run``: each owner checks every party's certificate against the fingerprint its
   account announced, draws its noise share and runs its MPyC party; the consumer runs
   party 0 and alone receives the opened result.
4. The consumer records the result's hash (complete); each owner logs it (acknowledge).

A run that fails (a party down: every other party's deadline passes) opens nothing and is
recorded as failed; its ε stays spent, because the chain cannot tell how far a run got
before it failed, and charging it is never in the consumer's favour. ``tanlian joint run``
retries it as the next attempt, which spends again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import product
from typing import Any

import pandas as pd
from eth_utils import keccak

from node.chain.errors import ContractReverted
from node.commitments.service import commit_once
from node.errors import InvalidInput, NotFound, TanlianError
from node.joint.compute import committed_form, finish, noise_share, owner_vector
from node.joint.contracts import JointLedger, JointState
from node.joint.runner import JointRunFailed, PartyProcess, party_job, run_party
from node.joint.spec import JointSpec, parse_spec
from node.joint.tls import Identity, fingerprint, make_identity
from node.privacy.store import read_plaintext
from node.sharing.contracts import Mode

logger = logging.getLogger(__name__)

#: seconds a party waits for the others (connecting and computing) before the run fails
RUN_TIMEOUT = 120.0
#: seconds an idle party worker waits for a run before it exits (the next starts cold)
SPARE_IDLE = 3600.0


class JointRefused(TanlianError):
    code = "joint_refused"
    http_status = 409


class NotJointParticipant(TanlianError):
    code = "joint_not_participant"
    http_status = 403


class JointCertMismatch(TanlianError):
    code = "joint_cert_mismatch"
    http_status = 409


def run_tag(joint_id: int, attempt: int, query_hash: bytes) -> str:
    return keccak(joint_id.to_bytes(32, "big") + attempt.to_bytes(4, "big") + query_hash).hex()


def result_hash(result: dict[str, Any]) -> bytes:
    return hashlib.sha256(
        json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).digest()


def _checked(ledger: JointLedger, joint_id: int, spec: JointSpec, state: JointState):
    try:
        info = ledger.joint(joint_id)
    except ContractReverted as exc:
        if exc.error == "UnknownJoint":
            raise NotFound(f"no joint query {joint_id}") from None
        raise
    if info.state != state:
        raise JointRefused(
            f"joint query {joint_id} is {info.state.name.lower()}, not {state.name.lower()}"
        )
    if spec.digest() != info.query_hash:
        raise JointRefused("the spec sent is not the one whose hash was proposed")
    if spec.noise == info.noiseless:
        raise JointRefused("the spec's noise setting is not the proposal's")
    return info


def input_key(joint_address: str, joint_id: int) -> str:
    """Where a node keeps its commitments to its input of a joint query (its database)."""
    address = bytes.fromhex(joint_address[2:])
    return "0x" + keccak(b"joint-input" + address + joint_id.to_bytes(32, "big")).hex()


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class _Prepared:
    identity: Identity
    port: int
    index: int
    consumer: str
    query_hash: bytes
    #: started at prepare, so that it has loaded MPyC by the time the run starts
    process: PartyProcess
    #: this owner's input vector, reduced from its rows at prepare (kept in memory only)
    vector: list[Any]
    reduce_seconds: float
    #: committing to the input (the commitments and their durable store)
    commit_seconds: float


class JointOwner:
    """The owner's side, on its node."""

    def __init__(self, runtime: Any, host: str = "127.0.0.1", timeout: float = RUN_TIMEOUT) -> None:
        self.rt = runtime
        self.host = host
        self.timeout = timeout
        self._prepared: dict[tuple[int, int], _Prepared] = {}
        self._lock = threading.Lock()
        #: the party worker of the last completed run, kept for the next one
        self._spare: PartyProcess | None = None

    def _party_process(self) -> PartyProcess:
        worker, self._spare = self._spare, None
        if worker is not None and worker.alive:
            return worker
        return PartyProcess(idle=SPARE_IDLE)

    def _release(self, worker: PartyProcess) -> None:
        """Keep a worker that completed its run for the next one (a cold start costs the
        parties' imports on the run's critical path)."""
        if worker.alive and self._spare is None:
            self._spare = worker
        elif worker is not self._spare:
            worker.close()

    @property
    def ledger(self) -> JointLedger:
        address = self.rt.settings.contracts.joint
        if not address:
            raise JointRefused("node.toml names no JointQuery contract (contracts.joint)")
        return JointLedger(self.rt.client, address)

    def _mine(self, caller: str, joint_id: int, spec: JointSpec, state: JointState):
        ledger = self.ledger
        info = _checked(ledger, joint_id, spec, state)
        if caller != info.consumer:
            raise NotJointParticipant("only the joint query's consumer drives its run")
        parts = ledger.participants(joint_id)
        me = self.rt.address
        index = next((n for n, p in enumerate(parts) if p.owner == me), None)
        if index is None:
            raise NotJointParticipant(
                f"this node ({me}) is not a participant of joint query {joint_id}"
            )
        p, inp = parts[index], spec.inputs[index] if index < len(spec.inputs) else None
        if inp is None or (
            inp.owner.lower() != me.lower()
            or bytes.fromhex(inp.dataset[2:]) != p.dataset_id
            or inp.version != p.version
            or inp.grant != p.grant_id
            or inp.epsilon.milli != p.epsilon_milli
        ):
            raise JointRefused(
                "the spec's input for this node is not its participant entry on chain"
            )
        return ledger, info, index

    def prepare(self, caller: str, joint_id: int, attempt: int, spec: JointSpec) -> dict[str, Any]:
        ledger, info, index = self._mine(caller, joint_id, spec, JointState.ADMITTED)
        if attempt != info.attempt:
            raise JointRefused(f"the current run of joint query {joint_id} is {info.attempt}")
        with self._lock:
            ready = self._prepared.get((joint_id, attempt))
            if ready is None:
                # the rows are read and reduced before any ε is spent: a missing column or
                # version refuses the run for nothing
                t0 = time.perf_counter()
                inp = spec.inputs[index]
                vector = owner_vector(spec, index, self._frame(spec, index))
                reduced = time.perf_counter() - t0
                # the input is committed to at its first run and fixed for every retry: a
                # retry whose input does not open the stored commitments is refused here
                t1 = time.perf_counter()
                values, unit = committed_form(spec, vector)
                commitments = commit_once(
                    self.rt.engine,
                    self.rt.keys,
                    input_key(ledger.address, joint_id),
                    bytes.fromhex(inp.dataset[2:]),
                    inp.version,
                    f"joint:{joint_id}",
                    unit,
                    values,
                )
                ready = _Prepared(
                    make_identity(run_tag(joint_id, attempt, info.query_hash), index + 1),
                    _free_port(self.host),
                    index,
                    info.consumer,
                    info.query_hash,
                    self._party_process(),
                    vector,
                    reduced,
                    time.perf_counter() - t1,
                )
                try:
                    # the join spends this input's ε on its grant with the query's hash, in
                    # the same transaction (JointQuery → AccessManager.spendForJoint)
                    joined = ledger.join(
                        joint_id,
                        attempt,
                        index + 1,
                        ready.identity.fingerprint,
                        f"{self.host}:{ready.port}",
                        commitments,
                    )
                except Exception:
                    self._release(ready.process)
                    raise
                self._prepared[(joint_id, attempt)] = ready
                self.rt.access_log.append(
                    "joint_spent",
                    block=joined.receipt.block_number,
                    joint_id=joint_id,
                    attempt=attempt,
                    request_id=inp.grant,
                    consumer=info.consumer,
                    dataset_id=inp.dataset,
                    epsilon=inp.epsilon.as_json(),
                    query_sha256="0x" + info.query_hash.hex(),
                    spend_tx=joined.tx_hash,
                    input_sha3="0x" + keccak(commitments).hex(),
                )
        return {
            "pid": ready.index + 1,
            "cert": ready.identity.cert_pem,
            "endpoint": f"{self.host}:{ready.port}",
        }

    def run(
        self,
        caller: str,
        joint_id: int,
        attempt: int,
        spec: JointSpec,
        parties: list[dict[str, Any]],
    ) -> dict[str, Any]:
        arrived = time.perf_counter()
        with self._lock:
            ready = self._prepared.get((joint_id, attempt))
            # checked against what prepare checked on chain: the run reads the chain once
            if ready is None or caller != ready.consumer or spec.digest() != ready.query_hash:
                raise JointRefused(f"run {attempt} of joint query {joint_id} was not prepared here")
            del self._prepared[(joint_id, attempt)]
        ledger, index = self.ledger, ready.index
        try:
            hosts, trusted = _parties(ledger, joint_id, attempt, len(spec.inputs) + 1, parties)
            t1 = time.perf_counter()
            share = noise_share(spec)
            t2 = time.perf_counter()
            job = party_job(
                spec,
                run_tag(joint_id, attempt, ready.query_hash),
                index + 1,
                hosts,
                ready.identity,
                trusted,
                ready.vector,
                share,
            )
            del share
            run_party(job, self.timeout, ready.process)
        except TanlianError as exc:
            ready.process.close()
            _record_failure(ledger, joint_id, attempt, str(exc))
            self.rt.access_log.append(
                "joint_failed",
                block=self.rt.backend.block_number(),
                joint_id=joint_id,
                attempt=attempt,
                reason=str(exc),
            )
            raise
        self._release(ready.process)
        self.rt.access_log.append(
            "joint_ran",
            block=self.rt.backend.block_number(),
            joint_id=joint_id,
            attempt=attempt,
            consumer=ready.consumer,
            query_sha256="0x" + ready.query_hash.hex(),
        )
        t3 = time.perf_counter()
        return {
            "joint": joint_id,
            "attempt": attempt,
            "pid": index + 1,
            "ran": True,
            "seconds": {
                "decrypt_and_reduce": round(ready.reduce_seconds, 4),
                "commit_input": round(ready.commit_seconds, 4),
                "checks_before_party": round(t1 - arrived, 4),
                "noise": round(t2 - t1, 4),
                "party": round(t3 - t2, 4),
            },
        }

    def acknowledge(self, caller: str, joint_id: int) -> dict[str, Any]:
        ledger = self.ledger
        info = ledger.joint(joint_id)
        if caller != info.consumer:
            raise NotJointParticipant("only the joint query's consumer asks for acknowledgement")
        if info.state != JointState.COMPLETED:
            raise JointRefused(f"joint query {joint_id} has not completed")
        mine = [p for p in ledger.participants(joint_id) if p.owner == self.rt.address]
        if not mine:
            raise NotJointParticipant(f"this node is not a participant of joint query {joint_id}")
        tx = None
        if not mine[0].acknowledged:
            tx = ledger.acknowledge(joint_id, info.result_hash).tx_hash
        self.rt.access_log.append(
            "joint_result",
            block=self.rt.backend.block_number(),
            joint_id=joint_id,
            result_sha256="0x" + info.result_hash.hex(),
        )
        return {"joint": joint_id, "result_sha256": "0x" + info.result_hash.hex(), "tx": tx}

    def _frame(self, spec: JointSpec, index: int) -> pd.DataFrame:
        inp = spec.inputs[index]
        row = self.rt.versions.find(inp.dataset, inp.version)
        if row is None:
            raise NotFound(f"version {inp.version} of {inp.dataset} is not stored on this node")
        if row.format != "csv":
            raise JointRefused(f"joint queries run on CSV datasets; this one is {row.format}")
        raw = read_plaintext(self.rt.blobs, row, self.rt.keys.encryption_key)
        return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)


def _parties(
    ledger: JointLedger, joint_id: int, attempt: int, count: int, parties: list[dict[str, Any]]
) -> tuple[list[tuple[str, int]], list[str]]:
    """Hosts and trusted certificates, each certificate checked against the fingerprint its
    party's account announced on chain for this run."""
    by_pid = {int(p["pid"]): p for p in parties}
    if sorted(by_pid) != list(range(count)):
        raise InvalidInput(f"a run needs parties 0..{count - 1}")
    announced = ledger.certs_of(joint_id, attempt)
    if len(announced) != count:
        raise JointRefused(f"joint query {joint_id} has {len(announced)} parties, not {count}")
    hosts: list[tuple[str, int]] = []
    trusted: list[str] = []
    for pid in range(count):
        p = by_pid[pid]
        try:
            given = fingerprint(p["cert"])
        except (ValueError, TypeError):
            raise InvalidInput(f"party {pid}'s certificate is not a PEM certificate") from None
        if given != announced[pid]:
            raise JointCertMismatch(f"party {pid}'s certificate is not the one announced on chain")
        host, _, port = str(p.get("endpoint") or "127.0.0.1:0").rpartition(":")
        hosts.append((host or "127.0.0.1", int(port)))
        trusted.append(p["cert"])
    return hosts, trusted


def _record_failure(ledger: JointLedger, joint_id: int, attempt: int, reason: str) -> None:
    try:
        ledger.fail(joint_id, attempt, keccak(text=reason))
    except ContractReverted as exc:
        # another party recorded this run's failure first
        if exc.error != "WrongAttempt":
            raise


# -- the consumer's side ------------------------------------------------------------------
def propose(ledger: JointLedger, spec: JointSpec) -> tuple[int, bool, str]:
    """(joint id, admitted at once, tx hash)."""
    r = ledger.propose(
        spec.digest(),
        [i.grant for i in spec.inputs],
        [i.epsilon.milli for i in spec.inputs],
        noiseless=not spec.noise,
    )
    joint_id = r.event("JointProposed").args["jointId"]
    return joint_id, any(e.event == "JointAdmitted" for e in r.events), r.tx_hash


def run(
    ledger: JointLedger,
    spec: JointSpec,
    joint_id: int,
    clients: list[Any],
    timeout: float = RUN_TIMEOUT,
    progress: Any = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the admitted query as party 0 with the owners' nodes (``clients`` in input order);
    (result, facts about the run)."""
    clock = [time.perf_counter()]
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        clock.append(time.perf_counter())
        seconds[name] = round(clock[-1] - clock[-2], 4)

    info = _checked(ledger, joint_id, spec, JointState.ADMITTED)
    attempt = info.attempt
    tag = run_tag(joint_id, attempt, info.query_hash)
    me = make_identity(tag, 0)
    process = PartyProcess(idle=2 * timeout)
    try:
        ledger.join(joint_id, attempt, 0, me.fingerprint, "consumer")
    except Exception:
        process.close()
        raise
    body = {"attempt": attempt, "spec": spec.model_dump(mode="json")}
    say = progress or (lambda _msg: None)
    with ThreadPoolExecutor(len(clients) + 1) as pool:
        say(f"preparing run {attempt}: each owner commits to its input and joins, spending its ε")
        try:
            prepared = list(
                pool.map(lambda c: c.post(f"/v1/joint/{joint_id}/prepare", body), clients)
            )
            parties = [{"pid": 0, "cert": me.cert_pem, "endpoint": "127.0.0.1:0"}, *prepared]
            hosts, trusted = _parties(ledger, joint_id, attempt, len(clients) + 1, parties)
        except Exception:
            # owners that spent and joined will see their run fail; nothing was computed
            process.close()
            raise
        lap("chain_spend_and_join")
        say("running the secure computation")
        owners = [
            pool.submit(c.post, f"/v1/joint/{joint_id}/run", {**body, "parties": parties})
            for c in clients
        ]
        try:
            opened = run_party(party_job(spec, tag, 0, hosts, me, trusted), timeout, process)
            process.close()
            ran = [f.result() for f in owners]
        except Exception as exc:
            process.close()
            _record_failure(ledger, joint_id, attempt, str(exc))
            if isinstance(exc, JointRunFailed):
                raise
            raise JointRunFailed(f"run {attempt} failed: {exc}") from None
    lap("mpc")
    result = finish(spec, opened)
    digest = result_hash(result)
    done = ledger.complete(joint_id, attempt, digest)
    say("recording the result hash; owners acknowledge it")
    with ThreadPoolExecutor(len(clients)) as pool:
        acks = list(pool.map(lambda c: c.post(f"/v1/joint/{joint_id}/acknowledge", {}), clients))
    lap("chain_complete_and_acknowledge")
    owner_seconds = {
        k: max(r.get("seconds", {}).get(k, 0.0) for r in ran)
        for k in ("decrypt_and_reduce", "commit_input", "checks_before_party", "noise", "party")
    }
    return result, {
        "seconds": seconds,
        "slowest_owner_seconds": owner_seconds,
        "joint": joint_id,
        "attempt": attempt,
        "result_sha256": "0x" + digest.hex(),
        "complete_tx": done.tx_hash,
        "acknowledged": sum(1 for a in acks if a.get("result_sha256") == "0x" + digest.hex()),
    }


def resolve_dataset(s: Any, ref: str) -> bytes:
    """A dataset from ``0x<id>`` or ``DEPARTMENT/NAME``."""
    if ref.startswith("0x"):
        try:
            return bytes.fromhex(ref[2:])
        except ValueError:
            raise InvalidInput(f"{ref!r} is not a dataset id") from None
    if "/" not in ref:
        raise InvalidInput("name a dataset as 0x<id> or DEPARTMENT/NAME (e.g. stats/panel)")
    dept, name = ref.split("/", 1)
    owners = [m for m in s.registry.members() if m.name == dept]
    if not owners:
        raise InvalidInput(f"no department named {dept!r}")
    return s.require_sharing().dataset_id(owners[0].address, name)


def grant_for(s: Any, dataset_id: bytes) -> Any:
    """Your newest usable DP grant on the dataset."""
    sharing = s.require_sharing()
    me = s.keys.address
    for rid in range(sharing.request_count(), 0, -1):
        req = sharing.request(rid)
        mine = req.consumer == me and req.dataset_id == dataset_id and req.mode == Mode.DP
        if mine and sharing.is_usable(rid):
            return req
    raise InvalidInput(
        f"you hold no usable DP grant on dataset 0x{dataset_id.hex()}; apply with: "
        "tanlian access request DATASET --mode dp --epsilon E"
    )


def resolve_draft(s: Any, draft: dict[str, Any]) -> JointSpec:
    """The canonical spec from a draft naming datasets as DEPARTMENT/NAME, with a domain
    given as lists per key column (their product) or as explicit key tuples."""
    if not isinstance(draft, dict) or not isinstance(draft.get("inputs"), list):
        raise InvalidInput("a joint query spec is a JSON object with a list of inputs")
    body = dict(draft)
    domain = body.get("domain")
    if isinstance(domain, dict):
        keys = body.get("key") or list(domain)
        try:
            body["domain"] = [
                [str(v) for v in combo] for combo in product(*(domain[k] for k in keys))
            ]
        except KeyError as exc:
            raise InvalidInput(f"the domain gives no values for key column {exc}") from None
    inputs = []
    for item in body["inputs"]:
        if not isinstance(item, dict) or "dataset" not in item:
            raise InvalidInput("every input names a dataset (DEPARTMENT/NAME or 0x<id>)")
        dataset_id = resolve_dataset(s, str(item["dataset"]))
        req = grant_for(s, dataset_id)
        inputs.append(
            {
                **item,
                "dataset": "0x" + dataset_id.hex(),
                "owner": req.owner,
                "version": req.version,
                "grant": req.id,
            }
        )
    body["inputs"] = inputs
    return parse_spec(body)
