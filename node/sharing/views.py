"""Catalog and access requests as the node's event index tells them (read side)."""

from __future__ import annotations

from typing import Any

from node.chain.indexer.indexer import EventIndexer
from node.privacy.budget import Epsilon
from node.sharing.contracts import CLASSIFICATIONS, Mode, State, policy_dict


def datasets(indexer: EventIndexer, catalog: str) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in indexer.events(address=catalog):
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
                }
            )
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
