"""Deleting the staged files a killed process left behind.

A staged file has a name of its own only where O_TMPFILE is unavailable, past the descriptor
budget, and for the instant between naming an unnamed file and renaming it into place after the
commit (see _staging). Such a file is `.txlint-staged-` followed by 32 hexadecimal digits; no
other name is ever touched. A live transaction's staged file is as old as the transaction, so
an age longer than any transaction runs makes the sweep safe while other processes stage files.
"""

import os
import re
import time
from typing import List

from txlint.runtime._staging import STAGED_PREFIX

__all__ = ["sweep_staged_files"]

_STAGED_NAME = re.compile(re.escape(STAGED_PREFIX) + r"[0-9a-f]{32}\Z")


def sweep_staged_files(directory, older_than: float, recursive: bool = False) -> List[str]:
    """Delete `.txlint-staged-*` files in `directory` last modified more than `older_than`
    seconds ago (below it too with `recursive`, never following symbolic links); return their paths."""
    if older_than < 0:
        raise ValueError("older_than is an age in seconds, 0 or more")
    cutoff = time.time() - older_than
    deleted: List[str] = []
    pending = [os.fspath(directory)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if recursive and entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif _is_stale_staged_file(entry, cutoff):
                    try:
                        os.unlink(entry.path)
                    except FileNotFoundError:  # another sweep, or the staging process, got there first
                        continue
                    deleted.append(entry.path)
    return sorted(deleted)


def _is_stale_staged_file(entry: "os.DirEntry", cutoff: float) -> bool:
    if not _STAGED_NAME.match(entry.name) or not entry.is_file(follow_symlinks=False):
        return False
    try:
        status = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return False
    # Naming an unnamed file at publish time keeps its old mtime but sets ctime (a new link):
    # the newer of the two is when the staging process last touched it.
    return max(status.st_mtime, status.st_ctime) < cutoff
