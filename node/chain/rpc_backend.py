"""The ``rpc`` backend: any Ethereum JSON-RPC endpoint (served embedded chain, anvil, Besu).

Transactions arrive here already signed by the department key; the endpoint holds no keys.
Gas pricing depends on the chain behind the URL:

* ``gas_price="zero"`` — permissioned zero-gas chains (Besu QBFT with
  ``--min-gas-price=0``): legacy transactions with an explicit ``gasPrice=0``.
* ``gas_price="market"`` — EIP-1559 fees from ``eth_feeHistory`` and
  ``eth_maxPriorityFeePerGas`` (anvil, public dev chains).
* ``gas_price="auto"`` (default) — zero when the latest base fee is zero, else market.

Gas limits come from ``eth_estimateGas`` (+25 %), except on a Tanlian chain host, a single
sequencer mining one free transaction per block, where a fixed allowance saves the
estimate's repeated executions.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import orjson
import requests
from eth_utils import to_checksum_address

from node.chain.abi import checksum
from node.chain.backend import (
    BlockInfo,
    CallResult,
    ChainBackend,
    RawLog,
    Receipt,
    register_backend,
)
from node.chain.errors import (
    ChainError,
    ChainUnavailable,
    NotFoundOnChain,
    TransactionRejected,
    WriteNotPermitted,
    WriteRefused,
)
from node.chain.raw import RawBlock, unpack_blocks
from node.errors import ConfigError
from node.settings import check_rpc_url

TANLIAN_CLIENT_PREFIX = "tanlian-embedded/"
FIXED_GAS_ON_TANLIAN_HOST = 15_000_000
#: JSON-RPC error of a sender the chain's account permissioning does not admit (Besu's code,
#: and a Tanlian chain host's)
TX_SENDER_NOT_AUTHORIZED = -32007


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _bytes(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def _int(value: str | int) -> int:
    return value if isinstance(value, int) else int(value, 16)


def _block_tag(block: int | str) -> str:
    return hex(block) if isinstance(block, int) else block


def _raw_log(entry: dict) -> RawLog:
    return RawLog(
        address=checksum(entry["address"]),
        topics=tuple(_bytes(t) for t in entry["topics"]),
        data=_bytes(entry["data"]),
        block_number=_int(entry["blockNumber"]),
        block_hash=_bytes(entry["blockHash"]),
        tx_hash=_bytes(entry["transactionHash"]),
        tx_index=_int(entry["transactionIndex"]),
        log_index=_int(entry["logIndex"]),
    )


@register_backend("rpc")
class RpcBackend(ChainBackend):
    persistent = True

    def __init__(
        self,
        url: str,
        *,
        gas_price: str = "auto",
        poa: bool = False,
        timeout: float = 30.0,
        poll_interval: float = 0.005,
    ) -> None:
        if gas_price not in ("auto", "zero", "market"):
            raise ConfigError(f"gas_price must be auto, zero or market, not {gas_price!r}")
        self.url = check_rpc_url(url)
        self._no_raw_headers = False
        self._session = requests.Session()
        self._timeout = timeout
        self._poa = poa
        self._ids = itertools.count(1)
        self._w3 = None
        self._poll = poll_interval
        try:
            self.chain_id = _int(self._rpc("eth_chainId", []))
            self.client_version = str(self._rpc("web3_clientVersion", []))
        except ChainUnavailable:
            raise
        self._tanlian_host = self.client_version.startswith(TANLIAN_CLIENT_PREFIX)
        if gas_price == "auto":
            latest = self._rpc("eth_getBlockByNumber", ["latest", False])
            gas_price = "zero" if _int(latest.get("baseFeePerGas", "0x0")) == 0 else "market"
        self.gas_price_mode = gas_price

    @property
    def w3(self):
        """A web3.py client on the same endpoint, for callers that want web3's API.

        The backend itself speaks JSON-RPC directly (web3 is large to load in every
        process); with ``poa=True`` the client gets web3's POA extraData middleware, which
        Besu QBFT blocks (extraData beyond 32 bytes) need when read through web3.
        """
        if self._w3 is None:
            from web3 import Web3
            from web3.middleware import ExtraDataToPOAMiddleware

            w3 = Web3(
                Web3.HTTPProvider(
                    self.url, request_kwargs={"timeout": self._timeout}, session=self._session
                )
            )
            if self._poa:
                w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
            self._w3 = w3
        return self._w3

    # -- transport -------------------------------------------------------------------
    def _request(self, method: str, params: list) -> dict:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        try:
            response = self._session.post(self.url, json=body, timeout=self._timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ChainUnavailable(f"chain RPC {self.url} unreachable: {exc}") from exc
        try:
            # orjson: an audit reads 10^5 logs and blocks through here
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise ChainUnavailable(
                f"chain RPC {self.url} answered {response.status_code} without JSON"
            ) from None

    def _rpc(self, method: str, params: list) -> Any:
        response = self._request(method, params)
        if "error" in response:
            err = response["error"]
            raise ChainError(f"{method} failed: {err.get('message', err)}", detail=err)
        return response.get("result")

    # -- reads -------------------------------------------------------------------------
    def block_number(self) -> int:
        return _int(self._rpc("eth_blockNumber", []))

    def get_block(self, block: int | str = "latest") -> BlockInfo:
        b = self._rpc("eth_getBlockByNumber", [_block_tag(block), False])
        if b is None:
            raise NotFoundOnChain(f"no block {block!r}")
        return BlockInfo(
            _int(b["number"]), _bytes(b["hash"]), _bytes(b["parentHash"]), _int(b["timestamp"])
        )

    def raw_headers(self, start: int, end: int) -> list[bytes] | None:
        # Tanlian's own chain host serves raw headers; other clients (anvil, Besu) do not.
        if self._no_raw_headers:
            return None
        out: list[bytes] = []
        for lo in range(start, end + 1, 5000):
            response = self._request("tanlian_getRawHeaders", [hex(lo), hex(min(end, lo + 4999))])
            if "error" in response:
                self._no_raw_headers = True
                return None
            out.extend(_bytes(h) for h in response["result"])
        return out

    def raw_blocks(self, start: int, end: int) -> list[RawBlock] | None:
        # Tanlian's chain host serves blocks as stored (as bytes, beside its JSON-RPC);
        # other clients (anvil, Besu) do not
        if not self._tanlian_host:
            return None
        out: list[RawBlock] = []
        for lo in range(start, end + 1, 5000):
            asked = {"from": lo, "to": min(end, lo + 4999)}
            try:
                response = self._session.post(
                    self.url.rstrip("/") + "/raw-blocks", json=asked, timeout=self._timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise ChainUnavailable(f"chain host {self.url} unreachable: {exc}") from exc
            if response.status_code == 404 and lo == start:
                return None  # a Tanlian host from before the route: readers fall back
            if response.status_code != 200:
                raise ChainError(
                    f"the chain host refused blocks {lo}..{asked['to']}: "
                    f"{response.status_code} {response.text[:200]}"
                )
            try:
                out.extend(unpack_blocks(response.content))
            except ValueError as exc:
                raise ChainError(f"the chain host sent malformed blocks: {exc}") from None
        return out

    def get_blocks(self, start: int, end: int) -> list[BlockInfo]:
        # JSON-RPC batches: one round trip per 100 headers (the served chain's batch limit)
        out: list[BlockInfo] = []
        for lo in range(start, end + 1, 100):
            hi = min(end, lo + 99)
            body = [
                {
                    "jsonrpc": "2.0",
                    "id": n,
                    "method": "eth_getBlockByNumber",
                    "params": [hex(n), False],
                }
                for n in range(lo, hi + 1)
            ]
            try:
                response = self._session.post(self.url, json=body, timeout=self._timeout)
                answers = response.json()
            except (requests.ConnectionError, requests.Timeout, ValueError) as exc:
                raise ChainUnavailable(f"chain RPC {self.url}: block batch failed: {exc}") from exc
            if not isinstance(answers, list):
                return out + [self.get_block(n) for n in range(lo, end + 1)]  # no batches
            for a in sorted(answers, key=lambda a: a.get("id", 0)):
                b = a.get("result")
                if b is None:
                    raise NotFoundOnChain(f"no block {a.get('id')}")
                out.append(
                    BlockInfo(
                        _int(b["number"]),
                        _bytes(b["hash"]),
                        _bytes(b["parentHash"]),
                        _int(b["timestamp"]),
                    )
                )
        return out

    def get_nonce(self, address: str) -> int:
        return _int(self._rpc("eth_getTransactionCount", [address, "pending"]))

    def get_code(self, address: str) -> bytes:
        return _bytes(self._rpc("eth_getCode", [address, "latest"]))

    def call(
        self, to: str | None, data: bytes, sender: str | None = None, block: int | str = "latest"
    ) -> CallResult:
        tx: dict[str, Any] = {"data": _hex(data)}
        if to:
            tx["to"] = to
        if sender:
            tx["from"] = sender
        response = self._request("eth_call", [tx, _block_tag(block)])
        if "error" in response:
            return CallResult(False, _revert_data(response["error"], "eth_call"))
        return CallResult(True, _bytes(response["result"]))

    def get_logs(
        self,
        from_block: int,
        to_block: int,
        addresses: Sequence[str] = (),
        topics: Sequence[Sequence[bytes] | None] = (),
    ) -> list[RawLog]:
        flt: dict[str, Any] = {"fromBlock": hex(from_block), "toBlock": hex(to_block)}
        if addresses:
            flt["address"] = list(addresses)
        if topics:
            flt["topics"] = [[_hex(t) for t in opts] if opts else None for opts in topics]
        return [_raw_log(e) for e in self._rpc("eth_getLogs", [flt])]

    # -- writes ------------------------------------------------------------------------
    def send_raw_transaction(self, raw: bytes) -> bytes:
        response = self._request("eth_sendRawTransaction", [_hex(raw)])
        if "error" in response:
            err = response["error"]
            data = err.get("data")
            if err.get("code") == TX_SENDER_NOT_AUTHORIZED and isinstance(data, dict):
                raise WriteNotPermitted(
                    f"transaction refused: {err.get('message')}", reason=str(data.get("reason"))
                )
            data = err.get("data") if isinstance(err, dict) else None
            if isinstance(data, dict) and isinstance(data.get("retryAfter"), (int, float)):
                # a Tanlian chain host's limit: nothing was executed, it may be sent again
                raise WriteRefused(
                    f"transaction refused: {err.get('message', err)}",
                    reason=str(data.get("reason")),
                    retry_after=float(data["retryAfter"]),
                )
            raise TransactionRejected(
                f"transaction rejected: {err.get('message', err)}", detail=err
            )
        return _bytes(response["result"])

    def wait_for_receipt(self, tx_hash: bytes, timeout: float = 30.0) -> Receipt:
        deadline = time.monotonic() + timeout
        delay = self._poll
        while True:
            r = self._rpc("eth_getTransactionReceipt", [_hex(tx_hash)])
            if r is not None and r.get("blockNumber") is not None:
                return Receipt(
                    tx_hash=_bytes(r["transactionHash"]),
                    block_number=_int(r["blockNumber"]),
                    block_hash=_bytes(r["blockHash"]),
                    status=_int(r["status"]),
                    gas_used=_int(r["gasUsed"]),
                    contract_address=to_checksum_address(r["contractAddress"])
                    if r.get("contractAddress")
                    else None,
                    logs=tuple(_raw_log(e) for e in r["logs"]),
                )
            if time.monotonic() > deadline:
                raise ChainUnavailable(
                    f"no receipt for 0x{tx_hash.hex()} after {timeout:.0f}s", detail=self.url
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def fee_fields(self) -> dict[str, int]:
        if self.gas_price_mode == "zero":
            return {"gasPrice": 0}
        history = self._rpc("eth_feeHistory", [1, "latest", []])
        base = _int(history["baseFeePerGas"][-1])
        try:
            tip = _int(self._rpc("eth_maxPriorityFeePerGas", []))
        except ChainError:
            tip = 10**9
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def gas_limit_for(self, tx: dict[str, Any]) -> tuple[int, CallResult | None]:
        if self._tanlian_host:
            return FIXED_GAS_ON_TANLIAN_HOST, None
        call: dict[str, Any] = {"from": tx["from"], "data": _hex(tx.get("data", b""))}
        if tx.get("to"):
            call["to"] = tx["to"]
        response = self._request("eth_estimateGas", [call])
        if "error" in response:
            return 0, CallResult(False, _revert_data(response["error"], "eth_estimateGas"))
        return int(_int(response["result"]) * 1.25) + 10_000, None

    def close(self) -> None:
        self._session.close()


def _revert_data(error: dict, method: str) -> bytes:
    """Revert data from a JSON-RPC error; clients disagree on where they put it."""
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x"):
        return _bytes(data)
    message = str(error.get("message", ""))
    if "revert" in message.lower():
        return b""
    raise ChainError(f"{method} failed: {message or error}", detail=error)
