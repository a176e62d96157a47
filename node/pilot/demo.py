"""The pilot scenario (`make demo`), step by step, with a JSON summary.

Stage reached so far: the chain foundation and the department nodes. The pilot network of
network-config/local.toml comes up (a durable embedded chain host and one node process per
department), the NodeRegistry is deployed with the commission as genesis regulator, every
other department registers and is approved, and each node's view of the registry (read
from its own event index through a signed request) is printed and checked. The network is
left running for exploration; `tanlian network down --root OUT/network` stops it.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from node.api.client import NodeApiError, NodeClient
from node.contracts.toolchain import ARTIFACTS_DIR
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from node.registry.keystore import KEYSTORE_FILE, generate_keys, unlock

Say = Callable[[str], None]
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "network-config" / "local.toml"


def run_demo(out_dir: Path, config_path: Path = DEFAULT_CONFIG, say: Say = print) -> dict[str, Any]:
    out_dir = Path(out_dir)
    config = load_network_config(config_path)
    network = LocalNetwork(config, out_dir / "network", say=lambda m: say(f"    {m}"))
    if network.state_path.exists():
        network.down()  # a previous demo's network: stop it before starting afresh
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    started = time.time()
    steps: list[dict[str, Any]] = []

    say(
        f"1/3 bringing up the pilot network '{config.network.name}' "
        f"({len(config.departments)} departments, embedded chain)"
    )
    status = network.up()
    steps.extend(network.events)
    state = network.load_state()

    say("2/3 the registry as each department's node sees it (signed requests)")
    views: dict[str, list[tuple[str, str]]] = {}
    for dept in config.departments:
        keys = unlock(network.home(dept) / KEYSTORE_FILE, network.secret(dept).read_text())
        with NodeClient(dept.endpoint, keys.account.key) as client:
            listing = client.get("/v1/nodes")
        views[dept.name] = sorted((m["name"], m["status"]) for m in listing["members"])
    reference = views[config.departments[0].name]
    consistent = all(v == reference for v in views.values())
    rows = {r["name"]: r for r in status["departments"]}
    say(f"    {'department':<10} {'status':<8} {'roles':<20} {'address':<42} endpoint")
    for dept in config.departments:
        r = rows[dept.name]
        say(
            f"    {dept.name:<10} {r['registry_status']:<8} {', '.join(dept.roles):<20} "
            f"{r['address']:<42} {dept.endpoint}"
        )
    say(f"    all {len(views)} nodes agree on the registry: {'yes' if consistent else 'NO'}")
    if not consistent or any(r["registry_status"] != "active" for r in rows.values()):
        raise RuntimeError(f"the registry is not as expected: {views}")

    say("3/3 an outsider's signed request is refused")
    outsider = generate_keys()
    with NodeClient(config.departments[1].endpoint, outsider.account.key) as client:
        try:
            client.get("/v1/nodes")
            refused = None
        except NodeApiError as exc:
            refused = f"{exc.http_status} {exc.code}"
    say(f"    {config.departments[1].name} answered: {refused}")
    steps.append({"step": "outsider_refused", "answer": refused})

    manifest = json.loads((ARTIFACTS_DIR / "manifest.json").read_text())
    summary = {
        "scenario": "Tanlian pilot, Chengdu (stage: chain foundation + department nodes)",
        "network": config.network.name,
        "chain_id": status["chain"]["chain_id"],
        "chain_url": status["chain"]["url"],
        "head": status["chain"]["head"],
        "contracts": {"NodeRegistry": state["registry"]},
        "compiler": manifest["solc"],
        "openzeppelin": manifest["openzeppelin"],
        "departments": [
            {
                "name": d.name,
                "title": d.title,
                "roles": list(d.roles),
                "address": rows[d.name]["address"],
                "status": rows[d.name]["registry_status"],
                "endpoint": d.endpoint,
                "genesis": d.genesis,
            }
            for d in config.departments
        ],
        "registry_views_agree": consistent,
        "steps": steps,
        "seconds": round(time.time() - started, 2),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    say(f"summary written to {out_dir / 'summary.json'}")
    say(
        f"the network keeps running: tanlian network status --root {network.root}; "
        f"stop it with: tanlian network down --root {network.root}"
    )
    return summary
