"""`tanlian init`: a department's identity (keystore) and its node.toml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import tomli_w

from node.errors import InvalidInput
from node.registry.keystore import KEYSTORE_FILE, generate_keys, write_keystore
from node.registry.registry import ROLE_BITS, roles_to_mask
from node.settings import CONFIG_FILE, load_settings

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


def validate_endpoint(endpoint: str) -> str:
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise InvalidInput(f"endpoint {endpoint!r} must be an http(s) URL with a host")
    return endpoint.rstrip("/")


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
        config["contracts"] = {"registry": registry}
    home.mkdir(parents=True, exist_ok=True)
    keys = generate_keys()
    write_keystore(home / KEYSTORE_FILE, keys, password)
    (home / CONFIG_FILE).write_text(tomli_w.dumps(config))
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
    tmp.write_text(tomli_w.dumps(data))
    tmp.replace(path)
    load_settings(home)
