"""Run the `tanlian` command as a user does, and check its one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tanlian(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def one_line_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    """Exit 1, no traceback, exactly one `tanlian: error` line, and it holds ``fragment``."""
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("tanlian: error")]
    assert len(lines) == 1 and fragment in lines[0], proc.stderr
