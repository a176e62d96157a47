"""Blocks as stored (RLP): read faster than a general decoder, and carried over the wire.

An audit reads every block of the chain: the chain host takes the two roots of each header
and the values of its one-leaf tries, the auditor each header's parent hash, number, roots
and time, and the logs of each receipt. The readers here handle the shapes blocks have and
hand anything else to ``rlp.decode``.

Over JSON-RPC a range of blocks travels as one hex string of their bytes laid end to end,
with a list of sizes saying where each piece ends (hex strings per item cost the host and
the reader a conversion each, 3×10^5 of them for a 10^5-block chain).
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp


@dataclass(frozen=True, slots=True)
class RawBlock:
    """One block as its header commits to it: the header's RLP and the values of its
    transaction and receipt tries, in index order."""

    header: bytes
    transactions: list[bytes]
    receipts: list[bytes]


def flat_list(raw: bytes) -> list[bytes]:
    """The items of an RLP list of strings (a header, a trie leaf), read without a general
    decoder; anything that is not a flat list is handed to ``rlp.decode``."""
    first = raw[0]
    if first < 0xC0:
        return rlp.decode(raw)
    pos = 1 + (first - 0xF7 if first > 0xF7 else 0)
    out = []
    end = len(raw)
    while pos < end:
        b = raw[pos]
        if b < 0x80:
            out.append(raw[pos : pos + 1])
            pos += 1
        elif b < 0xB8:
            out.append(raw[pos + 1 : pos + 1 + b - 0x80])
            pos += 1 + b - 0x80
        elif b < 0xC0:
            size = b - 0xB7
            length = int.from_bytes(raw[pos + 1 : pos + 1 + size], "big")
            start = pos + 1 + size
            out.append(raw[start : start + length])
            pos = start + length
        else:
            return rlp.decode(raw)
    return out


def header_roots(raw: bytes) -> tuple[bytes, bytes]:
    """The transaction and receipt roots of an RLP header, read at their fixed offsets.

    The first six fields have fixed sizes (hash, hash, address, hash, hash, hash), so the
    roots sit at known offsets after the list prefix; anything else is decoded in full.
    """
    start = 1 + (raw[0] - 0xF7 if raw[0] > 0xF7 else 0)
    tx = start + 33 + 33 + 21 + 33
    if raw[tx] == 0xA0 and raw[tx + 33] == 0xA0 and raw[start + 66] == 0x94:
        return raw[tx + 1 : tx + 33], raw[tx + 34 : tx + 66]
    fields = flat_list(raw)
    return bytes(fields[4]), bytes(fields[5])


def header_links(raw: bytes) -> tuple[bytes, bytes, bytes, int, int]:
    """(parent hash, transaction root, receipt root, number, timestamp) of an RLP header.

    Read at fixed offsets up to the bloom (hash, hash, address, hash, hash, hash, 256
    bytes), then through five short integers; any other shape is decoded in full.
    """
    start = 1 + (raw[0] - 0xF7 if raw[0] > 0xF7 else 0)
    tx = start + 120  # parent, uncles, coinbase, state root: 33 + 33 + 21 + 33
    bloom = tx + 66
    if (
        raw[start] == 0xA0
        and raw[start + 66] == 0x94
        and raw[tx] == 0xA0
        and raw[tx + 33] == 0xA0
        and raw[bloom : bloom + 3] == b"\xb9\x01\x00"
    ):
        pos = bloom + 259
        ints = []
        for _ in range(5):  # difficulty, number, gas limit, gas used, timestamp
            b = raw[pos]
            if b < 0x80:
                ints.append(b)
                pos += 1
            elif b < 0xB8:
                ints.append(int.from_bytes(raw[pos + 1 : pos + 1 + b - 0x80], "big"))
                pos += 1 + b - 0x80
            else:
                break
        else:
            return (
                raw[start + 1 : start + 33],
                raw[tx + 1 : tx + 33],
                raw[tx + 34 : tx + 66],
                ints[1],
                ints[4],
            )
    f = flat_list(raw)
    return f[0], f[4], f[5], int.from_bytes(f[8], "big"), int.from_bytes(f[11], "big")


def _span(raw: bytes, pos: int) -> tuple[bool, int, int]:
    """(is a list, payload start, payload end) of the RLP item at ``pos``."""
    b = raw[pos]
    if b < 0x80:
        return False, pos, pos + 1
    if b < 0xB8:
        return False, pos + 1, pos + 1 + b - 0x80
    if b < 0xC0:
        size = b - 0xB7
        start = pos + 1 + size
        return False, start, start + int.from_bytes(raw[pos + 1 : start], "big")
    if b < 0xF8:
        return True, pos + 1, pos + 1 + b - 0xC0
    size = b - 0xF7
    start = pos + 1 + size
    return True, start, start + int.from_bytes(raw[pos + 1 : start], "big")


def receipt_logs(receipt: bytes) -> list[tuple[bytes, tuple[bytes, ...], bytes]]:
    """The logs (address, topics, data) of a receipt as its trie stores it: the RLP list
    [status, cumulative gas, bloom, logs], behind a type byte for a typed transaction.

    Raises ``ValueError`` for bytes that are not such a receipt.
    """
    try:
        pos = 1 if receipt[0] < 0x80 else 0  # EIP-2718: a type byte before the RLP
        is_list, pos, end = _span(receipt, pos)
        if not is_list:
            raise ValueError("a receipt is an RLP list")
        for _ in range(3):  # status, cumulative gas, bloom
            _, _, pos = _span(receipt, pos)
        is_list, pos, logs_end = _span(receipt, pos)
        if not is_list or logs_end != end or end != len(receipt):
            raise ValueError("a receipt's fourth item is its list of logs, and its last")
        out = []
        while pos < logs_end:
            is_list, at, log_end = _span(receipt, pos)
            if receipt[at] == 0x94:  # the usual 20-byte address
                a0, a1 = at + 1, at + 21
            else:
                _, a0, a1 = _span(receipt, at)
            is_topics, t, topics_end = _span(receipt, a1)
            count, rest = divmod(topics_end - t, 33)
            if not rest and receipt[t:topics_end:33] == b"\xa0" * count:
                # the usual topics: 32-byte strings, 33 bytes apart
                topics = tuple(receipt[i + 1 : i + 33] for i in range(t, topics_end, 33))
            else:
                found = []
                while t < topics_end:
                    _, t0, t = _span(receipt, t)
                    found.append(receipt[t0:t])
                topics = tuple(found)
            _, d0, d1 = _span(receipt, topics_end)
            if not is_list or not is_topics or d1 != log_end or a1 - a0 != 20:
                raise ValueError("a log is [address, [topics], data]")
            out.append((receipt[a0:a1], topics, receipt[d0:d1]))
            pos = log_end
        return out
    except IndexError:
        raise ValueError("a receipt's RLP ends early") from None


def pack_blocks(blocks: list[RawBlock]) -> dict[str, object]:
    """Blocks for the wire: ``data`` their bytes end to end (hex), ``sizes`` per block the
    header's size, the transaction count and sizes, the receipt count and sizes."""
    parts: list[bytes] = []
    sizes: list[int] = []
    for b in blocks:
        parts.append(b.header)
        sizes.append(len(b.header))
        for items in (b.transactions, b.receipts):
            sizes.append(len(items))
            sizes.extend(len(i) for i in items)
            parts.extend(items)
    return {"data": "0x" + b"".join(parts).hex(), "sizes": sizes}


def unpack_blocks(packed: dict) -> list[RawBlock]:
    """The inverse of :func:`pack_blocks`; ``ValueError`` when sizes and data disagree."""
    try:
        data = bytes.fromhex(packed["data"].removeprefix("0x"))
        sizes = packed["sizes"]
        if not all(type(s) is int and s >= 0 for s in sizes):
            raise ValueError("sizes are non-negative integers")
        out = []
        pos = i = 0
        n = len(sizes)
        while i < n:
            end = pos + sizes[i]
            header = data[pos:end]
            pos, i = end, i + 1
            lists = []
            for _ in range(2):
                count = sizes[i]
                i += 1
                items = []
                for size in sizes[i : i + count]:
                    items.append(data[pos : pos + size])
                    pos += size
                if len(items) != count:
                    raise ValueError("sizes end inside a block")
                i += count
                lists.append(items)
            out.append(RawBlock(header, lists[0], lists[1]))
    except (KeyError, TypeError, AttributeError, IndexError):
        raise ValueError("packed blocks need hex 'data' and integer 'sizes'") from None
    if pos != len(data):
        raise ValueError(f"sizes cover {pos} bytes of {len(data)}")
    return out
