"""`tanlian dataset ...`: publish encrypted datasets and browse the catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, node_context, table
from cli.progress import bar
from node.errors import InvalidInput

app = typer.Typer(help="Publish datasets and browse the catalog.", no_args_is_help=True)
ClassificationOpt = Annotated[
    str, typer.Option(help="public, internal, sensitive or restricted (for a new dataset).")
]
AutoApproveOpt = Annotated[
    str, typer.Option(help="Roles authorized at once, comma-separated (e.g. analyst).")
]
ReviewersOpt = Annotated[int, typer.Option(help="Reviewer approvals needed otherwise.")]


def _policy(auto_approve: str, reviewers: int, raw: bool = True, epsilon_ceiling: str = "0"):
    from node.privacy.budget import Epsilon
    from node.sharing.contracts import Policy

    return Policy(
        auto_approve_roles=tuple(r.strip() for r in auto_approve.split(",") if r.strip()),
        reviewer_approvals=reviewers,
        raw_allowed=raw,
        epsilon_ceiling=Epsilon.parse(epsilon_ceiling, allow_zero=True),
    )


@app.command("publish")
def publish(
    file: Annotated[Path, typer.Argument(help="CSV, JSON, GeoJSON, Parquet or zipped shapefile.")],
    home: HomeOpt,
    name: Annotated[str, typer.Option(help="Dataset name (a new version if it exists).")],
    classification: ClassificationOpt = "internal",
    auto_approve: AutoApproveOpt = "",
    reviewers: ReviewersOpt = 0,
    raw: Annotated[bool, typer.Option("--raw/--dp-only", help="Allow decrypted copies.")] = True,
    epsilon_ceiling: Annotated[
        str,
        typer.Option(help="Largest ε one DP grant may hold: decimal, whole milli-ε (0.001)."),
    ] = "0",
    dp_metadata: Annotated[
        Path | None,
        typer.Option(help="JSON: bounds and public keys per column, for DP queries."),
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Encrypt FILE into this node's store and anchor its hashes on chain."""
    from node.runtime import NodeSession
    from node.sharing.service import publish as do_publish

    settings, keys = node_context(home, password_file)
    policy = _policy(auto_approve, reviewers, raw, epsilon_ceiling)
    meta = None
    if dp_metadata is not None:
        try:
            meta = json.loads(dp_metadata.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"cannot read DP metadata {dp_metadata}: {exc}") from None
    with NodeSession(settings, keys) as s, bar(f"encrypting {file.name}", not as_json) as tick:
        result = do_publish(
            s.blobs,
            s.versions,
            s.require_sharing(),
            keys,
            file,
            name=name,
            classification=classification,
            policy=policy,
            progress=tick,
            dp_metadata=meta,
        )
    emit({"name": name, **result.as_dict()}, as_json)


@app.command("desensitize")
def desensitize(
    source: Annotated[str, typer.Argument(help="Name of one of your CSV datasets.")],
    home: HomeOpt,
    profile: Annotated[Path, typer.Option(help="Desensitization profile (YAML or JSON).")],
    name: Annotated[str, typer.Option("--as", help="Name of the desensitized dataset.")],
    version: Annotated[int, typer.Option(help="Source version (default: the latest).")] = 0,
    classification: ClassificationOpt = "internal",
    auto_approve: AutoApproveOpt = "",
    reviewers: ReviewersOpt = 0,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Release a desensitized version of SOURCE: pseudonyms, generalization, suppression;
    refused under the profile's min_k; anchored with its lineage to the source version."""
    from node.privacy.desensitize import load_profile
    from node.runtime import NodeSession
    from node.sharing.service import derive_desensitized

    rules = load_profile(profile)
    settings, keys = node_context(home, password_file)
    policy = _policy(auto_approve, reviewers)
    with NodeSession(settings, keys) as s:
        published, report = derive_desensitized(
            s.blobs,
            s.versions,
            s.require_sharing(),
            keys,
            source=source,
            profile=rules,
            name=name,
            work_dir=settings.home / "tmp",
            source_version=version or None,
            classification=classification,
            policy=policy,
        )
    info = {"name": name, **published.as_dict(), **report}
    if not as_json:
        info = {k: ", ".join(v) if isinstance(v, list) else v for k, v in info.items()}
        info["lineage"] = "{source_dataset_id} v{source_version}, profile {profile_hash}".format(
            **report["lineage"]
        )
    emit(info, as_json)


def _client(home: Path, password_file: Path | None):
    from node.peer.client import NodeClient

    settings, keys = node_context(home, password_file)
    return NodeClient(f"http://127.0.0.1:{settings.api.port}", keys.account.key)


@app.command("list")
def list_datasets(
    home: HomeOpt, password_file: PasswordFileOpt = None, as_json: JsonOpt = False
) -> None:
    """The catalog as this department's node sees it."""
    with _client(home, password_file) as c:
        data = c.get("/v1/datasets")
    if as_json:
        emit(data, True)
        return
    rows = [
        {**d, "versions": len(d["versions"]), "policy": _policy_text(d["policy"])}
        for d in data["datasets"]
    ]
    table(
        rows,
        ["name", "dataset_id", "owner", "classification", "versions", "policy"],
        title=f"catalog as of block {data['as_of_block']}",
    )


@app.command("show")
def show(
    dataset_id: Annotated[str, typer.Argument(help="0x… dataset id.")],
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One dataset: owner, policy and every anchored version with its hashes."""
    with _client(home, password_file) as c:
        d = c.get(f"/v1/datasets/{dataset_id}")
    if as_json:
        emit(d, True)
        return
    emit(
        {k: d[k] for k in ("name", "dataset_id", "owner", "classification")}
        | {"policy": _policy_text(d["policy"])},
        False,
    )
    rows = [
        {
            **v,
            "derived_from": (
                f"{v['derived_from']['dataset_id'][:10]}… v{v['derived_from']['version']} "
                f"(k={v['derived_from']['k_anonymity']})"
                if v.get("derived_from")
                else ""
            ),
        }
        for v in d["versions"]
    ]
    table(
        rows, ["version", "size", "plaintext_sha256", "ciphertext_sha256", "block", "derived_from"]
    )


def _policy_text(p: dict) -> str:
    parts = []
    if p["auto_approve_roles"]:
        parts.append("auto: " + "/".join(p["auto_approve_roles"]))
    parts.append(f"{p['reviewer_approvals']} reviewer(s)")
    parts.append("raw" if p["raw_allowed"] else "DP only")
    if p["epsilon_ceiling"]:
        parts.append(f"ε≤{p['epsilon_ceiling']}")
    return ", ".join(parts)
