"""Who is in the network, as this node's event index says (the read side of NodeRegistry)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from node.chain.indexer.indexer import EventIndexer, IndexedEvent
from node.registry.registry import Status, mask_to_roles


@dataclass
class MemberView:
    address: str
    name: str
    roles: list[str]
    encryption_key: str
    endpoint: str
    status: str = Status.PENDING.label
    approvals: int = 0
    registered_block: int = 0
    updated_block: int = 0
    approved_by: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class MemberDirectory:
    """Members folded from the registry's indexed events; refreshed after each index sync."""

    def __init__(self, indexer: EventIndexer, registry: str) -> None:
        self._indexer = indexer
        self.registry = registry
        self._members: dict[str, MemberView] = {}
        self._last_block = -1
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._lock:
            cursor = self._indexer.cursor()
            if cursor <= self._last_block:
                return
            for ev in self._indexer.events(
                address=self.registry, from_block=self._last_block + 1, to_block=cursor
            ):
                self._apply(ev)
            self._last_block = cursor

    def _apply(self, ev: IndexedEvent) -> None:
        a = ev.args
        if ev.event == "MemberRegistered":
            self._members[a["account"]] = MemberView(
                address=a["account"],
                name=a["name"],
                roles=mask_to_roles(a["roles"]),
                encryption_key=a["encryptionKey"],
                endpoint=a["endpoint"],
                registered_block=ev.block_number,
                updated_block=ev.block_number,
            )
            return
        m = self._members.get(a.get("account", ""))
        if m is None:
            return
        m.updated_block = ev.block_number
        if ev.event == "RegistrationApproved":
            m.approvals = a["approvals"]
            m.approved_by.append(a["regulator"])
        elif ev.event in ("MemberActivated", "MemberReinstated"):
            m.status = Status.ACTIVE.label
        elif ev.event == "MemberSuspended":
            m.status = Status.SUSPENDED.label
        elif ev.event == "EncryptionKeyRotated":
            m.encryption_key = a["encryptionKey"]
        elif ev.event == "EndpointChanged":
            m.endpoint = a["endpoint"]

    @property
    def as_of_block(self) -> int:
        return self._last_block

    def get(self, address: str) -> MemberView | None:
        return self._members.get(address)

    def all(self) -> list[MemberView]:
        return sorted(self._members.values(), key=lambda m: (m.registered_block, m.name))
