"""AuditLog: batches in order, only from active members, exact errors and events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from node.audit.contracts import AuditAnchors, deploy_audit
from node.chain.errors import ContractReverted
from node.sharing.contracts import Policy
from tests.contracts.test_access_manager import World, build

ROOT = b"\x7a" * 32


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict]]:
    w = build(tmp_path_factory.mktemp("audit") / "chain", Policy(raw_allowed=True))
    regulator = w.sharing["regulator"].client
    contract = deploy_audit(regulator, w.registry.address)
    anchors = {a: AuditAnchors(s.client, contract.address) for a, s in w.sharing.items()}
    # The owner's first batch is anchored here, not in a test: under xdist the tests of one
    # module may run on different workers, each with its own world.
    first = anchors["owner"].anchor(0, ROOT, 3, 100, 200)
    yield w, anchors, first
    w.backend.close()


def test_batches_are_anchored_in_order_with_exact_events(world) -> None:
    w, anchors, r = world
    owner = anchors["owner"]
    assert r.event("LogBatchAnchored").args == {
        "node": w.addr("owner"),
        "seq": 0,
        "root": ROOT,
        "count": 3,
        "firstAt": 100,
        "lastAt": 200,
    }
    assert owner.batch_count(w.addr("owner")) == 1
    b = owner.batch(w.addr("owner"), 0)
    assert (b.root, b.count, b.first_at, b.last_at) == (ROOT, 3, 100, 200)
    assert b.anchored_at > 0
    # another node's sequence is its own
    before = owner.batch_count(w.addr("consumer"))
    anchors["consumer"].anchor(before, ROOT, 1, 5, 5)
    assert owner.batch_count(w.addr("consumer")) == before + 1


@pytest.mark.parametrize(
    ("who", "args", "error", "error_args"),
    [
        ("owner", (0, ROOT, 1, 1, 1), "OutOfOrder", lambda w: (w.addr("owner"), 1, 0)),
        ("owner", (5, ROOT, 1, 1, 1), "OutOfOrder", lambda w: (w.addr("owner"), 1, 5)),
        ("other", (0, ROOT, 0, 1, 1), "InvalidBatch", lambda w: ()),
        ("other", (0, b"\x00" * 32, 1, 1, 1), "InvalidBatch", lambda w: ()),
        ("other", (0, ROOT, 1, 9, 1), "InvalidBatch", lambda w: ()),
        ("suspended", (0, ROOT, 1, 1, 1), "NotActiveMember", lambda w: (w.addr("suspended"),)),
        ("stranger", (0, ROOT, 1, 1, 1), "NotActiveMember", lambda w: (w.addr("stranger"),)),
    ],
)
def test_refusals(world, who: str, args: tuple, error: str, error_args) -> None:
    w, anchors, _ = world
    before = anchors[who].batch_count(w.addr(who))
    with pytest.raises(ContractReverted) as exc:
        anchors[who].anchor(*args)
    assert exc.value.error == error
    assert tuple(exc.value.error_args.values()) == error_args(w)
    assert anchors[who].batch_count(w.addr(who)) == before


def test_reading_a_batch_that_does_not_exist(world) -> None:
    w, anchors, _ = world
    with pytest.raises(ContractReverted) as exc:
        anchors["owner"].batch(w.addr("regulator"), 0)
    assert exc.value.error == "OutOfOrder"
