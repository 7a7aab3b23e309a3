"""TXL401 snapshot-write-outside-materializer: derived snapshot tables written directly."""

from typing import Iterable

from txlint.rule import Report, Rule, RuleContext, is_snapshot, report_at


def check(context: RuleContext) -> Iterable[Report]:
    config = context.config
    if not config.snapshots or context.is_migration() or context.path_matches(config.materializers):
        return
    if context.project.runs_in_materializer(context.unit):
        return
    reported = set()
    for effect in context.effects:
        if effect.kind != "write" or not context.direct(effect) or id(effect.site) in reported:
            continue
        if not is_snapshot(effect, context.project) or context.project.in_materializer_scope(context.unit, effect.site):
            continue
        reported.add(id(effect.site))
        yield report_at(
            effect.site,
            f"writes the snapshot {effect.spec.table} outside a materializer: snapshots are derived "
            f"data; write the commands they are built from, or move this into a materializer module "
            f"({', '.join(config.materializers) or 'none configured'}) or under `txlint.runtime.materializer`",
        )


RULE = Rule(
    code="TXL401",
    name="snapshot-write-outside-materializer",
    summary="A write to a configured snapshot model or table outside a materializer",
    check=check,
    docs="""\
## What it does
`snapshots` names models (class names of Django, SQLAlchemy, peewee or Tortoise models) or
tables (`__tablename__`, Django `db_table` or its default `app_model`, raw SQL targets). Any write
to one of them outside the `materializers` modules, outside a function decorated with
`txlint.runtime.materializer` and outside a `with materializer():` block is a finding. Reads are
fine. Off when `snapshots` is not configured.

## Why is this bad?
A snapshot is derived from the commands that are the source of truth. Writing it directly makes
it disagree with them, and the next rebuild silently throws the write away.

## Example
```python
# [tool.txlint] snapshots = ["ScriptVersion"]
from django.db import models


class ScriptVersion(models.Model):
    body = models.TextField()


def save_edit(version, body):
    ScriptVersion.objects.filter(pk=version).update(body=body)
```

## Use instead
```python
# [tool.txlint] snapshots = ["ScriptVersion"]
from django.db import models

from txlint.runtime import materializer


class ScriptVersion(models.Model):
    body = models.TextField()


@materializer
def rebuild_version(version, body):
    ScriptVersion.objects.filter(pk=version).update(body=body)
```
At run time, `txlint.runtime.guard_snapshots` enforces the same rule.

## Fix
None: the write belongs in a materializer, which only the project can say which.
""",
)
