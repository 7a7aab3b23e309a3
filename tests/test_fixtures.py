"""Each fixture project is linted as a project of its own; the findings must be exactly the
`# error: CODE` annotations on the lines they describe. `# todo: CODE` marks a known miss."""

import json
import re

import pytest

from helpers import REPOSITORY, run_txlint

FIXTURES = REPOSITORY / "fixtures"
_ANNOTATION = re.compile(r"#\s*(error|todo):\s*((?:TXL\d{3}(?:\s*,\s*)?)+)")


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


PROJECTS = sorted(path for path in FIXTURES.iterdir() if path.is_dir())


@pytest.mark.parametrize("project", PROJECTS, ids=lambda path: path.name)
def test_fixture_findings_match_annotations(project):
    code, out, err = run_txlint("check", "--format", "json", "--no-cache", ".", cwd=project)
    assert code in (0, 1), err
    reported = {(f["path"], f["line"], f["code"]) for f in json.loads(out)["findings"]}
    expected, known_misses = _annotations(project)
    assert expected, f"{project.name} has no positive examples"
    assert not (reported & known_misses), f"now found, promote `# todo:` to `# error:`: {reported & known_misses}"
    assert sorted(reported - expected) == [], "unexpected findings (false positives)"
    assert sorted(expected - reported) == [], "expected findings that were not reported"


def test_every_library_has_a_fixture():
    assert {path.name for path in PROJECTS} >= {
        "django_shop", "sqlalchemy_app", "dbapi_scripts", "peewee_app", "tortoise_app"}
