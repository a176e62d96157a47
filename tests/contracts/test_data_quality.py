"""DataCatalog's quality record: validated versions, review cycles and reviews, themes and
metadata, feedback keys, and feedback (named and anonymous) with its states. Exact custom
errors and event arguments, and a Hypothesis property over random feedback call sequences
held against a Python model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.chain.errors import ContractReverted
from node.quality.ledger import QualityLedger, Validation
from node.sharing.contracts import Policy
from tests.contracts.test_access_manager import World, build

H = (b"\x0a" * 32, b"\x0b" * 32, b"\x0c" * 32)
ZERO = b"\x00" * 32
SCHEMA, REPORT = b"\x5c" * 32, b"\x5e" * 32


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build(tmp_path_factory.mktemp("quality") / "chain", Policy(raw_allowed=True))
    yield w
    w.backend.close()


def q(w: World, who: str) -> QualityLedger:
    return QualityLedger(w.sharing[who])


def refused(call, error: str, args: dict | None = None) -> None:
    with pytest.raises(ContractReverted) as exc:
        call()
    assert exc.value.error == error
    if args is not None:
        assert exc.value.error_args == args


def _new_dataset(w: World, name: str) -> bytes:
    w.sharing["owner"].create_dataset(name, "internal", Policy(raw_allowed=True))
    return w.sharing["owner"].dataset_id(w.addr("owner"), name)


# -- validated versions ----------------------------------------------------------------
def test_a_validated_version_anchors_its_record_in_the_same_transaction(world: World) -> None:
    d = _new_dataset(world, "validated")
    r = q(world, "owner").publish_validated_version(
        d, *H, 99, ZERO, Validation(SCHEMA, REPORT, 4, "constraint-error=3;type-error=1")
    )
    assert [e.event for e in r.events] == ["VersionPublished", "VersionValidated"]
    assert r.event("VersionValidated").args == {
        "datasetId": d,
        "version": 1,
        "tableSchemaHash": SCHEMA,
        "reportHash": REPORT,
        "errorCount": 4,
        "errorKinds": "constraint-error=3;type-error=1",
    }
    assert q(world, "consumer").validation(d, 1) == Validation(SCHEMA, REPORT, 4)
    # a clean file: no kinds
    q(world, "owner").publish_validated_version(d, *H, 99, ZERO, Validation(SCHEMA, REPORT, 0))
    assert q(world, "consumer").validation(d, 2) == Validation(SCHEMA, REPORT, 0)
    # a version published without a schema has no record
    world.sharing["owner"].publish_version(d, *H, 1)
    assert q(world, "consumer").validation(d, 3) is None


@pytest.mark.parametrize(
    ("validation", "error"),
    [
        (Validation(ZERO, REPORT, 0), "InvalidHash"),
        (Validation(SCHEMA, ZERO, 0), "InvalidHash"),
        (Validation(SCHEMA, REPORT, 0, "type-error=1"), "InvalidKinds"),
        (Validation(SCHEMA, REPORT, 2, ""), "InvalidKinds"),
        (Validation(SCHEMA, REPORT, 2, "x" * 257), "InvalidKinds"),
    ],
    ids=["zero schema", "zero report", "kinds of a clean file", "no kinds", "kinds too long"],
)
def test_a_validation_record_that_does_not_add_up_is_refused(
    world: World, validation: Validation, error: str
) -> None:
    before = world.sharing["owner"].dataset(world.dataset)["versions"]
    refused(
        lambda: q(world, "owner").publish_validated_version(world.dataset, *H, 1, ZERO, validation),
        error,
        {},
    )
    assert world.sharing["owner"].dataset(world.dataset)["versions"] == before


def test_only_the_owner_publishes_a_validated_version(world: World) -> None:
    refused(
        lambda: q(world, "reviewer").publish_validated_version(
            world.dataset, *H, 1, ZERO, Validation(SCHEMA, REPORT, 0)
        ),
        "NotOwner",
        {"datasetId": world.dataset, "account": world.addr("reviewer")},
    )


# -- review cycles and reviews ---------------------------------------------------------
def test_review_cycle_due_time_and_reviews(world: World) -> None:
    d = _new_dataset(world, "reviewed")
    owner = q(world, "owner")
    r = owner.set_review_cycle(d, 30 * 86_400, 3600)
    assert r.event("ReviewCycleSet").args == {
        "datasetId": d,
        "updateInterval": 30 * 86_400,
        "reviewPeriod": 3600,
    }
    status = owner.review_status(d)
    assert (status.review_period, status.reviewed_at, status.due_at) == (3600, 0, 0)
    world.sharing["owner"].publish_version(d, *H, 1)
    published = world.sharing["owner"].version(d, 1)["published_at"]
    status = owner.review_status(d)
    assert (status.reviewed_at, status.due_at) == (published, published + 3600)
    assert not status.overdue(published + 3600) and status.overdue(published + 3601)
    r = owner.record_review(d, 1, REPORT, 2)
    assert r.event("VersionReviewed").args == {
        "datasetId": d,
        "version": 1,
        "reportHash": REPORT,
        "errorCount": 2,
    }
    reviewed = world.backend.get_block(r.receipt.block_number).timestamp
    assert owner.review_status(d).due_at == reviewed + 3600
    world.sharing["owner"].publish_version(d, *H, 1)
    refused(
        lambda: owner.record_review(d, 1, REPORT, 0),
        "NotLatestVersion",
        {"datasetId": d, "version": 1, "latest": 2},
    )
    refused(lambda: owner.record_review(d, 2, ZERO, 0), "InvalidHash", {})
    refused(
        lambda: q(world, "reviewer").record_review(d, 2, REPORT, 0),
        "NotOwner",
        {"datasetId": d, "account": world.addr("reviewer")},
    )
    refused(
        lambda: q(world, "reviewer").set_review_cycle(d, 0, 60),
        "NotOwner",
        {"datasetId": d, "account": world.addr("reviewer")},
    )


# -- themes and metadata ---------------------------------------------------------------
def test_metadata_and_theme(world: World) -> None:
    d = _new_dataset(world, "themed")
    owner = q(world, "owner")
    assert owner.metadata_of(d) == ("energy", None)  # theme 0 until set: no hash yet
    r = owner.set_metadata(d, "emissions", b"\x4d" * 32)
    assert r.event("MetadataSet").args == {"datasetId": d, "theme": 1, "metadataHash": b"\x4d" * 32}
    assert q(world, "consumer").metadata_of(d) == ("emissions", b"\x4d" * 32)
    refused(
        lambda: world.sharing["owner"].client.transact(
            world.sharing["owner"].catalog, "setMetadata", d, 8, b"\x4d" * 32
        ),
        "InvalidTheme",
        {"theme": 8},
    )
    refused(lambda: owner.set_metadata(d, "others", ZERO), "InvalidHash", {})
    refused(
        lambda: q(world, "consumer").set_metadata(d, "others", b"\x4d" * 32),
        "NotOwner",
        {"datasetId": d, "account": world.addr("consumer")},
    )


# -- feedback keys and feedback ----------------------------------------------------------
def test_feedback_keys_are_for_active_members(world: World) -> None:
    r = q(world, "consumer").set_feedback_key(b"\x7e" * 32)
    assert r.event("FeedbackKeySet").args == {
        "account": world.addr("consumer"),
        "key": b"\x7e" * 32,
    }
    assert q(world, "owner").feedback_key(world.addr("consumer")) == b"\x7e" * 32
    assert q(world, "owner").feedback_key(world.addr("other")) is None
    refused(
        lambda: q(world, "suspended").set_feedback_key(b"\x7e" * 32),
        "NotMember",
        {"account": world.addr("suspended")},
    )
    refused(
        lambda: q(world, "stranger").set_feedback_key(b"\x7e" * 32),
        "NotMember",
        {"account": world.addr("stranger")},
    )
    refused(lambda: q(world, "consumer").set_feedback_key(ZERO), "InvalidHash", {})


def test_named_feedback_lifecycle_with_exact_events(world: World) -> None:
    consumer, owner = q(world, "consumer"), q(world, "owner")
    text = b"\x77" * 32
    r = consumer.file_feedback(world.dataset, 1, "completeness", text)
    fid = r.event("FeedbackFiled").args["feedbackId"]
    assert r.event("FeedbackFiled").args == {
        "feedbackId": fid,
        "datasetId": world.dataset,
        "version": 1,
        "category": 1,
        "filer": world.addr("consumer"),
        "textHash": text,
        "keyImage": ZERO,
        "ringHash": ZERO,
    }
    assert consumer.feedback(fid)["state"] == "open"
    refused(
        lambda: consumer.resolve(fid),
        "NotFeedbackParty",
        {"feedbackId": fid, "account": world.addr("consumer")},
    )  # the filer accepts an answer, and there is none yet
    refused(
        lambda: consumer.answer(fid, b"\x01" * 32),
        "NotOwner",
        {"datasetId": world.dataset, "account": world.addr("consumer")},
    )
    r = owner.answer(fid, b"\xaa" * 32)
    assert r.event("FeedbackAnswered").args == {"feedbackId": fid, "answerHash": b"\xaa" * 32}
    refused(
        lambda: owner.answer(fid, b"\xab" * 32),
        "WrongFeedbackState",
        {"feedbackId": fid, "state": 2},
    )
    refused(
        lambda: q(world, "other").resolve(fid),
        "NotFeedbackParty",
        {"feedbackId": fid, "account": world.addr("other")},
    )
    r = consumer.resolve(fid)
    assert r.event("FeedbackResolved").args == {
        "feedbackId": fid,
        "correctedVersion": 0,
        "by": world.addr("consumer"),
    }
    f = consumer.feedback(fid)
    assert (f["state"], f["answer_sha256"]) == ("resolved", "0x" + "aa" * 32)
    refused(lambda: owner.resolve(fid, 1), "WrongFeedbackState", {"feedbackId": fid, "state": 3})


@pytest.mark.parametrize(
    ("who", "args", "error", "error_args"),
    [
        ("consumer", (b"\x99" * 32, 1, 0), "UnknownDataset", lambda w: {"datasetId": b"\x99" * 32}),
        (
            "consumer",
            (None, 0, 0),
            "UnknownVersion",
            lambda w: {"datasetId": w.dataset, "version": 0},
        ),
        ("consumer", (None, 1, 6), "InvalidCategory", lambda w: {"category": 6}),
        ("suspended", (None, 1, 0), "NotMember", lambda w: {"account": w.addr("suspended")}),
        ("stranger", (None, 1, 0), "NotMember", lambda w: {"account": w.addr("stranger")}),
    ],
    ids=["unknown dataset", "version 0", "category 6", "suspended filer", "stranger"],
)
def test_named_feedback_refusals(world, who, args, error, error_args) -> None:
    dataset, version, category = args
    s = world.sharing[who]
    before = q(world, "owner").client.call(s.catalog, "feedbackCount")
    refused(
        lambda: s.client.transact(
            s.catalog, "fileFeedback", dataset or world.dataset, version, category, b"\x77" * 32
        ),
        error,
        error_args(world),
    )
    assert q(world, "owner").client.call(s.catalog, "feedbackCount") == before


def test_anonymous_feedback_is_relayed_by_the_owner_once_per_member_and_version(
    world: World,
) -> None:
    owner = q(world, "owner")
    d = _new_dataset(world, "anonymous")
    world.sharing["owner"].publish_version(d, *H, 1)
    world.sharing["owner"].publish_version(d, *H, 1)
    image, ring = b"\x1e" * 32, b"\x2f" * 32
    r = owner.file_anonymous_feedback(d, 1, "accuracy", b"\x77" * 32, image, ring)
    fid = r.event("FeedbackFiled").args["feedbackId"]
    assert r.event("FeedbackFiled").args == {
        "feedbackId": fid,
        "datasetId": d,
        "version": 1,
        "category": 0,
        "filer": "0x" + "00" * 20,
        "textHash": b"\x77" * 32,
        "keyImage": image,
        "ringHash": ring,
    }
    # the same member (key image) files once per version, whatever the text
    refused(
        lambda: owner.file_anonymous_feedback(d, 1, "format", b"\x78" * 32, image, ring),
        "KeyImageUsed",
        {"datasetId": d, "version": 1, "keyImage": image},
    )
    owner.file_anonymous_feedback(d, 2, "format", b"\x78" * 32, image, ring)
    refused(
        lambda: q(world, "reviewer").file_anonymous_feedback(
            d, 1, "accuracy", b"\x77" * 32, b"\x1f" * 32, ring
        ),
        "NotOwner",
        {"datasetId": d, "account": world.addr("reviewer")},
    )
    refused(
        lambda: owner.file_anonymous_feedback(d, 1, "accuracy", b"\x77" * 32, ZERO, ring),
        "InvalidHash",
        {},
    )
    # nobody can accept the answer to anonymous feedback but the owner, with a correction
    owner.answer(fid, b"\xaa" * 32)
    refused(
        lambda: owner.resolve(fid, 1), "NotACorrection", {"feedbackId": fid, "correctedVersion": 1}
    )
    refused(
        lambda: owner.resolve(fid, 3), "NotACorrection", {"feedbackId": fid, "correctedVersion": 3}
    )
    r = owner.resolve(fid, 2)
    assert r.event("FeedbackResolved").args == {
        "feedbackId": fid,
        "correctedVersion": 2,
        "by": world.addr("owner"),
    }
    refused(lambda: owner.answer(10**9, b"\xaa" * 32), "UnknownFeedback", {"feedbackId": 10**9})


# -- the feedback state machine, against a model ---------------------------------------
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["answer", "resolve", "resolve_with"]),
        st.sampled_from(["owner", "consumer", "other"]),
        st.integers(min_value=0, max_value=4),
    ),
    max_size=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_feedback_states_follow_the_model(world: World, actions) -> None:
    """Random answers and resolutions by random actors on a fresh named feedback: the
    contract accepts exactly what the model allows, and ends in the model's state."""
    latest = world.sharing["owner"].dataset(world.dataset)["versions"]
    fid = (
        q(world, "consumer")
        .file_feedback(world.dataset, 1, "other", b"\x33" * 32)
        .event("FeedbackFiled")
        .args["feedbackId"]
    )
    state = "open"
    for action, who, version in actions:
        ledger = q(world, who)
        if action == "answer":
            allowed = who == "owner" and state == "open"
            call = lambda ledger=ledger: ledger.answer(fid, b"\x44" * 32)  # noqa: E731
            after = "answered"
        else:
            corrected = version if action == "resolve_with" else 0
            live = state in ("open", "answered")
            if who == "owner" and corrected:
                allowed = live and 1 < corrected <= latest
            else:
                allowed = live and who == "consumer" and corrected == 0 and state == "answered"
            call = lambda ledger=ledger, c=corrected: ledger.resolve(fid, c)  # noqa: E731
            after = "resolved"
        if allowed:
            call()
            state = after
        else:
            with pytest.raises(ContractReverted):
                call()
        assert q(world, "other").feedback(fid)["state"] == state
