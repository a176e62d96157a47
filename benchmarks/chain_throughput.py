"""Chain throughput: signed contract transactions per second through the node's send path.

Prints, in one run and on the same transaction (ChainProbe.store):

* bare      — py-evm alone, in memory: decode, apply and mine one pre-signed transaction
              per block; no signing, no web3, no disk. The ceiling.
* embedded  — the node's send path on the durable embedded chain: ABI-encode, sign,
              apply+mine+commit to disk, receipt, event decoding.
* served    — the same through `tanlian chain serve` over JSON-RPC on loopback.
* anvil     — the same against anvil (npm @foundry-rs/anvil), if installed.

Target: embedded >= 0.8 x bare.  Usage: python benchmarks/chain_throughput.py [-n 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from eth._utils.address import generate_contract_address
from eth.db.atomic import AtomicDB
from eth_tester.backends.pyevm.main import get_default_genesis_params
from eth_utils import to_canonical_address, to_checksum_address

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.embedded.chain import _chain_class
from node.chain.embedded.host import UNTHROTTLED_WRITES, free_port, start_chain_host

ROOT = Path(__file__).resolve().parent.parent
KEY = "0x" + "5a" * 32


def bare_ceiling(n: int) -> float:
    """py-evm only: apply and mine pre-signed transactions, one per block, in memory."""
    from eth_account import Account

    account = Account.create()
    chain_cls = _chain_class(20_260)
    params = get_default_genesis_params({"gas_limit": 60_000_000, "timestamp": int(time.time())})
    params["base_fee_per_gas"] = 0
    chain = chain_cls.from_genesis(AtomicDB(), params, {})
    artifact = load_artifact("ChainProbe")
    fee = {"maxFeePerGas": 0, "maxPriorityFeePerGas": 0, "chainId": 20_260, "value": 0}
    deploy = account.sign_transaction(
        {
            **fee,
            "nonce": 0,
            "gas": 15_000_000,
            "data": artifact.bytecode + artifact.abi.encode_constructor(["bench"]),
        }
    )
    builder = chain.get_vm().get_transaction_builder()
    chain.apply_transaction(builder.decode(deploy.raw_transaction))
    chain.mine_block(mix_hash=os.urandom(32))
    address = to_checksum_address(
        generate_contract_address(to_canonical_address(account.address), 0)
    )
    raws = [
        account.sign_transaction(
            {
                **fee,
                "nonce": i + 1,
                "gas": 15_000_000,
                "to": address,
                "data": artifact.abi.encode_call("store", [KEY, i + 1]),
            }
        ).raw_transaction
        for i in range(n)
    ]
    start = time.perf_counter()
    for raw in raws:
        tx = chain.get_vm_class(chain.header).get_transaction_builder().decode(raw)
        _, _, computation = chain.apply_transaction(tx)
        assert computation.is_success
        chain.mine_block(mix_hash=os.urandom(32))
    return n / (time.perf_counter() - start)


def through_client(client: ChainClient, n: int) -> float:
    probe, _ = client.deploy(load_artifact("ChainProbe"), "bench")
    for i in range(20):  # warm caches
        client.transact(probe, "store", KEY, i + 1)
    start = time.perf_counter()
    for i in range(n):
        client.transact(probe, "store", KEY, i + 1)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="transactions per measurement")
    parser.add_argument("--fsync", action="store_true", help="embedded with fsync per block")
    args = parser.parse_args()
    n = args.n
    results: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="tanlian-bench-"))
    try:
        results["bare py-evm (in memory)"] = bare_ceiling(n)

        backend = open_backend("embedded", home=work / "embedded", fsync=False)
        results["embedded (durable)"] = through_client(ChainClient(backend, new_account()), n)
        backend.close()

        backend = open_backend("embedded", home=work / "embedded-fsync", fsync=True)
        results["embedded (durable, fsync)"] = through_client(
            ChainClient(backend, new_account()), n
        )
        backend.close()

        host = start_chain_host(work / "served", options=UNTHROTTLED_WRITES)
        backend = open_backend("rpc", url=host.url)
        results["served embedded (JSON-RPC)"] = through_client(
            ChainClient(backend, new_account()), n
        )
        backend.close()
        host.stop()

        anvil = ROOT / "node_modules" / ".bin" / "anvil"
        if anvil.exists():
            port = free_port()
            proc = subprocess.Popen(
                [str(anvil), "--port", str(port), "--silent"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                url = f"http://127.0.0.1:{port}"
                for _ in range(100):
                    try:
                        backend = open_backend("rpc", url=url)
                        break
                    except Exception:
                        time.sleep(0.1)
                account = new_account()
                backend._rpc("anvil_setBalance", [account.address, hex(10**21)])
                results["anvil (JSON-RPC)"] = through_client(ChainClient(backend, account), n)
                backend.close()
            finally:
                proc.terminate()
                proc.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ceiling = results["bare py-evm (in memory)"]
    print(f"\nchain throughput, {n} ChainProbe.store transactions each, one per block")
    print(f"{'path':<30} {'tx/s':>8} {'x bare':>8}")
    for name, tps in results.items():
        print(f"{name:<30} {tps:>8.1f} {tps / ceiling:>8.2f}")
    ratio = results["embedded (durable)"] / ceiling
    print(f"\ntarget embedded >= 0.80 x bare: {'met' if ratio >= 0.8 else 'NOT met'} ({ratio:.2f})")


if __name__ == "__main__":
    main()
