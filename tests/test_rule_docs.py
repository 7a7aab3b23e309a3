"""Docs are tests: each rule's Example is flagged by that rule, and its Use instead is clean."""

import sys

import pytest

from txlint.config import Config
from txlint.engine import lint_source
from txlint.rules import all_rules

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def _lint(code):
    """Lint a docs example; a first line `# [tool.txlint] key = value` configures the run."""
    settings = {}
    first = code.splitlines()[0] if code else ""
    if first.startswith("# [tool.txlint]"):
        settings = {key.replace("-", "_"): value
                    for key, value in tomllib.loads(first[len("# [tool.txlint]"):].strip()).items()}
        settings = {key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()}
    return lint_source(code, "app/example.py", config=Config(**settings))

CHECKED_RULES = [rule for rule in all_rules() if rule.check is not None]


@pytest.mark.parametrize("rule", CHECKED_RULES, ids=lambda rule: rule.code)
def test_example_is_flagged(rule):
    example = rule.section_code("Example")
    assert example, f"{rule.code} has no python Example"
    assert rule.code in {finding.code for finding in _lint(example)}


@pytest.mark.parametrize("rule", CHECKED_RULES, ids=lambda rule: rule.code)
def test_use_instead_is_clean(rule):
    fixed = rule.section_code("Use instead")
    assert fixed, f"{rule.code} has no python Use instead"
    assert [f for f in _lint(fixed) if f.code == rule.code] == []


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_docs_have_every_section(rule):
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in rule.docs, (rule.code, heading)
