"""`tanlian feedback ...` (quality issues on a dataset version, named or anonymous) and
`tanlian quality ...` (reviews and what is overdue)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, emit_tx, open_session, table
from node.errors import InvalidInput

feedback_app = typer.Typer(
    help="File, answer and resolve quality feedback on datasets.", no_args_is_help=True
)
quality_app = typer.Typer(help="Data quality: reviews and overdue datasets.", no_args_is_help=True)

TextOpt = Annotated[str, typer.Option("--text", help="What is wrong (or the answer).")]


def _dataset(s, client, which: str) -> dict:
    from cli.dataset import _find

    return _find(client, which)


@feedback_app.command("file")
def file(
    dataset: Annotated[str, typer.Argument(help="Dataset name or 0x… id.")],
    home: HomeOpt,
    text: TextOpt,
    category: Annotated[
        str,
        typer.Option(help="accuracy, completeness, timeliness, consistency, format or other."),
    ] = "accuracy",
    version: Annotated[int | None, typer.Option(help="Version (default: the latest).")] = None,
    anonymous: Annotated[
        bool,
        typer.Option(
            "--anonymous",
            help="Sign for the ring of the dataset's active consumers instead of your name "
            "(one filing per member and version).",
        ),
    ] = False,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """File a quality issue on a dataset version; the text goes to the owner's node, its
    hash on chain."""
    from node.peer.client import NodeClient
    from node.quality.feedback import MAX_TEXT, active_consumers, ring_for, sign_anonymous
    from node.quality.feedback import text_hash as hash_text
    from node.quality.ledger import QualityLedger, category_code

    category_code(category)
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidInput(f"feedback text: 1 to {MAX_TEXT} characters")
    with open_session(home, password_file) as s:
        sharing = s.require_sharing()
        ledger = QualityLedger(sharing)
        own = NodeClient(f"http://127.0.0.1:{s.settings.api.port}", s.keys.account.key)
        with own:
            d = _dataset(s, own, dataset)
            if not d["versions"]:
                raise InvalidInput(f"{d['name']!r} has no published version yet")
            v = version or d["versions"][-1]["version"]
            if v not in {x["version"] for x in d["versions"]}:
                raise InvalidInput(f"{d['name']!r} has no version {v}")
            owner = s.registry.member(d["owner"])
            if anonymous:
                requests = own.get("/v1/access")["requests"]
                keys = {
                    a: bytes.fromhex(k[2:]) for a, k in own.get("/v1/feedback/keys")["keys"].items()
                }
                ring = ring_for(active_consumers(requests, d["dataset_id"], int(time.time())), keys)
                signed = sign_anonymous(
                    s.keys.account.key, d["dataset_id"], v, category, text, ring
                )
                with NodeClient(owner.endpoint) as node:
                    out = node.post_unsigned("/v1/feedback/anonymous", signed.model_dump())
                emit({**out, "ring_size": len(ring), "anonymous": True}, as_json)
                return
        tx = ledger.file_feedback(bytes.fromhex(d["dataset_id"][2:]), v, category, hash_text(text))
        fid = tx.event("FeedbackFiled").args["feedbackId"]
        with NodeClient(owner.endpoint, s.keys.account.key) as node:
            node.post(f"/v1/feedback/{fid}/text", {"text": text})
    emit({"feedback_id": fid, "tx": tx.tx_hash, "anonymous": False}, as_json)


@feedback_app.command("list")
def list_feedback(
    home: HomeOpt,
    dataset: Annotated[str | None, typer.Argument(help="Dataset name or 0x… id.")] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Feedback on the network's datasets (or one), with texts and answers."""
    from cli.dataset import _client

    with _client(home, password_file) as c:
        params = {"dataset_id": _dataset(None, c, dataset)["dataset_id"]} if dataset else {}
        data = c.get("/v1/feedback", params=params)
    if as_json:
        emit(data, True)
        return
    table(
        [
            {
                **f,
                "dataset": f["dataset_id"][:12] + "…",
                "by": "anonymous (ring)" if f["anonymous"] else f["filer"][:10] + "…",
            }
            for f in data["feedback"]
        ],
        ["feedback_id", "dataset", "version", "category", "state", "by", "text", "answer"],
        title=f"feedback as of block {data['as_of_block']}",
    )


@feedback_app.command("answer")
def answer(
    feedback_id: Annotated[int, typer.Argument(help="Feedback id.")],
    home: HomeOpt,
    text: TextOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer open feedback on one of this department's datasets (owner)."""
    from node.quality.documents import DocumentStore
    from node.quality.feedback import MAX_TEXT
    from node.quality.ledger import QualityLedger

    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidInput(f"answer text: 1 to {MAX_TEXT} characters")
    with open_session(home, password_file) as s:
        ledger = QualityLedger(s.require_sharing())
        # simulated first: nothing is stored for an answer the catalog would refuse
        ledger.client.call(ledger.catalog, "answerFeedback", feedback_id, b"\x01" * 32)
        sha = DocumentStore(s.engine).put("answer", text.encode())
        result = ledger.answer(feedback_id, sha)
    emit_tx(result, as_json, feedback_id=feedback_id)


@feedback_app.command("resolve")
def resolve(
    feedback_id: Annotated[int, typer.Argument(help="Feedback id.")],
    home: HomeOpt,
    corrected_version: Annotated[
        int,
        typer.Option(help="The later version that corrects it (owner); 0: accept the answer."),
    ] = 0,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolve feedback: the owner with a corrected version, or the named filer accepting
    the answer."""
    from node.quality.ledger import QualityLedger

    with open_session(home, password_file) as s:
        result = QualityLedger(s.require_sharing()).resolve(feedback_id, corrected_version)
    emit_tx(result, as_json, feedback_id=feedback_id)


@quality_app.command("due")
def due(home: HomeOpt, password_file: PasswordFileOpt = None, as_json: JsonOpt = False) -> None:
    """Datasets across the network whose review is overdue (for regulators)."""
    from cli.dataset import _client
    from node.display import when

    with _client(home, password_file) as c:
        data = c.get("/v1/catalog", params={"quality": "review-overdue"})
    rows = [
        {
            "name": d["name"],
            "owner": d["owner"],
            "theme": d["theme"],
            "version": d["quality"]["version"],
            "due_at": d["quality"]["due_at"],
            "overdue_seconds": data["now"] - d["quality"]["due_at"],
        }
        for d in data["datasets"]
    ]
    if as_json:
        emit({"as_of_block": data["as_of_block"], "overdue": rows}, True)
        return
    table(
        [{**r, "due_at": when(r["due_at"])} for r in rows],
        ["name", "owner", "theme", "version", "due_at", "overdue_seconds"],
        title=f"{len(rows)} dataset(s) with an overdue review",
    )


@quality_app.command("review")
def review(
    home: HomeOpt,
    force: Annotated[
        bool, typer.Option("--force", help="Review every dataset with a cycle, due or not.")
    ] = False,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-check this department's datasets whose review is due, now (the node also does
    it on its own every quality.review_check_seconds)."""
    from node.quality.documents import DocumentStore
    from node.quality.ledger import QualityLedger
    from node.quality.review import review_due

    with open_session(home, password_file) as s:
        done = review_due(
            QualityLedger(s.require_sharing()),
            DocumentStore(s.engine),
            s.blobs,
            s.versions,
            s.keys.encryption_key,
            force=force,
        )
    rows = [r.as_dict() for r in done]
    if as_json:
        emit({"reviewed": rows}, True)
        return
    table(rows, ["name", "version", "errors", "intact", "seconds", "tx"], title="reviews")
