import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent


def run_txlint(*args, cwd=None, env=None):
    """Run the installed txlint command line; returns (exit code, stdout, stderr)."""
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    completed = subprocess.run(
        [sys.executable, "-m", "txlint", *args], cwd=cwd, capture_output=True, text=True, env=environment,
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


@pytest.fixture
def txlint():
    return run_txlint


@pytest.fixture
def tree(tmp_path):
    def build(files: dict) -> Path:
        return write_tree(tmp_path, files)

    return build


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a test that needs a real database must run: a skip of one is turned into a failure."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _in_ci() and item.get_closest_marker("needs_db") is not None:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where a real database is required: {report.longrepr}"
