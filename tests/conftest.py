import os
from pathlib import Path

import pytest

from helpers import run_txlint, write_tree


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
