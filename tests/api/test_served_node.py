"""Attacks on real node processes (`tanlian node serve`, uvicorn) of a small local network on
a served chain: the JSON nesting bomb, a 200 MiB unauthenticated body, and a revocation
during a download (how much still flows after the revoke is mined, and the logged cut)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from eth_keys import keys

from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeClient
from node.peer.signing import sign_request
from node.registry.keystore import KEYSTORE_FILE, generate_keys, unlock
from node.sharing.contracts import Mode, Policy, State
from node.sharing.download import FRAME, REVOKED
from node.sharing.service import publish_as
from tests.network.running import running_network

ROOT = Path(__file__).resolve().parents[2]
#: asyncio's (and uvloop's) default high-water mark of a transport's write buffer
WRITE_HIGH_WATER = 64 << 10
BOMB = b"[" * 100_000 + b"]" * 100_000  # the review's body: ~200 KB, 100,000 levels


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    with running_network(tmp_path_factory.mktemp("served")) as network:
        yield network


def _dept(net: LocalNetwork, name: str):
    return next(d for d in net.config.departments if d.name == name)


def _keys(net: LocalNetwork, name: str):
    dept = _dept(net, name)
    return unlock(net.home(dept) / KEYSTORE_FILE, net.secret(dept).read_text())


def _port(net: LocalNetwork, name: str) -> int:
    return int(_dept(net, name).endpoint.rsplit(":", 1)[1])


def _pid(net: LocalNetwork, name: str) -> int:
    return net.load_state()["nodes"][name]["pid"]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _alive_and_healthy(net: LocalNetwork, name: str, pid: int) -> None:
    os.kill(pid, 0)  # raises if the process died
    with NodeClient(_dept(net, name).endpoint) as anon:
        assert anon.health()["status"] == "ok"


def _read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One HTTP/1.1 response with a Content-Length from ``sock``: (head, body); (data, b"")
    when the server closed the connection before a whole head arrived."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data, b""
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(
        next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[
            1
        ]
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head, body[:length]


def _raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """One HTTP/1.1 exchange on a plain socket: (status, JSON body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head + body)
        header, rest = _read_response(s)
    return int(header.split(b" ")[1]), orjson.loads(rest)


def test_json_nesting_bomb_would_crash_the_node_process_if_parsed() -> None:
    """Why the bound must come before any parser: in a process with the node's imports the
    recursion limit is raised so high that the C JSON decoder overflows the stack."""
    code = "import node.runtime, json, sys; json.loads(sys.stdin.buffer.read())"
    crashed = subprocess.run(
        [sys.executable, "-c", code], input=BOMB, cwd=ROOT, capture_output=True
    )
    assert crashed.returncode == -11  # SIGSEGV


def test_nesting_bomb_on_a_served_node_is_refused_and_the_node_lives(net: LocalNetwork) -> None:
    port, pid = _port(net, "stats"), _pid(net, "stats")
    stats_address = _keys(net, "stats").address
    analyst = _keys(net, "analyst")
    # the review's request, unauthenticated: refused by its length, never read
    head = (
        f"POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BOMB)}\r\nConnection: close\r\n\r\n"
    ).encode()
    status, err = _raw_request(port, head, BOMB)
    assert (status, err["code"]) == (413, "body_too_large")
    # the same shape within the size limit, unsigned: refused by the signature check
    bomb = b"[" * 32_000 + b"]" * 32_000
    head = (
        f"POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n"
    ).encode()
    status, err = _raw_request(port, head, bomb)
    assert (status, err["code"]) == (401, "auth_missing")
    # and validly signed by an active member: the signature is checked over the raw
    # bytes, then the nesting is refused before any parser sees it
    signed = sign_request(
        keys.PrivateKey(analyst.account.key), "POST", "/v1/query", "", bomb, stats_address
    )
    head = (
        "POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in signed.items())
        + f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n"
    ).encode()
    status, err = _raw_request(port, head, bomb)
    assert (status, err["code"]) == (400, "json_too_deep")
    _alive_and_healthy(net, "stats", pid)


def _send_until_refused(port: int, head: bytes, total: int, chunked: bool) -> tuple[int, bytes]:
    """Send ``total`` bytes of body (or until the node stops taking them) while reading the
    answer on the side: (bytes sent, answer)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    answer = bytearray()
    done = threading.Event()

    def read() -> None:
        with contextlib.suppress(OSError):  # the connection closed: the answer is complete
            while chunk := s.recv(65536):
                answer.extend(chunk)
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    s.sendall(head)
    reader.start()
    sent = 0
    piece = b" " * (1 << 16)
    with contextlib.suppress(OSError):  # the node closed the connection after answering
        while sent < total and not done.is_set():
            frame = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            s.sendall(frame)
            sent += len(piece)
    done.wait(30)
    s.close()
    return sent, bytes(answer)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_unauthenticated_200_mib_body_is_refused_without_buffering(
    net: LocalNetwork, chunked: bool
) -> None:
    port, pid = _port(net, "stats"), _pid(net, "stats")
    total = 200 << 20
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = f"POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\n{length}\r\n\r\n".encode()
    before = _rss_kib(pid)
    sent, answer = _send_until_refused(port, head, total, chunked)
    grown = _rss_kib(pid) - before
    # refused by its declared length, or (streamed) by the missing signature before a byte
    # of it is read; either way the connection is closed rather than drained
    expected = (413, "body_too_large") if not chunked else (401, "auth_missing")
    assert answer.startswith(b"HTTP/1.1 %d" % expected[0]), answer[:200]
    assert b"connection: close" in answer.lower()
    assert orjson.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == expected[1]
    # the node stopped taking the body long before 200 MiB (what it took sits in socket
    # buffers, not in the node), and its memory did not grow with it
    assert sent < 32 << 20, sent
    assert grown < 16 << 10, f"RSS grew {grown} KiB"
    _alive_and_healthy(net, "stats", pid)


def _answer_without_sending_the_body(port: int, head: bytes) -> bytes:
    """Send only the head of a request whose body is declared and wait for an answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in answer and (chunk := s.recv(65536)):
                answer += chunk
    return answer


@pytest.mark.parametrize("who", ["unsigned", "stranger"])
def test_a_strangers_body_is_refused_before_it_is_read(net: LocalNetwork, who: str) -> None:
    """Issue 19: authenticate before reading. A body within the route's limit is declared
    but never sent: the node answers 401/403 from the headers alone instead of waiting for
    (and buffering) a body it would then refuse."""
    port = _port(net, "stats")
    signed = {}
    if who == "stranger":  # well-formed headers of an account the registry does not know
        outsider = keys.PrivateKey(generate_keys().account.key)
        signed = sign_request(outsider, "POST", "/v1/query", "", b"x", _keys(net, "stats").address)
    head = (
        "POST /v1/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in signed.items())
        + "Content-Length: 60000\r\n\r\n"
    ).encode()
    answer = _answer_without_sending_the_body(port, head)
    expected = b"HTTP/1.1 401" if who == "unsigned" else b"HTTP/1.1 403"
    assert answer.startswith(expected), answer[:200]
    assert b"connection: close" in answer.lower()  # the body is not drained either


# -- item 10: revocation during a download ---------------------------------------------------
def _queues(node_port: int, client_port: int) -> int:
    """Bytes in the kernel between the node and this client: the node socket's send queue
    plus the client socket's receive queue (/proc/net/tcp, loopback)."""
    total = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        local, remote = int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16)
        tx, rx = (int(x, 16) for x in f[4].split(":"))
        if (local, remote) == (node_port, client_port):
            total += tx
        elif (local, remote) == (client_port, node_port):
            total += rx
    return total


def _big_csv(path: Path, rows: int) -> Path:
    with open(path, "w") as fh:
        fh.write("enterprise,month,kwh\n")
        for i in range(rows):
            fh.write(f"E{i:07d},2024-{i % 12 + 1:02d},{i * 7 % 100000}\n")
    return path


def test_revocation_during_a_download_stops_it_within_one_frame(
    net: LocalNetwork, tmp_path: Path
) -> None:
    data = _big_csv(tmp_path / "big.csv", 1_600_000)  # ~40 MiB: 40 frames
    with net.session("stats") as stats:
        pub = publish_as(
            stats,
            data,
            name="revoke-me",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
        size = stats.versions.find("0x" + pub.dataset_id.hex(), 1).ciphertext_size
    with net.session("analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(pub.dataset_id, 1, "cut", Mode.RAW, duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        deadline = time.monotonic() + 15
        while sh.request(rid).state != State.RELEASED:
            assert time.monotonic() < deadline, "the key was never released"
            time.sleep(0.1)
        path = f"/v1/datasets/0x{pub.dataset_id.hex()}/versions/1/blob"
        stats_address = _keys(net, "stats").address
        signed = sign_request(
            keys.PrivateKey(analyst.keys.account.key),
            "GET",
            path,
            f"request={rid}",
            b"",
            stats_address,
        )
    port = _port(net, "stats")
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    client_port = s.getsockname()[1]
    s.sendall(
        (
            f"GET {path}?request={rid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in signed.items())
            + "\r\n"
        ).encode()
    )
    data_in = b""
    while b"\r\n\r\n" not in data_in:
        data_in += s.recv(65536)
    header, body = data_in.split(b"\r\n\r\n", 1)
    assert header.startswith(b"HTTP/1.1 200"), header
    received = len(body)
    while received < 4 * FRAME:
        received += len(s.recv(1 << 20))
    # stop reading until the node is blocked on a full socket: nothing moves any more
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 1.0:
        now = _queues(port, client_port)
        if now != last:
            last, stable_since = now, time.monotonic()
        time.sleep(0.05)
    in_flight = _queues(port, client_port)
    with net.session("stats") as stats:
        revoked_at = stats.require_sharing().revoke(rid, "cut mid-stream").receipt.block_number
    before_revoke = received + in_flight
    # read on until the node ends the response
    while chunk := s.recv(1 << 20):
        received += len(chunk)
    s.close()
    after = received - before_revoke
    print(
        f"\nciphertext {size} B; received before the revoke {before_revoke - in_flight} B, "
        f"in kernel buffers {in_flight} B; after the revoke was mined {after} B"
    )
    assert received < size, "the download was not cut"
    # what left the node after the revoke was mined: at most the frame it had handed to its
    # event loop before (no new frame is read once the grant is unusable), plus what of the
    # frame before it still sat in the transport's buffer when that frame's check passed: the
    # next frame is checked once the buffer drains below its low-water mark, at most
    # WRITE_HIGH_WATER (seen: 3,392 bytes over one frame)
    assert 0 <= after <= FRAME + WRITE_HIGH_WATER, after
    # the cut is logged: in the download log and, anchored, in the access log
    drc = _keys(net, "drc")
    with NodeClient(_dept(net, "stats").endpoint, drc.account.key) as c:
        deadline = time.monotonic() + 10
        while True:
            mine = [d for d in c.get("/v1/downloads")["downloads"] if d["request_id"] == rid]
            if (mine and mine[0]["finished_at"]) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert (mine[0]["outcome"], mine[0]["bytes"]) == (REVOKED, received)
        (entry,) = [
            e
            for e in c.get("/v1/audit/log")["entries"]
            if e["kind"] == "download" and e["request_id"] == rid
        ]
    assert entry["detail"]["outcome"] == REVOKED and entry["detail"]["bytes"] == received
    assert entry["detail"]["cut_block"] >= revoked_at


def test_nothing_in_the_network_is_open_to_other_users(net: LocalNetwork) -> None:
    """Issue 19, run last in this module: after network up, the attacks above and a publish,
    no file or folder of the network (homes, databases, journals, blobs, logs, chain store,
    state) is readable by group or others."""
    open_to_others = [
        f"{oct(p.lstat().st_mode & 0o777)} {p}"
        for p in (net.root, *net.root.rglob("*"))
        if not p.is_symlink() and p.lstat().st_mode & 0o077
    ]
    assert open_to_others == []
    assert any(net.root.rglob("node.db")) and any(net.root.rglob("*.log"))


def _answers_after_idle(port: int, request: bytes, idle: float) -> bytes:
    """Send ``request`` twice on one keep-alive connection, ``idle`` seconds apart; the
    second answer's status line (b"" when the server closed the connection meanwhile)."""

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        first, _ = _read_response(sock)
        assert first.startswith(b"HTTP/1.1 200"), first[:80]
        time.sleep(idle)
        try:
            sock.sendall(request)
            second, _ = _read_response(sock)
        except (BrokenPipeError, ConnectionResetError):
            second = b""
        return second.split(b"\r\n", 1)[0]


def test_an_idle_connection_outlives_the_usual_client_pool_expiry(net: LocalNetwork) -> None:
    """Pools drop an idle connection after 5 s (httpx); a server that closes it at the same
    moment makes a client's next request fail with a read error under load. The node and
    the chain host keep it open for KEEP_ALIVE_SECONDS, well past that."""
    from cli.common import KEEP_ALIVE_SECONDS

    assert KEEP_ALIVE_SECONDS >= 15
    get = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    assert _answers_after_idle(_port(net, "stats"), get, 6.0) == b"HTTP/1.1 200 OK"
    chain_port = int(net.chain_url.rsplit(":", 1)[1])
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    post = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    assert _answers_after_idle(chain_port, post, 6.0) == b"HTTP/1.1 200 OK"
