"""A node seals what it logged when it is stopped, not only on its schedule."""

from __future__ import annotations

from pathlib import Path

from node.audit.contracts import AuditAnchors
from node.audit.log import AccessLog
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.errors import ChainStoreLocked
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from tests.network.test_local_network import _config


def _open_after_down(home: Path):
    """The stopped network's store: `network down` must return only once no thread of the
    chain host holds it (a zombie leader whose threads were still exiting once did). A
    failure names the holder and its threads' states."""
    try:
        return open_backend("embedded", home=home, create=False)
    except ChainStoreLocked as exc:
        holder = str(exc).rsplit(" ", 1)[-1]
        try:
            cmd = Path(f"/proc/{holder}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            tasks = sorted(p.name for p in Path(f"/proc/{holder}/task").iterdir())
        except OSError:
            cmd, tasks = "(gone)", []
        raise AssertionError(f"{exc}; holder {cmd!r}, threads {tasks}") from None


def test_a_node_anchors_its_log_on_shutdown(tmp_path: Path) -> None:
    # anchoring every hour: only the shutdown can have anchored the entry below
    config = load_network_config(_config(tmp_path / "net.toml", log_anchor_seconds=3600))
    net = LocalNetwork(config, tmp_path / "state", say=lambda _: None)
    net.up()
    try:
        with net.session("stats") as s:
            log = AccessLog(s.engine)
            log.append("download", request_id=1, bytes=0, outcome="aborted")
            me, audit = s.keys.address, s.settings.contracts.audit
            assert log.batches() == []
            engine_url = s.settings.db_url
    finally:
        net.down()  # SIGTERM: the node's runtime closes and anchors what is pending
    backend = _open_after_down(net.root / "chain" / "chain")
    try:
        anchors = AuditAnchors(ChainClient(backend, new_account()), audit)
        assert anchors.batch_count(me) == 1
        assert anchors.batch(me, 0).count == 1
    finally:
        backend.close()
    from node.db import make_engine

    engine = make_engine(engine_url)
    try:
        [batch] = AccessLog(engine).batches()
        assert batch["seq"] == 0 and batch["count"] == 1
    finally:
        engine.dispose()
