"""Auditable suppressions: TXL001 unused-suppression and TXL002 suppression-without-reason,
produced by the engine; `# noqa` comments that belong to other tools are never txlint's."""

import pytest

from examples import MULTI_TABLE
from txlint.config import Config
from txlint.linter import lint_source
from txlint.rules import all_rules, rules_by_code

REPORTED = "    Invoice.objects.create(order=order)"


def _codes(source, **settings):
    return sorted((finding.line, finding.code) for finding in lint_source(source, "app/services.py",
                                                                          config=Config(**settings)))


def _on_reported_line(comment):
    return MULTI_TABLE.replace(REPORTED, f"{REPORTED}  {comment}")


def test_a_used_suppression_is_quiet_and_an_unused_one_is_reported():
    assert _codes(_on_reported_line("# txlint: ignore[TXL101] -- the caller is atomic")) == []
    assert _codes(_on_reported_line("# noqa: TXL101")) == []
    stale = MULTI_TABLE.replace("    return order", "    return order  # txlint: ignore[TXL101]")
    assert _codes(stale) == [(14, "TXL101"), (15, "TXL001")]
    assert _codes(_on_reported_line("# txlint: ignore[TXL102]")) == [(14, "TXL001"), (14, "TXL101")]
    assert _codes(_on_reported_line("# noqa: E501, TXL102")) == [(14, "TXL001"), (14, "TXL101")]


@pytest.mark.parametrize("comment", ["# noqa", "# noqa: E501", "# noqa:E501,W291", "# NOQA: F401",
                                     "# type: ignore  # noqa: E501"])
def test_noqa_for_other_tools_is_never_reported(comment):
    source = f"import os  {comment}\nx = 1  {comment}\n"
    assert _codes(source) == []
    assert _codes(source, require_reason=True) == []


def test_suppression_text_inside_strings_is_not_a_suppression():
    source = 'DOC = """\nwrite it as  # txlint: ignore[TXL101]\n"""\nHELP = "# noqa: TXL102"\n'
    assert _codes(source, require_reason=True) == []


def test_require_reason():
    bare = _on_reported_line("# txlint: ignore[TXL101]")
    assert _codes(bare) == []
    assert _codes(bare, require_reason=True) == [(14, "TXL002")]
    assert _codes(_on_reported_line("# noqa: TXL101"), require_reason=True) == [(14, "TXL002")]
    assert _codes(_on_reported_line("# txlint: ignore[TXL101] -- reviewed"), require_reason=True) == []


def test_require_reason_from_pyproject(txlint, tree):
    root = tree({"pyproject.toml": "[tool.txlint]\nrequire-reason = true\n",
                 "app/services.py": _on_reported_line("# txlint: ignore[TXL101]")})
    code, out, _ = txlint("check", cwd=root)
    assert code == 1 and "app/services.py:14:1: TXL002" in out
    (root / "pyproject.toml").write_text('[tool.txlint]\nrequire-reason = "yes"\n')
    code, _, err = txlint("check", cwd=root)
    assert code == 2 and "require-reason" in err and "Traceback" not in err


def test_only_rules_that_ran_judge_their_suppressions():
    suppressed = _on_reported_line("# txlint: ignore[TXL101]")
    # TXL101 did not run (ignored, not selected, or off for this path): its suppression is not judged.
    assert _codes(suppressed, ignore=("TXL101",)) == []
    assert _codes(suppressed, select=("TXL102", "TXL001")) == []
    assert _codes(suppressed, per_file_ignores=(("app/**", ("TXL101",)),)) == []
    # A bare `# txlint: ignore` is judged only when every rule ran.
    stale_bare = MULTI_TABLE.replace("    return order", "    return order  # txlint: ignore")
    assert (15, "TXL001") in _codes(stale_bare)
    assert _codes(stale_bare, ignore=("TXL101",)) == []
    # TXL001 itself can be turned off.
    stale = MULTI_TABLE.replace("    return order", "    return order  # txlint: ignore[TXL101]")
    assert _codes(stale, ignore=("TXL001",)) == [(14, "TXL101")]


@pytest.mark.parametrize("code", ["TXL001", "TXL002"])
def test_engine_rules_docs_are_tests(code):
    rule = rules_by_code()[code]
    assert rule.check is None  # produced by the engine, not by a per-function check
    settings = {}
    example, fixed = rule.section_code("Example"), rule.section_code("Use instead")
    if example.startswith("# [tool.txlint] require-reason = true"):
        settings["require_reason"] = True
    assert code in {finding.code for finding in lint_source(example, config=Config(**settings))}
    assert code not in {finding.code for finding in lint_source(fixed, config=Config(**settings))}
    assert rule in all_rules()


def test_an_unused_noqa_of_ours_is_reported_by_the_command(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE.replace("    return order", "    return order  # noqa: TXL101")})
    code, out, _ = txlint("check", cwd=root)
    assert code == 1 and "app/services.py:15:1: TXL001" in out
