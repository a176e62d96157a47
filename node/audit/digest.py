"""A digest of an event index, so that two indexes of the same chain can be compared."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson

from node.chain.indexer.indexer import IndexedEvent


def index_digest(events: Iterable[IndexedEvent]) -> tuple[str, int]:
    """SHA-256 over every event's position, contract, name and arguments, and the count."""
    h = hashlib.sha256()
    n = 0
    for e in events:
        h.update(
            f"{e.block_number}|{e.block_hash}|{e.tx_hash}|{e.log_index}|{e.address.lower()}|"
            f"{e.event}|".encode()
        )
        h.update(orjson.dumps(e.args, option=orjson.OPT_SORT_KEYS))
        h.update(b"\n")
        n += 1
    return "0x" + h.hexdigest(), n
