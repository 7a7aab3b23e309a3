"""`txlint check --fix --unsafe-fixes` on every fixture project and on three real applications
from PyPI: every changed file compiles, the fixed findings are gone on a re-run and no new one
appears, a second --fix changes nothing, and the lines outside the edits are unchanged (an edit
stays inside a reported function, or adds an import). CI runs this on 3.9 and 3.13, so the
fixed files are compiled by both."""

import ast
import difflib
import json
import py_compile
import re
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from helpers import REPOSITORY, run_txlint

FIXTURES = sorted(path for path in (REPOSITORY / "fixtures").iterdir()
                  if path.is_dir() and not path.name.startswith("."))
APPLICATIONS = {"django-oscar": "3.2.6", "ckan": "2.11.3", "misago": "0.39.6"}
FIXED_APPLICATIONS = {"django-oscar", "misago"}  # ckan's findings (SQLAlchemy, in helpers) have no mechanical fix
_SUMMARY = re.compile(r"txlint: fixed (\d+) findings? \((\d+) safe, (\d+) unsafe\)")


def _findings(project: Path) -> list:
    code, out, err = run_txlint("check", "--format", "json", "--no-cache", ".", cwd=project)
    assert code in (0, 1), err
    return json.loads(out)["findings"]


def _files(project: Path) -> dict:
    return {path.relative_to(project).as_posix(): path.read_bytes() for path in project.rglob("*.py")}


def _fix(project: Path):
    code, out, err = run_txlint("check", "--fix", "--unsafe-fixes", "--no-cache", ".", cwd=project)
    assert code in (0, 1), err
    assert "Traceback" not in err
    match = _SUMMARY.search(err)
    assert match, err
    return tuple(int(number) for number in match.groups())


def _allowed_lines(text: str, lines: list) -> set:
    """The lines an edit may touch: the reported functions (decorators included), and the
    module's top-level imports."""
    tree = ast.parse(text)
    allowed = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            allowed.update(range(node.lineno, node.end_lineno + 1))
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for line in lines:
        around = [node for node in functions if node.lineno <= line <= node.end_lineno]
        if not around:
            return set(range(1, len(text.splitlines()) + 2))  # module-level code: the module is the function
        inner = max(around, key=lambda node: node.lineno)
        start = min([inner.lineno, *(decorator.lineno for decorator in inner.decorator_list)])
        allowed.update(range(start, inner.end_lineno + 1))
    return allowed


def _check_fix(project: Path) -> dict:
    before = _findings(project)
    originals = _files(project)
    fixed, safe, unsafe = _fix(project)
    after = _findings(project)
    changed = {path: data for path, data in _files(project).items() if originals.get(path) != data}
    assert bool(changed) == bool(fixed)
    for path in changed:
        py_compile.compile(str(project / path), doraise=True, cfile=str(project / ".pyc-check"))
        reported = [finding["line"] for finding in before if finding["path"] == path]
        old_text = originals[path].decode("utf-8")
        allowed = _allowed_lines(old_text, reported)
        old, new = old_text.splitlines(keepends=True), changed[path].decode("utf-8").splitlines(keepends=True)
        for tag, first, last, _, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag != "equal":
                touched = set(range(first + 1, last + 1)) or {first, first + 1}
                assert touched & allowed == touched or (first == last and touched & allowed), (path, first, last)
    key = lambda finding: (finding["path"], finding["code"], finding["function"])  # noqa: E731 - lines move
    assert not Counter(map(key, after)) - Counter(map(key, before)), "a fix made a new finding"
    assert len(before) - len(after) >= fixed
    again = _files(project)
    assert _fix(project)[0] == 0 and _files(project) == again, "a second --fix changed something"
    return {"findings": len(before), "fixed safe": safe, "fixed unsafe": unsafe, "left": len(after)}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda path: path.name)
def test_fixing_a_fixture_project(fixture, tmp_path):
    project = tmp_path / fixture.name
    shutil.copytree(fixture, project)
    counts = _check_fix(project)
    print(fixture.name, counts)


def _in_ci() -> bool:
    import os

    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


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
def test_fixing_a_real_application(applications, name):
    counts = _check_fix(applications[name])
    print(name, counts)
    if name in FIXED_APPLICATIONS:
        assert counts["fixed safe"] + counts["fixed unsafe"] > 0
