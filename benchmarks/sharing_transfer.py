"""Encrypted sharing: publish and pull throughput and memory, and grant-to-first-byte latency.

A chain host, an owner node (`tanlian node serve`, its own process) and a consumer are set
up on this machine. Then, in the same run:

* publish  — `publish()` of a SIZE file (a stored zip of random bytes: canonical form is the
             bytes themselves) in a child process: read, encrypt (secretstream), hash both
             sides, write the blob with fsync, anchor on chain;
  baseline — raw AEAD of the same bytes: read the file, secretstream-encrypt 64 KiB chunks,
             write the output file (no hashing, no fsync, no chain);
* pull     — `pull()` in a child process: signed HTTP download from the owner node, hash,
             decrypt, hash, fsync, rename;
  baseline — raw AEAD decryption of the same ciphertext file to an output file;
* peak RSS of each child (`wait4`), which must stay flat whatever SIZE is;
* memory growth: the idle RSS of each client (after keystore unlock, chain session open)
  and of the owner's node (serving, synced), and their peak during the transfer: the
  growth (peak - idle) must stay under 64 MiB;
* latency  — apply → auto-authorized → key released by the owner node → first byte of the
             download, p50/p99 over N requests.

Targets: publish and pull >= 0.7 x raw AEAD; peak RSS < 150 MiB; growth < 64 MiB.
Usage: python benchmarks/sharing_transfer.py [--size-mib 1024] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import nacl.bindings as sodium

from node.chain.backend import open_backend
from node.chain.client import ChainClient
from node.chain.embedded.host import free_port, start_chain_host
from node.privacy.crypto import ABYTES, CHUNK, HEADER, TAG_FINAL, TAG_MESSAGE, new_data_key
from node.registry.identity import init_node
from node.registry.keystore import KEYSTORE_FILE, unlock
from node.registry.registry import GenesisMember, deploy_registry
from node.sharing.contracts import Mode, Sharing, State, deploy_sharing

PASSWORD = "bench"

CHILD = r"""
import resource, sys, time, json
from pathlib import Path
from node.registry.keystore import KEYSTORE_FILE, unlock
from node.runtime import NodeSession
from node.settings import load_settings
from node.sharing.contracts import Policy
from node.sharing.service import publish, pull
import threading
what, home, arg, extra = sys.argv[1:5]
keys = unlock(Path(home) / KEYSTORE_FILE, "bench")  # Argon2id: 64 MiB, once, then freed
peak = [0]
stop = threading.Event()

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

def sample():  # the process's resident memory while the transfer runs
    while not stop.is_set():
        peak[0] = max(peak[0], rss())
        stop.wait(0.01)

sampler = threading.Thread(target=sample, daemon=True)
with NodeSession(load_settings(home), keys) as s:
    s.require_sharing().dataset(b"\0" * 32)  # connected, contracts loaded: ready to transfer
    idle = rss()
    sampler.start()
    t = time.perf_counter()
    if what == "publish":
        r = publish(s.blobs, s.versions, s.require_sharing(), keys, Path(arg), name=extra,
                    policy=Policy(auto_approve_roles=("consumer",), raw_allowed=True))
        out = {"dataset_id": r.dataset_id.hex()}
    else:
        pull(s.require_sharing(), s.registry, keys, int(arg), Path(extra))
        out = {}
    out["seconds"] = time.perf_counter() - t
    stop.set()
    sampler.join()
out["transfer_rss"] = peak[0]
out["idle_rss"] = idle
print(json.dumps(out))
"""


def raw_encrypt(src: Path, dst: Path) -> float:
    key = new_data_key()
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    start = time.perf_counter()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fout.write(sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key))
        prev = fin.read(CHUNK)
        while True:
            nxt = fin.read(CHUNK)
            tag = TAG_FINAL if not nxt else TAG_MESSAGE
            fout.write(sodium.crypto_secretstream_xchacha20poly1305_push(state, prev, None, tag))
            if not nxt:
                break
            prev = nxt
    elapsed = time.perf_counter() - start
    (dst.parent / "raw.key").write_bytes(key)
    return elapsed


def raw_decrypt(src: Path, dst: Path, key: bytes) -> float:
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    start = time.perf_counter()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, fin.read(HEADER), key)
        while block := fin.read(CHUNK + ABYTES):
            plain, _ = sodium.crypto_secretstream_xchacha20poly1305_pull(state, block, None)
            fout.write(plain)
    return time.perf_counter() - start


def rss_of(pid: int) -> int:
    """Resident memory of ``pid`` now (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def run_child(*args: str, node_pid: int) -> tuple[dict, int, tuple[int, int]]:
    """Run one transfer in a child process; (its output, its peak RSS over its whole life,
    (idle, peak) RSS of the owner's node while it ran)."""
    import json

    node_idle = rss_of(node_pid)
    node_peak = [node_idle]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.01):
            node_peak[0] = max(node_peak[0], rss_of(node_pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    stop.set()
    sampler.join()
    if status != 0:
        raise RuntimeError(f"child {args[0]} failed ({status})")
    return (
        json.loads(out.strip().splitlines()[-1]),
        usage.ru_maxrss * 1024,
        (node_idle, node_peak[0]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tanlian-share-", dir=os.environ.get("TMPDIR")))
    node_proc = None
    host = start_chain_host(work / "host")
    try:
        owner_home, consumer_home = work / "owner", work / "consumer"
        owner_port = free_port()
        chain = {"backend": "rpc", "rpc_url": host.url}
        init_node(
            owner_home,
            name="owner",
            roles=["provider"],
            endpoint=f"http://127.0.0.1:{owner_port}",
            password=PASSWORD,
            chain=chain,
        )
        init_node(
            consumer_home,
            name="consumer",
            roles=["consumer"],
            endpoint=f"http://127.0.0.1:{free_port()}",
            password=PASSWORD,
            chain=chain,
        )
        owner = unlock(owner_home / KEYSTORE_FILE, PASSWORD)
        consumer = unlock(consumer_home / KEYSTORE_FILE, PASSWORD)
        backend = open_backend("rpc", url=host.url)
        boot = ChainClient(backend, owner.account)
        reg, _ = deploy_registry(
            boot,
            [
                GenesisMember(
                    owner.address,
                    "owner",
                    ["provider", "regulator"],
                    owner.encryption_public_key,
                    f"http://127.0.0.1:{owner_port}",
                ),
                GenesisMember(
                    consumer.address,
                    "consumer",
                    ["consumer"],
                    consumer.encryption_public_key,
                    "http://127.0.0.1:1",
                ),
            ],
            1,
        )
        cat, acc = deploy_sharing(boot, reg.address)
        from node.registry.identity import update_config

        for h in (owner_home, consumer_home):
            update_config(
                h,
                contracts={"registry": reg.address, "catalog": cat.address, "access": acc.address},
            )
        (work / "pw").write_text(PASSWORD)
        node_proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "node",
                "serve",
                "--home",
                str(owner_home),
                "--password-file",
                str(work / "pw"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import httpx

        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{owner_port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)

        # -- throughput -------------------------------------------------------------------
        size = args.size_mib << 20
        data = work / "data.zip"
        with (
            zipfile.ZipFile(data, "w", compression=zipfile.ZIP_STORED) as z,
            z.open("payload.bin", "w", force_zip64=True) as member,
        ):
            left = size
            while left:
                n = min(left, 8 << 20)
                member.write(os.urandom(n))
                left -= n
        real_size = data.stat().st_size
        base_enc = raw_encrypt(data, work / "raw.enc")
        pub, pub_rss, pub_node = run_child(
            "publish", str(owner_home), str(data), "bench-data", node_pid=node_proc.pid
        )
        dataset_id = bytes.fromhex(pub["dataset_id"])
        sharing = Sharing(ChainClient(backend, consumer.account), cat.address, acc.address)
        rid = (
            sharing.apply(dataset_id, 1, "bench", Mode.RAW, duration=86400)
            .event("AccessRequested")
            .args["requestId"]
        )
        while sharing.request(rid).state != State.RELEASED:
            time.sleep(0.05)
        base_dec = raw_decrypt(work / "raw.enc", work / "raw.dec", (work / "raw.key").read_bytes())
        (work / "raw.enc").unlink()
        (work / "raw.dec").unlink()
        got, pull_rss, pull_node = run_child(
            "pull", str(consumer_home), str(rid), str(work / "got.zip"), node_pid=node_proc.pid
        )
        assert (work / "got.zip").stat().st_size == real_size
        (work / "got.zip").unlink()

        # -- latency ----------------------------------------------------------------------
        from node.peer.client import NodeClient
        from node.registry.registry import Registry

        small = work / "small.csv"
        small.write_text("a,b\n1,2\n")
        small_pub, _, _ = run_child(
            "publish", str(owner_home), str(small), "latency", node_pid=node_proc.pid
        )
        small_id = bytes.fromhex(small_pub["dataset_id"])
        _ = Registry
        lat = []
        path = f"/v1/datasets/0x{small_id.hex()}/versions/1/blob"
        with NodeClient(f"http://127.0.0.1:{owner_port}", consumer.account.key) as client:
            for _ in range(args.requests):
                t = time.perf_counter()
                r = sharing.apply(small_id, 1, "lat", Mode.RAW, duration=3600)
                lrid = r.event("AccessRequested").args["requestId"]
                while sharing.request(lrid).state != State.RELEASED:
                    time.sleep(0.005)
                next(iter(client.stream("GET", path, params={"request": lrid})))
                lat.append(time.perf_counter() - t)
        backend.close()
    finally:
        if node_proc is not None:
            node_proc.terminate()
            node_proc.wait()
        host.stop()
        shutil.rmtree(work, ignore_errors=True)

    mib = real_size / 2**20
    print(f"\nencrypted sharing, {mib:.0f} MiB file (one machine, loopback)")
    print(f"{'path':<34} {'MiB/s':>8} {'x raw':>7} {'RSS during':>11} {'process peak':>13}")
    rows = [
        ("raw AEAD encrypt (baseline)", base_enc, base_enc, None, None),
        ("publish (node)", pub["seconds"], base_enc, pub["transfer_rss"], pub_rss),
        ("raw AEAD decrypt (baseline)", base_dec, base_dec, None, None),
        ("pull (HTTP, verify, decrypt)", got["seconds"], base_dec, got["transfer_rss"], pull_rss),
    ]
    for label, secs, base, during, peak in rows:
        mem = f"{during / 2**20:>11.0f} {peak / 2**20:>13.0f}" if during else ""
        print(f"{label:<34} {mib / secs:>8.0f} {base / secs:>7.2f} {mem}")
    print(
        "RSS during: resident memory while the transfer runs; process peak also counts the "
        "keystore unlock (Argon2id, 64 MiB, freed before the transfer)"
    )
    mem = [
        ("publishing client", pub["idle_rss"], pub["transfer_rss"]),
        ("owner node during the publish", *pub_node),
        ("pulling client", got["idle_rss"], got["transfer_rss"]),
        ("owner node serving the pull", *pull_node),
    ]
    print(f"\nmemory (MiB)                        {'idle':>6} {'peak':>6} {'growth':>7}")
    for label, idle, peak in mem:
        growth = (peak - idle) / 2**20
        flag = "" if growth < 64 else "  over the 64 MiB target"
        print(f"{label:<34} {idle / 2**20:>6.0f} {peak / 2**20:>6.0f} {growth:>+7.1f}{flag}")
    print(
        "idle: the client after keystore unlock with its chain session open, the node "
        "serving and synced, before the transfer; growth: peak during it minus idle "
        "(target < 64 MiB)"
    )
    lat.sort()
    print(
        f"\napply -> authorized -> released -> first byte, {len(lat)} requests: "
        f"p50 {statistics.median(lat) * 1000:.0f} ms, "
        f"p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
