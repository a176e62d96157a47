"""`network down` waits for a process's every thread, not only for its leader."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from node.network.orchestrator import _gone

# The main thread exits on its own (pthread_exit) while another thread keeps running: the
# leader shows as a zombie although the process still holds its files.
ZOMBIE_LEADER = (
    "import ctypes, threading, time; "
    "threading.Thread(target=time.sleep, args=(2,)).start(); "
    "time.sleep(0.2); ctypes.CDLL(None).pthread_exit(None)"
)


def test_a_zombie_leader_with_live_threads_is_not_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", ZOMBIE_LEADER])
    try:
        deadline = time.monotonic() + 5
        state = ""
        while state != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
            state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state == "Z"  # the leader has exited …
        assert len(list(Path(f"/proc/{proc.pid}/task").iterdir())) == 2  # … its thread has not
        assert not _gone(proc.pid)
    finally:
        proc.wait(timeout=10)
    assert _gone(proc.pid)


def test_running_and_exited_processes() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    assert not _gone(proc.pid)
    proc.wait(timeout=10)
    assert _gone(proc.pid)
