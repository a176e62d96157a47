"""Homes private to their user: folders 0700, files 0600.

A node's home holds its keystore, ``node.toml``, ``node.db`` (access log, DP answers, DP
metadata), the replay journal, blobs and logs; a chain host's holds the chain store. Other
local users must read none of it. Every ``tanlian`` process runs with umask 077 (see
``cli.main``), what is written from library code names its mode, and a home found open to
others when it is opened is closed again, with a warning (an old home, a copy, a restore).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def private_process() -> None:
    """Everything this process creates from now on is private to its user."""
    os.umask(PRIVATE_UMASK)


def make_private(home: Path) -> list[Path]:
    """Create ``home`` (0700) if missing, and take group and other access away from it and
    everything in it; the paths that had to be fixed are returned and logged."""
    home = Path(home)
    # folders created here are 0700 too, not only the last (mkdir's parents get the umask's)
    for folder in reversed([p for p in (home, *home.parents) if not p.exists()]):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
    fixed: list[Path] = []
    for path in (home, *home.rglob("*")):
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:  # removed meanwhile (a temp file)
            continue
        if stat.S_ISLNK(mode) or not mode & 0o077:
            continue
        private = DIR_MODE if stat.S_ISDIR(mode) else FILE_MODE | (mode & stat.S_IXUSR)
        os.chmod(path, private)
        fixed.append(path)
    if fixed:
        logger.warning(
            "%s: %d files and folders were open to other local users; made private to "
            "their owner (folders 0700, files 0600)",
            home,
            len(fixed),
        )
    return fixed


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """``os.open`` of a file created 0600, whatever the process's umask."""
    return os.open(path, flags, FILE_MODE)


def write_private(path: Path, text: str) -> None:
    with os.fdopen(open_private(path), "w") as fh:
        fh.write(text)
