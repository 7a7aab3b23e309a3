"""Inline suppressions on the reported line."""

import pytest

from examples import MULTI_TABLE

from txlint.engine import lint_source

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
    assert [finding.code for finding in lint_source(source)] == ["TXL101"]


def test_a_finding_spanning_lines_is_suppressed_on_its_first_line():
    source = MULTI_TABLE.replace(REPORTED_LINE, "    Invoice.objects.create(  # noqa: TXL101\n        order=order,\n    )")
    assert lint_source(source) == []
    source = MULTI_TABLE.replace(REPORTED_LINE, "    Invoice.objects.create(\n        order=order,  # noqa: TXL101\n    )")
    assert [finding.line for finding in lint_source(source)] == [14]
