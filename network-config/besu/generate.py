"""Generate QBFT validator keys and the genesis file for the Besu profile.

    python network-config/besu/generate.py [--validators 4] [--out network-config/besu]

    python network-config/besu/generate.py --admin 0x… [--admin 0x…]

Writes OUT/keys/validatorN/{key,key.pub,address} and OUT/genesis.json whose extraData
lists the validators (RLP [vanity, validators, no vote, round 0, no seals], as Besu's
`rlp encode --type=QBFT_EXTRA_DATA` would), and whose alloc holds the network's account
rules (node/contracts/src/AccountRules.sol, Besu's onchain account permissioning) at
ACCOUNT_RULES with the genesis administrators (`--admin`, the accounts that deploy the
registry and the other contracts) in its storage. Without `--admin` no account may write
(fail safe). The keys committed beside this script are
DEVELOPMENT KEYS, public to anyone who reads this repository: generate your own for any
deployment that holds real data, and keep them out of version control.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import rlp
from eth_keys import keys
from eth_utils import keccak, to_canonical_address, to_checksum_address

CHAIN_ID = 20260
#: Where the account rules live from genesis (config.toml's permissions-accounts-contract-address).
ACCOUNT_RULES = "0x0000000000000000000000000000000000007A11"
#: AccountRules' storage: slot 0 is mapping(address => bool) of the genesis administrators.
ADMINISTRATORS_SLOT = 0
ARTIFACT = Path(__file__).resolve().parents[2] / "node/contracts/artifacts/AccountRules.json"
# The mixHash Besu expects on QBFT genesis blocks (ASCII "ctical byzantine fault tolerance").
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"


def qbft_extra_data(addresses: list[bytes]) -> str:
    return "0x" + rlp.encode([b"\x00" * 32, addresses, [], 0, []]).hex()


def account_rules_alloc(admins: list[str]) -> dict:
    """The alloc entry of the account rules: runtime code and the administrators' slots
    (no constructor runs in a genesis alloc)."""
    code = json.loads(ARTIFACT.read_text())["deployedBytecode"]
    storage = {}
    for admin in admins:
        key = to_canonical_address(admin).rjust(32, b"\0") + ADMINISTRATORS_SLOT.to_bytes(32, "big")
        storage["0x" + keccak(key).hex()] = "0x" + (1).to_bytes(32, "big").hex()
    return {
        "balance": "0x0",
        "code": code,
        "storage": storage,
    }


def genesis(addresses: list[bytes], admins: list[str] = ()) -> dict:
    return {
        "config": {
            "chainId": CHAIN_ID,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,
            "zeroBaseFee": True,
            "qbft": {"blockperiodseconds": 2, "epochlength": 30000, "requesttimeoutseconds": 4},
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": "0x3938700",
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "alloc": {ACCOUNT_RULES.lower(): account_rules_alloc(list(admins))},
        "extraData": qbft_extra_data(addresses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument(
        "--admin",
        action="append",
        default=[],
        metavar="0x…",
        help="a genesis administrator of the account rules (repeat for several)",
    )
    args = parser.parse_args()
    try:
        admins = [to_checksum_address(a) for a in args.admin]
    except ValueError as exc:
        parser.error(f"--admin takes an address: {exc}")
    if args.validators < 4:
        parser.error("QBFT tolerates f faults with 3f+1 validators: use at least 4")
    addresses = []
    for i in range(1, args.validators + 1):
        folder = args.out / "keys" / f"validator{i}"
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "key").exists():
            key = keys.PrivateKey(bytes.fromhex((folder / "key").read_text().strip()[2:]))
        else:
            key = keys.PrivateKey(os.urandom(32))
            (folder / "key").write_text("0x" + key.to_bytes().hex() + "\n")
        (folder / "key.pub").write_text("0x" + key.public_key.to_bytes().hex() + "\n")
        (folder / "address").write_text(key.public_key.to_checksum_address() + "\n")
        addresses.append(key.public_key.to_canonical_address())
    (args.out / "genesis.json").write_text(json.dumps(genesis(addresses, admins), indent=2) + "\n")
    print(f"wrote {len(addresses)} validator keys and {args.out / 'genesis.json'}")


if __name__ == "__main__":
    main()
