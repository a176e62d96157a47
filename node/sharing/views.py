"""Catalog and access requests as the node's event index tells them (read side)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from node.chain.indexer.indexer import EventIndexer, IndexedEvent
from node.privacy.budget import Epsilon
from node.quality.ledger import CATEGORIES, THEMES
from node.sharing.contracts import CLASSIFICATIONS, Mode, State, policy_dict


def datasets(indexer: EventIndexer, catalog: str) -> list[dict[str, Any]]:
    return datasets_from(indexer.events(address=catalog))


def datasets_from(events: Iterable[IndexedEvent]) -> list[dict[str, Any]]:
    """The catalog's datasets from its events (in chain order)."""
    out: dict[str, dict[str, Any]] = {}
    feedback: dict[int, dict[str, Any]] = {}
    for e in events:
        a = e.args
        if e.event == "DatasetCreated":
            out[a["datasetId"]] = {
                "dataset_id": a["datasetId"],
                "name": a["name"],
                "owner": a["owner"],
                "classification": CLASSIFICATIONS[a["classification"]],
                "policy": policy_dict(a["policy"]),
                "versions": [],
                "created_block": e.block_number,
                "theme": "others",
                "metadata_sha256": None,
                "review_cycle": {"update_interval": 0, "review_period": 0},
                "reviews": [],
                "feedback": [],
            }
        elif e.event == "VersionPublished" and a["datasetId"] in out:
            out[a["datasetId"]]["versions"].append(
                {
                    "version": a["version"],
                    "plaintext_sha256": a["plaintextHash"],
                    "ciphertext_sha256": a["ciphertextHash"],
                    "schema_hash": a["schemaHash"],
                    "size": int(a["size"]),
                    "block": e.block_number,
                    "tx": e.tx_hash,
                    "dp_metadata_hash": a["dpMetadataHash"],
                    "derived_from": None,
                    "validation": None,
                }
            )
        elif e.event == "VersionValidated" and a["datasetId"] in out:
            for v in out[a["datasetId"]]["versions"]:
                if v["version"] == a["version"]:
                    v["validation"] = {
                        "table_schema_sha256": a["tableSchemaHash"],
                        "report_sha256": a["reportHash"],
                        "error_count": a["errorCount"],
                        "error_kinds": a["errorKinds"],
                    }
        elif e.event == "VersionReviewed" and a["datasetId"] in out:
            out[a["datasetId"]]["reviews"].append(
                {
                    "version": a["version"],
                    "report_sha256": a["reportHash"],
                    "error_count": a["errorCount"],
                    "block": e.block_number,
                    "tx": e.tx_hash,
                }
            )
        elif e.event == "ReviewCycleSet" and a["datasetId"] in out:
            out[a["datasetId"]]["review_cycle"] = {
                "update_interval": int(a["updateInterval"]),
                "review_period": int(a["reviewPeriod"]),
            }
        elif e.event == "MetadataSet" and a["datasetId"] in out:
            out[a["datasetId"]]["theme"] = THEMES[a["theme"]]
            out[a["datasetId"]]["metadata_sha256"] = a["metadataHash"]
        elif e.event == "FeedbackFiled" and a["datasetId"] in out:
            filed = {
                "feedback_id": a["feedbackId"],
                "version": a["version"],
                "category": CATEGORIES[a["category"]],
                "filer": None if int(a["filer"], 16) == 0 else a["filer"],
                "anonymous": int(a["filer"], 16) == 0,
                "text_sha256": a["textHash"],
                "key_image": a["keyImage"] if int(a["filer"], 16) == 0 else None,
                "ring_sha256": a["ringHash"] if int(a["filer"], 16) == 0 else None,
                "state": "open",
                "answer_sha256": None,
                "corrected_version": None,
                "history": [(e.block_number, "filed", e.tx_hash)],
            }
            out[a["datasetId"]]["feedback"].append(filed)
            feedback[a["feedbackId"]] = filed
        elif e.event == "FeedbackAnswered" and a["feedbackId"] in feedback:
            f = feedback[a["feedbackId"]]
            f["state"], f["answer_sha256"] = "answered", a["answerHash"]
            f["history"].append((e.block_number, "answered", e.tx_hash))
        elif e.event == "FeedbackResolved" and a["feedbackId"] in feedback:
            f = feedback[a["feedbackId"]]
            f["state"] = "resolved"
            f["corrected_version"] = a["correctedVersion"] or None
            f["history"].append((e.block_number, "resolved", e.tx_hash))
        elif e.event == "VersionDerived" and a["datasetId"] in out:
            for v in out[a["datasetId"]]["versions"]:
                if v["version"] == a["version"]:
                    v["derived_from"] = {
                        "dataset_id": a["sourceDatasetId"],
                        "version": a["sourceVersion"],
                        "profile_hash": a["profileHash"],
                        "k_anonymity": a["kAnonymity"],
                    }
        elif e.event == "PolicyChanged" and a["datasetId"] in out:
            out[a["datasetId"]]["policy"] = policy_dict(a["policy"])
    return list(out.values())


def requests(indexer: EventIndexer, access: str) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for e in indexer.events(address=access):
        a = e.args
        rid = a.get("requestId")
        if e.event == "AccessRequested":
            out[rid] = {
                "request_id": rid,
                "dataset_id": a["datasetId"],
                "consumer": a["consumer"],
                "version": a["version"],
                "mode": Mode(a["mode"]).name.lower(),
                "epsilon": Epsilon(int(a["epsilonMilli"])).as_json(),
                "duration": int(a["duration"]),
                "state": State.PENDING.label,
                "approvals": [],
                "expires_at": None,
                "requested_tx": e.tx_hash,
                "purpose_hash": a["purposeHash"],
                "history": [(e.block_number, "requested", e.tx_hash)],
            }
            continue
        r = out.get(rid)
        if r is None:
            continue
        if e.event == "AccessApproved":
            r["approvals"].append(a["approver"])
            r["history"].append((e.block_number, "approved", e.tx_hash))
        elif e.event == "AccessAuthorized":
            r["state"] = State.AUTHORIZED.label
            r["expires_at"] = int(a["expiresAt"])
            r["automatic"] = a["automatic"]
            r["history"].append((e.block_number, "authorized", e.tx_hash))
        elif e.event == "AccessRejected":
            r["state"] = State.REJECTED.label
            r["history"].append((e.block_number, "rejected", e.tx_hash))
        elif e.event == "KeyReleased":
            r["state"] = State.RELEASED.label
            r["history"].append((e.block_number, "released", e.tx_hash))
        elif e.event == "AccessRevoked":
            r["state"] = State.REVOKED.label
            r["history"].append((e.block_number, "revoked", e.tx_hash))
    return list(out.values())


def feedback_keys(indexer: EventIndexer, catalog: str) -> dict[str, bytes]:
    """Each account's registered feedback ring key (its latest)."""
    return {
        e.args["account"]: bytes.fromhex(e.args["key"][2:])
        for e in indexer.events(address=catalog, event="FeedbackKeySet")
    }
