"""DataCatalog's derived versions: lineage to one of the owner's own versions, exact errors
and events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from node.chain.errors import ContractReverted
from node.sharing.contracts import Lineage, Policy
from tests.contracts.test_access_manager import World, build

H = (b"\x0a" * 32, b"\x0b" * 32, b"\x0c" * 32)
PROFILE = b"\x5e" * 32


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build(tmp_path_factory.mktemp("cat") / "chain", Policy(raw_allowed=True))
    owner = w.sharing["owner"]
    owner.create_dataset("panel-public", "public", Policy(raw_allowed=True))
    w.sharing["reviewer"].create_dataset("theirs", "internal", Policy(raw_allowed=True))
    yield w
    w.backend.close()


def _ids(w: World) -> tuple[bytes, bytes]:
    owner = w.sharing["owner"]
    return owner.dataset_id(w.addr("owner"), "panel-public"), owner.dataset_id(
        w.addr("reviewer"), "theirs"
    )


def test_derived_version_records_lineage_with_exact_events(world: World) -> None:
    owner = world.sharing["owner"]
    derived, _ = _ids(world)
    lineage = Lineage(world.dataset, 1, PROFILE, 7)
    r = owner.publish_derived_version(derived, *H, 123, lineage)
    assert [e.event for e in r.events] == ["VersionPublished", "VersionDerived"]
    version = r.event("VersionPublished").args["version"]
    assert r.event("VersionDerived").args == {
        "datasetId": derived,
        "version": version,
        "sourceDatasetId": world.dataset,
        "sourceVersion": 1,
        "profileHash": PROFILE,
        "kAnonymity": 7,
    }
    assert owner.lineage(derived, version) == lineage
    assert owner.version(derived, version)["ciphertext_hash"] == H[1]
    # an original version has no lineage
    assert owner.lineage(world.dataset, 1) is None


# (source dataset, source version, profile hash) → (error, its exact arguments)
REFUSALS = {
    "source of another owner": (
        lambda w, theirs: (theirs, 1, PROFILE),
        lambda w, theirs: ("NotOwner", {"datasetId": theirs, "account": w.addr("owner")}),
    ),
    "unknown source dataset": (
        lambda w, theirs: (b"\x99" * 32, 1, PROFILE),
        lambda w, theirs: ("UnknownDataset", {"datasetId": b"\x99" * 32}),
    ),
    "source version 0": (
        lambda w, theirs: (w.dataset, 0, PROFILE),
        lambda w, theirs: ("UnknownVersion", {"datasetId": w.dataset, "version": 0}),
    ),
    "source version not yet published": (
        lambda w, theirs: (w.dataset, 9, PROFILE),
        lambda w, theirs: ("UnknownVersion", {"datasetId": w.dataset, "version": 9}),
    ),
    "zero profile hash": (
        lambda w, theirs: (w.dataset, 1, b"\x00" * 32),
        lambda w, theirs: ("InvalidHash", {}),
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_derived_version_refusals(world: World, case: str) -> None:
    owner = world.sharing["owner"]
    derived, theirs = _ids(world)
    lineage_of, expected_of = REFUSALS[case]
    source, version, profile = lineage_of(world, theirs)
    before = owner.dataset(derived)["versions"]
    with pytest.raises(ContractReverted) as exc:
        owner.publish_derived_version(derived, *H, 1, Lineage(source, version, profile, 3))
    assert (exc.value.error, exc.value.error_args) == expected_of(world, theirs)
    assert owner.dataset(derived)["versions"] == before  # nothing anchored


def test_only_the_owner_publishes_a_derived_version(world: World) -> None:
    derived, _ = _ids(world)
    with pytest.raises(ContractReverted) as exc:
        world.sharing["reviewer"].publish_derived_version(
            derived, *H, 1, Lineage(world.dataset, 1, PROFILE, 3)
        )
    # the source is checked first, and the reviewer owns neither it nor the target
    assert exc.value.error == "NotOwner"
    assert exc.value.error_args == {"datasetId": world.dataset, "account": world.addr("reviewer")}


def test_dp_metadata_digest_is_anchored_with_the_version(world: World) -> None:
    """Issue 19 (T9): the digest of a version's DP metadata is on chain with the version."""
    from node.privacy.dp_queries import DatasetMeta

    owner = world.sharing["owner"]
    derived, _ = _ids(world)
    meta = DatasetMeta.model_validate({"columns": {"district": {"keys": ["a", "b"]}}})
    digest = meta.digest()
    r = owner.publish_version(derived, *H, 9, digest)
    version = r.event("VersionPublished").args["version"]
    assert r.event("VersionPublished").args == {
        "datasetId": derived,
        "version": version,
        "plaintextHash": H[0],
        "ciphertextHash": H[1],
        "schemaHash": H[2],
        "size": 9,
        "dpMetadataHash": digest,
    }
    assert owner.version(derived, version)["dp_metadata_hash"] == digest
    # one more public key is another digest: the gate and the audit tell them apart
    wider = DatasetMeta.model_validate(
        {"columns": {"district": {"keys": ["a", "b"]}, "enterprise_id": {"keys": ["E1"]}}}
    )
    assert wider.digest() != digest
    # a version without DP metadata anchors zero
    plain = owner.publish_version(derived, *H, 9)
    assert plain.event("VersionPublished").args["dpMetadataHash"] == b"\x00" * 32
