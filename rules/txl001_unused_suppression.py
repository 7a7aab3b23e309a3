"""TXL001 unused-suppression: a suppression comment that no longer suppresses anything.

The engine reports it (txlint.linter judges every suppression after the rules ran); the fix
lives here.
"""

from typing import TYPE_CHECKING

from txlint.fixes import lines_with_ends
from txlint.rule import Rule
from txlint.suppressions import without_code

if TYPE_CHECKING:
    from txlint.fixes.editing import FunctionEdit


def fix(edit: "FunctionEdit") -> bool:
    """Remove the unused code from the suppression comment on the line, or the whole comment
    when it suppresses nothing else (a text edit of that line: comments are not statements)."""
    line = edit.plan.lines[0]
    lines = lines_with_ends(edit.text)
    if not 0 < line <= len(lines):
        return False
    changed = without_code(lines[line - 1], edit.plan.detail("code"))
    if changed is None:
        return False
    lines[line - 1] = changed
    edit.replaced_text = "".join(lines)
    return True


RULE = Rule(
    code="TXL001",
    name="unused-suppression",
    summary="A `# txlint: ignore[...]` or `# noqa: TXL...` comment that suppresses nothing",
    fix=fix,
    docs="""\
## What it does
Reports a `# txlint: ignore[CODE]` comment, or a `# noqa: TXL...` comment, on a line where that
code no longer reports anything — the hazard was fixed, or the code moved. Only codes of rules
that ran are judged, and `# noqa` comments for other tools (`# noqa: E501`, a bare `# noqa`) are
never reported.

## Why is this bad?
Stale suppressions pile up silently and hide the next real finding on that line.

## Example
```python
def total(order):
    return order.total  # txlint: ignore[TXL101]
```

## Use instead
```python
def total(order):
    return order.total
```

## Fix
Safe: the unused code is removed from the comment, and the comment with it when it names
nothing else (`# noqa: E501, TXL101` keeps `# noqa: E501`; a reason after `--` goes with its
comment).
""",
)
