"""TXL001 unused-suppression: a suppression comment that no longer suppresses anything."""

from txlint.rule import Rule

RULE = Rule(
    code="TXL001",
    name="unused-suppression",
    summary="A `# txlint: ignore[...]` or `# noqa: TXL...` comment that suppresses nothing",
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
""",
)
