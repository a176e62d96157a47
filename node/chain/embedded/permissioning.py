"""Who may write to a served chain: the chain host's account permissioning.

A chain host admits a transaction only from the network's members, read from the
NodeRegistry's own state (cached per block), as Besu's account permissioning does:

* an **active** member: calls to the registry and to the network's other contracts;
* a **pending** member: calls to the registry only (rate-limited, below members);
* an account the registry does not know: exactly ``register(...)`` on the registry, the
  onboarding step a new department signs itself (rate-limited the same way);
* a **suspended** member: nothing;
* a **contract deployment** (no ``to``): the registry's active regulators, or, before the
  registry exists, the genesis administrators named in the host's settings.

The settings live in ``permissions.json`` in the host's home (written by ``tanlian network
up`` or ``tanlian chain permit``) and are read again when the file changes, so a host
started before the registry was deployed learns its address without a restart. A host
without settings admits no write (fail safe); ``tanlian chain serve --open`` (tests and
tools only) admits every write. Every transaction must carry its chain id (EIP-155).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import rlp
from eth.vm.forks import PragueVM
from eth_abi import decode, encode
from eth_utils import (
    function_signature_to_4byte_selector,
    keccak,
    to_canonical_address,
    to_checksum_address,
)

from node.chain.embedded.limits import ChainLimits, WriteAdmission
from node.chain.errors import TransactionRejected, WriteNotPermitted
from node.errors import ConfigError

logger = logging.getLogger(__name__)

PERMISSIONS_FILE = "permissions.json"
#: Writes of accounts that are not active members (registration, a pending member's key or
#: endpoint): per account, and for all of them together.
ONBOARDING_PER_ACCOUNT = ChainLimits(writes_per_second=0.2, write_burst=5)
ONBOARDING_ALL = ChainLimits(writes_per_second=1.0, write_burst=30)

REGISTER = function_signature_to_4byte_selector("register(string,uint8,bytes32,string)")
_STATUS_OF = function_signature_to_4byte_selector("statusOf(address)")
_HAS_ROLE = function_signature_to_4byte_selector("hasRole(bytes32,address)")
_REGULATOR_ROLE = keccak(text="REGULATOR")
# NodeRegistry.Status
NONE, PENDING, ACTIVE, SUSPENDED = range(4)


def require_chain_id(raw: bytes) -> None:
    """Refuse a legacy transaction signed without its chain id (pre-EIP-155): it is valid
    on every chain, so anyone could replay it on another one. Typed transactions
    (EIP-2718) always carry the chain id."""
    if not raw or raw[0] < 0xC0:
        return
    try:
        fields = rlp.decode(raw)
        v = int.from_bytes(fields[6], "big") if len(fields) == 9 else None
    except (rlp.DecodingError, TypeError):
        return  # not ours to judge: the chain's decoder refuses it with its own reason
    if v in (27, 28):
        raise TransactionRejected(
            "only replay-protected (EIP-155) transactions are accepted: sign with the chain id"
        )


@dataclass(frozen=True)
class PermissionSettings:
    """The host's permissioning: genesis administrators (who set the network up) and the
    network's contracts once deployed. Addresses are checksummed strings."""

    admins: tuple[str, ...] = ()
    registry: str | None = None
    contracts: tuple[str, ...] = field(default_factory=tuple)

    def save(self, home: Path) -> Path:
        """Write atomically to HOME/permissions.json (mode 0600)."""
        home.mkdir(parents=True, exist_ok=True)
        path = home / PERMISSIONS_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(
                {
                    "admins": list(self.admins),
                    "registry": self.registry,
                    "contracts": list(self.contracts),
                },
                fh,
                indent=2,
            )
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, home: Path) -> PermissionSettings | None:
        """The settings in HOME, None when there are none; a malformed file is an error."""
        path = home / PERMISSIONS_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} is not readable JSON: {exc}") from exc
        try:
            return cls(
                admins=_addresses(data.get("admins") or []),
                registry=_address(data["registry"]) if data.get("registry") else None,
                contracts=_addresses(data.get("contracts") or []),
            )
        except (AttributeError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    def merged(
        self,
        admins: Iterable[str] = (),
        registry: str | None = None,
        contracts: Iterable[str] = (),
    ) -> PermissionSettings:
        return PermissionSettings(
            admins=_addresses([*self.admins, *admins]),
            registry=_address(registry) if registry else self.registry,
            contracts=_addresses([*self.contracts, *contracts]),
        )


def _address(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an address")
    return to_checksum_address(value)


def _addresses(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_address(v) for v in values))


class Permissioning:
    """The host's write admission by membership (see the module's docstring). ``chain`` is
    an EmbeddedChain; membership is read with eth_call at the head and cached per block."""

    def __init__(self, chain, home: Path) -> None:
        self.chain = chain
        self.home = Path(home)
        self._settings: PermissionSettings | None = None
        self._stamp: tuple[int, int] | None = None
        self._cache_head: bytes | None = None
        self._cache: dict[bytes, tuple[int, bool]] = {}
        self._registry_code: bool = False
        self._lock = threading.Lock()
        self._per_account = WriteAdmission(ONBOARDING_PER_ACCOUNT)
        self._all = WriteAdmission(ONBOARDING_ALL)

    # -- settings ---------------------------------------------------------------------
    def settings(self) -> PermissionSettings | None:
        path = self.home / PERMISSIONS_FILE
        try:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._settings = PermissionSettings.load(self.home) if stamp else None
            self._stamp = stamp
            self._cache_head = None
            logger.info("chain host permissions: %s", self._settings)
        return self._settings

    # -- admission --------------------------------------------------------------------
    def check(self, raw: bytes) -> None:
        """Admit ``raw`` or raise WriteNotPermitted / WriteRefused / TransactionRejected."""
        require_chain_id(raw)
        try:
            tx = PragueVM.get_transaction_builder().decode(bytes(raw))
            sender = tx.sender
        except Exception as exc:  # undecodable: the chain's own decoder says why
            raise TransactionRejected(f"transaction rejected: {exc}") from exc
        to = bytes(tx.to)
        who = to_checksum_address(sender)
        with self._lock:
            settings = self.settings()
            if settings is None:
                raise WriteNotPermitted(
                    "this chain host admits no writes: it has no permissions set "
                    "(tanlian chain permit --admin 0x...)",
                    reason="no_permissions",
                )
            registry = to_canonical_address(settings.registry) if settings.registry else None
            self._refresh(registry)
            if registry is None or not self._registry_code:
                # the network is being set up: only its genesis administrators write
                if who in settings.admins:
                    return
                raise WriteNotPermitted(
                    f"account {who} may not write: the network's registry is not deployed "
                    "yet, and until it is only the genesis administrators write",
                    reason="not_an_administrator",
                )
            status, regulator = self._member(registry, sender)
        if not to:
            if status == ACTIVE and regulator:
                return
            raise WriteNotPermitted(
                f"account {who} may not deploy contracts: only the network's regulators do",
                reason="deployment_not_permitted",
            )
        if status == ACTIVE:
            network = {registry, *(to_canonical_address(c) for c in settings.contracts)}
            if to in network:
                return
            raise WriteNotPermitted(
                f"{to_checksum_address(to)} is not one of the network's contracts",
                reason="not_a_network_contract",
            )
        if status == SUSPENDED:
            raise WriteNotPermitted(f"member {who} is suspended", reason="member_suspended")
        if to != registry:
            raise WriteNotPermitted(
                f"account {who} is not an active member: it may only "
                + ("call the registry" if status == PENDING else "register in the registry"),
                reason="not_an_active_member",
            )
        if status == NONE and bytes(tx.data[:4]) != REGISTER:
            raise WriteNotPermitted(
                f"account {who} is not a member: the only call it may send is the "
                "registry's register(...)",
                reason="not_a_member",
            )
        self._per_account.take(sender)
        self._all.take(b"", who="accounts that are not active members")

    def _refresh(self, registry: bytes | None) -> None:
        head = self.chain.head().hash
        if head != self._cache_head:
            self._cache = {}
            self._cache_head = head
            self._registry_code = bool(registry and self.chain.get_code(registry))

    def _member(self, registry: bytes, account: bytes) -> tuple[int, bool]:
        known = self._cache.get(account)
        if known is None:
            status = self._read(registry, _STATUS_OF + encode(["address"], [account]), "uint8")
            regulator = status == ACTIVE and bool(
                self._read(
                    registry,
                    _HAS_ROLE + encode(["bytes32", "address"], [_REGULATOR_ROLE, account]),
                    "bool",
                )
            )
            known = self._cache[account] = (status, regulator)
        return known

    def _read(self, registry: bytes, data: bytes, kind: str) -> int:
        ok, out, _ = self.chain.call({"to": registry, "data": data}, "latest")
        if not ok:  # not a registry at that address: fail safe
            raise WriteNotPermitted(
                "the registry named in the host's permissions does not answer",
                reason="registry_unreadable",
            )
        return decode([kind], out)[0]
