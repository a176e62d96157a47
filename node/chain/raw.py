"""Blocks as stored (RLP): read faster than a general decoder, and carried over the wire.

An audit reads every block of the chain: the chain host takes the two roots of each header
and the values of its one-leaf tries, the auditor each header's parent hash, number, roots
and time, and the logs of each receipt. The readers here handle the shapes blocks have and
hand anything else to ``rlp.decode``.

A range of blocks travels as bytes (``POST /raw-blocks`` on Tanlian's chain host): their
stored parts end to end behind a table of sizes, so that neither the host nor the reader
converts 10^5 blocks to hex and JSON and back.
"""

from __future__ import annotations

import itertools
import struct
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


def pack_blocks(rows: list[tuple[bytes, bytes, bytes]]) -> bytes:
    """Blocks for the wire, in their stored form (header RLP, RLP list of transactions,
    RLP list of receipts): a 4-byte count, 4-byte sizes of the three parts of each block,
    then the parts end to end. The host only concatenates; the reader splits the lists."""
    parts = [p for row in rows for p in row]
    head = len(rows).to_bytes(4, "big") + struct.pack(f">{len(parts)}I", *map(len, parts))
    return head + b"".join(parts)


def unpack_blocks(data: bytes) -> list[RawBlock]:
    """The inverse of :func:`pack_blocks`; ``ValueError`` when sizes and data disagree."""
    if len(data) < 4:
        raise ValueError("packed blocks start with a 4-byte count")
    n = int.from_bytes(data[:4], "big")
    start = 4 + 12 * n
    if len(data) < start:
        raise ValueError(f"{n} blocks announced, their sizes cut short")
    ends = list(itertools.accumulate(struct.unpack_from(f">{3 * n}I", data, 4), initial=start))
    if ends[-1] != len(data):
        raise ValueError(f"sizes cover {ends[-1] - start} bytes of {len(data) - start}")
    out = []
    for i in range(0, 3 * n, 3):
        txs, receipts = data[ends[i + 1] : ends[i + 2]], data[ends[i + 2] : ends[i + 3]]
        if txs[:1] < b"\xc0" or receipts[:1] < b"\xc0":
            raise ValueError("a block's transactions and receipts are RLP lists")
        out.append(RawBlock(data[ends[i] : ends[i + 1]], flat_list(txs), flat_list(receipts)))
    return out
