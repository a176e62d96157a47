"""What this node holds legitimately, and where each file came from.

A pull records the file with its grant: the request, the dataset and version, the owner and
the transaction that authorized the grant (found in the AccessManager's logs). Analytics
outputs are recorded as derived from those holdings. The cockpit shows nothing else, and
re-hashes a file before using it: a file changed after it was recorded is refused.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from node.cockpit.errors import CockpitError, NoHoldings
from node.cockpit.models import Holding
from node.db import durable_session

#: what a holding's provenance carries from its note, when it has it
DETAIL_KEYS = (
    "method",
    "inputs",
    "epsilon",
    "grants",
    "queries",
    "noise_bound_95",
    "result_sha256",
    "synthetic",
)
#: the pulled files the cockpit's panels read, by the role a pull records them as
COCKPIT_ROLES = ("building_energy", "stats_panel")


class HoldingTampered(CockpitError):
    code = "holding_tampered"
    http_status = 409


@dataclass(frozen=True)
class Held:
    id: int
    role: str
    kind: str
    path: Path
    sha256: str
    size: int
    request_id: int | None
    dataset_id: str | None
    dataset_name: str | None
    version: int | None
    owner: str | None
    grant_tx: str | None
    grant_block: int | None
    note: dict[str, Any]

    def provenance(self) -> dict[str, Any]:
        """What a figure built on this holding names as its source."""
        out: dict[str, Any] = {"role": self.role, "kind": self.kind, "sha256": self.sha256}
        if self.kind == "pulled":
            out.update(
                dataset=self.dataset_name,
                dataset_id=self.dataset_id,
                version=self.version,
                owner=self.owner,
                grant=self.request_id,
                grant_tx=self.grant_tx,
                grant_block=self.grant_block,
            )
        for key in DETAIL_KEYS:
            if key in self.note:
                out[key] = self.note[key]
        return out


def _held(row: Holding) -> Held:
    return Held(
        row.id,
        row.role,
        row.kind,
        Path(row.path),
        row.sha256,
        row.size,
        row.request_id,
        row.dataset_id,
        row.dataset_name,
        row.version,
        row.owner,
        row.grant_tx,
        row.grant_block,
        dict(row.note or {}),
    )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return "0x" + h.hexdigest()


def grant_transaction(sharing: Any, request_id: int) -> tuple[str, int] | None:
    """The transaction (and block) whose AccessAuthorized event authorized ``request_id``."""
    access = sharing.access
    topic0 = access.abi.events["AccessAuthorized"].topic0
    topic1 = access.abi.topic_for("AccessAuthorized", "requestId", request_id)
    backend = sharing.client.backend
    logs = backend.get_logs(0, backend.block_number(), [access.address], [[topic0], [topic1]])
    if not logs:
        return None
    first = logs[0]
    return "0x" + bytes(first.tx_hash).hex(), int(first.block_number)


class Holdings:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record_pull(
        self, role: str, info: dict[str, Any], *, sharing: Any, dataset_name: str, owner: str
    ) -> Held:
        """Record a verified pull (``info``: what ``node.sharing.service.pull`` returned)."""
        found = grant_transaction(sharing, int(info["request"]))
        tx, block = found if found else (None, None)
        return self._add(
            Holding(
                role=role,
                kind="pulled",
                path=str(Path(info["file"]).resolve()),
                sha256=info["plaintext_sha256"],
                size=int(info["size"]),
                recorded_at=time.time(),
                request_id=int(info["request"]),
                dataset_id=info["dataset_id"],
                dataset_name=dataset_name,
                version=int(info["version"]),
                owner=owner,
                grant_tx=tx,
                grant_block=block,
                note={"synthetic": True} if _synthetic(Path(info["file"])) else {},
            )
        )

    def record_derived(
        self, role: str, path: Path, *, inputs: list[int], method: str, **note: Any
    ) -> Held:
        """Record an analytics output computed from the holdings ``inputs``."""
        return self._record_file(
            role, "derived", path, {"inputs": inputs, "method": method, **note}
        )

    def record_dp_answer(
        self, role: str, path: Path, *, method: str, epsilon: dict, grants: list[int], **note: Any
    ) -> Held:
        """Record DP answers this node received (a joint query's opened result), with the ε
        each owner spent and the DP grants it was spent on."""
        note = {"method": method, "epsilon": epsilon, "grants": grants, **note}
        return self._record_file(role, "dp_answer", path, note)

    def _record_file(self, role: str, kind: str, path: Path, note: dict[str, Any]) -> Held:
        path = Path(path).resolve()
        return self._add(
            Holding(
                role=role,
                kind=kind,
                path=str(path),
                sha256=file_sha256(path),
                size=path.stat().st_size,
                recorded_at=time.time(),
                note=note,
            )
        )

    def _add(self, row: Holding) -> Held:
        with durable_session(self.engine) as s:
            s.add(row)
            s.flush()
            return _held(row)

    def all(self) -> list[Held]:
        with Session(self.engine) as s:
            return [_held(r) for r in s.scalars(select(Holding).order_by(Holding.id))]

    def latest_bytes(self, role: str) -> tuple[Held, bytes]:
        """The newest holding of ``role`` and its content, read once and checked against the
        recorded hash (what is parsed is what was hashed: no window to swap the file)."""
        with Session(self.engine) as s:
            row = s.scalars(
                select(Holding).where(Holding.role == role).order_by(Holding.id.desc()).limit(1)
            ).first()
        if row is None:
            raise NoHoldings(f"this node holds no {role.replace('_', ' ')} (pull it under a grant)")
        held = _held(row)
        return held, verified_bytes(held)


def verified_bytes(held: Held) -> bytes:
    """The holding's content; HoldingTampered when it is gone or no longer matches."""
    what = "pulled" if held.kind == "pulled" else "computed"
    try:
        content = held.path.read_bytes()
    except OSError:
        raise HoldingTampered(f"the {held.role.replace('_', ' ')} file is gone") from None
    if "0x" + hashlib.sha256(content).hexdigest() != held.sha256:
        raise HoldingTampered(
            f"the {held.role.replace('_', ' ')} file no longer matches the hash recorded when "
            f"it was {what}: the node's operator must pull it again"
        )
    return content


def _synthetic(path: Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as fh:
        header = fh.readline().strip().split(",")
    return "synthetic" in header


def grants_behind(sources: list[dict[str, Any]], holdings: Holdings) -> tuple[dict, list[str]]:
    """The grants whose data a figure drew on, directly or through a derived holding's
    inputs ({request id: provenance}), and the derived holdings' roles."""
    held = {h.id: h for h in holdings.all()}
    grants: dict[int, dict[str, Any]] = {}
    derived: list[str] = []
    for src in sources:
        if src.get("grant") is not None:
            grants[src["grant"]] = src
            continue
        derived.append(src["role"])
        for grant in src.get("grants", []):  # the DP grants a received answer was paid on
            grants.setdefault(int(grant), {"role": src["role"], "kind": src["kind"]})
        for hid in src.get("inputs", []):
            h = held.get(hid)
            if h is not None and h.request_id is not None:
                grants[h.request_id] = h.provenance()
    return grants, derived
