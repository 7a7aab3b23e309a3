"""The CI gate: database tests may not be skipped in CI, .ci/run runs .ci/test on the oldest and newest Python."""

import os
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest

from helpers import REPOSITORY

DATABASE_TESTS = '''
import pytest


@pytest.fixture
def postgres_dsn():
    pytest.skip("PostgreSQL is not installed")


@pytest.mark.needs_db
def test_marked():
    pytest.skip("no server")


def test_by_fixture(postgres_dsn):
    pass


def test_plain():
    pass
'''


def _pytest(tmp_path, files, **environment):
    """Run pytest on a small project that uses this suite's conftest.py; returns (exit status, output)."""
    for name in ("conftest.py", "helpers.py"):
        shutil.copy2(REPOSITORY / "tests" / name, tmp_path / name)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    needs_db: needs a real database\n")
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "TXLINT_REQUIRE_DB")}
    env.update(environment)
    completed = subprocess.run([sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
                               cwd=tmp_path, capture_output=True, text=True, env=env)
    return completed.returncode, completed.stdout + completed.stderr


def test_database_skips_are_skips_outside_ci(tmp_path):
    code, output = _pytest(tmp_path, {"test_db.py": DATABASE_TESTS})
    assert code == 0, output
    assert "1 passed, 2 skipped" in output


def test_database_skips_fail_in_ci(tmp_path):
    code, output = _pytest(tmp_path, {"test_db.py": DATABASE_TESTS}, CI="true")
    assert code == 1, output
    assert "skipped in CI, where a real database is required" in output
    # The marked test fails in its call, the fixture's test errors in its set-up; the plain one passes.
    assert "1 failed, 1 passed, 1 error" in output


def test_a_run_without_database_tests_fails_when_they_are_required(tmp_path):
    plain = {"test_plain.py": "def test_plain():\n    pass\n"}
    assert _pytest(tmp_path, plain, CI="true")[0] == 0
    code, output = _pytest(tmp_path, plain, CI="true", TXLINT_REQUIRE_DB="1")
    assert code == 1 and "no test that needs a real database ran" in output


def test_a_passing_database_test_satisfies_the_requirement(tmp_path):
    files = {"test_db.py": "import pytest\n\n@pytest.mark.needs_db\ndef test_db():\n    pass\n"}
    assert _pytest(tmp_path, files, CI="true", TXLINT_REQUIRE_DB="1")[0] == 0


def _executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


FAKE_PYTHON = '#!/bin/sh\necho "Python {version}" >/dev/null\n[ "$1" = "-c" ] && case "$2" in *ensurepip*) exit 0;; *) echo {short};; esac\n'


def _fake_checkout(tmp_path, test_exit=0):
    """A copy of .ci/run beside a .ci/test that records how it was called, and a fake ~/.pyenv."""
    checkout = tmp_path / "checkout"
    (checkout / ".ci").mkdir(parents=True)
    shutil.copy2(REPOSITORY / ".ci" / "run", checkout / ".ci" / "run")
    _executable(checkout / ".ci" / "test",
                f'#!/bin/sh\necho "$PYTHON $VENV CI=$CI REQUIRE=$TXLINT_REQUIRE_DB $*" >> "{tmp_path}/calls"\n'
                f"exit {test_exit}\n")
    for version in ("3.9.2", "3.9.18", "3.11.7", "3.13.0"):
        short = ".".join(version.split(".")[:2])
        _executable(tmp_path / "home" / ".pyenv" / "versions" / version / "bin" / "python",
                    FAKE_PYTHON.format(version=version, short=short))
    return checkout


def _ci_run(tmp_path, checkout):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home")}
    return subprocess.run(["bash", str(checkout / ".ci" / "run")], capture_output=True, text=True, env=env)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_ci_runs_the_test_script_on_the_oldest_and_newest_python(tmp_path):
    checkout = _fake_checkout(tmp_path)
    completed = _ci_run(tmp_path, checkout)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    versions = tmp_path / "home" / ".pyenv" / "versions"
    assert (tmp_path / "calls").read_text().splitlines() == [
        f"{versions}/3.9.18/bin/python .venv-ci-3.9 CI=true REQUIRE=1 ",
        f"{versions}/3.13.0/bin/python .venv-ci-3.13 CI=true REQUIRE=1 ",
    ]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("status", [1, 5])
def test_ci_fails_when_the_tests_fail_or_find_nothing(tmp_path, status):
    checkout = _fake_checkout(tmp_path, test_exit=status)
    completed = _ci_run(tmp_path, checkout)
    assert completed.returncode == status
    assert len((tmp_path / "calls").read_text().splitlines()) == 1  # it stops at the first failure


def test_ci_scripts_are_executable_and_strict():
    for name in ("run", "test"):
        script = REPOSITORY / ".ci" / name
        assert os.access(script, os.X_OK), script
        assert "set -euo pipefail" in script.read_text()
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_readme_shows_the_test_command_ci_runs():
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    assert "\n.ci/test\n" in readme
    test_script = (REPOSITORY / ".ci" / "test").read_text()
    assert "pip install --quiet -e '.[test]'" in test_script and "-m pytest -rs" in test_script
    assert "PYTHON=\"$interpreter\"" in (REPOSITORY / ".ci" / "run").read_text()
    assert "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/txlint check fixtures/" in readme
