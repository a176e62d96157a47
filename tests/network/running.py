"""One local network of real processes for a test module: up on entry, down on exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from tests.network.test_local_network import _config


@contextmanager
def running_network(root: Path, *, full: bool = False) -> Iterator[LocalNetwork]:
    """The small test network (or the whole pilot, ``full``) on free ports under ROOT."""
    network = LocalNetwork(
        load_network_config(_config(root / "net.toml", full=full)),
        root / "state",
        say=lambda _: None,
    )
    try:
        network.up()
        yield network
    finally:
        network.down()
