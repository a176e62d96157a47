"""`tanlian dataset ...`: publish encrypted datasets and browse the catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    HomeOpt,
    JsonOpt,
    PasswordFileOpt,
    emit,
    emit_tx,
    node_context,
    open_session,
    table,
)
from cli.progress import bar
from node.display import when
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
SchemaOpt = Annotated[
    Path | None,
    typer.Option(help="Frictionless Table Schema (JSON or YAML) the CSV is validated against."),
]
ThemeOpt = Annotated[
    str | None,
    typer.Option(
        help="Catalog theme: energy, emissions, environment, transport, buildings, "
        "socioeconomic, spatial or others."
    ),
]
MetadataOpt = Annotated[
    Path | None,
    typer.Option(help="JSON catalog metadata (titles zh/en, publisher, coverage, licence…)."),
]
ReviewPeriodOpt = Annotated[
    str | None,
    typer.Option(help="How often the current version is re-checked: 30d, 12h, monthly…"),
]
UpdateEveryOpt = Annotated[
    str | None,
    typer.Option(help="How often the dataset is updated: monthly, annual, 7d…"),
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
    schema: SchemaOpt = None,
    accept_errors: Annotated[
        bool,
        typer.Option(
            "--accept-errors",
            help="Publish even though the file fails its --schema (consumers see the errors).",
        ),
    ] = False,
    theme: ThemeOpt = None,
    metadata: MetadataOpt = None,
    review_period: ReviewPeriodOpt = None,
    update_every: UpdateEveryOpt = None,
    resolves: Annotated[
        int | None,
        typer.Option(help="Feedback id this version corrects (resolved once it is published)."),
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Encrypt FILE into this node's store and anchor its hashes on chain.

    A new dataset takes the policy options (default: no automatic approval, no reviewers,
    raw copies allowed, no DP). For an existing dataset policy options must match its
    policy: change it with `tanlian dataset policy`. With --schema (a Frictionless Table
    Schema) the file is validated first and refused with its first errors unless
    --accept-errors; the result is anchored with the version. Every check runs before
    encrypting."""
    from node.quality.ledger import QualityLedger
    from node.quality.tabular import load_schema
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
    table_schema = load_schema(schema) if schema is not None else None
    entry = _catalog_entry(theme, metadata, review_period, update_every)
    with NodeSession(settings, keys) as s:
        sharing = s.require_sharing()
        ledger = QualityLedger(sharing)
        if resolves is not None:
            _check_resolvable(ledger, sharing, keys.address, name, resolves)
        with bar(f"encrypting {file.name}", not as_json) as tick:
            result = do_publish(
                s.blobs,
                s.versions,
                sharing,
                keys,
                file,
                name=name,
                classification=classification,
                policy=policy,
                progress=tick,
                dp_metadata=meta,
                new_version=new_version,
                table_schema=table_schema,
                accept_errors=accept_errors,
                catalog=entry,
            )
        out = {"name": name, **result.as_dict()}
        if resolves is not None:
            out["resolved"] = ledger.resolve(resolves, result.version).tx_hash
    emit(out, as_json)


def _check_resolvable(ledger, sharing, owner: str, name: str, feedback_id: int) -> None:
    """Refuse --resolves before publishing when the feedback is not open on this dataset."""
    from node.chain.errors import ContractReverted

    try:
        f = ledger.feedback(feedback_id)
    except ContractReverted:
        raise InvalidInput(f"there is no feedback {feedback_id}") from None
    if f["dataset_id"] != "0x" + sharing.dataset_id(owner, name).hex():
        raise InvalidInput(f"feedback {feedback_id} is on another dataset, not {name!r}")
    if f["state"] == "resolved":
        raise InvalidInput(f"feedback {feedback_id} is already resolved")


def _catalog_entry(
    theme: str | None,
    metadata: Path | None,
    review_period: str | None,
    update_every: str | None,
):
    """The catalog entry the options give (None: none given), checked before publishing."""
    from node.quality.catalog import CatalogEntry, parse_period
    from node.quality.metadata import parse_metadata

    if theme is None and metadata is None and review_period is None and update_every is None:
        return None
    meta = None
    if metadata is not None:
        try:
            meta = parse_metadata(json.loads(metadata.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"cannot read catalog metadata {metadata}: {exc}") from None
    return CatalogEntry(
        theme=theme or (meta.theme if meta else "others"),
        metadata=meta,
        update_interval=parse_period(update_every or (meta.update_frequency if meta else "0")),
        review_period=parse_period(review_period or "0"),
    )


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


@app.command("search")
def search(
    home: HomeOpt,
    theme: ThemeOpt = None,
    keyword: Annotated[
        str | None, typer.Option(help="Words in the name, titles, descriptions or keywords.")
    ] = None,
    year: Annotated[int | None, typer.Option(help="Covers this year.")] = None,
    adcode: Annotated[
        str | None, typer.Option(help="Covers this admin unit (e.g. 510104 for 锦江区).")
    ] = None,
    quality: Annotated[
        str | None,
        typer.Option(help="passed, errors-accepted, undeclared, review-overdue or unpublished."),
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the catalog by theme, keyword, coverage and quality status."""
    params = {
        k: v
        for k, v in {
            "theme": theme,
            "keyword": keyword,
            "year": year,
            "adcode": adcode,
            "quality": quality,
        }.items()
        if v is not None
    }
    with _client(home, password_file) as c:
        data = c.get("/v1/catalog", params=params)
    if as_json:
        emit(data, True)
        return
    rows = [
        {
            "theme": d["theme"],
            "name": d["name"],
            "title": (d["metadata"] or {}).get("title_zh", ""),
            "owner": d["owner"][:10] + "…",
            "versions": len(d["versions"]),
            "quality": _quality_text(d["quality"]),
            "dataset_id": d["dataset_id"][:12] + "…",
        }
        for d in sorted(data["datasets"], key=lambda d: (d["theme"], d["name"]))
    ]
    table(
        rows,
        ["theme", "name", "title", "owner", "versions", "quality", "dataset_id"],
        title=f"{len(rows)} dataset(s), catalog as of block {data['as_of_block']}",
    )


def _quality_text(q: dict) -> str:
    text = {
        "passed": "schema passed",
        "errors-accepted": f"{q['errors']} error(s) accepted ({q['error_kinds']})",
        "undeclared": "no schema",
        "unpublished": "no version yet",
    }[q["status"]]
    if q["review"] == "overdue":
        text += ", REVIEW OVERDUE"
    return text


def _find(c, which: str) -> dict:
    """The catalog entry of a 0x id or a dataset name (several departments may use one
    name: then the id is needed)."""
    entries = c.get("/v1/catalog")["datasets"]
    found = [d for d in entries if d["dataset_id"] == which.lower() or d["name"] == which]
    if not found:
        raise InvalidInput(f"no dataset {which!r} in the catalog (see tanlian dataset search)")
    if len(found) > 1:
        ids = ", ".join(d["dataset_id"] for d in found)
        raise InvalidInput(f"several datasets are named {which!r}: give one id of {ids}")
    return found[0]


@app.command("show")
def show(
    dataset: Annotated[str, typer.Argument(help="Dataset name or 0x… id.")],
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One dataset: owner, policy, catalog metadata, declared schema, quality status, every
    anchored version with its hashes and validation, the review history and feedback."""
    with _client(home, password_file) as c:
        d = _find(c, dataset)
        latest = d["versions"][-1] if d["versions"] else None
        v = latest["validation"] if latest else None
        schema = report = None
        if v is not None:
            owner = {"owner": d["owner"]}
            schema = c.get(f"/v1/documents/{v['table_schema_sha256']}", params=owner)
            report = c.get(f"/v1/documents/{v['report_sha256']}", params=owner)
        fb = c.get("/v1/feedback", params={"dataset_id": d["dataset_id"]})["feedback"]
    if as_json:
        emit({**d, "table_schema": schema, "validation_report": report, "feedback": fb}, True)
        return
    m = d["metadata"] or {}
    cycle = d["review_cycle"] or {}
    emit(
        {k: d[k] for k in ("name", "dataset_id", "owner", "classification", "theme")}
        | {
            "title": f"{m.get('title_zh', '')} / {m.get('title_en', '')}" if m else "",
            "publisher": m.get("publisher", ""),
            "coverage": _coverage(m),
            "licence": m.get("licence", ""),
            "policy": _policy_text(d["policy"]),
            "quality": _quality_text(d["quality"]),
            "review every": f"{cycle.get('review_period', 0)} s"
            if cycle.get("review_period")
            else "no cycle",
            "next review due": when(d["quality"]["due_at"]) if d["quality"]["due_at"] else "",
        },
        False,
    )
    if schema is not None:
        table(
            [
                {
                    "field": f["name"],
                    "type": f.get("type", "string"),
                    "unit": f.get("unit", ""),
                    "constraints": ", ".join(
                        f"{k}={v}" if not isinstance(v, list) else f"{k}=[{len(v)}]"
                        for k, v in (f.get("constraints") or {}).items()
                    ),
                }
                for f in schema.get("fields", [])
            ],
            ["field", "type", "unit", "constraints"],
            title="declared Table Schema (primary key: "
            + ", ".join(_as_list(schema.get("primaryKey")))
            + ")",
        )
    if report is not None and report.get("first_errors"):
        table(
            report["first_errors"],
            ["row", "field", "type", "message"],
            title=f"validation of v{latest['version']}: {report['error_count']} error(s)",
        )
    rows = [
        {
            **ver,
            "validation": (
                "no schema"
                if ver["validation"] is None
                else (
                    "passed"
                    if ver["validation"]["error_count"] == 0
                    else ver["validation"]["error_kinds"]
                )
            ),
            "derived_from": (
                f"{ver['derived_from']['dataset_id'][:10]}… v{ver['derived_from']['version']} "
                f"(k={ver['derived_from']['k_anonymity']})"
                if ver.get("derived_from")
                else ""
            ),
        }
        for ver in d["versions"]
    ]
    table(rows, ["version", "size", "plaintext_sha256", "validation", "block", "derived_from"])
    if d["reviews"]:
        table(d["reviews"], ["version", "error_count", "report_sha256", "block"], title="reviews")
    if fb:
        table(
            [
                {**f, "by": "anonymous (ring)" if f["anonymous"] else f["filer"][:10] + "…"}
                for f in fb
            ],
            ["feedback_id", "version", "category", "state", "by", "text", "answer"],
            title="feedback",
        )


def _as_list(v) -> list[str]:
    return [] if v is None else ([v] if isinstance(v, str) else list(v))


def _coverage(m: dict) -> str:
    parts = []
    if m.get("temporal"):
        parts.append(f"{m['temporal']['start']} – {m['temporal']['end']}")
    if m.get("spatial"):
        parts.append(", ".join(m["spatial"]))
    return "; ".join(parts)


@app.command("describe")
def describe(
    name: Annotated[str, typer.Argument(help="One of this department's dataset names.")],
    home: HomeOpt,
    theme: ThemeOpt = None,
    metadata: MetadataOpt = None,
    review_period: ReviewPeriodOpt = None,
    update_every: UpdateEveryOpt = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """File an existing dataset under a theme, with its metadata and review cycle."""
    from node.quality.catalog import describe as do_describe
    from node.quality.documents import DocumentStore
    from node.quality.ledger import QualityLedger

    entry = _catalog_entry(theme, metadata, review_period, update_every)
    if entry is None:
        raise InvalidInput("give --theme, --metadata, --review-period or --update-every")
    with open_session(home, password_file) as s:
        sharing = s.require_sharing()
        dataset_id = sharing.dataset_id(s.keys.address, name)
        ds = sharing.dataset(dataset_id)
        if ds is None:
            raise InvalidInput(f"this department has no dataset {name!r}")
        do_describe(QualityLedger(sharing), DocumentStore(s.engine), dataset_id, entry)
    emit({"name": name, "dataset_id": "0x" + dataset_id.hex(), "theme": entry.theme}, as_json)


@app.command("dcat")
def dcat(
    home: HomeOpt,
    out: Annotated[Path | None, typer.Option(help="Write the JSON-LD here.")] = None,
    password_file: PasswordFileOpt = None,
) -> None:
    """The catalog as DCAT JSON-LD."""
    with _client(home, password_file) as c:
        doc = c.get("/v1/catalog/dcat")
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"{len(doc['dcat:dataset'])} dataset(s) written to {out}")


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
