import json
import os
import tempfile
from pathlib import Path

import pytest

from helpers import REPOSITORY, run_txlint, write_tree

# The cache's key is per user: the tests, and every txlint they start, keep theirs in a folder of
# the test session's rather than in the home directory of whoever runs them.
os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="txlint-tests-cache-home-"))

# The official schema lives outside the repository (it must not be vendored): ../shared/schemas.
SARIF_SCHEMA = REPOSITORY.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


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


@pytest.fixture(scope="session")
def sarif_schema():
    """The official SARIF 2.1.0 schema: a test that validates against it is skipped without it,
    except in CI, where it must be there."""
    if not SARIF_SCHEMA.is_file():
        reason = (f"the official SARIF 2.1.0 schema is absent: expected it at {SARIF_SCHEMA} "
                  "(../shared/schemas/sarif-schema-2.1.0.json relative to the repository; it is not vendored)")
        if _in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


def _needs_db(item) -> bool:
    # The marker, or the PostgreSQL fixture itself (a database test that forgot the marker).
    return item.get_closest_marker("needs_db") is not None or "postgres_dsn" in getattr(item, "fixturenames", ())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a test that needs a real database must run: a skip of one is turned into a failure."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _in_ci() and _needs_db(item):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where a real database is required: {report.longrepr}"
    if report.when == "call" and report.passed and _needs_db(item):
        _DATABASE_TESTS_PASSED.append(item.nodeid)


_DATABASE_TESTS_PASSED: list = []


def pytest_sessionfinish(session, exitstatus):
    """With TXLINT_REQUIRE_DB=1 (set by .ci/run) a run in which no database test passed fails:
    the runtime tests were not collected, deselected, or lost their marker."""
    if os.environ.get("TXLINT_REQUIRE_DB") == "1" and session.exitstatus == 0 and not _DATABASE_TESTS_PASSED:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("TXLINT_REQUIRE_DB=1 but no test that needs a real database ran", red=True)
        session.exitstatus = 1
