"""Standard Ethereum JSON-RPC over an embedded chain (``tanlian chain serve``).

The department nodes of a local network share one embedded chain through this server. It
binds to loopback only. Requests run one at a time against the chain (its lock serializes
them); a malformed request gets a JSON-RPC error and the server keeps serving. Every body
is bounded in size and nesting before it is parsed (``intake``); calls and writes are
bounded by the chain's limits (``limits``). Methods that mine or move the clock on request
are served only by a host started with ``--dev``; none signs (the host holds no keys).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import orjson
from eth_utils import to_canonical_address, to_checksum_address
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import node
from node.chain.abi import checksum
from node.chain.embedded.chain import EmbeddedChain, iter_topic_options
from node.chain.embedded.filters import (
    FilterNotFound,
    Filters,
    LogCriteria,
    RangeTooLarge,
    TooManyFilters,
)
from node.chain.embedded.intake import LIMIT_EXCEEDED, MAX_BODY_BYTES, BoundedBody, parse_json
from node.chain.embedded.limits import CallTimedOut
from node.chain.embedded.permissioning import Permissioning
from node.chain.errors import (
    NotFoundOnChain,
    TransactionRejected,
    WriteNotPermitted,
    WriteRefused,
)
from node.chain.raw import pack_blocks
from node.errors import TanlianError

logger = logging.getLogger(__name__)

CLIENT_VERSION = f"tanlian-embedded/{node.__version__}/py-evm"
MAX_BATCH = 100
MAX_HEADERS = 5000
MAX_LOG_RANGE = 100_000
#: block numbers and positions are signed 64-bit columns in the store: 0 .. 2^63 - 1
INT64_BITS = 63

# JSON-RPC 2.0 error codes (plus the de-facto 3 for "execution reverted").
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
TX_REJECTED = -32003
# Besu's code for a sender its account permissioning does not admit
TX_SENDER_NOT_AUTHORIZED = -32007
# EIP-1474's server errors, and geth's code for an unknown filter id
FILTER_NOT_FOUND = -32000
RESOURCE_NOT_FOUND = -32001
EXECUTION_REVERTED = 3


# Served only by a host started with --dev: they mine or set the clock on request.
DEV_METHODS = frozenset({"evm_mine", "evm_increaseTime"})
# Never served: the host holds no keys to sign with, and keeps no history to rewrite.
_REFUSED = {
    "eth_sign": "the chain host holds no keys; sign locally and use eth_sendRawTransaction",
    "eth_signTransaction": "the chain host holds no keys; sign locally",
    "eth_signTypedData_v4": "the chain host holds no keys; sign locally",
    "eth_sendTransaction": "the chain host holds no keys; send a signed eth_sendRawTransaction",
    "evm_snapshot": "the chain host never rewrites its history",
    "evm_revert": "the chain host never rewrites its history",
}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


# -- value conversion ---------------------------------------------------------------
_RPC_KEY_OVERRIDES = {"logs_bloom": "logsBloom"}


def _camel(key: str) -> str:
    if key in _RPC_KEY_OVERRIDES:
        return _RPC_KEY_OVERRIDES[key]
    head, *rest = key.split("_")
    return head + "".join(p.title() for p in rest)


def _quantity(value: int) -> str:
    return hex(value)


def _data(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def to_rpc(obj: Any, key: str = "") -> Any:
    """eth-tester's snake_case python values to JSON-RPC camelCase hex values."""
    if isinstance(obj, dict):
        return {_camel(k): to_rpc(v, k) for k, v in obj.items()}
    if key == "access_list":  # py-evm's AccountAccesses: (address, storage keys as ints)
        return [
            {
                "address": to_checksum_address(entry.account),
                "storageKeys": [_data(_word(k)) for k in entry.storage_keys],
            }
            for entry in obj
        ]
    if isinstance(obj, list | tuple):
        return [to_rpc(v, key) for v in obj]
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        if key == "logs_bloom":
            return _data(obj.to_bytes(256, "big"))
        return _quantity(obj)
    if isinstance(obj, bytes):
        if key in ("from", "to", "address", "coinbase", "contract_address", "miner"):
            return to_checksum_address(obj) if len(obj) == 20 else None
        return _data(obj)
    return obj


def _word(value: int | bytes) -> bytes:
    return value.to_bytes(32, "big") if isinstance(value, int) else bytes(value).rjust(32, b"\0")


def _block_rpc(block: dict) -> dict:
    transactions = block["transactions"]
    out = to_rpc({**block, "transactions": []})
    out["transactions"] = [
        _tx_rpc(tx) if isinstance(tx, dict) else _data(tx) for tx in transactions
    ]
    out["miner"] = out.pop("coinbase")
    out.pop("totalDifficulty", None)
    return out


def _tx_rpc(tx: dict) -> dict:
    out = to_rpc(tx)
    out["input"] = out.pop("data")
    if tx["type"] == 0 and tx["v"] >= 35:  # EIP-155: the chain id is folded into v
        out["chainId"] = hex((tx["v"] - 35) // 2)
    return out


def _receipt_rpc(receipt: dict) -> dict:
    out = to_rpc(receipt)
    # A post-Byzantium receipt carries status, not the intermediate state root.
    out.pop("stateRoot", None)
    out["status"] = hex(receipt["status"])
    for log in out["logs"]:
        log.pop("type", None)
        log["removed"] = False
    return out


# -- parameter parsing ----------------------------------------------------------------
def _param(params: list, i: int, default: Any = ...) -> Any:
    if i < len(params):
        return params[i]
    if default is ...:
        raise RpcError(INVALID_PARAMS, f"missing parameter {i}")
    return default


def _parse_bytes(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RpcError(INVALID_PARAMS, f"{what} must be a 0x-prefixed hex string")
    try:
        out = bytes.fromhex(value[2:])
    except ValueError:
        raise RpcError(INVALID_PARAMS, f"{what} is not valid hex") from None
    if length is not None and len(out) != length:
        raise RpcError(INVALID_PARAMS, f"{what} must be {length} bytes")
    return out


def _parse_quantity(value: Any, what: str, bits: int = 256) -> int:
    """A quantity in 0 .. 2^bits - 1: past it, the EVM or the store's 64-bit columns failed
    inside the call (internal errors, and Python's digit limit on the error message)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif not isinstance(value, str) or not value.startswith("0x"):
        raise RpcError(INVALID_PARAMS, f"{what} must be a 0x-prefixed hex quantity")
    elif len(value) > 2 + 2 * bits:  # leading zeros allowed, but not a megabyte of them
        raise RpcError(INVALID_PARAMS, f"{what} is out of range (0 .. 2^{bits} - 1)")
    else:
        try:
            number = int(value, 16)
        except ValueError:
            raise RpcError(INVALID_PARAMS, f"{what} is not a valid quantity") from None
    if not 0 <= number < 1 << bits:
        raise RpcError(INVALID_PARAMS, f"{what} is out of range (0 .. 2^{bits} - 1)")
    return number


def _parse_block(value: Any) -> int | str | bytes:
    if isinstance(value, dict):  # EIP-1898
        if "blockNumber" in value:
            return _parse_quantity(value["blockNumber"], "blockNumber", INT64_BITS)
        if "blockHash" in value:
            return _parse_bytes(value["blockHash"], "blockHash", 32)
        raise RpcError(INVALID_PARAMS, "block object needs blockNumber or blockHash")
    if value in ("latest", "earliest", "pending", "safe", "finalized"):
        return value
    if isinstance(value, str) and len(value) == 66:  # a block hash (BlockNumberOrTagOrHash)
        return _parse_bytes(value, "block hash", 32)
    return _parse_quantity(value, "block", INT64_BITS)


def _parse_range_block(value: Any) -> int | str:
    block = _parse_block(value)
    if isinstance(block, bytes):
        raise RpcError(INVALID_PARAMS, "fromBlock/toBlock take a number or a tag; use blockHash")
    return block


def _parse_address(value: Any, what: str = "address") -> bytes:
    try:
        return to_canonical_address(value)
    except (ValueError, TypeError):
        raise RpcError(INVALID_PARAMS, f"{what} is not a valid address") from None


def _parse_call(tx: Any) -> dict:
    if not isinstance(tx, dict):
        raise RpcError(INVALID_PARAMS, "transaction object expected")
    out: dict[str, Any] = {}
    if tx.get("to"):
        out["to"] = _parse_address(tx["to"], "to")
    if tx.get("from"):
        out["from"] = _parse_address(tx["from"], "from")
    # "input" is the standard's name; "data" is what older clients send
    data = tx.get("input") if tx.get("input") is not None else tx.get("data")
    if data:
        out["data"] = _parse_bytes(data, "input")
    for key, name, bits in (
        ("gas", "gas", 64),
        ("value", "value", 256),
        ("gasPrice", "gas_price", 256),
        ("maxFeePerGas", "max_fee_per_gas", 256),
        ("maxPriorityFeePerGas", "max_priority_fee_per_gas", 256),
        ("nonce", "nonce", 64),
    ):
        if tx.get(key) is not None:
            out[name] = _parse_quantity(tx[key], key, bits)
    return out


class ChainRpc:
    """Dispatches JSON-RPC methods to an :class:`EmbeddedChain`."""

    def __init__(
        self, chain: EmbeddedChain, *, dev: bool = False, permissioning: Permissioning | None = None
    ) -> None:
        self.chain = chain
        self.permissioning = permissioning
        self.filters = Filters(chain, max_log_range=MAX_LOG_RANGE)
        self.methods: dict[str, Callable[[list], Any]] = {
            "web3_clientVersion": lambda p: CLIENT_VERSION,
            "net_version": lambda p: str(chain.chain_id),
            "net_listening": lambda p: True,
            "net_peerCount": lambda p: "0x0",
            "eth_chainId": lambda p: hex(chain.chain_id),
            "eth_syncing": lambda p: False,
            "eth_mining": lambda p: False,
            "eth_accounts": lambda p: [],
            "eth_blockNumber": lambda p: hex(chain.block_number()),
            "eth_gasPrice": lambda p: hex(chain.base_fee()),
            "eth_maxPriorityFeePerGas": lambda p: "0x0",
            "eth_feeHistory": self._fee_history,
            "eth_getBlockByNumber": self._block_by_number,
            "eth_getBlockByHash": self._block_by_hash,
            "eth_getTransactionCount": self._nonce,
            "eth_getBalance": self._balance,
            "eth_getCode": self._code,
            "eth_getStorageAt": self._storage,
            "eth_sendRawTransaction": self._send_raw,
            "eth_getTransactionReceipt": self._receipt,
            "eth_getTransactionByHash": self._transaction,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate,
            "eth_getLogs": self._logs,
            "eth_getBlockTransactionCountByNumber": self._tx_count,
            "eth_getBlockTransactionCountByHash": self._tx_count_by_hash,
            "eth_getTransactionByBlockNumberAndIndex": self._tx_at,
            "eth_getTransactionByBlockHashAndIndex": self._tx_at_hash,
            "eth_getBlockReceipts": self._block_receipts,
            "eth_newFilter": self._new_filter,
            "eth_newBlockFilter": lambda p: hex(self._install(self.filters.new_block_filter)),
            "eth_getFilterChanges": self._filter_changes,
            "eth_getFilterLogs": self._filter_logs,
            "eth_uninstallFilter": lambda p: self.filters.uninstall(_filter_id(p)),
            "tanlian_getRawHeaders": self._raw_headers,
        }
        if dev:
            self.methods.update({"evm_mine": self._mine, "evm_increaseTime": self._increase_time})

    # -- handlers ------------------------------------------------------------------
    def _fee_history(self, p: list) -> dict:
        count = _parse_quantity(_param(p, 0), "blockCount", INT64_BITS)
        result = self.chain.fee_history(count, _parse_block(_param(p, 1, "latest")))
        return {
            "oldestBlock": hex(result["oldestBlock"]),
            "baseFeePerGas": [hex(v) for v in result["baseFeePerGas"]],
            "gasUsedRatio": result["gasUsedRatio"],
            "reward": [["0x0" for _ in (_param(p, 2, []) or [])] for _ in result["gasUsedRatio"]],
        }

    def _block_by_number(self, p: list) -> dict | None:
        try:
            block = self.chain.get_block(_parse_block(_param(p, 0)), bool(_param(p, 1, False)))
        except NotFoundOnChain:
            return None
        return _block_rpc(block)

    def _raw_headers(self, p: list) -> list[str]:
        start = _parse_quantity(_param(p, 0), "from", INT64_BITS)
        end = _parse_quantity(_param(p, 1), "to", INT64_BITS)
        if end < start or end - start >= MAX_HEADERS:
            raise RpcError(INVALID_PARAMS, f"ask for 1..{MAX_HEADERS} headers")
        return ["0x" + h.hex() for h in self.chain.raw_headers(start, end)]

    def _block_by_hash(self, p: list) -> dict | None:
        try:
            block = self.chain.get_block(
                _parse_bytes(_param(p, 0), "block hash", 32), bool(_param(p, 1, False))
            )
        except NotFoundOnChain:
            return None
        return _block_rpc(block)

    def _nonce(self, p: list) -> str:
        return hex(self.chain.get_nonce(_parse_address(_param(p, 0)), _state_block(p)))

    def _balance(self, p: list) -> str:
        return hex(self.chain.get_balance(_parse_address(_param(p, 0)), _state_block(p)))

    def _code(self, p: list) -> str:
        return _data(self.chain.get_code(_parse_address(_param(p, 0)), _state_block(p)))

    def _storage(self, p: list) -> str:
        slot = _parse_quantity(_param(p, 1), "slot")
        value = self.chain.get_storage_at(
            _parse_address(_param(p, 0)), slot, _parse_block(_param(p, 2, "latest"))
        )
        return _data(value.to_bytes(32, "big"))

    def _send_raw(self, p: list) -> str:
        raw = _parse_bytes(_param(p, 0), "raw transaction")
        try:
            if self.permissioning is not None:
                self.permissioning.check(raw)
            return _data(self.chain.send_raw_transaction(raw))
        except WriteNotPermitted as exc:
            raise RpcError(TX_SENDER_NOT_AUTHORIZED, exc.message, {"reason": exc.reason}) from None
        except WriteRefused as exc:
            raise RpcError(
                LIMIT_EXCEEDED,
                exc.message,
                {"reason": exc.reason, "retryAfter": exc.retry_after},
            ) from None
        except TransactionRejected as exc:
            raise RpcError(TX_REJECTED, exc.message) from None

    def _receipt(self, p: list) -> dict | None:
        try:
            return _receipt_rpc(self.chain.get_receipt(_parse_bytes(_param(p, 0), "tx hash", 32)))
        except NotFoundOnChain:
            return None

    def _transaction(self, p: list) -> dict | None:
        try:
            return _tx_rpc(self.chain.get_transaction(_parse_bytes(_param(p, 0), "tx hash", 32)))
        except NotFoundOnChain:
            return None

    def _tx_count(self, p: list) -> str | None:
        try:
            return hex(self.chain.transaction_count(_parse_block(_param(p, 0, "latest"))))
        except NotFoundOnChain:
            return None

    def _tx_count_by_hash(self, p: list) -> str | None:
        try:
            return hex(self.chain.transaction_count(_parse_bytes(_param(p, 0), "block hash", 32)))
        except NotFoundOnChain:
            return None

    def _tx_at(self, p: list) -> dict | None:
        return self._tx_in(_parse_block(_param(p, 0)), p)

    def _tx_at_hash(self, p: list) -> dict | None:
        return self._tx_in(_parse_bytes(_param(p, 0), "block hash", 32), p)

    def _tx_in(self, block: int | str | bytes, p: list) -> dict | None:
        try:
            index = _parse_quantity(_param(p, 1), "index", INT64_BITS)
            return _tx_rpc(self.chain.get_transaction_at(block, index))
        except NotFoundOnChain:
            return None

    def _block_receipts(self, p: list) -> list[dict] | None:
        try:
            return [
                _receipt_rpc(r) for r in self.chain.get_block_receipts(_parse_block(_param(p, 0)))
            ]
        except NotFoundOnChain:
            return None

    def _call(self, p: list) -> str:
        try:
            ok, out, _ = self.chain.call(
                _parse_call(_param(p, 0)), _parse_block(_param(p, 1, "latest"))
            )
        except NotFoundOnChain as exc:
            raise RpcError(INVALID_PARAMS, exc.message) from None
        except CallTimedOut as exc:
            raise RpcError(LIMIT_EXCEEDED, exc.message, {"reason": "call_timeout"}) from None
        except TransactionRejected as exc:
            raise RpcError(TX_REJECTED, exc.message) from None
        if not ok:
            raise RpcError(EXECUTION_REVERTED, "execution reverted", _data(out))
        return _data(out)

    def _estimate(self, p: list) -> str:
        try:
            ok, out, gas = self.chain.estimate_gas(
                _parse_call(_param(p, 0)), _parse_block(_param(p, 1, "latest"))
            )
        except CallTimedOut as exc:
            raise RpcError(LIMIT_EXCEEDED, exc.message, {"reason": "call_timeout"}) from None
        except TransactionRejected as exc:
            raise RpcError(TX_REJECTED, exc.message) from None
        if not ok:
            raise RpcError(EXECUTION_REVERTED, "execution reverted", _data(out))
        return hex(gas)

    # -- --dev only ----------------------------------------------------------------
    def _mine(self, p: list) -> str:
        self.chain.mine_empty()
        return "0x0"

    def _increase_time(self, p: list) -> str:
        seconds = _parse_quantity(_param(p, 0), "seconds", 32)
        try:
            return hex(self.chain.advance_time(seconds))
        except TransactionRejected as exc:
            raise RpcError(INVALID_PARAMS, exc.message) from None

    def _logs(self, p: list) -> list[dict]:
        return self._matching(_parse_filter(_param(p, 0)))

    def _matching(self, criteria: LogCriteria) -> list[dict]:
        try:
            return _logs_rpc(self.filters.matching(criteria))
        except RangeTooLarge as exc:
            raise RpcError(INVALID_PARAMS, exc.message) from None
        except NotFoundOnChain:
            raise RpcError(RESOURCE_NOT_FOUND, "unknown block") from None

    def _install(self, install: Callable[[], int]) -> int:
        try:
            return install()
        except TooManyFilters as exc:
            raise RpcError(LIMIT_EXCEEDED, exc.message) from None
        except NotFoundOnChain:
            raise RpcError(RESOURCE_NOT_FOUND, "unknown block") from None

    def _new_filter(self, p: list) -> str:
        criteria = _parse_filter(_param(p, 0))
        return hex(self._install(lambda: self.filters.new_log_filter(criteria)))

    def _filter_changes(self, p: list) -> list:
        try:
            kind, found = self.filters.changes(_filter_id(p))
        except FilterNotFound as exc:
            raise RpcError(FILTER_NOT_FOUND, exc.message) from None
        return [_data(h) for h in found] if kind == "blocks" else _logs_rpc(found)

    def _filter_logs(self, p: list) -> list[dict]:
        try:
            return self._matching(self.filters.criteria(_filter_id(p)))
        except FilterNotFound as exc:
            raise RpcError(FILTER_NOT_FOUND, exc.message) from None

    # -- dispatch ------------------------------------------------------------------
    def handle(self, request: Any) -> dict | None:
        req_id = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                raise RpcError(INVALID_REQUEST, "invalid request")
            method = self.methods.get(request["method"])
            if method is None:
                raise RpcError(METHOD_NOT_FOUND, _not_served(request["method"]))
            params = request.get("params", [])
            if not isinstance(params, list):
                raise RpcError(INVALID_PARAMS, "params must be an array")
            result = method(params)
            return {"jsonrpc": "2.0", "id": req_id, "result": result}
        except RpcError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
            return {"jsonrpc": "2.0", "id": req_id, "error": error}
        except NotFoundOnChain as exc:  # a state read at a block the chain does not have
            return {
                "jsonrpc": "2.0",
                "id": req_id,
                "error": {"code": RESOURCE_NOT_FOUND, "message": exc.message},
            }
        except TanlianError as exc:
            return {
                "jsonrpc": "2.0",
                "id": req_id,
                "error": {"code": INTERNAL_ERROR, "message": exc.message},
            }
        except Exception:  # one bad request must not take the host down
            logger.exception("JSON-RPC %s failed", request.get("method"))
            return {
                "jsonrpc": "2.0",
                "id": req_id,
                "error": {"code": INTERNAL_ERROR, "message": "internal error"},
            }


def _parse_filter(flt: Any) -> LogCriteria:
    if not isinstance(flt, dict):
        raise RpcError(INVALID_PARAMS, "filter object expected")
    raw_addr = flt.get("address") or []
    addresses = tuple(
        _parse_address(a) for a in ([raw_addr] if isinstance(raw_addr, str) else raw_addr)
    )
    try:
        topics = tuple(
            None if t is None else tuple(t) for t in iter_topic_options(flt.get("topics") or [])
        )
    except ValueError:
        raise RpcError(INVALID_PARAMS, "topics are not valid hex") from None
    if flt.get("blockHash") is not None:
        if flt.get("fromBlock") is not None or flt.get("toBlock") is not None:
            raise RpcError(INVALID_PARAMS, "blockHash excludes fromBlock and toBlock")
        return LogCriteria(
            block_hash=_parse_bytes(flt["blockHash"], "blockHash", 32),
            addresses=addresses,
            topics=topics,
        )
    return LogCriteria(
        from_block=_parse_range_block(flt.get("fromBlock") or "latest"),
        to_block=_parse_range_block(flt.get("toBlock") or "latest"),
        addresses=addresses,
        topics=topics,
    )


def _filter_id(p: list) -> int:
    return _parse_quantity(_param(p, 0), "filter id")


def _logs_rpc(logs: list[dict]) -> list[dict]:
    # formatted field by field: an index rebuild asks for 10^5 logs
    return [
        {
            "address": checksum(log["address"]),
            "topics": ["0x" + t.hex() for t in log["topics"]],
            "data": "0x" + log["data"].hex(),
            "blockNumber": hex(log["block_number"]),
            "blockHash": "0x" + log["block_hash"].hex(),
            "transactionHash": "0x" + log["transaction_hash"].hex(),
            "transactionIndex": hex(log["transaction_index"]),
            "logIndex": hex(log["log_index"]),
            "removed": False,
        }
        for log in logs
    ]


def _not_served(method: str) -> str:
    if method in _REFUSED:
        return f"method {method} not supported: {_REFUSED[method]}"
    if method in DEV_METHODS:
        return f"method {method} is served only by a chain host started with --dev"
    return f"method {method} not supported"


def _state_block(p: list) -> int | str | bytes:
    return _parse_block(_param(p, 1, "latest"))


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def create_app(
    chain: EmbeddedChain,
    *,
    dev: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    permissioning: Permissioning | None = None,
) -> Starlette:
    """The host's app. ``dev``: also serve DEV_METHODS. Bodies past ``max_body_bytes``
    get 413, nested past intake.MAX_JSON_DEPTH 400, before any route parses them.
    ``permissioning``: who may write (None: anyone, an open host for tests and tools)."""
    rpc = ChainRpc(chain, dev=dev, permissioning=permissioning)

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            payload = parse_json(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": PARSE_ERROR, "message": "parse error"},
                }
            )
        if isinstance(payload, list):
            if not payload or len(payload) > MAX_BATCH:
                return JSONResponse(
                    {
                        "jsonrpc": "2.0",
                        "id": None,
                        "error": {
                            "code": INVALID_REQUEST,
                            "message": f"batch must hold 1..{MAX_BATCH} requests",
                        },
                    }
                )
            return _json([await run_in_threadpool(rpc.handle, r) for r in payload])
        return _json(await run_in_threadpool(rpc.handle, payload))

    async def raw_blocks(request: Request) -> Response:
        # Blocks as stored, as bytes (node.chain.raw): an audit reads every block, and hex
        # in JSON would double what is sent and cost both ends a conversion.
        try:
            asked = parse_json(await request.body())
            start, end = int(asked["from"]), int(asked["to"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return JSONResponse(
                {"code": "invalid_input", "message": 'send {"from": N, "to": M}'}, 400
            )
        if start < 0 or end < start or end - start >= MAX_HEADERS or end >= 1 << INT64_BITS:
            return JSONResponse(
                {"code": "invalid_input", "message": f"ask for 1..{MAX_HEADERS} blocks"}, 400
            )
        try:
            rows = await run_in_threadpool(chain.stored_blocks, start, end)
        except TanlianError as exc:
            return JSONResponse({"code": exc.code, "message": exc.message}, 500)
        return Response(pack_blocks(rows), media_type="application/octet-stream")

    async def health(request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "chain_id": chain.chain_id, "head": chain.block_number()}
        )

    return Starlette(
        routes=[
            Route("/", endpoint, methods=["POST"]),
            Route("/raw-blocks", raw_blocks, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        middleware=[Middleware(BoundedBody, max_body_bytes=max_body_bytes)],
    )
