"""Docs are tests: each rule's Example is flagged by that rule, and its Use instead is clean."""

import sys

import pytest

from txlint.config import Config
from txlint.linter import lint_source
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


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_explain_prints_the_rules_docs(rule, txlint):
    code, out, err = txlint("explain", rule.code)
    assert code == 0, err
    assert out.startswith(f"# {rule.code} {rule.name}\n")
    assert rule.docs.strip() in out
    if rule.check is not None:
        assert rule.section_code("Example") in out and rule.section_code("Use instead") in out


def test_every_rule_module_is_registered():
    from helpers import REPOSITORY
    from txlint.rules import RULE_MODULES

    files = sorted(path.stem for path in (REPOSITORY / "rules").glob("*.py") if path.stem != "__init__")
    assert files and sorted(RULE_MODULES) == files
    for module, rule in zip(RULE_MODULES, all_rules()):
        assert module.startswith(rule.code.lower() + "_") and module.endswith(rule.name.replace("-", "_"))


def test_readme_rules_table_matches_the_catalogue(txlint):
    from helpers import REPOSITORY

    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| TXL")]
    code, out, _ = txlint("rules")
    assert code == 0
    listed = [line.split(None, 2) for line in out.splitlines()]
    assert rows == [[rule.code, rule.name, rule.summary] for rule in all_rules()]
    assert [[code_, name, summary.split("  (off unless")[0]] for code_, name, summary in listed] == rows
