"""The pilot scenario (`make demo`), step by step, with a JSON summary.

Stages reached so far: chain foundation, department nodes, encrypted sharing, privacy
gate. The pilot network of network-config/local.toml comes up (a durable embedded chain
host and one node process per department), the contracts are deployed with the commission as genesis
regulator, every other department registers and is approved, and each node's view of the
registry is checked. Then the departments publish SYNTHETIC panels (calibrated to the
city's totals), the evaluation team applies for them — some grants authorize at once,
one waits for the owner and a reviewer, the grid's enterprise data is DP-only — the owners'
nodes release the keys, the analyst pulls and verifies, and a revoked grant's pull fails.
The privacy gate answers the analyst's DP queries on the grid's data, paying ε on chain,
until the budget refuses one; eco releases a desensitized version of its station table
(refused first with a profile too fine for its minimum k) with its lineage on chain.
The analyst computes Chengdu's green low-carbon district index from the pulled panels (with
the framework's other columns generated), its trends, warnings and rank uncertainty; then the
regulator audits everything.
The network is left running; `tanlian network down --root OUT/network` stops it.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from analytics.indicators.analysis import analyse
from analytics.indicators.pipeline import load_pipeline, write_outputs
from analytics.indicators.pipeline import run as run_pipeline
from analytics.indicators.sensitivity import monte_carlo_of
from analytics.tables import write_csv_atomic
from node.chain.errors import ContractReverted
from node.cockpit.auth import Users
from node.cockpit.holdings import Holdings
from node.contracts.toolchain import ARTIFACTS_DIR
from node.errors import TanlianError
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeApiError, NodeClient
from node.pilot import catalog as pilot_catalog
from node.pilot import synthetic
from node.privacy.budget import Epsilon
from node.privacy.desensitize import KAnonymityTooLow, load_profile
from node.quality.catalog import CatalogEntry, parse_period
from node.quality.documents import DocumentStore
from node.quality.feedback import active_consumers, ring_for, sign_anonymous
from node.quality.ledger import QualityLedger
from node.quality.metadata import parse_metadata
from node.quality.tabular import TableRefused, load_schema
from node.registry.keystore import KEYSTORE_FILE, generate_keys, unlock
from node.runtime import NodeSession
from node.sharing.contracts import Mode, Policy, State
from node.sharing.service import derive_desensitized, publish_as, pull

Say = Callable[[str], None]
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "network-config" / "local.toml"
INDEX_PIPELINE = (
    Path(__file__).resolve().parents[2] / "analytics" / "frameworks" / "chengdu_districts.yaml"
)


def run_demo(
    out_dir: Path,
    config_path: Path = DEFAULT_CONFIG,
    say: Say = print,
    cockpit_port: int = 8700,
) -> dict[str, Any]:
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
        f"1/7 bringing up the pilot network '{config.network.name}' "
        f"({len(config.departments)} departments, embedded chain)"
    )
    status = network.up()
    steps.extend(network.events)
    state = network.load_state()

    say("2/7 the registry as each department's node sees it (signed requests)")
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

    say("3/7 an outsider's signed request is refused")
    outsider = generate_keys()
    with NodeClient(config.departments[1].endpoint, outsider.account.key) as client:
        try:
            client.get("/v1/nodes")
            refused = None
        except NodeApiError as exc:
            refused = f"{exc.http_status} {exc.code}"
    say(f"    {config.departments[1].name} answered: {refused}")
    steps.append({"step": "outsider_refused", "answer": refused})

    say(
        "4/7 sharing: publish, apply, authorize, release, pull, revoke, joint statistics "
        "(SYNTHETIC data)"
    )
    sharing_steps, pulled = share_story(network, out_dir, say)
    steps.extend(sharing_steps)

    say("5/7 the analyst computes the green low-carbon index from the pulled panels")
    steps.append(index_story(out_dir, say))

    say("6/7 the regulator (drc) audits the network: verify, then report")
    audit = audit_story(network, out_dir, say)
    steps.append(audit)

    say("7/7 the decision cockpit on the analyst's node: its holdings, a demo viewer")
    cockpit = cockpit_story(network, out_dir, say)
    steps.append(cockpit["step"])

    analyst_dept = next(d for d in config.departments if d.name == "analyst")
    cockpit_url = network.start_cockpit(analyst_dept, cockpit_port)
    steps.append({"step": "cockpit_serving", "url": cockpit_url, "user": cockpit["user"]})

    manifest = json.loads((ARTIFACTS_DIR / "manifest.json").read_text())
    summary = {
        "scenario": "Tanlian pilot, Chengdu (chain, nodes, encrypted sharing, privacy gate)",
        "data_note": "all datasets are SYNTHETIC, generated and calibrated to city totals",
        "network": config.network.name,
        "chain_id": status["chain"]["chain_id"],
        "chain_url": status["chain"]["url"],
        "head": status["chain"]["head"],
        "contracts": {
            "NodeRegistry": state["registry"],
            "DataCatalog": state["catalog"],
            "AccessManager": state["access"],
            "JointQuery": state["joint"],
        },
        "pulled": pulled,
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
        "cockpit": {"url": cockpit_url, "user": cockpit["user"], "role": "viewer"},
        "seconds": round(time.time() - started, 2),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    say(f"summary written to {out_dir / 'summary.json'}")
    say(f"the decision cockpit (the analyst's node) is serving at {cockpit_url}")
    say(f"    log in as {cockpit['user']} with password {cockpit['password']} (a demo viewer)")
    say(
        f"the network and the cockpit keep running: tanlian network status --root {network.root}; "
        f"stop it with: tanlian network down --root {network.root}"
    )
    return summary


#: the district panels the departments publish (and the analyst pulls) by department: file
#: name and SYNTHETIC generator
PANELS = {
    "stats": ("stats_district_panel_2015_2024.csv", synthetic.stats_panel),
    "eco": ("eco_environment_panel_2015_2024.csv", synthetic.eco_panel),
    "transport": ("transport_panel_2015_2024.csv", synthetic.transport_panel),
}
BUILDING_ENERGY_FILE = "building_energy_2015_2024.csv"


def write_panels(folder: Path) -> dict[str, Path]:
    """The SYNTHETIC district panels, written into ``folder``, by department."""
    return {dept: make(folder / name) for dept, (name, make) in PANELS.items()}


def index_story(out_dir: Path, say: Say) -> dict[str, Any]:
    """Chengdu's district index on the pulled panels (other columns: the generated panel)."""
    pulled = out_dir / "pulled"
    panels = {dept: pulled / name for dept, (name, _make) in PANELS.items()}
    # the demo's own panels are SYNTHETIC and say so; its outputs are flagged row by row
    res = run_pipeline(load_pipeline(INDEX_PIPELINE, panels=panels, allow_synthetic=True))
    files = write_outputs(res, out_dir / "index")
    tables = analyse(res)
    for name, frame in tables.items():
        write_csv_atomic(frame, out_dir / "index" / f"{name}.csv", "%.6g")
    mc = monte_carlo_of(res, alternatives=["minmax:10:100"], aggregations=["gmean"], runs=1000)
    write_csv_atomic(mc.summary, out_dir / "index" / "sensitivity.csv", "%.6g")
    from_panels = sorted(c for c, src in res.pipeline.provenance.items() if src != "generated")
    latest = res.results[res.results["Time"] == res.results["Time"].max()]
    names = dict(zip(res.pipeline.data["uCode"], res.pipeline.data["uName_zh"], strict=False))
    interval = mc.summary.set_index("uCode")
    fw = res.pipeline.framework
    say(
        f"    framework {fw.name}: {len(fw.indicators)} indicators in "
        f"{len(fw.root.children)} target areas; "
        f"{len(from_panels)} columns from the pulled panels ({', '.join(from_panels)}), "
        "the rest generated (SYNTHETIC)"
    )
    for r in latest.head(5).itertuples():
        q = interval.loc[r.uCode]
        say(
            f"    {int(r.rank):>2}. {names.get(r.uCode, r.uCode)} ({r.uCode}) index {r.index:.1f}"
            f"  rank 5-95 % over 1,000 Monte Carlo runs: {q.rank_q05:g}-{q.rank_q95:g}"
        )
    trends = tables.get("trends")
    rising = 0
    if trends is not None:
        index_trend = trends[trends["code"] == fw.index_code]
        rising = int((index_trend["trend"] == "increasing").sum())
        say(
            f"    index rising significantly (Mann-Kendall, 5 %) in {rising} of "
            f"{len(index_trend)} districts"
        )
    lights = tables.get("warning_summary")
    red = 0
    if lights is not None:
        red = int(lights.loc[lights["by"] == "unit", "red"].sum())
        say(f"    early warning: {red} red lights against targets in {int(latest['Time'].iloc[0])}")
    say(f"    outputs in {out_dir / 'index'}")
    return {
        "step": "index",
        "pipeline": res.pipeline.name,
        "indicators": len(fw.indicators),
        "from_panels": from_panels,
        "top": latest.head(5)[["uCode", "index", "rank"]].to_dict("records"),
        "rising": rising,
        "red_lights": red,
        "files": sorted(files),
    }


#: the index outputs the cockpit shows, by holding role
INDEX_FILES = {
    "index_results": "results.csv",
    "index_sensitivity": "sensitivity.csv",
    "index_aggregated": "aggregated.csv",
    "index_warning_summary": "warning_summary.csv",
    "index_indicators": "indicators.csv",
}


METHOD_OF = {
    "carbon_assets": "analytics.carbon.assets",
    "park_results": "analytics.park.evaluation",
}


def asset_and_park_tables(folder: Path) -> dict[str, Path]:
    """The SYNTHETIC carbon-asset pool by district and type, and the park index results."""
    from analytics.carbon.assets import classify, demo_projects, pool_summary
    from analytics.park.demo_data import demo_parks, demo_reviews
    from analytics.park.evaluation import evaluate

    folder.mkdir(parents=True, exist_ok=True)
    pool = write_csv_atomic(
        pool_summary(classify(demo_projects())), folder / "carbon_assets_pool.csv"
    )
    parks = demo_parks()
    final = write_csv_atomic(
        evaluate(parks, demo_reviews(parks)).final, folder / "park_results.csv"
    )
    return {"carbon_assets": pool, "park_results": final}


def cockpit_sample(root: Path) -> dict[str, Path]:
    """The cockpit's files without a network (tests, benchmarks): the SYNTHETIC panels and
    building energy as if pulled, the index computed from them, the asset pool and parks.
    Returns each file by the holding role the cockpit reads it as."""
    pulled = root / "pulled"
    files = {f"{dept}_panel": path for dept, path in write_panels(pulled).items()}
    files["building_energy"] = synthetic.building_energy(pulled / BUILDING_ENERGY_FILE)
    index_story(root, lambda _m: None)
    files |= {role: root / "index" / name for role, name in INDEX_FILES.items()}
    return files | asset_and_park_tables(root)


def building_energy_story(network: LocalNetwork, out_dir: Path, say: Say) -> dict[str, Any]:
    """stats publishes building energy by district, type and month; the analyst pulls it
    under an auto-approved grant and its node records it as a holding for the cockpit."""
    source = synthetic.building_energy(out_dir / "data" / BUILDING_ENERGY_FILE)
    name = "building-energy-monthly"
    with network.session("stats") as stats:
        pub = publish_as(
            stats,
            source,
            name=name,
            classification="internal",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
    with network.session("analyst") as analyst:
        sh = analyst.require_sharing()
        r = sh.apply(
            pub.dataset_id, 1, "decision cockpit: building energy", Mode.RAW, duration=30 * 86400
        )
        rid = r.event("AccessRequested").args["requestId"]
        _wait_released(analyst, rid)
        info = pull(sh, analyst.registry, analyst.keys, rid, out_dir / "pulled" / source.name)
        held = Holdings(analyst.engine).record_pull(
            "building_energy", info, sharing=sh, dataset_name=name, owner="stats"
        )
    say(
        f"    stats published {name} v{pub.version} ({pub.plaintext_size} bytes: 20 districts "
        f"x 5 building types x 120 months); the analyst pulled it under grant {rid} "
        f"(authorized in tx {held.grant_tx[:12]}...) for the decision cockpit"
    )
    return {
        "step": "building_energy_pulled",
        "request": rid,
        "grant_tx": held.grant_tx,
        "building_energy": str(out_dir / "pulled" / source.name),
    }


def cockpit_story(network: LocalNetwork, out_dir: Path, say: Say) -> dict[str, Any]:
    """The analyst's node records the index outputs (derived from the pulled panels) and the
    SYNTHETIC carbon-asset pool and park index as holdings, and a demo viewer is added."""
    with network.session("analyst") as analyst:
        holdings = Holdings(analyst.engine)
        panels = [h.id for h in holdings.all() if h.role.endswith("_panel")]
        for role, file in INDEX_FILES.items():
            holdings.record_derived(
                role,
                out_dir / "index" / file,
                inputs=panels,
                method="analytics.indicators.pipeline chengdu_districts",
            )
        generated = "generated locally (SYNTHETIC), no department data"
        for role, path in asset_and_park_tables(out_dir / "cockpit").items():
            holdings.record_derived(
                role, path, inputs=[], method=f"{METHOD_OF[role]}: {generated}", synthetic=True
            )
        queries = json.loads((out_dir / "joint" / "queries.json").read_text())
        sums = [q for q in queries if q["what"] in ("energy_tce", "emissions_tco2")]
        holdings.record_dp_answer(
            "joint_dp",
            out_dir / "joint" / "district_energy_emissions_2024.csv",
            method="joint sum (MPC, distributed DP noise): grid, gas, transport",
            synthetic=True,
            queries={q["what"]: q["joint"] for q in sums},
            epsilon={q["what"]: q["epsilon"] for q in sums},
            grants=sorted({g for q in sums for g in q["grants"].values()}),
            noise_bound_95={q["what"]: q["noise_bound_95"]["cell"] for q in sums},
            result_sha256={q["what"]: q["result_sha256"] for q in sums},
        )
        user, password = "demo-viewer", secrets.token_urlsafe(12)
        Users(analyst.engine).add(user, "viewer", password)
        count = len(holdings.all())
    say(
        f"    the analyst's node holds {count} files for the cockpit: 4 pulled under grants, "
        "the joint DP totals, the index outputs computed from the panels, the SYNTHETIC "
        "asset pool and park index"
    )
    return {
        "step": {"step": "cockpit_data", "holdings": count},
        "user": user,
        "password": password,
    }


def _wait_released(s: NodeSession, rid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while s.require_sharing().request(rid).state != State.RELEASED:
        if time.monotonic() > deadline:
            raise RuntimeError(f"request {rid}: the owner's node did not release the key")
        time.sleep(0.1)


def share_story(network: LocalNetwork, out_dir: Path, say: Say) -> tuple[list, list]:
    data = out_dir / "data"
    files = {
        **write_panels(data),
        "grid": synthetic.grid_enterprise_electricity(data / "grid_enterprise_kwh_2024.csv"),
    }
    policies = {
        "stats": (
            "district-socioeconomic-panel",
            "internal",
            # raw copies, and DP use (its GDP and population in the joint regression)
            Policy(
                auto_approve_roles=("analyst",),
                raw_allowed=True,
                epsilon_ceiling=Epsilon.parse("5"),
            ),
        ),
        "eco": ("environment-panel", "sensitive", Policy(reviewer_approvals=1, raw_allowed=True)),
        "transport": (
            "transport-panel",
            "internal",
            Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        ),
        "grid": (
            "enterprise-electricity-monthly",
            "restricted",
            Policy(
                auto_approve_roles=("analyst",),
                raw_allowed=False,
                epsilon_ceiling=Epsilon.parse("3"),
            ),
        ),
    }
    steps: list[dict[str, Any]] = []
    published = {}
    for dept, (name, cls, policy) in policies.items():
        schema = load_schema(pilot_catalog.SCHEMAS[dept])
        meta = parse_metadata(pilot_catalog.metadata(dept))
        entry = CatalogEntry(
            meta.theme,
            meta,
            update_interval=parse_period(meta.update_frequency),
            # transport's panel is re-checked every few seconds, so that its review falls
            # due while the demo runs (see _quality_story); the others quarterly
            review_period=OVERDUE_PERIOD if dept == "transport" else parse_period("quarterly"),
        )
        with network.session(dept) as s:
            if dept == "eco":
                steps.append(_planted_error(s, files[dept], name, cls, policy, schema, say))
            pub = publish_as(
                s,
                files[dept],
                name=name,
                classification=cls,
                policy=policy,
                dp_metadata=synthetic.GRID_DP_METADATA if dept == "grid" else None,
                table_schema=schema,
                catalog=entry,
            )
        published[dept] = pub
        steps.append({"step": "published", "department": dept, "dataset": name, **pub.as_dict()})
        say(
            f"    {dept:<9} published {name} v{pub.version} ({pub.plaintext_size} bytes, "
            f"{'raw' if policy.raw_allowed else 'DP only'}; theme {meta.theme}, schema passed)"
        )

    pulled = []
    with network.session("analyst") as analyst:
        sh = analyst.require_sharing()
        grants = {}
        for dept in ("stats", "transport", "eco"):
            r = sh.apply(
                published[dept].dataset_id,
                1,
                f"green low-carbon index: {dept}",
                Mode.RAW,
                duration=30 * 86400,
            )
            rid = r.event("AccessRequested").args["requestId"]
            auto = any(e.event == "AccessAuthorized" for e in r.events)
            grants[dept] = rid
            steps.append(
                {
                    "step": "applied",
                    "dataset_owner": dept,
                    "request": rid,
                    "mode": "raw",
                    "authorized_at_once": auto,
                    "tx": r.tx_hash,
                }
            )
            say(
                f"    analyst applied for {dept}'s panel: request {rid} "
                f"{'authorized by preset policy' if auto else 'pending owner + reviewer'}"
            )
        with network.session("eco") as eco, network.session("grid") as grid:
            a1 = eco.require_sharing().approve(grants["eco"])
            a2 = grid.require_sharing().approve(grants["eco"])
        steps.append(
            {
                "step": "approved",
                "request": grants["eco"],
                "owner_tx": a1.tx_hash,
                "reviewer": "grid",
                "reviewer_tx": a2.tx_hash,
            }
        )
        say(f"    eco (owner) and grid (reviewer) approved request {grants['eco']}")
        for dept, rid in grants.items():
            _wait_released(analyst, rid)
            out = out_dir / "pulled" / files[dept].name
            info = pull(sh, analyst.registry, analyst.keys, rid, out)
            Holdings(analyst.engine).record_pull(
                f"{dept}_panel", info, sharing=sh, dataset_name=policies[dept][0], owner=dept
            )
            same = out.read_bytes() == files[dept].read_bytes()
            pulled.append(
                {
                    "request": rid,
                    "owner": dept,
                    "file": str(out),
                    "plaintext_sha256": info["plaintext_sha256"],
                    "verified": True,
                    "identical_to_source": same,
                }
            )
            steps.append({"step": "pulled", "request": rid, "owner": dept, "bytes": info["size"]})
            say(
                f"    analyst pulled request {rid} from {dept}: both hashes verified, "
                f"{info['size']} bytes"
            )
        try:
            sh.apply(
                published["grid"].dataset_id, 1, "raw enterprise data", Mode.RAW, duration=86400
            )
            raw_refused = None
        except ContractReverted as exc:
            raw_refused = exc.error
        dp = sh.apply(
            published["grid"].dataset_id,
            1,
            "electricity by district and sector",
            Mode.DP,
            epsilon=Epsilon.parse("1"),
            duration=30 * 86400,
        )
        dp_id = dp.event("AccessRequested").args["requestId"]
        steps.append({"step": "grid_raw_refused", "error": raw_refused})
        steps.append(
            {"step": "grid_dp_granted", "request": dp_id, "epsilon": 1.0, "tx": dp.tx_hash}
        )
        say(
            f"    grid's data: raw refused on chain ({raw_refused}); DP grant {dp_id} "
            "(ε 1.0) authorized for the privacy gate"
        )
        steps.extend(_dp_story(network, analyst, published["grid"].dataset_id, say))
        steps.extend(_desensitized_story(network, analyst, out_dir, say))
        with network.session("transport") as transport:
            rv = transport.require_sharing().revoke(grants["transport"], "pilot phase ended")
        try:
            pull(
                sh,
                analyst.registry,
                analyst.keys,
                grants["transport"],
                out_dir / "pulled" / "after_revoke.csv",
            )
            after = "pulled (UNEXPECTED)"
        except TanlianError as exc:
            after = f"refused: {exc.code}"
        steps.append(
            {
                "step": "revoked",
                "request": grants["transport"],
                "tx": rv.tx_hash,
                "pull_after_revoke": after,
            }
        )
        say(f"    transport revoked request {grants['transport']}; a new pull is {after}")
        if after.startswith("pulled") or raw_refused != "RawNotAllowed":
            raise RuntimeError("the sharing rules did not hold in the demo")
        # before the quality story: the joint runs' transactions move chain time on, and
        # transport's panel, reviewed every few seconds in the demo, must be fresh at the audit
        say(
            "    joint statistics: grid, gas and transport compute energy and emissions by district"
        )
        steps.append(building_energy_story(network, out_dir, say))
        steps.extend(joint_story(network, out_dir, say))
        steps.extend(commitment_story(network, out_dir, say))
        steps.extend(_quality_story(network, analyst, published, say))
    return steps, pulled


#: seconds between reviews of transport's panel in the demo (so that one falls due)
OVERDUE_PERIOD = 5


def _planted_error(s: NodeSession, source: Path, name, cls, policy, schema, say: Say) -> dict:
    """eco's first attempt carries two planted errors: refused, nothing stored."""
    bad = source.with_name("eco_panel_with_errors.csv")
    lines = source.read_text(encoding="utf-8").splitlines()
    cells = lines[5].split(",")
    cells[0], cells[4] = "510199", "-12.0"  # no such admin unit; a negative PM2.5
    lines[5] = ",".join(cells)
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = len(s.versions.anchored())
    try:
        publish_as(s, bad, name=name, classification=cls, policy=policy, table_schema=schema)
        raise RuntimeError("a file with planted errors was published")
    except TableRefused as exc:
        refusal = exc
    if len(s.versions.anchored()) != before or s.require_sharing().dataset(
        s.require_sharing().dataset_id(s.keys.address, name)
    ):
        raise RuntimeError("a refused publish left something behind")
    say(f"    eco       first file refused before encryption: {refusal.message}")
    say("    eco       fixed the two cells and publishes again")
    return {
        "step": "publish_refused",
        "department": "eco",
        "dataset": name,
        "code": refusal.code,
        "errors": refusal.report.errors_by_kind,
    }


def _quality_story(
    network: LocalNetwork, analyst: NodeSession, published: dict, say: Say
) -> list[dict[str, Any]]:
    """eco also uses the stats panel; the analyst files anonymous feedback on it (signed
    for the ring of its active consumers), stats answers; transport's node goes down for
    maintenance, its panel's review falls due and the regulator lists it; back up, the
    node re-checks it at once."""
    steps: list[dict[str, Any]] = []
    stats_id = published["stats"].dataset_id
    hex_id = "0x" + stats_id.hex()
    with network.session("eco") as eco, network.session("stats") as stats:
        r = eco.require_sharing().apply(
            stats_id, 1, "PM2.5 per unit of GDP", Mode.RAW, duration=30 * 86400
        )
        rid = r.event("AccessRequested").args["requestId"]
        stats.require_sharing().approve(rid)
    say(f"    eco applied for the stats panel too (request {rid}, approved by stats)")
    # the ring as the owner's node sees it: that is the view it checks the filing against
    # (the analyst's own node may index eco's new grant before the owner's does)
    owner_dept = network.department("stats")
    with NodeClient(owner_dept.endpoint, analyst.keys.account.key) as own:
        ring = _ring(own, hex_id, want=2)
        fb = sign_anonymous(
            analyst.keys.account.key,
            hex_id,
            1,
            "accuracy",
            "锦江区 area_km2 is 0.0 in every year: GDP per km² cannot be computed for it.",
            ring,
        )
        owner = network.department("stats")
        with NodeClient(owner.endpoint) as node:
            filed = node.post_unsigned("/v1/feedback/anonymous", fb.model_dump())
            try:
                node.post_unsigned(
                    "/v1/feedback/anonymous",
                    sign_anonymous(
                        analyst.keys.account.key, hex_id, 1, "format", "again", ring
                    ).model_dump(),
                )
                again = "accepted (UNEXPECTED)"
            except NodeApiError as exc:
                again = f"refused: {exc.code}"
    say(
        f"    analyst filed anonymous feedback {filed['feedback_id']} on the stats panel, "
        f"signed for a ring of {len(ring)} active consumers; a second filing by the same "
        f"member is {again}"
    )
    with network.session("stats") as stats:
        ledger = QualityLedger(stats.require_sharing())
        answer = "Thanks: 锦江区's area was rounded to 0 in the synthetic panel; v2 will fix it."
        digest = DocumentStore(stats.engine).put("answer", answer.encode())
        ans = ledger.answer(filed["feedback_id"], digest)
    say(f"    stats answered feedback {filed['feedback_id']}")
    steps.append(
        {
            "step": "anonymous_feedback",
            "feedback": filed["feedback_id"],
            "ring_size": len(ring),
            "second_filing": again,
            "answer_tx": ans.tx_hash,
        }
    )
    if not again.startswith("refused"):
        raise RuntimeError("a ring member filed twice on one version")

    network.stop_node("transport")
    say("    transport's node stopped for maintenance")
    drc = network.department("drc")
    with (
        network.session("drc") as regulator,
        NodeClient(drc.endpoint, regulator.keys.account.key) as node,
    ):
        overdue = _poll(
            lambda: node.get("/v1/catalog", params={"quality": "review-overdue"})["datasets"],
            timeout=OVERDUE_PERIOD * 4,
        )
        names = [d["name"] for d in overdue]
        say(f"    regulator (drc): review overdue: {', '.join(names)}")
        network.up()
        cleared = _poll(lambda: _reviewed(node, "transport-panel"), timeout=30)
    say("    transport's node is back; it re-checked its panel at once: nothing overdue")
    steps.append({"step": "review_overdue", "datasets": names, "cleared_after_restart": cleared})
    if names != ["transport-panel"] or not cleared:
        raise RuntimeError(f"the review cycle did not behave: {names}, cleared {cleared}")
    return steps


def _ring(node: NodeClient, dataset_id: str, want: int, timeout: float = 20) -> list[bytes]:
    """The ring of a dataset's active consumers with a feedback key, once it has ``want``
    members (each node registers its key at its first sync)."""
    deadline = time.monotonic() + timeout
    while True:
        keys = {a: bytes.fromhex(k[2:]) for a, k in node.get("/v1/feedback/keys")["keys"].items()}
        requests = node.get("/v1/access")["requests"]
        ring = ring_for(active_consumers(requests, dataset_id, int(time.time())), keys)
        if len(ring) >= want or time.monotonic() > deadline:
            return ring
        time.sleep(0.2)


def _reviewed(node: NodeClient, name: str) -> bool:
    """Whether dataset ``name`` has a recorded review and none is overdue."""
    d = next(d for d in node.get("/v1/catalog")["datasets"] if d["name"] == name)
    return bool(d["reviews"]) and d["quality"]["review"] == "ok"


def _poll(check, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.25)


def _dp_story(network: LocalNetwork, analyst: NodeSession, dataset_id: bytes, say: Say) -> list:
    """The analyst asks the grid node for electricity by district and by sector (the node
    finds the analyst's DP grant on the dataset itself)."""
    grid = next(d for d in network.config.departments if d.name == "grid")
    steps: list[dict[str, Any]] = []
    target = {"dataset": "0x" + dataset_id.hex()}
    with NodeClient(grid.endpoint, analyst.keys.account.key) as node:
        for by in ("district", "sector"):
            spec = {"kind": "sum", "column": "kwh", "epsilon": 0.4, "group_by": by}
            got = node.post("/v1/query", {**target, "spec": spec})
            top = sorted(got["answer"]["groups"].items(), key=lambda kv: -kv[1])[:2]
            steps.append(
                {
                    "step": "dp_answer",
                    "group_by": by,
                    "epsilon": 0.4,
                    "remaining": got["remaining"],
                    "spend_tx": got["spend_tx"],
                }
            )
            say(
                f"    DP sum of kWh by {by} (ε 0.4, paid on chain): top "
                f"{', '.join(f'{k} ≈ {v / 1e6:.1f} GWh' for k, v in top)}; "
                f"ε left {got['remaining']}"
            )
        try:
            node.post(
                "/v1/query",
                {**target, "spec": {"kind": "mean", "column": "kwh", "epsilon": 0.4}},
            )
            refused = None
        except NodeApiError as exc:
            refused = exc.code
    steps.append({"step": "dp_refused_past_budget", "error": refused})
    say(f"    a third query (ε 0.4) is refused: {refused}")
    if refused != "dp_budget_exhausted":
        raise RuntimeError("the privacy budget did not hold in the demo")
    return steps


def _desensitized_story(
    network: LocalNetwork, analyst: NodeSession, out_dir: Path, say: Say
) -> list[dict[str, Any]]:
    """eco keeps its station table to itself and releases a desensitized version of it."""
    steps: list[dict[str, Any]] = []
    source = synthetic.eco_monitoring_stations(out_dir / "data" / "eco_monitoring_stations.csv")
    with network.session("eco") as eco:
        sharing = eco.require_sharing()
        publish_as(
            eco,
            source,
            name="monitoring-stations",
            classification="restricted",
            policy=Policy(reviewer_approvals=2, raw_allowed=True),
        )
        derive = partial(
            derive_desensitized,
            eco.blobs,
            eco.versions,
            sharing,
            eco.keys,
            source="monitoring-stations",
            name="monitoring-stations-desensitized",
            work_dir=network.home(network.department("eco")) / "tmp",
            classification="internal",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
        try:
            derive(profile=load_profile(synthetic.eco_station_profile(keep_coordinates=True)))
            too_fine = "released (UNEXPECTED)"
        except KAnonymityTooLow as exc:
            too_fine = f"refused: k = {exc.detail['k']} < {exc.detail['min_k']}"
        say(f"    eco: a release keeping coordinates to 0.01° is {too_fine}")
        profile_file = out_dir / "data" / "eco_station_profile.yaml"
        profile_file.write_text(
            yaml.safe_dump(synthetic.eco_station_profile(), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        pub, report = derive(profile=load_profile(profile_file))
        lineage = sharing.lineage(pub.dataset_id, pub.version)
    assert lineage is not None
    say(
        f"    eco released monitoring-stations-desensitized v{pub.version}: {report['rows']} "
        f"rows, station ids pseudonymized, street → district, dates → month, coordinates, "
        f"names, phones and notes suppressed; k-anonymity {report['k_anonymity']} "
        f"(minimum {report['min_k']}); lineage on chain → monitoring-stations "
        f"v{lineage.source_version}"
    )
    steps.append(
        {
            "step": "desensitized_release",
            "too_fine_profile": too_fine,
            **pub.as_dict(),
            "k_anonymity": report["k_anonymity"],
            "lineage": lineage.as_dict(),
        }
    )
    sh = analyst.require_sharing()
    r = sh.apply(pub.dataset_id, pub.version, "air quality by district", Mode.RAW, duration=86400)
    rid = r.event("AccessRequested").args["requestId"]
    _wait_released(analyst, rid)
    out = out_dir / "pulled" / "eco_monitoring_stations_desensitized.csv"
    info = pull(sh, analyst.registry, analyst.keys, rid, out)
    header = out.read_text(encoding="utf-8").splitlines()[0]
    say(f"    analyst pulled it (request {rid}, verified); columns: {header}")
    steps.append({"step": "pulled", "request": rid, "owner": "eco", "bytes": info["size"]})
    if too_fine.startswith("released") or "contact_phone" in header:
        raise RuntimeError("the desensitization rules did not hold in the demo")
    return steps


#: public conversion factors: electricity 0.1229 kgce/kWh (calorific equivalent) and the
#: carbon market's grid factor 0.5703 tCO2/MWh; natural gas 389.31 GJ per 10^4 Nm³ and
#: 21.6219 tCO2 per 10^4 Nm³ (NDRC enterprise guidelines), 29.3076 GJ per tce; diesel and
#: gasoline NCV 43.0 and 44.3 GJ/t and 3.186 and 3.070 tCO2/t (IPCC 2006 defaults)
ENERGY_TERMS = {
    "grid": {"kwh": "0.0001229"},
    "gas": {"gas_m3": "0.00132835"},
    "transport": {"diesel_t": "1.4672", "gasoline_t": "1.5115"},
}
EMISSION_TERMS = {
    "grid": {"kwh": "0.0005703"},
    "gas": {"gas_m3": "0.00216219"},
    "transport": {"diesel_t": "3.186", "gasoline_t": "3.070"},
}
JOINT_DATASETS = {
    "grid": "grid/enterprise-electricity-monthly",
    "gas": "gas/natural-gas-district-monthly-2024",
    "transport": "transport/fuel-sales-district-monthly-2024",
}


def _truth(files: dict[str, Path], terms: dict[str, dict[str, str]]) -> dict[str, float]:
    """The generator's own totals by district (the demo's check on the DP answers)."""
    import pandas as pd

    total: dict[str, float] = {}
    for dept, path in files.items():
        frame = pd.read_csv(path, dtype={"adcode": str})
        value = sum(frame[c] * float(f) for c, f in terms[dept].items())
        for code, v in value.groupby(frame["adcode"]).sum().items():
            total[code] = total.get(code, 0.0) + float(v)
    return total


def joint_story(network: LocalNetwork, out_dir: Path, say: Say) -> list[dict[str, Any]]:
    """grid (electricity), gas (natural gas) and transport (road fuel) compute 2024's energy
    use and emissions by district for the analyst with MPC, and a regression of district
    emissions on stats' GDP and population: no node and not the analyst sees another's rows;
    each owner spends its ε on its grant before the run."""
    from node.joint.compute import noise_bounds
    from node.joint.contracts import JointLedger
    from node.joint.service import propose, resolve_dataset, resolve_draft, run

    data = out_dir / "data"
    dp_only = Policy(
        auto_approve_roles=("analyst",), raw_allowed=False, epsilon_ceiling=Epsilon.parse("5")
    )
    files = {
        "grid": data / "grid_enterprise_kwh_2024.csv",
        "gas": synthetic.gas_district_monthly(data / "gas_district_m3_2024.csv"),
        "transport": synthetic.transport_fuel_monthly(data / "transport_fuel_t_2024.csv"),
    }
    steps: list[dict[str, Any]] = []
    for dept in ("gas", "transport"):
        name = JOINT_DATASETS[dept].split("/", 1)[1]
        with network.session(dept) as s:
            pub = publish_as(s, files[dept], name=name, classification="internal", policy=dp_only)
        steps.append({"step": "published", "department": dept, "dataset": name, **pub.as_dict()})
        say(f"    {dept:<9} published {name} v{pub.version} (DP only: joint queries and the gate)")
    codes = [code for code, _name, _kind in synthetic.units()]
    names = {code: name for code, name, _kind in synthetic.units()}
    dp_grants: dict[str, int] = {}
    with network.session("analyst") as a:
        sharing = a.require_sharing()
        for ref, eps in (
            (JOINT_DATASETS["grid"], "3"),
            (JOINT_DATASETS["gas"], "5"),
            (JOINT_DATASETS["transport"], "5"),
            ("stats/district-socioeconomic-panel", "5"),
        ):
            ds = resolve_dataset(a, ref)
            dp_grants[ref.split("/", 1)[0]] = (
                sharing.apply(
                    ds,
                    1,
                    "joint energy and emission accounts, 2024",
                    Mode.DP,
                    Epsilon.parse(eps),
                    duration=30 * 86400,
                )
                .event("AccessRequested")
                .args["requestId"]
            )
        ledger = JointLedger(a.client, a.settings.contracts.joint)

        def one(draft: dict[str, Any], what: str) -> tuple[dict[str, Any], Any, dict[str, Any]]:
            spec = resolve_draft(a, draft)
            joint_id, admitted, _tx = propose(ledger, spec)
            if not admitted:
                raise RuntimeError(f"joint query {joint_id} was not admitted by preset policy")
            clients = [
                NodeClient(a.registry.member(i.owner).endpoint, a.keys.account.key, timeout=300)
                for i in spec.inputs
            ]
            try:
                result, facts = run(ledger, spec, joint_id, clients)
            finally:
                for c in clients:
                    c.close()
            step = {
                "step": "joint_query",
                "what": what,
                "joint": joint_id,
                "owners": [names_of[i.owner] for i in spec.inputs],
                "epsilon": {names_of[i.owner]: i.epsilon.as_json() for i in spec.inputs},
                "grants": {names_of[i.owner]: dp_grants[names_of[i.owner]] for i in spec.inputs},
                "query_sha256": "0x" + spec.digest().hex(),
                "result_sha256": facts["result_sha256"],
                "acknowledged": facts["acknowledged"],
                "noise_bound": noise_bounds(spec),
                "noise_bound_95": noise_bounds(spec, failure=0.05),
                "seconds": facts["seconds"],
            }
            return result, spec, step

        names_of = {m.address.lower(): m.name for m in a.registry.members()}
        totals: dict[str, dict[str, str]] = {}
        for what, terms, unit, bounds, eps in (
            ("energy_tce", ENERGY_TERMS, "tce", (1000, 15000, 13000), ("0.5", "2", "2")),
            ("emissions_tco2", EMISSION_TERMS, "tCO2", (4000, 25000, 27000), ("0.5", "2", "2")),
        ):
            draft = {
                "op": "sum",
                "key": ["adcode"],
                "domain": {"adcode": codes},
                "purpose": f"district {what} 2024 for the city carbon accounts",
                "inputs": [
                    {
                        "dataset": JOINT_DATASETS[d],
                        "terms": terms[d],
                        "lo": 0,
                        "hi": hi,
                        "epsilon": e,
                    }
                    for d, hi, e in zip(("grid", "gas", "transport"), bounds, eps, strict=True)
                ],
            }
            result, _spec, step = one(draft, what)
            truth = _truth(files, terms)
            got = {c["key"][0]: float(c["sum"]) for c in result["cells"]}
            errors = sorted(abs(got[k] - truth[k]) / truth[k] for k in truth)
            step["median_relative_error_vs_generator"] = round(errors[len(errors) // 2], 4)
            step["max_error_vs_generator"] = round(max(abs(got[k] - truth[k]) for k in truth), 3)
            steps.append(step)
            for code in codes:
                totals.setdefault(code, {})[what] = result["cells"][codes.index(code)]["sum"]
            top = sorted(got.items(), key=lambda kv: -kv[1])[:3]
            say(
                f"    joint {what} (query {step['joint']}; ε per owner "
                f"{', '.join(f'{k} {v}' for k, v in step['epsilon'].items())}): top "
                + ", ".join(f"{names[k]} {v:,.0f} {unit}" for k, v in top)
                + f"; noise within ±{float(step['noise_bound_95']['cell']):,.0f} {unit} "
                "(all 20 districts at once, 95 %); off the generator's totals by a median "
                f"{step['median_relative_error_vs_generator']:.1%}"
            )
        ols_draft = {
            "op": "ols",
            "key": ["adcode"],
            "domain": {"adcode": codes},
            "purpose": "district emissions on GDP and population, 2024",
            "inputs": [
                {
                    "dataset": JOINT_DATASETS[d],
                    "terms": EMISSION_TERMS[d],
                    "lo": 0,
                    "hi": hi,
                    "epsilon": e,
                    "role": "y",
                }
                for d, hi, e in zip(
                    ("grid", "gas", "transport"), (1e6, 4e5, 4e5), ("2", "1", "1"), strict=True
                )
            ]
            + [
                {
                    "dataset": "stats/district-socioeconomic-panel",
                    "role": "x",
                    "where": {"year": ["2024"]},
                    "regressors": [
                        {"terms": {"gdp_bn_yuan": "1"}, "lo": 0, "hi": 500, "name": "gdp_bn_yuan"},
                        {
                            "terms": {"population_10k": "1"},
                            "lo": 0,
                            "hi": 400,
                            "name": "population_10k",
                        },
                    ],
                    "epsilon": "5",
                }
            ],
        }
        ols, _spec, step = one(ols_draft, "regression")
        step["coefficients"] = ols["coefficients"]
        steps.append(step)
        say(
            f"    joint regression (query {step['joint']}): tCO2 ≈ "
            + " + ".join(
                f"{v:,.1f}·{k.split(':')[-1]}" if k != "intercept" else f"{v:,.0f}"
                for k, v in ols["coefficients"].items()
            )
            + " (20 districts; DP noise dominates at this ε: read it as the method, not a finding)"
        )
    outdir = out_dir / "joint"
    outdir.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    table = pd.DataFrame(
        {
            "adcode": codes,
            "district": [names[c] for c in codes],
            "energy_tce_dp": [totals[c]["energy_tce"] for c in codes],
            "emissions_tco2_dp": [totals[c]["emissions_tco2"] for c in codes],
            "synthetic": "yes",
        }
    )
    write_csv_atomic(table, outdir / "district_energy_emissions_2024.csv")
    (outdir / "queries.json").write_text(json.dumps(steps[2:], indent=2, ensure_ascii=False) + "\n")
    say(f"    results with their provenance in {outdir}")
    return steps


def commitment_story(network: LocalNetwork, out_dir: Path, say: Say) -> list[dict[str, Any]]:
    """eco publishes its key emitters' verified emissions (nobody holds a copy), commits to
    every enterprise's figure with Pedersen commitments and records the district totals,
    each checked on chain against the commitments; a total one kilogram short is refused.
    The analyst re-checks every total from the chain's events and takes them into the city
    carbon accounts, without learning any single enterprise's figure."""
    import pandas as pd

    from node.commitments.contracts import group_hash
    from node.commitments.service import check_totals, commit_column, record_totals, stored_set

    source = synthetic.eco_key_emitters(out_dir / "data" / "eco_key_emitters_2024.csv")
    steps: list[dict[str, Any]] = []
    with network.session("eco") as s:
        pub = publish_as(
            s,
            source,
            name="key-emitters-2024",
            classification="sensitive",
            # copies only with eco's and a reviewer's approval; nobody applies in the demo
            policy=Policy(reviewer_approvals=1, raw_allowed=True),
        )
        dataset_id = pub.dataset_id
        done = commit_column(s, dataset_id, "emission_kg", "kgCO2e")
        recorded = record_totals(s, dataset_id, "emission_kg", "adcode")
        # the first district's total one kilogram short, with the right blinding: refused
        first = recorded[0]
        indexes = [
            i
            for i, c in enumerate(pd.read_csv(source, dtype=str)["adcode"])
            if f"adcode={c}" == first.group
        ]
        cset = stored_set(s.engine, s.keys.encryption_key, done.set_id)
        assert cset is not None  # commit_column stored it
        try:
            s.require_commitments().record_total(
                bytes.fromhex(done.set_id[2:]),
                cset.packed,
                indexes,
                first.total - 1,
                cset.blinding_of(indexes),
                first.group + " (1 kg short)",
            )
            refused = "accepted (a defect)"
        except ContractReverted as exc:
            refused = exc.error or str(exc)
        owner = s.keys.address
    steps.append(
        {
            "step": "commitments",
            "department": "eco",
            "dataset": "key-emitters-2024",
            "set": done.set_id,
            "rows": done.rows,
            "anchor_tx": done.tx,
            "totals_recorded": len(recorded),
            "short_total_refused_with": refused,
        }
    )
    say(
        f"    eco committed to {done.rows} key emitters' emissions (Pedersen, BN254; set "
        f"{done.set_id[:10]}…) and recorded {len(recorded)} district totals, each checked by "
        f"the contract; a total 1 kg short was refused: {refused}"
    )
    with network.session("analyst") as a:
        _info, checked = check_totals(a.require_commitments(), owner, dataset_id, 1, "emission_kg")
    names = {code: name for code, name, _kind in synthetic.units()}
    table = pd.DataFrame(
        [
            {
                "adcode": t.group.split("=", 1)[1],
                "district": names.get(t.group.split("=", 1)[1], ""),
                "key_emitters": t.rows,
                "direct_emissions_tco2e": f"{t.total / 1000:.3f}",
                "checked_against_commitments": "yes" if t.ok else "NO",
                "group_hash": "0x" + group_hash(t.group).hex(),
                "synthetic": "yes",
            }
            for t in checked
        ]
    ).sort_values("adcode")
    outdir = out_dir / "commitments"
    outdir.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(table, outdir / "key_emitters_by_district_2024.csv")
    ok = sum(t.ok for t in checked)
    steps.append({"step": "totals_checked", "by": "analyst", "totals": len(checked), "ok": ok})
    say(
        f"    the analyst re-checked {ok}/{len(checked)} totals from the chain's events "
        f"(city total {sum(t.total for t in checked) / 1e9:,.2f} Mt CO2e) for the carbon "
        f"accounts: {outdir / 'key_emitters_by_district_2024.csv'}"
    )
    return steps


def audit_story(network: LocalNetwork, out_dir: Path, say: Say) -> dict[str, Any]:
    """The regulator's verify over everything above, then the report for people."""
    from node.audit.report import write_report
    from node.audit.verify import Auditor

    # every node seals what it logged so far (the same happens on its schedule and shutdown)
    for dept in network.config.departments:
        with network.session(dept.name) as s, NodeClient(dept.endpoint, s.keys.account.key) as c:
            c.post("/v1/audit/anchor", {})
    with network.session("drc") as drc:
        c = drc.settings.contracts
        result = Auditor(
            drc.backend,
            c.model_dump(),
            drc.keys.account.key,
        ).run()
    for name, check in result.checks.items():
        say(f"    {name:<22} {check['items']:>6} items  {check['findings']} findings")
    for f in result.findings:
        say(f"    {f.severity}: {f.kind} ({f.department}): {f.message}")
    html_path, json_path = write_report(result, out_dir / "audit" / "report.html")
    verdict = "clean" if not result.problems else f"{len(result.problems)} problem(s)"
    say(f"    verify: {verdict}; report: {html_path}")
    if result.problems:
        raise RuntimeError("the regulator's audit of the demo network is not clean")
    return {
        "step": "audit",
        "clean": True,
        "notices": [f.kind for f in result.findings],
        "report": str(html_path),
        "report_json": str(json_path),
        "checks": result.checks,
    }
