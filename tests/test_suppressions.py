"""Inline suppressions on the reported line."""

import pytest

from examples import MULTI_TABLE

from txlint.linter import lint_source

REPORTED_LINE = "    Invoice.objects.create(order=order)"


@pytest.mark.parametrize("comment", [
    "# txlint: ignore[TXL101]",
    "# txlint: ignore[TXL101] -- the caller wraps this in atomic",
    "# txlint: ignore[TXL1]",
    "# txlint: ignore",
    "# noqa: TXL101",
    "# noqa:TXL101,E501",
    "# noqa",
])
def test_suppressed(comment):
    source = MULTI_TABLE.replace(REPORTED_LINE, f"{REPORTED_LINE}  {comment}")
    assert lint_source(source) == []


@pytest.mark.parametrize("comment", ["# txlint: ignore[TXL102]", "# noqa: E501", "# just a comment"])
def test_other_codes_do_not_suppress(comment):
    source = MULTI_TABLE.replace(REPORTED_LINE, f"{REPORTED_LINE}  {comment}")
    assert [finding.code for finding in lint_source(source) if finding.code != "TXL001"] == ["TXL101"]


def test_a_finding_spanning_lines_is_suppressed_on_its_first_line():
    source = MULTI_TABLE.replace(REPORTED_LINE, "    Invoice.objects.create(  # noqa: TXL101\n        order=order,\n    )")
    assert lint_source(source) == []
    source = MULTI_TABLE.replace(REPORTED_LINE, "    Invoice.objects.create(\n        order=order,  # noqa: TXL101\n    )")
    assert [(f.code, f.line) for f in lint_source(source)] == [("TXL101", 14), ("TXL001", 15)]


def _codes_at(source, config=None):
    return sorted((finding.code, finding.line) for finding in lint_source(source, config=config))


def test_a_suppression_that_suppresses_nothing_is_reported():
    source = MULTI_TABLE.replace("    return order", "    return order  # txlint: ignore[TXL101]")
    assert _codes_at(source) == [("TXL001", 15), ("TXL101", 14)]
    source = MULTI_TABLE.replace("    return order", "    return order  # noqa: TXL102")
    assert ("TXL001", 15) in _codes_at(source)


@pytest.mark.parametrize("comment", ["# noqa: E501", "# noqa", "# type: ignore"])
def test_other_tools_comments_are_never_reported_unused(comment):
    source = MULTI_TABLE.replace("    return order", f"    return order  {comment}")
    assert _codes_at(source) == [("TXL101", 14)]


def test_suppressions_of_rules_that_did_not_run_are_not_judged():
    from txlint.config import Config

    source = MULTI_TABLE.replace("    return order", "    return order  # txlint: ignore[TXL102]")
    assert _codes_at(source, Config(ignore=("TXL102",))) == [("TXL101", 14)]


def test_require_reason():
    from txlint.config import Config

    config = Config(require_reason=True)
    without = MULTI_TABLE.replace(REPORTED_LINE, f"{REPORTED_LINE}  # txlint: ignore[TXL101]")
    assert _codes_at(without, config) == [("TXL002", 14)]
    noqa = MULTI_TABLE.replace(REPORTED_LINE, f"{REPORTED_LINE}  # noqa: TXL101")
    assert _codes_at(noqa, config) == [("TXL002", 14)]
    with_reason = MULTI_TABLE.replace(REPORTED_LINE, f"{REPORTED_LINE}  # txlint: ignore[TXL101] -- caller is atomic")
    assert _codes_at(with_reason, config) == []
    assert _codes_at(without) == []


@pytest.mark.parametrize("comment", ["# TXLINT: IGNORE[txl101]", "#noqa:TXL101", "# NOQA", "# txlint: ignore[TXL101 ]"])
def test_spelling_variants(comment):
    source = MULTI_TABLE.replace(REPORTED_LINE, f"{REPORTED_LINE}  {comment}")
    assert lint_source(source) == []


def test_several_codes_in_one_comment():
    source = MULTI_TABLE.replace(REPORTED_LINE, f"{REPORTED_LINE}  # txlint: ignore[TXL102, TXL101]")
    # TXL101 is suppressed; the part for TXL102 suppresses nothing and says so.
    assert [(f.code, f.line, "TXL102" in f.message) for f in lint_source(source)] == [("TXL001", 14, True)]


def test_a_suppression_on_another_line_does_not_suppress():
    source = MULTI_TABLE.replace("    order = Order.objects.create(total=total)",
                                 "    order = Order.objects.create(total=total)  # txlint: ignore[TXL101]")
    assert [(f.code, f.line) for f in lint_source(source)] == [("TXL001", 13), ("TXL101", 14)]


def test_a_suppression_inside_a_string_is_not_a_comment():
    source = MULTI_TABLE.replace(REPORTED_LINE, '    Invoice.objects.create(order=order, note="# noqa: TXL101")')
    assert [f.code for f in lint_source(source)] == ["TXL101"]


def test_the_text_summary_counts_suppressed_findings(txlint, tree):
    source = MULTI_TABLE.replace(REPORTED_LINE, f"{REPORTED_LINE}  # txlint: ignore[TXL101] -- caller is atomic")
    root = tree({"app/services.py": source})
    code, out, _ = txlint("check", cwd=root)
    assert code == 0 and out.strip() == "0 findings in 1 file checked, 1 suppressed"
