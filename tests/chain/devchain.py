"""A chain host whose genesis funds a dev key, for the tests that drive it with real clients
(cast, ethers). The chain is gas-free, but cast's and ethers' EIP-1559 sends pay a priority
fee of at least 1 wei, and value transfers need funds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from node.chain.embedded.chain import EmbeddedChain, GenesisSpec
from node.chain.embedded.host import ChainHost, start_chain_host

DEV_FUNDS = 10**21


@dataclass
class DevChain:
    host: ChainHost
    dev: LocalAccount


def start_dev_chain(home: Path) -> DevChain:
    dev = Account.create()
    EmbeddedChain(home / "chain", genesis=GenesisSpec(alloc={dev.address: DEV_FUNDS})).close()
    return DevChain(start_chain_host(home), dev)
