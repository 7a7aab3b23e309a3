"""TXL101 multi-table-write: writes to several tables that commit one by one."""

from typing import Dict, Iterable, List

from txlint.rule import (Report, Rule, RuleContext, fix_for, is_autocommit_write, known_table, report_at,
                         unless_in_transaction, where)


@unless_in_transaction
def check(context: RuleContext) -> Iterable[Report]:
    groups: Dict[object, List] = {}  # unit of work -> its writes; each commits on its own
    ordered = []
    for effect in context.effects:
        if not is_autocommit_write(effect) or not known_table(effect) or effect.site.context.deferred:
            continue
        if context.site_in_scope(effect.site) or (effect.in_scope and not effect.via):
            continue  # inside a transaction this function opens (a scope, or a raw BEGIN)
        # Writes inside one helper's own transaction commit together; the others one by one.
        key = ("helper", id(effect.site)) if effect.in_scope else ("write", len(ordered))
        groups.setdefault(key, []).append(effect)
        ordered.append((key, effect))
    for index, (key, effect) in enumerate(ordered):
        for earlier_key, earlier in ordered[:index]:
            if earlier_key == key or earlier.site is effect.site:
                continue
            if earlier.spec.table == effect.spec.table:
                continue
            if not context.sequential(earlier.site.context, effect.site.context):
                continue
            library = effect.spec.library
            yield report_at(
                effect.site,
                f"writes to {where(earlier)} and {where(effect)} commit separately ({_regime(library)}), "
                f"so a failure between them leaves {earlier.spec.table} changed without {effect.spec.table}: "
                f"{fix_for(library)}",
            )
            return


def _regime(library: str) -> str:
    return {"django": "Django autocommit", "peewee": "peewee autocommit", "tortoise": "Tortoise autocommit",
            "dbapi": "autocommit connection", "sqlalchemy": "AUTOCOMMIT engine"}.get(library, "autocommit")


RULE = Rule(
    code="TXL101",
    name="multi-table-write",
    summary="Writes to two or more tables that no single transaction encloses",
    check=check,
    docs="""\
## What it does
Finds a function that writes to two or more tables or models, in a library that commits every
statement on its own (Django, peewee, Tortoise, asyncpg, autocommit connections), when no single
transaction encloses the writes. Writes made by the project's own helpers count where the helper
is called; a function that only ever runs inside a transaction (decorated, called only from
transactions, a migration, an `ATOMIC_REQUESTS` view) is not a finding.

## Why is this bad?
Each write commits as soon as it runs. If the second one fails (a constraint, a timeout, a
deploy killing the worker), the first stays committed: an order without its invoice, a user
without a profile. Nothing rolls it back.

## Example
```python
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


def place_order(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
    return order
```

## Use instead
```python
from django.db import models, transaction


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


@transaction.atomic
def place_order(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
    return order
```
Or `with transaction.atomic():` around the writes, `with db.atomic():` in peewee,
`async with in_transaction():` in Tortoise, or `with txlint.runtime.atomic(...):` anywhere.
""",
)
