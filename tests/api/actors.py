"""A department's keys as the API tests sign with them."""

from __future__ import annotations

from dataclasses import dataclass

from eth_keys import keys

from node.registry.keystore import NodeKeys


@dataclass
class Actor:
    keys: NodeKeys

    @property
    def address(self) -> str:
        return self.keys.address

    @property
    def pk(self) -> keys.PrivateKey:
        return keys.PrivateKey(self.keys.account.key)
