"""Every entry point gives, for a file, exactly the findings `txlint check .` gives in it:
`txlint check F`, `flake8 F` and the editor's buffer mode (`flake8 --stdin-display-name F -`)
analyse the project F belongs to and report only F. Checked on every fixture project and on two
real applications from PyPI (Django and SQLAlchemy), on a sample of their files."""

import json
import os
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import REPOSITORY, run_txlint

FIXTURES = sorted(path for path in (REPOSITORY / "fixtures").iterdir() if path.is_dir() and not path.name.startswith("."))
# name -> pinned release: real applications with database code of both kinds.
APPLICATIONS = {"django-oscar": "3.2.6", "ckan": "2.11.3"}
_FLAKE8_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<column>\d+): (?P<code>TXL\d{3}) ")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _txlint_findings(project: Path, target: str) -> dict:
    code, out, err = run_txlint("check", "--format", "json", target, cwd=project)
    assert code in (0, 1), err
    found: dict = {}
    for finding in json.loads(out)["findings"]:
        found.setdefault(finding["path"], set()).add((finding["line"], finding["column"], finding["code"]))
    return found


def _flake8(project: Path, *args, stdin: str = None) -> set:
    completed = subprocess.run([sys.executable, "-m", "flake8", "--select", "TXL", *args], cwd=project,
                               input=stdin, capture_output=True, text=True)
    assert completed.returncode in (0, 1), completed.stdout + completed.stderr
    found = set()
    for line in completed.stdout.splitlines():
        match = _FLAKE8_LINE.match(line)
        assert match, f"not a flake8 diagnostic: {line!r}"
        found.add((int(match["line"]), int(match["column"]), match["code"]))
    return found


def _sample(project: Path, with_findings: set, size: int) -> list:
    """Files with findings first (the ones a wrong project would change), then some without."""
    files = sorted(path.relative_to(project).as_posix() for path in project.rglob("*.py")
                   if "tests" not in path.relative_to(project).parts and not path.name.startswith("test_"))
    chosen = random.Random(12).sample(sorted(with_findings), min(size, len(with_findings)))
    clean = [path for path in files if path not in with_findings]
    return chosen + random.Random(12).sample(clean, min(2, len(clean)))


def _check_entry_points(project: Path, size: int) -> None:
    whole = _txlint_findings(project, ".")
    assert whole, f"{project.name}: no findings to compare"
    for path in _sample(project, set(whole), size):
        expected = whole.get(path, set())
        assert _txlint_findings(project, path).get(path, set()) == expected, f"txlint check {path}"
        assert _flake8(project, path) == expected, f"flake8 {path}"
        text = (project / path).read_text(encoding="utf-8")
        assert _flake8(project, "--stdin-display-name", path, "-", stdin=text) == expected, f"buffer {path}"


@pytest.mark.parametrize("project", FIXTURES, ids=lambda path: path.name)
def test_a_fixture_file_named_alone_gives_its_findings_in_the_whole_run(project):
    _check_entry_points(project, size=4)


@pytest.fixture(scope="module")
def applications(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
               "-d", str(downloads), *(f"{name}=={version}" for name, version in APPLICATIONS.items())]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        if _in_ci():
            pytest.fail(f"cannot download the applications from PyPI: {completed.stderr.strip()}")
        pytest.skip(f"cannot download the applications from PyPI (offline?): {completed.stderr.strip()[-200:]}")
    unpacked = {}
    for wheel in downloads.glob("*.whl"):
        name = wheel.name.split("-")[0].replace("_", "-")
        target = tmp_path_factory.mktemp(name)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
        unpacked[name] = target
    return unpacked


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_a_real_application_file_named_alone_gives_its_findings_in_the_whole_run(applications, name):
    _check_entry_points(applications[name], size=4)
