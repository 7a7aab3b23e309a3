"""Docs are tests: each rule's Example is flagged by that rule, and its Use instead is clean."""

import pytest

from txlint.engine import lint_source
from txlint.rules import all_rules

CHECKED_RULES = [rule for rule in all_rules() if rule.check is not None]


@pytest.mark.parametrize("rule", CHECKED_RULES, ids=lambda rule: rule.code)
def test_example_is_flagged(rule):
    example = rule.section_code("Example")
    assert example, f"{rule.code} has no python Example"
    assert rule.code in {finding.code for finding in lint_source(example, "app/example.py")}


@pytest.mark.parametrize("rule", CHECKED_RULES, ids=lambda rule: rule.code)
def test_use_instead_is_clean(rule):
    fixed = rule.section_code("Use instead")
    assert fixed, f"{rule.code} has no python Use instead"
    assert [f for f in lint_source(fixed, "app/example.py") if f.code == rule.code] == []


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_docs_have_every_section(rule):
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in rule.docs, (rule.code, heading)
