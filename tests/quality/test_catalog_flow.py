"""Declared schemas at publish, the catalog by theme, reviews, and feedback (named and
anonymous) on a running network of real nodes; and the ways people get them wrong or try
to get around them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.errors import InvalidInput
from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeApiError, NodeClient
from node.privacy import ring
from node.quality.catalog import CatalogEntry
from node.quality.documents import DocumentStore
from node.quality.feedback import (
    active_consumers,
    ring_for,
    ring_public,
    ring_secret,
    sign_anonymous,
)
from node.quality.ledger import QualityLedger
from node.quality.metadata import parse_metadata
from node.quality.review import review_due
from node.quality.tabular import SchemaInvalid, TableRefused, TableUnreadable, load_schema
from node.sharing.contracts import Mode, Policy, State
from node.sharing.service import publish_as
from tests.cli_run import ROOT, one_line_error
from tests.network.running import running_network

SCHEMA = {
    "fields": [
        {
            "name": "adcode",
            "type": "string",
            "constraints": {"required": True, "enum": ["510104", "510105", "510107"]},
        },
        {"name": "年份", "type": "integer", "constraints": {"minimum": 2015, "maximum": 2024}},
        {"name": "排放量", "type": "number", "unit": "10^4 t CO2", "constraints": {"minimum": 0}},
    ],
    "primaryKey": ["adcode", "年份"],
    "missingValues": ["", "NA"],
}
GOOD = "adcode,年份,排放量\n510104,2023,812.5\n510105,2023,NA\n510107,2023,1020\n"
# an unknown unit, a negative amount, a year that is not a number, a repeated key
BAD = (
    "adcode,年份,排放量\n510199,2023,812.5\n510105,2023,-3\n510107,soon,1\n"
    "510104,2023,1\n510104,2023,2\n"
)
META = {
    "theme": "emissions",
    "title_zh": "区县碳排放清单",
    "title_en": "District carbon inventory",
    "description_zh": "按区县的年度二氧化碳排放量。",
    "description_en": "Annual CO2 emissions by district.",
    "publisher": "成都市生态环境局",
    "keywords": ["CO2", "碳排放"],
    "temporal": {"start": "2023-01-01", "end": "2023-12-31"},
    "spatial": ["510104", "510105", "510107"],
    "update_frequency": "annual",
    "licence": "internal-use",
    "contact": {"name": "监测处", "email": "data@eco.example"},
}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    with running_network(tmp_path_factory.mktemp("quality")) as network:
        yield network


def client(net: LocalNetwork, dept: str, as_dept: str | None = None) -> NodeClient:
    with net.session(as_dept or dept) as s:
        key = s.keys.account.key
    return NodeClient(net.department(dept).endpoint, key)


def wait(check, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def published(c: NodeClient, name: str) -> dict:
    """The catalog entry of ``name`` once its version is indexed (its version is anchored
    last: its theme, metadata and cycle are indexed by then)."""
    entry = wait(lambda: (e := entry_of(c, name)) is not None and e["versions"] and e)
    assert entry, f"{name} is not in the catalog"
    return entry


def entry_of(c: NodeClient, name: str, **params) -> dict | None:
    return next(
        (d for d in c.get("/v1/catalog", params=params)["datasets"] if d["name"] == name), None
    )


@pytest.fixture(scope="module")
def inventory(net: LocalNetwork, tmp_path_factory: pytest.TempPathFactory):
    """stats publishes a district inventory with its schema, theme, metadata and a cycle."""
    path = tmp_path_factory.mktemp("data") / "inventory.csv"
    path.write_text(GOOD, encoding="utf-8")
    entry = CatalogEntry("emissions", parse_metadata(META), 365 * 86400, 3600)
    with net.session("stats") as stats:
        pub = publish_as(
            stats,
            path,
            name="district-inventory",
            classification="internal",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
            table_schema=load_schema(SCHEMA),
            catalog=entry,
        )
    return pub


def test_a_failing_file_is_refused_before_anything_is_stored(
    net: LocalNetwork, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    with net.session("eco") as eco:
        before = len(eco.versions.anchored()), len(eco.versions.unanchored())
        with pytest.raises(TableRefused) as exc:
            publish_as(eco, path, name="bad-inventory", table_schema=load_schema(SCHEMA))
        sharing = eco.require_sharing()
        assert sharing.dataset(sharing.dataset_id(eco.keys.address, "bad-inventory")) is None
        assert (len(eco.versions.anchored()), len(eco.versions.unanchored())) == before
    report = exc.value.report
    assert exc.value.code == "table_invalid" and exc.value.http_status == 422
    assert report.errors_by_kind == {"constraint-error": 2, "type-error": 1, "primary-key": 1}
    assert "row 2, field adcode: constraint-error" in exc.value.message  # the first error


def test_errors_accepted_are_anchored_and_every_consumer_sees_them(
    net: LocalNetwork, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    with net.session("eco") as eco:
        pub = publish_as(
            eco,
            path,
            name="inventory-with-errors",
            table_schema=load_schema(SCHEMA),
            accept_errors=True,
        )
        validation = QualityLedger(eco.require_sharing()).validation(pub.dataset_id, 1)
    assert validation is not None and validation.error_count == 4
    with client(net, "analyst") as c:
        d = published(c, "inventory-with-errors")
        assert d["quality"]["status"] == "errors-accepted"
        assert d["quality"]["error_kinds"] == "constraint-error=2;primary-key=1;type-error=1"
        listed = c.get("/v1/catalog", params={"quality": "errors-accepted"})["datasets"]
        assert [x["name"] for x in listed] == ["inventory-with-errors"]
        # the report, read from the owner's node through the consumer's own, by its hash
        sha = d["versions"][0]["validation"]["report_sha256"]
        raw = b"".join(
            c.stream("GET", f"/v1/documents/{sha}", params={"owner": d["owner"]}, chunk=None)
        )
    assert "0x" + hashlib.sha256(raw).hexdigest() == sha
    assert json.loads(raw)["error_count"] == 4


def test_consumers_read_schema_metadata_and_status_before_applying(
    net: LocalNetwork, inventory
) -> None:
    with client(net, "analyst") as c:
        d = published(c, "district-inventory")
        assert d["theme"] == "emissions"
        assert d["metadata"]["title_en"] == "District carbon inventory"
        assert d["review_cycle"] == {"update_interval": 365 * 86400, "review_period": 3600}
        assert d["quality"]["status"] == "passed" and d["quality"]["review"] == "ok"
        v = d["versions"][0]["validation"]
        schema = c.get(f"/v1/documents/{v['table_schema_sha256']}", params={"owner": d["owner"]})
    assert [f["name"] for f in schema["fields"]] == ["adcode", "年份", "排放量"]
    assert schema["fields"][2]["unit"] == "10^4 t CO2"
    assert load_schema(schema).digest().hex() == v["table_schema_sha256"][2:]


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"theme": "emissions"}, True),
        ({"theme": "energy"}, False),
        ({"keyword": "碳排放"}, True),
        ({"keyword": "carbon inventory"}, True),
        ({"keyword": "electricity"}, False),
        ({"year": 2023}, True),
        ({"year": 2019}, False),
        ({"adcode": "510107"}, True),
        ({"adcode": "510112"}, False),
        ({"quality": "passed"}, True),
        ({"quality": "review-overdue"}, False),
    ],
)
def test_catalog_search(net: LocalNetwork, inventory, params: dict, found: bool) -> None:
    with client(net, "stats") as c:
        published(c, "district-inventory")
        assert (entry_of(c, "district-inventory", **params) is not None) is found


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"theme": "weather"}, "invalid_input"),
        ({"quality": "great"}, "invalid_input"),
        ({"adcode": "110101"}, "invalid_input"),
        ({"year": 99999}, "invalid_input"),
    ],
)
def test_catalog_search_refuses_bad_filters(net: LocalNetwork, params: dict, code: str) -> None:
    with client(net, "stats") as c, pytest.raises(NodeApiError) as exc:
        c.get("/v1/catalog", params=params)
    assert (exc.value.http_status, exc.value.code) == (400, code)


def test_dcat_export(net: LocalNetwork, inventory) -> None:
    with client(net, "drc") as c:
        published(c, "district-inventory")
        doc = c.get("/v1/catalog/dcat")
    assert doc["@type"] == "dcat:Catalog"
    ds = next(
        d for d in doc["dcat:dataset"] if d["dct:identifier"] == "0x" + inventory.dataset_id.hex()
    )
    assert {"@value": "区县碳排放清单", "@language": "zh"} in ds["dct:title"]
    assert ds["dcat:theme"].endswith("/themes/emissions")
    assert ds["dct:accrualPeriodicity"]["@id"] == "http://purl.org/cld/freq/annual"
    assert ds["dcat:distribution"][0]["spdx:checksum"]["spdx:checksumValue"] == (
        inventory.plaintext_hash.hex()
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ('{"fields": [{"name": "a", "type": "money"}]}', SchemaInvalid),
        ('{"fields": [{"name": "a"}], "primaryKey": ["b"]}', SchemaInvalid),
        ("{not json", SchemaInvalid),
    ],
    ids=["unknown type", "primary key of no field", "not JSON"],
)
def test_a_schema_that_does_not_parse_is_refused(tmp_path: Path, content: str, error) -> None:
    path = tmp_path / "schema.json"
    path.write_text(content)
    with pytest.raises(error) as exc:
        load_schema(path)
    assert exc.value.code == "schema_invalid"


def test_encodings_headers_and_delimiters(net: LocalNetwork, tmp_path: Path) -> None:
    """GBK (Excel on Chinese Windows) and a BOM validate like UTF-8; a file that is not
    comma-separated is refused readably; a schema on a non-CSV file is refused; nothing is
    stored for the refusals."""
    schema = load_schema(SCHEMA)
    gbk, bom, semi = tmp_path / "gbk.csv", tmp_path / "bom.csv", tmp_path / "semi.csv"
    gbk.write_bytes(GOOD.encode("gbk"))
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    semi.write_text(GOOD.replace(",", ";"), encoding="utf-8")
    geo = tmp_path / "x.json"
    geo.write_text("[]")
    with net.session("stats") as stats:
        for i, path in enumerate((gbk, bom)):
            pub = publish_as(stats, path, name=f"enc-{i}", table_schema=schema)
            assert pub.source_encoding == ("gbk" if path is gbk else "utf-8-sig")
        before = len(stats.versions.anchored())
        with pytest.raises(TableUnreadable) as exc:
            publish_as(stats, semi, name="semi", table_schema=schema)
        assert exc.value.code == "table_unreadable" and "delimit" in exc.value.message
        with pytest.raises(InvalidInput):
            publish_as(stats, geo, name="geo", table_schema=schema)
        assert len(stats.versions.anchored()) == before


# -- reviews -------------------------------------------------------------------------------
def test_a_review_re_checks_the_version_and_detects_a_tampered_store(
    net: LocalNetwork, inventory
) -> None:
    with net.session("stats") as stats:
        ledger = QualityLedger(stats.require_sharing())
        args = (
            ledger,
            DocumentStore(stats.engine),
            stats.blobs,
            stats.versions,
            stats.keys.encryption_key,
        )
        assert review_due(*args) == []  # not due: published within the hour
        [done] = [r for r in review_due(*args, force=True) if r.name == "district-inventory"]
        assert (done.errors, done.intact) == (0, True)
        report = DocumentStore(stats.engine).get_json(done.report_sha256)
        assert report["validation"]["rows"] == 3 and report["plaintext_intact"] is True
        # a review recorded on chain; the next is due a period later
        status = ledger.review_status(inventory.dataset_id)
        block = stats.backend.get_block("latest").timestamp
        assert status.due_at == status.reviewed_at + 3600 and status.reviewed_at <= block
        # the stored ciphertext is swapped for another's: the review says so
        row = stats.versions.find("0x" + inventory.dataset_id.hex(), 1)
        other = next(
            r for r in stats.versions.anchored() if r.ciphertext_hash != row.ciphertext_hash
        )
        path = stats.blobs.path_for(bytes.fromhex(row.ciphertext_hash[2:]))
        original = path.read_bytes()
        try:
            path.write_bytes(
                stats.blobs.path_for(bytes.fromhex(other.ciphertext_hash[2:])).read_bytes()
            )
            [tampered] = [
                r for r in review_due(*args, force=True) if r.name == "district-inventory"
            ]
        finally:
            path.write_bytes(original)
    assert (tampered.intact, tampered.errors) == (False, 1)
    with net.session("stats") as stats:
        report = DocumentStore(stats.engine).get_json(tampered.report_sha256)
    assert report["plaintext_intact"] is False and "validation" not in report


# -- feedback --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def consumers(net: LocalNetwork, inventory) -> dict[str, int]:
    """analyst (auto-approved) and eco (approved by stats) hold live grants on the inventory;
    every node registered its feedback key at its first sync."""
    grants = {}
    for who in ("analyst", "eco"):
        with net.session(who) as s:
            r = s.require_sharing().apply(
                inventory.dataset_id, 1, "inventory", Mode.RAW, duration=86400
            )
            grants[who] = r.event("AccessRequested").args["requestId"]
    with net.session("stats") as stats:
        stats.require_sharing().approve(grants["eco"])
        ledger = QualityLedger(stats.require_sharing())
        for who in ("analyst", "eco"):
            with net.session(who) as s:
                ours = ring_public(s.keys.account.key)
            assert wait(lambda ours=ours, a=s.keys.address: ledger.feedback_key(a) == ours)
        for rid in grants.values():
            assert stats.require_sharing().request(rid).state in (State.AUTHORIZED, State.RELEASED)
    return grants


def _ring(net: LocalNetwork, dataset: str) -> list[bytes]:
    with client(net, "analyst") as c:

        def get():
            keys = c.get("/v1/feedback/keys")["keys"]
            return ring_for(
                active_consumers(c.get("/v1/access")["requests"], dataset, int(time.time()) - 60),
                {a: bytes.fromhex(k[2:]) for a, k in keys.items()},
            )

        return wait(lambda: len(get()) == 2 and get()) or get()


def test_anonymous_feedback_is_filed_answered_and_linkable(
    net: LocalNetwork, inventory, consumers
) -> None:
    dataset = "0x" + inventory.dataset_id.hex()
    ring_keys = _ring(net, dataset)
    assert len(ring_keys) == 2
    with net.session("analyst") as analyst:
        secret = analyst.keys.account.key
    signed = sign_anonymous(secret, dataset, 1, "completeness", "510105 has NA for 2023", ring_keys)
    stats = net.department("stats")
    with NodeClient(stats.endpoint) as node:
        filed = node.post_unsigned("/v1/feedback/anonymous", signed.model_dump())
        # the same member again, other words: the key image links it, the catalog refuses it
        again = sign_anonymous(secret, dataset, 1, "other", "and something else", ring_keys)
        with pytest.raises(NodeApiError) as exc:
            node.post_unsigned("/v1/feedback/anonymous", again.model_dump())
        assert (exc.value.http_status, exc.value.code) == (409, "feedback_refused")
        # a replay of the accepted body: refused the same way, nothing filed twice
        with pytest.raises(NodeApiError) as exc:
            node.post_unsigned("/v1/feedback/anonymous", signed.model_dump())
        assert exc.value.code == "feedback_refused"
    # the other member of the ring may still file on this version
    with net.session("eco") as eco:
        other = sign_anonymous(eco.keys.account.key, dataset, 1, "accuracy", "ok", ring_keys)
    with NodeClient(stats.endpoint) as node:
        node.post_unsigned("/v1/feedback/anonymous", other.model_dump())
    with net.session("stats") as owner:
        ledger = QualityLedger(owner.require_sharing())
        f = ledger.feedback(filed["feedback_id"])
        assert (
            f["filer"] is None
            and f["key_image"] == "0x" + ring.key_image(ring_secret(secret)).hex()
        )
        answer = "NA: the 2023 survey of 青羊区 is late; v2 adds it."
        ledger.answer(
            filed["feedback_id"], DocumentStore(owner.engine).put("answer", answer.encode())
        )
    with client(net, "eco") as c:

        def seen():
            listed = c.get("/v1/feedback", params={"dataset_id": dataset})["feedback"]
            return next(
                (
                    x
                    for x in listed
                    if x["feedback_id"] == filed["feedback_id"] and x["state"] == "answered"
                ),
                None,
            )

        got = wait(seen)
    assert got["anonymous"] and got["filer"] is None
    assert got["text"] == "510105 has NA for 2023" and got["answer"] == answer


@pytest.mark.parametrize(
    "attack", ["outsider key", "tampered text", "inactive ring", "lonely ring"]
)
def test_anonymous_feedback_that_cannot_be_trusted_is_refused(
    net: LocalNetwork, inventory, consumers, attack: str
) -> None:
    dataset = "0x" + inventory.dataset_id.hex()
    ring_keys = _ring(net, dataset)
    with net.session("analyst") as analyst:
        secret = analyst.keys.account.key
    _, outsider = ring.keypair()
    if attack == "outsider key":
        # an outsider's own ring: the signature verifies, but its keys are nobody's grants
        body = sign_anonymous(
            b"\x05" * 32, dataset, 1, "other", "x", [outsider, ring_public(b"\x05" * 32)]
        )
        expected = (400, "ring_signature_invalid")
    elif attack == "tampered text":
        body = sign_anonymous(secret, dataset, 1, "other", "the owner is wrong", ring_keys)
        body = body.model_copy(update={"text": "the owner is right"})
        expected = (400, "ring_signature_invalid")
    elif attack == "inactive ring":
        # drc holds no grant on the dataset: its key may not stand in the ring
        with net.session("drc") as drc:
            drc_key = ring_public(drc.keys.account.key)
        body = sign_anonymous(
            secret, dataset, 1, "other", "x", [ring_keys[0], ring_keys[1], drc_key]
        )
        expected = (400, "ring_signature_invalid")
    else:
        with pytest.raises(InvalidInput):
            sign_anonymous(secret, dataset, 1, "other", "x", [ring_public(secret)])
        return
    with NodeClient(net.department("stats").endpoint) as node, pytest.raises(NodeApiError) as exc:
        node.post_unsigned("/v1/feedback/anonymous", body.model_dump())
    assert (exc.value.http_status, exc.value.code) == expected


def test_anonymous_feedback_bodies_are_bounded_and_validated(net: LocalNetwork) -> None:
    import httpx

    url = net.department("stats").endpoint + "/v1/feedback/anonymous"
    huge = httpx.post(url, content=b"x" * (64 * 1024), headers={"content-type": "application/json"})
    assert (huge.status_code, huge.json()["code"]) == (413, "body_too_large")
    junk = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert junk.status_code == 400
    partial = httpx.post(url, json={"dataset_id": "0x" + "00" * 32})
    assert (partial.status_code, partial.json()["code"]) == (400, "invalid_input")


def test_named_feedback_text_is_kept_only_from_its_filer(
    net: LocalNetwork, inventory, consumers
) -> None:
    text = "年份 2023 of 510107 is 1020, the bureau's release says 1002"
    with net.session("analyst") as analyst:
        ledger = QualityLedger(analyst.require_sharing())
        r = ledger.file_feedback(
            inventory.dataset_id, 1, "accuracy", hashlib.sha256(text.encode()).digest()
        )
        fid = r.event("FeedbackFiled").args["feedbackId"]
    with client(net, "stats", as_dept="eco") as c, pytest.raises(NodeApiError) as exc:
        c.post(f"/v1/feedback/{fid}/text", {"text": text})  # not the filer
    assert (exc.value.http_status, exc.value.code) == (409, "feedback_refused")
    with client(net, "stats", as_dept="analyst") as c:
        with pytest.raises(NodeApiError) as exc:
            c.post(f"/v1/feedback/{fid}/text", {"text": text + "!"})  # not the anchored text
        assert exc.value.code == "invalid_input"
        c.post(f"/v1/feedback/{fid}/text", {"text": text})
    with client(net, "analyst") as c:
        got = wait(
            lambda: next(
                (
                    f
                    for f in c.get("/v1/feedback")["feedback"]
                    if f["feedback_id"] == fid and f.get("text")
                ),
                None,
            )
        )
    assert got["text"] == text and got["filer"] is not None and not got["anonymous"]


# -- the commands, as a user runs them ---------------------------------------------------------
BASE = (sys.executable, "-m", "cli.main")


def tanlian(net: LocalNetwork, dept: str, *args: str) -> subprocess.CompletedProcess:
    d = net.department(dept)
    env = {k: v for k, v in os.environ.items() if k != "TANLIAN_PASSWORD"}
    return subprocess.run(
        [*BASE, *args, "--home", str(net.home(d)), "--password-file", str(net.secret(d))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )


def test_the_quality_commands(net: LocalNetwork, inventory, consumers, tmp_path: Path) -> None:
    schema, meta = tmp_path / "schema.json", tmp_path / "meta.json"
    schema.write_text(json.dumps(SCHEMA, ensure_ascii=False), encoding="utf-8")
    meta.write_text(json.dumps({**META, "theme": "buildings"}, ensure_ascii=False))
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    refused = tanlian(
        net, "stats", "dataset", "publish", str(bad), "--name", "cli-inv", "--schema", str(schema)
    )
    one_line_error(refused, "row 2, field adcode: constraint-error")
    assert "[table_invalid]" in refused.stderr or "table_invalid" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    out = tanlian(
        net,
        "stats",
        "dataset",
        "publish",
        str(good),
        "--name",
        "cli-inv",
        "--schema",
        str(schema),
        "--metadata",
        str(meta),
        "--review-period",
        "1h",
        "--auto-approve",
        "analyst",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    dataset_id = json.loads(out.stdout)["dataset_id"]
    found = tanlian(net, "analyst", "dataset", "search", "--theme", "buildings", "--json")
    assert found.returncode == 0, found.stderr
    assert [d["name"] for d in json.loads(found.stdout)["datasets"]] == ["cli-inv"]
    show = tanlian(net, "analyst", "dataset", "show", "cli-inv")
    assert show.returncode == 0, show.stderr
    for words in ("declared Table Schema", "排放量", "10^4 t CO2", "schema passed", "buildings"):
        assert words in show.stdout, show.stdout
    # analyst (auto-approved) and eco (approved by stats) become its active consumers
    cli_id = bytes.fromhex(dataset_id[2:])
    for who in ("analyst", "eco"):
        with net.session(who) as s:
            r = s.require_sharing().apply(cli_id, 1, "cli", Mode.RAW, duration=86400)
        if who == "eco":
            with net.session("stats") as stats:
                stats.require_sharing().approve(r.event("AccessRequested").args["requestId"])
    filed = tanlian(
        net,
        "analyst",
        "feedback",
        "file",
        "cli-inv",
        "--anonymous",
        "--category",
        "timeliness",
        "--text",
        "2024 is missing",
        "--json",
    )
    assert filed.returncode == 0, filed.stderr
    assert json.loads(filed.stdout)["ring_size"] == 2
    listed = tanlian(net, "eco", "feedback", "list", "cli-inv", "--json")
    assert any(
        f["text"] == "2024 is missing" and f["anonymous"]
        for f in json.loads(listed.stdout)["feedback"]
    )
    due = tanlian(net, "drc", "quality", "due", "--json")
    assert due.returncode == 0 and json.loads(due.stdout)["overdue"] == []
    reviewed = tanlian(net, "stats", "quality", "review", "--force", "--json")
    names = {r["name"] for r in json.loads(reviewed.stdout)["reviewed"]}
    assert {"cli-inv", "district-inventory"} <= names
    one_line_error(
        tanlian(net, "analyst", "dataset", "search", "--theme", "weather"), "unknown theme"
    )
    assert dataset_id.startswith("0x")


# -- the regulator ---------------------------------------------------------------------------
def _audit(net: LocalNetwork):
    from node.audit.verify import Auditor

    with net.session("drc") as drc:
        c = drc.settings.contracts
        return Auditor(drc.backend, c.model_dump(), drc.keys.account.key).run()


def test_the_audit_fetches_every_anchored_quality_document_and_spots_a_missing_one(
    net: LocalNetwork, inventory, consumers
) -> None:
    from sqlalchemy import delete

    from node.quality.documents import QualityDocument

    result = _audit(net)
    quality = [f for f in result.findings if f.kind.startswith(("quality_", "anonymous_"))]
    assert quality == []
    assert result.checks["quality_documents"]["items"] >= 5
    with net.session("stats") as stats:
        metadata = stats.require_sharing().client.call(
            stats.require_sharing().catalog, "metadataOf", inventory.dataset_id
        )[1]
        sha = "0x" + metadata.hex()
        kind, body = DocumentStore(stats.engine).get(sha)
        with stats.engine.begin() as conn:
            conn.execute(delete(QualityDocument).where(QualityDocument.sha256 == sha))
    try:
        found = [f for f in _audit(net).findings if f.kind == "quality_document_missing"]
        assert [(f.department, f.evidence["sha256"]) for f in found] == [("stats", sha)]
    finally:
        with net.session("stats") as stats:
            DocumentStore(stats.engine).put(kind, body)
