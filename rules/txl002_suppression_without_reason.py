"""TXL002 suppression-without-reason: with `require-reason = true`, every suppression says why."""

from txlint.rule import Rule

RULE = Rule(
    code="TXL002",
    name="suppression-without-reason",
    summary="A suppression without `-- reason` when `require-reason = true`",
    docs="""\
## What it does
With `require-reason = true` in `[tool.txlint]`, reports a txlint suppression that gives no
reason: `# txlint: ignore[TXL101]` without `-- ...`, or `# noqa: TXL101` (which has no place for
one).

## Why is this bad?
A suppression is a decision someone made about data integrity. Without the reason, the next
reader cannot tell whether it still holds.

## Example
```python
# [tool.txlint] require-reason = true
Invoice.objects.create(order=order)  # txlint: ignore[TXL101]
```

## Use instead
```python
# [tool.txlint] require-reason = true
Invoice.objects.create(order=order)  # txlint: ignore[TXL101] -- the caller holds transaction.atomic()
```

## Fix
None: only the author knows why the finding is safe to ignore.
""",
)
