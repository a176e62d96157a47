"""`tanlian dataset ...`: publish encrypted datasets and browse the catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, emit_tx, node_context, table
from cli.progress import bar
from node.errors import InvalidInput

app = typer.Typer(help="Publish datasets and browse the catalog.", no_args_is_help=True)
ClassificationOpt = Annotated[
    str | None,
    typer.Option(
        help="public, internal, sensitive or restricted (a new dataset; default internal)."
    ),
]
AutoApproveOpt = Annotated[
    str | None,
    typer.Option(help="Roles authorized at once, comma-separated (e.g. analyst)."),
]
ReviewersOpt = Annotated[
    int | None,
    typer.Option(
        help="Reviewer approvals needed otherwise (reviewers: active providers other than "
        "the owner and the applicant)."
    ),
]
NewVersionOpt = Annotated[
    str | None,
    typer.Option(
        help="Add FILE as the next version of this existing dataset even though its columns "
        "differ (instead of --name; without it a different schema is refused).",
    ),
]


def _target(name: str | None, new_version_of: str | None, option: str) -> tuple[str, bool]:
    """The dataset to publish to, and whether a change of columns was asked for."""
    if name and new_version_of and name != new_version_of:
        raise InvalidInput(f"{option} {name!r} and --new-version-of {new_version_of!r} differ")
    target = name or new_version_of
    if not target:
        raise InvalidInput(f"give {option} NAME (or --new-version-of NAME)")
    return target, new_version_of is not None


def _policy(
    auto_approve: str | None,
    reviewers: int | None,
    raw: bool | None = None,
    epsilon_ceiling: str | None = None,
    lifetime_epsilon: str | None = None,
    department_epsilon: str | None = None,
):
    """The access policy the options give, or None when none was given (a new dataset then
    gets the default policy, an existing one keeps its own)."""
    from node.privacy.budget import Epsilon
    from node.sharing.contracts import Policy

    def budget(text: str | None) -> Epsilon | None:
        # the lifetime budgets may exceed one grant's maximum (several grants' worth)
        if text is None:
            return None
        return Epsilon.parse(text, allow_zero=True, maximum=Epsilon(Epsilon.USER_MAXIMUM * 100))

    given = (auto_approve, reviewers, raw, epsilon_ceiling, lifetime_epsilon, department_epsilon)
    if all(option is None for option in given):
        return None
    policy = Policy(
        auto_approve_roles=tuple(r.strip() for r in (auto_approve or "").split(",") if r.strip()),
        reviewer_approvals=reviewers or 0,
        raw_allowed=True if raw is None else raw,
        epsilon_ceiling=Epsilon.parse(epsilon_ceiling or "0", allow_zero=True),
        lifetime_epsilon=budget(lifetime_epsilon),
        department_epsilon=budget(department_epsilon),
    )
    policy.lifetime()  # a ceiling below another is refused here, before anything is stored
    return policy


@app.command("publish")
def publish(
    file: Annotated[Path, typer.Argument(help="CSV, JSON, GeoJSON, Parquet or zipped shapefile.")],
    home: HomeOpt,
    name: Annotated[
        str | None,
        typer.Option(help="Dataset name (the next version if it exists, same columns)."),
    ] = None,
    classification: ClassificationOpt = None,
    auto_approve: AutoApproveOpt = None,
    reviewers: ReviewersOpt = None,
    raw: Annotated[
        bool | None, typer.Option("--raw/--dp-only", help="Allow decrypted copies (default).")
    ] = None,
    epsilon_ceiling: Annotated[
        str | None,
        typer.Option(help="Largest ε one DP grant may hold: decimal, whole milli-ε (0.001)."),
    ] = None,
    lifetime_epsilon: Annotated[
        str | None,
        typer.Option(
            help="ε one consumer may spend on the dataset over all its DP grants "
            "(default: 3 × the grant ceiling)."
        ),
    ] = None,
    department_epsilon: Annotated[
        str | None,
        typer.Option(
            help="ε all the accounts of one department may spend together "
            "(default: the lifetime ε)."
        ),
    ] = None,
    new_version_of: NewVersionOpt = None,
    dp_metadata: Annotated[
        Path | None,
        typer.Option(help="JSON: bounds and public keys per column, for DP queries."),
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Encrypt FILE into this node's store and anchor its hashes on chain.

    A new dataset takes the policy options (default: no automatic approval, no reviewers,
    raw copies allowed, no DP). For an existing dataset policy options must match its
    policy: change it with `tanlian dataset policy`. Every check runs before encrypting."""
    from node.runtime import NodeSession
    from node.sharing.service import publish as do_publish

    name, new_version = _target(name, new_version_of, "--name")
    settings, keys = node_context(home, password_file)
    policy = _policy(
        auto_approve, reviewers, raw, epsilon_ceiling, lifetime_epsilon, department_epsilon
    )
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
            new_version=new_version,
        )
    emit({"name": name, **result.as_dict()}, as_json)


@app.command("desensitize")
def desensitize(
    source: Annotated[str, typer.Argument(help="Name of one of your CSV datasets.")],
    home: HomeOpt,
    profile: Annotated[Path, typer.Option(help="Desensitization profile (YAML or JSON).")],
    name: Annotated[
        str | None, typer.Option("--as", help="Name of the desensitized dataset.")
    ] = None,
    version: Annotated[int, typer.Option(help="Source version (default: the latest).")] = 0,
    classification: ClassificationOpt = None,
    auto_approve: AutoApproveOpt = None,
    reviewers: ReviewersOpt = None,
    new_version_of: NewVersionOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Release a desensitized version of SOURCE: pseudonyms, generalization, suppression;
    refused under the profile's min_k; anchored with its lineage to the source version."""
    from node.privacy.desensitize import load_profile
    from node.runtime import NodeSession
    from node.sharing.service import derive_desensitized

    name, new_version = _target(name, new_version_of, "--as")
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
            new_version=new_version,
        )
    info = {"name": name, **published.as_dict(), **report}
    if not as_json:
        info = {k: ", ".join(v) if isinstance(v, list) else v for k, v in info.items()}
        info["lineage"] = "{source_dataset_id} v{source_version}, profile {profile_hash}".format(
            **report["lineage"]
        )
    emit(info, as_json)


@app.command("policy")
def policy(
    name: Annotated[str, typer.Argument(help="Name of one of your datasets.")],
    home: HomeOpt,
    auto_approve: AutoApproveOpt = None,
    reviewers: ReviewersOpt = None,
    raw: Annotated[
        bool | None, typer.Option("--raw/--dp-only", help="Allow decrypted copies.")
    ] = None,
    epsilon_ceiling: Annotated[
        str | None,
        typer.Option(help="Largest ε one DP grant may hold: decimal, whole milli-ε (0.001)."),
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change the access policy of one of your datasets (options not given keep their
    current value); applies to requests decided from now on."""
    from node.privacy.budget import ZERO_DELTA, Delta, Epsilon
    from node.registry.registry import mask_to_roles
    from node.runtime import NodeSession
    from node.sharing.contracts import Policy

    settings, keys = node_context(home, password_file)
    with NodeSession(settings, keys) as s:
        sharing = s.require_sharing()
        dataset_id = sharing.dataset_id(keys.address, name)
        info = sharing.dataset(dataset_id)
        if info is None:
            raise InvalidInput(f"you have no dataset named {name!r}")
        mask, current_reviewers, current_raw, ceiling, *lifetime = info["policy"]
        new = Policy(
            auto_approve_roles=tuple(mask_to_roles(mask))
            if auto_approve is None
            else tuple(r.strip() for r in auto_approve.split(",") if r.strip()),
            reviewer_approvals=current_reviewers if reviewers is None else reviewers,
            raw_allowed=current_raw if raw is None else raw,
            epsilon_ceiling=Epsilon(int(ceiling))
            if epsilon_ceiling is None
            else Epsilon.parse(epsilon_ceiling, allow_zero=True),
            # the lifetime ceilings stay as they are (a lower grant ceiling never frees them)
            lifetime_epsilon=Epsilon(int(lifetime[0])) if lifetime else None,
            lifetime_delta=Delta(int(lifetime[1])) if lifetime else ZERO_DELTA,
            department_epsilon=Epsilon(int(lifetime[2])) if lifetime else None,
            department_delta=Delta(int(lifetime[3])) if lifetime else None,
        )
        if not new.raw_allowed and new.epsilon_ceiling.milli == 0:
            raise InvalidInput("--dp-only needs --epsilon-ceiling")
        emit_tx(sharing.set_policy(dataset_id, new), as_json, dataset=name)


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
        parts.append(f"lifetime ε≤{p['lifetime_epsilon']} (department {p['department_epsilon']})")
    return ", ".join(parts)
