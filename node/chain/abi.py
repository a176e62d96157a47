"""Encoding and decoding of contract calls, events and custom errors from an ABI.

A thin layer over eth-abi: it avoids web3's contract machinery on the hot send path and
gives every backend the same decoded view of events and reverts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from node.chain.errors import ArtifactError
from node.errors import InvalidInput

# Errors every Solidity contract can raise without declaring them.
_BUILTIN_ERRORS = [
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
]


def _type_str(param: dict) -> str:
    typ = param["type"]
    if typ.startswith("tuple"):
        inner = ",".join(_type_str(c) for c in param["components"])
        return f"({inner}){typ[len('tuple') :]}"
    return typ


def _normalize_arg(typ: str, value: Any) -> Any:
    """Accept 0x-hex strings for byte types, as CLI and JSON callers send them."""
    if typ.endswith("]") and isinstance(value, list | tuple):
        inner = typ[: typ.rindex("[")]
        return [_normalize_arg(inner, v) for v in value]
    if typ.startswith("bytes") and isinstance(value, str):
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    return value


def _tuple_components(typ: str) -> list[str]:
    """Component types of a tuple type string such as ``(address,(uint8,bool),bytes32)``."""
    inner, parts, depth, start = typ[1:-1], [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    if inner:
        parts.append(inner[start:])
    return parts


def _decoded(name: str, args: dict[str, Any], log: Any) -> DecodedEvent:
    return DecodedEvent(
        event=name,
        args=args,
        address=log.address,
        block_number=log.block_number,
        block_hash=log.block_hash,
        tx_hash=log.tx_hash,
        tx_index=log.tx_index,
        log_index=log.log_index,
    )


def _word_decoder(typ: str) -> Callable[[bytes], Any] | None:
    """A decoder of one 32-byte ABI word of static elementary type ``typ``, else None."""
    if typ == "address":
        return lambda w: checksum("0x" + w[12:].hex())
    if typ == "bool":
        return lambda w: w[-1] == 1
    if typ.startswith("uint") and typ[4:].isdigit():
        return lambda w: int.from_bytes(w, "big")
    if typ.startswith("int") and typ[3:].isdigit():
        return lambda w: int.from_bytes(w, "big", signed=True)
    if typ.startswith("bytes") and typ[5:].isdigit():
        n = int(typ[5:])
        return lambda w: bytes(w[:n])
    return None


@lru_cache(maxsize=65536)
def checksum(address: str) -> str:
    """EIP-55 form of an address, cached: an index rebuild meets the same few accounts
    10^5 times, and each checksum costs a keccak."""
    return to_checksum_address(address)


def _pythonize(typ: str, value: Any) -> Any:
    """Canonical Python values: checksummed addresses, also inside arrays and structs."""
    if typ == "address":
        return checksum(value)
    if typ.endswith("]") and isinstance(value, list | tuple):
        inner = typ[: typ.rindex("[")]
        return [_pythonize(inner, v) for v in value]
    if typ.startswith("(") and typ.endswith(")") and isinstance(value, list | tuple):
        return tuple(_pythonize(t, v) for t, v in zip(_tuple_components(typ), value, strict=True))
    return value


@dataclass(frozen=True)
class Function:
    name: str
    selector: bytes
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]
    output_names: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str

    @property
    def is_view(self) -> bool:
        return self.mutability in ("view", "pure")


@dataclass(frozen=True)
class Event:
    name: str
    topic0: bytes
    names: tuple[str, ...]
    types: tuple[str, ...]
    indexed: tuple[bool, ...]

    @property
    def indexed_names(self) -> tuple[str, ...]:
        return tuple(n for n, i in zip(self.names, self.indexed, strict=True) if i)


@dataclass(frozen=True)
class CustomError:
    name: str
    selector: bytes
    names: tuple[str, ...]
    types: tuple[str, ...]


@dataclass(frozen=True)
class DecodedEvent:
    """An event log decoded against its contract's ABI."""

    event: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    tx_index: int
    log_index: int


class ContractABI:
    """Functions, events and errors of one contract, keyed for fast lookup."""

    def __init__(self, abi: list[dict]) -> None:
        self.abi = abi
        self.functions: dict[str, Function] = {}
        self.events: dict[str, Event] = {}
        self.events_by_topic: dict[bytes, Event] = {}
        self.errors_by_selector: dict[bytes, CustomError] = {}
        self.constructor_types: tuple[str, ...] = ()
        self._fast: dict[tuple, list | None] = {}
        for item in abi + _BUILTIN_ERRORS:
            kind = item.get("type")
            if kind == "function":
                self._add_function(item)
            elif kind == "event":
                self._add_event(item)
            elif kind == "error":
                types = tuple(_type_str(p) for p in item["inputs"])
                sig = f"{item['name']}({','.join(types)})"
                err = CustomError(
                    item["name"],
                    function_signature_to_4byte_selector(sig),
                    tuple(p["name"] for p in item["inputs"]),
                    types,
                )
                self.errors_by_selector[err.selector] = err
            elif kind == "constructor":
                self.constructor_types = tuple(_type_str(p) for p in item["inputs"])

    def _add_function(self, item: dict) -> None:
        name = item["name"]
        if name in self.functions:
            raise ArtifactError(f"overloaded function {name} is not supported")
        types = tuple(_type_str(p) for p in item["inputs"])
        self.functions[name] = Function(
            name=name,
            selector=function_signature_to_4byte_selector(f"{name}({','.join(types)})"),
            input_names=tuple(p["name"] for p in item["inputs"]),
            input_types=types,
            output_names=tuple(p["name"] for p in item.get("outputs", [])),
            output_types=tuple(_type_str(p) for p in item.get("outputs", [])),
            mutability=item.get("stateMutability", "nonpayable"),
        )

    def _add_event(self, item: dict) -> None:
        types = tuple(_type_str(p) for p in item["inputs"])
        event = Event(
            name=item["name"],
            topic0=keccak(text=f"{item['name']}({','.join(types)})"),
            names=tuple(p["name"] for p in item["inputs"]),
            types=types,
            indexed=tuple(bool(p.get("indexed")) for p in item["inputs"]),
        )
        self.events[event.name] = event
        self.events_by_topic[event.topic0] = event

    # -- calls -----------------------------------------------------------------------
    def function(self, name: str) -> Function:
        try:
            return self.functions[name]
        except KeyError:
            raise InvalidInput(f"contract has no function {name!r}") from None

    def encode_call(self, name: str, args: tuple | list) -> bytes:
        fn = self.function(name)
        if len(args) != len(fn.input_types):
            raise InvalidInput(f"{name} takes {len(fn.input_types)} arguments, got {len(args)}")
        try:
            values = [_normalize_arg(t, a) for t, a in zip(fn.input_types, args, strict=True)]
            return fn.selector + abi_encode(list(fn.input_types), values)
        except (EncodingError, ValueError, TypeError) as exc:
            raise InvalidInput(f"bad arguments for {name}: {exc}") from exc

    def encode_constructor(self, args: tuple | list) -> bytes:
        if len(args) != len(self.constructor_types):
            raise InvalidInput(
                f"constructor takes {len(self.constructor_types)} arguments, got {len(args)}"
            )
        values = [_normalize_arg(t, a) for t, a in zip(self.constructor_types, args, strict=True)]
        return abi_encode(list(self.constructor_types), values) if values else b""

    def decode_output(self, name: str, data: bytes) -> Any:
        fn = self.function(name)
        values = abi_decode(list(fn.output_types), data)
        values = [_pythonize(t, v) for t, v in zip(fn.output_types, values, strict=True)]
        if len(values) == 1:
            return values[0]
        return tuple(values)

    # -- reverts -----------------------------------------------------------------------
    def decode_revert(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """(error name, arguments) of revert data; unknown data is reported raw."""
        if len(data) < 4:
            return ("EmptyRevert" if not data else "UnknownError"), {"data": data}
        err = self.errors_by_selector.get(data[:4])
        if err is None:
            from node.chain.artifacts import all_errors  # late: artifacts import this module

            err = all_errors().get(data[:4])  # type: ignore[assignment]
        if err is None:
            return "UnknownError", {"data": data}
        try:
            values = abi_decode(list(err.types), data[4:])
        except DecodingError:
            return "UnknownError", {"data": data}
        return err.name, {
            n: _pythonize(t, v) for n, t, v in zip(err.names, err.types, values, strict=True)
        }

    # -- events ------------------------------------------------------------------------
    def _fast_decoders(self, event: Any) -> list[Callable[[bytes], Any]] | None:
        """Word decoders when every argument is a static elementary type (most events):
        slicing 32-byte words is many times faster than the general ABI decoder."""
        key = event.name, tuple(event.types)
        if key not in self._fast:
            decoders = [_word_decoder(t) for t in event.types]
            self._fast[key] = None if any(d is None for d in decoders) else decoders
        return self._fast[key]

    def _decode_fast(self, event: Any, decoders: list, log: Any) -> DecodedEvent | None:
        data = log.data
        n_data = sum(1 for i in event.indexed if not i)
        if len(data) != 32 * n_data:
            return None
        args: dict[str, Any] = {}
        t = 1
        w = 0
        for name, is_indexed, dec in zip(event.names, event.indexed, decoders, strict=True):
            if is_indexed:
                args[name] = dec(log.topics[t])
                t += 1
            else:
                args[name] = dec(data[w : w + 32])
                w += 32
        return _decoded(event.name, args, log)

    def decode_log(self, log: Any) -> DecodedEvent | None:
        """Decode a raw log (see ``node.chain.backend.RawLog``); None if not ours."""
        if not log.topics:
            return None
        event = self.events_by_topic.get(log.topics[0])
        if event is None:
            return None
        indexed_types = [t for t, i in zip(event.types, event.indexed, strict=True) if i]
        data_types = [t for t, i in zip(event.types, event.indexed, strict=True) if not i]
        if len(log.topics) - 1 != len(indexed_types):
            return None
        fast = self._fast_decoders(event)
        if fast is not None:
            return self._decode_fast(event, fast, log)
        data_values = list(abi_decode(data_types, log.data)) if data_types else []
        args: dict[str, Any] = {}
        topic_iter = iter(log.topics[1:])
        data_iter = iter(data_values)
        for name, typ, is_indexed in zip(event.names, event.types, event.indexed, strict=True):
            if is_indexed:
                topic = next(topic_iter)
                if _is_dynamic(typ):
                    args[name] = topic  # dynamic indexed values are stored as their hash
                else:
                    args[name] = _pythonize(typ, abi_decode([typ], topic)[0])
            else:
                args[name] = _pythonize(typ, next(data_iter))
        return _decoded(event.name, args, log)

    def topic_for(self, event: str, arg: str, value: Any) -> bytes:
        """The topic an indexed argument's value is stored under."""
        ev = self.events.get(event)
        if ev is None:
            raise InvalidInput(f"contract has no event {event!r}")
        for name, typ, is_indexed in zip(ev.names, ev.types, ev.indexed, strict=True):
            if name == arg:
                if not is_indexed:
                    raise InvalidInput(f"{event}.{arg} is not indexed")
                return abi_encode([typ], [_normalize_arg(typ, value)])
        raise InvalidInput(f"event {event} has no argument {arg!r}")


def _is_dynamic(typ: str) -> bool:
    return typ in ("string", "bytes") or typ.endswith("[]") or typ.startswith("(")
