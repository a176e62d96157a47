"""The regulator's walk of the chain: parent links from hashes it computes itself, and every
block's transaction and receipt roots recomputed; a forged block is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from node.audit.verify import Auditor
from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.raw import RawBlock


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory):
    b = open_backend("embedded", home=tmp_path_factory.mktemp("walk") / "chain")
    client = ChainClient(b, new_account())
    probe, _ = client.deploy(load_artifact("ChainProbe"), "walk")
    for i in range(6):
        client.transact(probe, "emitBatch", i, 0, 2)
    b.probe_address = probe.address  # for the tests that read its logs from receipts
    yield b
    b.close()


class Forging:
    """A chain host that serves one block altered (delegates everything else)."""

    def __init__(self, inner, *, header_at: int | None = None, receipt_at: int | None = None):
        self.inner, self.header_at, self.receipt_at = inner, header_at, receipt_at

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def raw_blocks(self, start, end):
        out = self.inner.raw_blocks(start, end)
        if self.header_at is not None and start <= self.header_at <= end:
            b = out[self.header_at - start]
            fields = rlp.decode(b.header)
            fields[12] = b"forged"  # extra data: the block's hash changes
            out[self.header_at - start] = RawBlock(rlp.encode(fields), b.transactions, b.receipts)
        if self.receipt_at is not None and start <= self.receipt_at <= end:
            b = out[self.receipt_at - start]
            forged = [b.receipts[0][:-1] + b"\x00"]
            out[self.receipt_at - start] = RawBlock(b.header, b.transactions, forged)
        return out


def walk(backend) -> Auditor:
    auditor = Auditor(backend, {}, b"\x01" * 32)
    auditor.times, auditor.logs = auditor._walk_chain(backend.block_number())
    return auditor


def test_an_honest_chain_walks_clean_with_every_root_recomputed(backend) -> None:
    auditor = walk(backend)
    assert auditor.findings == []
    assert auditor.roots_checked == backend.block_number() + 1


def test_a_forged_header_breaks_the_next_link(backend) -> None:
    auditor = walk(Forging(backend, header_at=3))
    assert [(f.kind, f.evidence["block"]) for f in auditor.findings] == [("chain_broken", 4)]


def test_a_forged_receipt_fails_its_root(backend) -> None:
    auditor = walk(Forging(backend, receipt_at=5))
    [f] = auditor.findings
    assert (f.kind, f.severity, f.evidence["block"]) == ("block_roots_mismatch", "critical", 5)
    assert "receipt" in f.message


def test_without_raw_blocks_the_walk_still_checks_links(tmp_path: Path, backend) -> None:
    class Plain(Forging):
        def raw_blocks(self, start, end):
            return None

        def raw_headers(self, start, end):
            return None

    auditor = walk(Plain(backend))
    assert auditor.findings == [] and auditor.roots_checked == 0
    # and the events must then come from eth_getLogs
    assert auditor.logs is None
    assert sorted(auditor.times) == list(range(backend.block_number() + 1))


@settings(max_examples=80, deadline=None)
@given(items=st.lists(st.binary(min_size=1, max_size=300), min_size=0, max_size=4))
def test_trie_root_matches_the_hexary_trie(items: list[bytes]) -> None:
    # the one-item shortcut and the general path agree with py-trie's own construction
    from trie import HexaryTrie

    from node.audit.verify import BLANK_ROOT, trie_root

    reference = HexaryTrie({}, BLANK_ROOT)
    for i, item in enumerate(items):
        reference[rlp.encode(i, sedes=rlp.sedes.big_endian_int)] = item
    assert trie_root(items) == reference.root_hash


def test_the_audit_pauses_the_cyclic_collector_and_restores_it() -> None:
    import gc

    from node.audit.verify import _cyclic_gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), _cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failing check")
    assert gc.isenabled()
    gc.disable()
    try:
        with _cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_the_walk_reads_the_watched_logs_from_the_receipts(backend) -> None:
    # the probe stands in for an audited contract: the walk only matches addresses
    auditor = Auditor(backend, {"audit": backend.probe_address}, b"\x01" * 32)
    _, logs = auditor._walk_chain(backend.block_number())
    expected = backend.get_logs(0, backend.block_number(), [backend.probe_address])
    assert logs == expected and len(logs) == 2 + 12  # two role grants at deploy, 6 × 2 pings


def test_without_roots_the_walk_trusts_the_receipts_but_still_reads_them(backend) -> None:
    forged = Forging(backend, receipt_at=5)
    auditor = Auditor(forged, {"audit": backend.probe_address}, b"\x01" * 32, roots=False)
    times, logs = auditor._walk_chain(backend.block_number())
    assert auditor.findings == [] and auditor.roots_checked == 0
    assert len(times) == backend.block_number() + 1 and len(logs) == 2 + 12
