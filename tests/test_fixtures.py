"""Each fixture project is linted as a project of its own; the findings must be exactly the
`# error: CODE` annotations on the lines they describe. `# todo: CODE` marks a known miss: it
must not be reported (when it is, the annotation is promoted to `# error:`).

The fixtures lint the same from any working directory: findings are compared on paths
relative to the fixture's root, whether txlint runs inside the fixture or from elsewhere.
"""

import json
import re
from pathlib import Path

import pytest

from helpers import REPOSITORY, run_txlint

FIXTURES = REPOSITORY / "fixtures"
_ANNOTATION = re.compile(r"#\s*(error|todo):\s*((?:TXL\d{3}(?:\s*,\s*)?)+)")
PROJECTS = sorted(path for path in FIXTURES.iterdir() if path.is_dir() and not path.name.startswith("."))


def _annotations(project):
    expected, known_misses = set(), set()
    for path in sorted(project.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _ANNOTATION.search(line)
            if match:
                codes = {code.strip() for code in match.group(2).split(",") if code.strip()}
                target = expected if match.group(1) == "error" else known_misses
                target.update((path.relative_to(project).as_posix(), number, code) for code in codes)
    return expected, known_misses


def _findings(project: Path, cwd: Path, target: str):
    """Lint `target` (the project, as seen from `cwd`); findings keyed on project-relative paths."""
    options = ["--config", str(project / "pyproject.toml")] if (project / "pyproject.toml").exists() else []
    code, out, err = run_txlint("check", "--format", "json", "--no-cache", *options, target, cwd=cwd)
    assert code in (0, 1), err
    reported = set()
    for finding in json.loads(out)["findings"]:
        path = (cwd / finding["path"]).resolve().relative_to(project.resolve()).as_posix()
        reported.add((path, finding["line"], finding["code"]))
    return reported


def _describe(findings):
    return "\n".join(f"  {path}:{line}: {code}" for path, line, code in sorted(findings))


@pytest.mark.parametrize("project", PROJECTS, ids=lambda path: path.name)
def test_fixture_findings_match_annotations(project):
    reported = _findings(project, project, ".")
    expected, known_misses = _annotations(project)
    assert expected, f"{project.name} has no positive examples"
    promoted = reported & known_misses
    assert not promoted, f"now reported, promote `# todo:` to `# error:`:\n{_describe(promoted)}"
    unexpected, missed = reported - expected, expected - reported
    assert not unexpected and not missed, (
        f"false positives (reported, not annotated):\n{_describe(unexpected) or '  none'}\n"
        f"misses (annotated `# error:`, not reported):\n{_describe(missed) or '  none'}")


@pytest.mark.parametrize("project", PROJECTS, ids=lambda path: path.name)
def test_fixture_findings_do_not_depend_on_the_working_directory(project, tmp_path):
    inside = _findings(project, project, ".")
    from_repository = _findings(project, REPOSITORY, project.relative_to(REPOSITORY).as_posix())
    from_elsewhere = _findings(project, tmp_path, str(project))
    assert from_repository == inside
    assert from_elsewhere == inside


def test_every_library_has_a_fixture():
    assert {path.name for path in PROJECTS} >= {
        "django_shop", "sqlalchemy_app", "dbapi_scripts", "peewee_app", "tortoise_app"}


def test_annotations_are_on_code_lines():
    """An annotation on a comment-only or blank line describes nothing."""
    for project in PROJECTS:
        for path in project.rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if _ANNOTATION.search(line):
                    assert not line.lstrip().startswith("#"), f"{path}:{number}: annotation without code"
