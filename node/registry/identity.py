"""`tanlian init`: a department's identity (keystore) and its node.toml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import tomli_w

from node.errors import InvalidInput
from node.home import make_private, write_private
from node.registry.keystore import KEYSTORE_FILE, generate_keys, write_keystore
from node.registry.registry import ROLE_BITS, roles_to_mask
from node.settings import CONFIG_FILE, check_rpc_url, load_settings

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


def validate_endpoint(endpoint: str) -> str:
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidInput(f"endpoint {endpoint!r} must be an http(s) URL with a host")
    return endpoint.rstrip("/")


def read_network_descriptor(path: Path) -> tuple[str, str]:
    """The chain URL and registry address in a network descriptor (``network.json``, written
    by `tanlian network up` beside its state)."""
    import json

    try:
        data = json.loads(Path(path).read_text())
        return str(data["rpc_url"]), str(data["registry"])
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the network descriptor {path}: {exc}") from None
    except (json.JSONDecodeError, TypeError, KeyError):
        raise InvalidInput(
            f"{path} is not a network descriptor (JSON with rpc_url and registry)"
        ) from None


def discover_contracts(chain: dict[str, Any] | None, registry: str) -> dict[str, str]:
    """The network's contracts, found from its registry address on the chain at
    ``chain['rpc_url']``: a node configured from them publishes and releases at once."""
    from eth_utils import is_address, to_checksum_address

    from node.chain.backend import open_backend
    from node.chain.client import ChainClient
    from node.registry.registry import Registry

    if not is_address(registry):
        raise InvalidInput(f"--registry {registry!r} is not a 0x… contract address")
    if not chain or not chain.get("rpc_url"):
        raise InvalidInput("--registry needs --rpc, the URL of the chain the registry is on")
    backend = open_backend("rpc", url=chain["rpc_url"])
    try:
        if not backend.get_code(to_checksum_address(registry)):
            raise InvalidInput(f"no contract at {registry} on {chain['rpc_url']}")
        found = Registry(ChainClient(backend), registry).network_contracts()
    finally:
        backend.close()
    if found is None:
        raise InvalidInput(
            f"the registry at {registry} names no catalog, access manager, audit log or "
            "commitments contract yet; ask the network's regulator to name them "
            "(tanlian network up does)"
        )
    return {"registry": to_checksum_address(registry), **found}


def init_node(
    home: Path,
    *,
    name: str,
    roles: list[str],
    endpoint: str,
    password: str,
    api_port: int | None = None,
    chain: dict[str, Any] | None = None,
    registry: str | None = None,
) -> dict[str, Any]:
    """Create HOME/keystore.json and HOME/node.toml; refuses to overwrite either."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"name {name!r}: 2-32 characters, lower-case letters, digits and '-', "
            "starting with a letter"
        )
    cleaned = {r.strip().lower() for r in roles if r.strip()}
    roles_to_mask(cleaned)  # raises on unknown or missing roles
    roles = sorted(cleaned, key=list(ROLE_BITS).index)
    endpoint = validate_endpoint(endpoint)
    home = Path(home)
    if home.exists() and not home.is_dir():
        raise InvalidInput(f"--home {home} is a file; give a folder for the node")
    if chain and chain.get("rpc_url"):
        check_rpc_url(chain["rpc_url"])  # before anything is written
    if (home / KEYSTORE_FILE).exists() or (home / CONFIG_FILE).exists():
        raise InvalidInput(f"{home} already holds a node identity; refusing to overwrite it")
    port = api_port or urlparse(endpoint).port or 8600
    config: dict[str, Any] = {
        "name": name,
        "roles": roles,
        "endpoint": endpoint,
        "api": {"port": port},
    }
    if chain:
        config["chain"] = chain
    if registry:
        config["contracts"] = discover_contracts(chain, registry)
    make_private(home)
    keys = generate_keys()
    write_keystore(home / KEYSTORE_FILE, keys, password)
    write_private(home / CONFIG_FILE, tomli_w.dumps(config))
    load_settings(home)  # fail now, not at first start, if anything is off
    return {
        "home": str(home),
        "name": name,
        "address": keys.address,
        "encryption_public_key": "0x" + keys.encryption_public_key.hex(),
        "roles": roles,
        "endpoint": endpoint,
    }


def update_config(home: Path, **sections: dict[str, Any]) -> None:
    """Merge top-level tables into HOME/node.toml (used when a network assigns contracts)."""
    import tomllib

    path = Path(home) / CONFIG_FILE
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    for key, value in sections.items():
        if isinstance(value, dict):
            data.setdefault(key, {}).update(value)
        else:
            data[key] = value
    tmp = path.with_name(path.name + ".tmp")
    write_private(tmp, tomli_w.dumps(data))
    tmp.replace(path)
    load_settings(home)
