"""TXL202 write-outside-repository: a database write outside the repository modules."""

from typing import Iterable

from txlint.rule import Report, Rule, RuleContext, is_snapshot, report_at



def check(context: RuleContext) -> Iterable[Report]:
    config = context.config
    if not config.repositories or context.is_migration() or context.path_matches(config.repositories):
        return
    in_materializer = context.path_matches(config.materializers)
    reported = set()
    for effect in context.effects:
        if effect.kind != "write" or not context.direct(effect) or id(effect.site) in reported:
            continue
        if in_materializer and is_snapshot(effect, context.project):
            continue  # materializers may write the snapshots they build
        reported.add(id(effect.site))
        target = effect.spec.table if effect.spec.table not in ("", "?") else "the database"
        yield report_at(
            effect.site,
            f"writes {target} outside the repository modules: move the write into a repository "
            f"({', '.join(config.repositories)}) and call that instead",
        )


RULE = Rule(
    code="TXL202",
    name="write-outside-repository",
    summary="A database write outside the repository modules (when `repositories` is configured)",
    check=check,
    docs="""\
## What it does
When `repositories` is configured, finds every database write — ORM or SQL — made outside the
repository modules. Modules listed in `materializers` may write the snapshot tables they build.
Off when `repositories` is not configured.

## Why is this bad?
A team that decided "all writes go through repositories" relies on it: transactions, invariants
and audit logging live there. A write from a view or a script skips all of them.

## Example
```python
# [tool.txlint] repositories = ["app/repositories/**"]
from django.db import models


class Order(models.Model):
    status = models.CharField(max_length=20)


def cancel(order_id):
    Order.objects.filter(pk=order_id).update(status="cancelled")
```

## Use instead
```python
# [tool.txlint] repositories = ["app/repositories/**"]
from app.repositories.orders import cancel_order


def cancel(order_id):
    cancel_order(order_id)
```

## Fix
None: which repository function the write belongs in is a design decision.
""",
)
