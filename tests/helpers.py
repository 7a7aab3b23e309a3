"""Helpers shared by the tests: running the command line and writing small projects."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def run_txlint(*args, cwd=None, env=None, timeout=None):
    """Run the installed txlint command line; returns (exit code, stdout, stderr). `timeout`
    (seconds) turns a run that would hang into a test failure."""
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "txlint", *args], cwd=cwd, capture_output=True, text=True, env=environment,
        timeout=timeout,
    )
    return completed.returncode, completed.stdout, completed.stderr


def write_tree(root: Path, files: dict) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root
