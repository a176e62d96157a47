"""The regulator's check of the quality documents: every hash the catalog anchors (Table
Schemas, validation and review reports, catalog metadata, feedback texts and answers, the
rings and signatures of anonymous feedback) must have its document at the owner's node,
byte for byte; and every anonymous feedback's ring signature must verify for its ring, with
the key image the chain recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson

from node.errors import TanlianError
from node.privacy import ring

ZERO = "0x" + "00" * 32


def anchored_documents(events: list[Any], catalog: str) -> Iterator[tuple[str, str, str, dict]]:
    """(dataset id, kind, sha256, event args) of every document the catalog anchors."""
    datasets: dict[int, str] = {}
    for e in events:
        if e.address.lower() != catalog:
            continue
        a = e.args
        if e.event == "VersionValidated":
            yield a["datasetId"], "table schema", a["tableSchemaHash"], a
            yield a["datasetId"], "validation report", a["reportHash"], a
        elif e.event == "VersionReviewed":
            yield a["datasetId"], "review report", a["reportHash"], a
        elif e.event == "MetadataSet":
            yield a["datasetId"], "catalog metadata", a["metadataHash"], a
        elif e.event == "FeedbackFiled":
            datasets[a["feedbackId"]] = a["datasetId"]
            if int(a["filer"], 16) == 0:
                # anonymous: the owner's node received the text and relayed it
                yield a["datasetId"], "feedback text", a["textHash"], a
                yield a["datasetId"], "feedback ring", a["ringHash"], a
        elif e.event == "FeedbackAnswered" and a["feedbackId"] in datasets:
            yield datasets[a["feedbackId"]], "feedback answer", a["answerHash"], a


def check_quality_documents(auditor: Any) -> int:
    """Fetch and check each anchored document from its owner's node; findings on the
    auditor. Named feedback texts are left out: their filer sends them after filing, and
    one never sent is the filer's omission, not the owner's."""
    facts = auditor.facts
    catalog = (auditor.contracts.get("catalog") or "").lower()
    contacted = set(auditor._nodes())
    checked = 0
    for dataset_id, kind, sha, args in anchored_documents(facts.events, catalog):
        owner = facts.owners.get(dataset_id)
        if owner not in contacted or sha == ZERO:
            continue
        checked += 1
        try:
            with auditor._client(owner) as c:
                body = c.document(sha)
        except (TanlianError, OSError) as exc:
            auditor.find(
                "quality_document_missing",
                "medium",
                owner,
                f"the {kind} anchored for {dataset_id[:10]}… is not served: {exc}",
                dataset_id=dataset_id,
                sha256=sha,
            )
            continue
        if "0x" + hashlib.sha256(body).hexdigest() != sha:
            auditor.find(
                "quality_document_mismatch",
                "high",
                owner,
                f"the {kind} served for {dataset_id[:10]}… is not the one anchored",
                dataset_id=dataset_id,
                sha256=sha,
            )
            continue
        if kind == "feedback ring":
            problem = _ring_problem(body, args)
            if problem:
                auditor.find(
                    "anonymous_feedback_invalid",
                    "high",
                    owner,
                    f"anonymous feedback {args['feedbackId']} on {dataset_id[:10]}…: {problem}",
                    dataset_id=dataset_id,
                    feedback_id=args["feedbackId"],
                )
    return checked


def _ring_problem(body: bytes, args: dict[str, Any]) -> str | None:
    """Why a stored ring and signature do not prove the anchored feedback (None: they do)."""
    try:
        doc = orjson.loads(body)
        keys = [bytes.fromhex(k[2:]) for k in doc["ring"]]
        sig = ring.RingSignature.from_bytes(bytes.fromhex(doc["signature"][2:]), len(keys))
        message = orjson.loads(doc["message"])
        ring.verify(doc["message"].encode(), keys, sig)
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as exc:
        return f"the ring document is malformed ({exc!r})"
    except ring.RingSignatureError as exc:
        return f"the ring signature does not verify: {exc}"
    if "0x" + sig.key_image.hex() != args["keyImage"]:
        return "the signature's key image is not the one the chain recorded"
    if message.get("text_sha256") != args["textHash"] or message.get("version") != args["version"]:
        return "the signed message is not the feedback anchored"
    return None
