"""Reading block headers as stored (RLP), faster than a general decoder.

An audit reads every header of the chain: the chain host takes the two roots of each, the
auditor its parent hash, number, roots and time. Both fall back to ``rlp.decode`` for
anything that is not a flat list of strings.
"""

from __future__ import annotations

import rlp


def header_fields(raw: bytes) -> list[bytes]:
    """The items of an RLP header (a flat list of strings), read without a general decoder;
    anything that is not a flat list is handed to ``rlp.decode``."""
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
    fields = header_fields(raw)
    return bytes(fields[4]), bytes(fields[5])
