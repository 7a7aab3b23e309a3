"""Fixes as before/after case files: each tests/fix_cases/NAME/before.py, linted as a project of its
own, fixed with every fix (unsafe ones too), is exactly after.py; with CRLF line breaks too. The
fix of a rule's docs *Example* is its *Use instead*."""

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPOSITORY
from txlint.linter import lint_source
from txlint.fixes import apply_fixes, fixes_for_text
from txlint.rules import all_rules

CASES = sorted(path for path in (Path(__file__).parent / "fix_cases").iterdir() if path.is_dir())
# Fixes that must be safe (True) or unsafe (False), by case: the rest are not asserted.
SAFETY = {"txl101_decorator": True, "txl101_swallowing_try": False, "txl102_wrap_loop": True,
          "txl102_commit_after_loop": False, "txl103_flush": False, "txl001_codes": True,
          "txl301_delete_after_commit": False, "txl301_write_text": False, "txl101_peewee": True,
          "txl301_sqlalchemy_stage_file": False, "txl301_sqlalchemy_delete": False,
          "txl301_sqlalchemy_session_block": False, "txl301_sqlite3_stage_file": False,
          "txl301_sqlite3_autocommit_delete": False}


def _fixed(text: str, path: str = "app/example.py"):
    findings = lint_source(text, path)
    fixes = fixes_for_text(findings, text, path)
    fixed, applied = apply_fixes(text, fixes)
    return fixed, applied


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.name)
def test_case_is_fixed_into_its_after_file(case):
    before, after = _read(case / "before.py"), _read(case / "after.py")
    fixed, applied = _fixed(before)
    assert fixed == after
    if case.name in SAFETY:
        assert applied and {fix.safe for fix in applied} == {SAFETY[case.name]}
    assert _fixed(fixed)[1] == [] or fixed == after  # fixing the fixed text changes nothing more
    assert _fixed(fixed)[0] == fixed


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.name)
def test_case_with_crlf_line_breaks_keeps_them(case):
    before, after = _read(case / "before.py"), _read(case / "after.py")
    fixed, _ = _fixed(before.replace("\n", "\r\n"))
    assert fixed == after.replace("\n", "\r\n")


def test_no_fix_is_offered_where_none_is_mechanical():
    case = Path(__file__).parent / "fix_cases" / "txl102_session_per_row"
    text = _read(case / "before.py")
    findings = lint_source(text, "app/example.py")
    assert [finding.code for finding in findings] == ["TXL102"]
    assert fixes_for_text(findings, text, "app/example.py") == []


def test_edits_change_only_the_lines_they_name():
    text = _read(Path(__file__).parent / "fix_cases" / "txl101_decorator" / "before.py")
    (fix,) = fixes_for_text(lint_source(text, "app/example.py"), text)
    lines = text.splitlines(keepends=True)
    for edit in fix.edits:
        assert edit.start_column == 0 and edit.end_column == 0
    assert [(edit.start_line, edit.end_line) for edit in fix.edits] == [(3, 4), (16, 16)]
    assert fix.edits[0].new_text == "from django.db import models, transaction\n"
    assert fix.edits[1].new_text == "@transaction.atomic\n" and lines[14] == "@login_required\n"
    assert apply_fixes(text, [fix])[0] == fix.new_text


def test_a_fix_for_other_text_is_not_applied_twice():
    text = _read(Path(__file__).parent / "fix_cases" / "txl001_codes" / "before.py")
    fixes = fixes_for_text(lint_source(text, "app/example.py"), text)
    assert len(fixes) == 3
    fixed, applied = apply_fixes(text, fixes + fixes)
    assert applied == fixes and fixed == _read(Path(__file__).parent / "fix_cases" / "txl001_codes" / "after.py")


FIXED_RULES = [rule for rule in all_rules() if rule.fix is not None]


@pytest.mark.parametrize("rule", FIXED_RULES, ids=lambda rule: rule.code)
def test_the_docs_example_fixed_is_the_use_instead(rule):
    example = rule.section_code("Example")
    fixed, applied = _fixed(example)
    assert [fix.code for fix in applied] == [rule.code]
    assert fixed == rule.section_code("Use instead")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_every_rule_documents_its_fix(rule, txlint):
    assert "\n## Fix\n" in rule.docs
    code, out, _ = txlint("explain", rule.code)
    assert code == 0 and "## Fix\n" in out


def _modules_after(code: str) -> set:
    program = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=REPOSITORY)
    assert completed.returncode in (0, 1), completed.stderr
    return set(completed.stdout.split())


def test_check_without_fix_imports_no_libcst():
    modules = _modules_after("from txlint.cli import main\nmain(['check', '--no-cache', 'fixtures/django_shop'])")
    assert "txlint.engine" in modules  # it did check
    assert not any(name == "libcst" or name.startswith("libcst.") for name in modules)


def test_runtime_imports_no_libcst():
    modules = _modules_after("import txlint.runtime")
    assert not any(name == "libcst" or name.startswith(("libcst.", "txlint.fixes")) for name in modules)


def test_fix_imports_libcst():
    modules = _modules_after("from txlint.cli import main\nmain(['check', '--no-cache', '--show-fixes', "
                             "'fixtures/django_shop'])")
    assert "libcst" in modules


def test_a_fix_that_fails_is_not_offered_and_nothing_crashes():
    from dataclasses import replace

    text = _read(Path(__file__).parent / "fix_cases" / "txl101_decorator" / "before.py")
    findings = lint_source(text, "app/example.py")

    def broken(edit):
        raise ValueError("a shape the fix did not foresee")

    rules = [replace(rule, fix=broken) if rule.code == "TXL101" else rule for rule in all_rules()]
    assert fixes_for_text(findings, text, rules=rules) == []
    assert fixes_for_text(findings, "def (:\n", rules=rules) == []  # text libcst cannot parse


def _planned(code: str, action: str, lines, function_line: int):
    from txlint.findings import Finding, FixPlan
    from txlint.frameworks.django import DjangoKnowledge
    from txlint.rule import idiom_details

    plan = FixPlan(True, "test", action, function_line, lines, idiom_details(DjangoKnowledge.transaction_idiom))
    return Finding(code, "", "app/example.py", lines[0], 1, lines[0], 1, "app.example.job", "", fix=plan)


ALREADY_FIXED = '''\
from django.db import transaction


@transaction.atomic
def job(rows):
    with transaction.atomic():
        for row in rows:
            row.save()
'''


def test_code_already_in_that_transaction_is_not_wrapped_or_decorated_again():
    """A finding that a fix's transaction does not silence has another cause: fixing it again
    would nest the same block once per run."""
    wrap = _planned("TXL102", "wrap", (7, 7), 5)
    decorate = _planned("TXL101", "decorate", (7, 8), 5)
    assert fixes_for_text([wrap, decorate], ALREADY_FIXED) == []
    inner = _planned("TXL102", "wrap", (8, 8), 5)  # the loop's body alone is not all of the block
    (fix,) = fixes_for_text([inner], ALREADY_FIXED)
    assert "    for row in rows:\n            with transaction.atomic():\n                row.save()\n" in fix.new_text
