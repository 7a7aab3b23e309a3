"""TXL101 multi-table-write: related writes to several tables that commit one by one."""

from typing import TYPE_CHECKING, Iterable, List, Optional, Tuple

from txlint.write_calls import only_deletes
from txlint.idempotence import converges
from txlint.model_effects import handles_an_error_inside
from txlint.rule import (Report, Rule, RuleContext, is_autocommit_write, known_table, report_at,
                         unless_in_transaction, where)
from txlint.values import IMPLICIT

if TYPE_CHECKING:
    from txlint.fixes.editing import FunctionEdit


@unless_in_transaction
def check(context: RuleContext) -> Iterable[Report]:
    writes: List[Tuple[object, object]] = []  # (the transaction it commits in, write), in order
    by_commits = False  # some of them committed by the commits of a loop's iteration (not autocommit)
    effects = context.effects
    for index, effect in enumerate(effects):
        if not known_table(effect) or effect.site.context.deferred:
            continue
        if is_autocommit_write(effect):
            writes.append((_commits_with(context, effect, len(writes)), effect))
            continue
        commit = _committed_in_its_iteration(context, effects, index)
        if commit is not None:
            writes.append((("commit", commit), effect))
            by_commits = True
    links = context.links()
    # The unit of work: writes linked by evidence (evidence.py), joined pair by pair; the first
    # pair of two tables that commit apart is where it breaks.
    unit, first_break = [], None
    for index, (transaction, effect) in enumerate(writes):
        for earlier_transaction, earlier in writes[:index]:
            if earlier_transaction == transaction or earlier.spec.table == effect.spec.table:
                continue
            if earlier.site is effect.site:
                continue  # both inside one helper call: the helper reports its own
            if links.same_object(earlier, effect):
                continue  # the row the first write made, saved again: one table, whatever its class says
            if _after_work_done(earlier_transaction, earlier, transaction, effect):
                continue
            if not context.in_sequence(earlier, effect):
                continue
            if not links.related(earlier, effect):
                continue
            if first_break is None:
                first_break, unit = effect, [earlier, effect]
            elif earlier in unit and effect not in unit:
                unit.append(effect)
    if first_break is None or (only_deletes(unit) and not links.deletes_of_one_thing(unit)):
        return
    if converges(context, unit, [effect for _, effect in writes]):
        return  # written to be run again (rows ensured, values set): the next run completes it
    firsts = [effect for index, effect in enumerate(unit)
              if all(other.spec.table != effect.spec.table for other in unit[:index])]
    named = ", ".join(where(effect) for effect in firsts[:-1]) + f" and {where(firsts[-1])}"
    library = first_break.spec.library
    lines = sorted(effect.site.range[0] for effect in unit)
    if by_commits and not all(is_autocommit_write(effect) for effect in unit):
        yield report_at(
            first_break.site,
            f"writes to {named} are committed one by one in each iteration of the loop, so a failure "
            f"between them leaves {firsts[0].spec.table} changed without {firsts[-1].spec.table}: "
            f"flush instead of committing between them (also in the helpers that commit), and commit "
            f"once after the last write",
        )
        return
    yield report_at(
        first_break.site,
        f"writes to {named} commit separately ({context.autocommit_regime(library)}), so a failure "
        f"between them leaves {firsts[0].spec.table} changed without {firsts[-1].spec.table}: "
        f"{context.fix_for(library)}",
        context.transaction_plan(library, (lines[0], lines[-1]), decorate=True, through=first_break),
    )


def fix(edit: "FunctionEdit") -> bool:
    """Decorate the function with the library's transaction, or wrap the related writes in it."""
    return edit.open_transaction()


def _after_work_done(first_transaction, first, second_transaction, second) -> bool:
    """One write in a transaction block and the other made by a helper outside it: the block is
    the unit of work, and the helper (sending the mail, logging it) runs after it on purpose."""
    first_in_block, second_in_block = first_transaction[0] == "scope", second_transaction[0] == "scope"
    return (first_in_block and not second_in_block and bool(second.via)) or \
        (second_in_block and not first_in_block and bool(first.via))


def _committed_in_its_iteration(context: RuleContext, effects: list, index: int) -> Optional[int]:
    """For a write of a library whose writes wait for a commit (a SQLAlchemy session) made in a
    loop's body: the index of the first commit after it in the same iteration, made by the
    function or by a helper (`database.create(cert)`: `session.add(cert)`, then
    `session.commit()`). Each iteration is a unit of work, and writes in it that different commits
    commit are committed one by one, as autocommit writes are. (Outside loops, TXL103 reports the
    commit between the writes.)"""
    effect = effects[index]
    loops = effect.site.context.loops
    if effect.kind != "write" or effect.spec.regime != IMPLICIT or effect.in_scope or not loops \
            or context.in_handler(effect.site.context) or handles_an_error_inside(effect) \
            or context.site_in_scope(effect.site):
        return None
    for later in range(index + 1, len(effects)):
        other = effects[later]
        if other.kind != "commit" or other.spec.library != effect.spec.library or not context.main_path_commit(other) \
                or handles_an_error_inside(other) or not context.in_sequence(effect, other):
            continue
        return later if other.site.context.loops[:len(loops)] == loops else None
    return None


def _commits_with(context: RuleContext, effect, position: int) -> object:
    """What the write commits with: the transaction block of this function around it, the helper's
    own transaction, or nothing (it commits alone)."""
    scope = context.opening_scope(effect.site)
    if scope is not None:
        return ("scope", scope)
    if effect.in_scope:
        return ("helper", id(effect.site)) if effect.via else ("begin",)
    return ("alone", position)


RULE = Rule(
    code="TXL101",
    name="multi-table-write",
    summary="Writes to two or more tables that no single transaction encloses",
    check=check,
    fix=fix,
    docs="""\
## What it does
Finds a function that writes to two or more tables or models, in a library that commits every
statement on its own (Django, peewee, Tortoise, asyncpg, autocommit connections), when no single
transaction encloses the writes. Writes made by the project's own helpers count where the helper
is called, and those of the receivers of a project's Django signal where it is sent
(`order_placed.send(sender=order)`); a function that only ever runs inside a transaction (decorated, called only from
transactions, a migration, an `ATOMIC_REQUESTS` view) is not a finding. A method call on a
receiver txlint cannot type (`new_event = serializer.save()`, then `new_event.copy_data_from(...)`)
is taken to reach the project's method of that name when only one class defines it and the name
has several words (not `save` or `run`, which library objects have too). A model's own method
that no call is seen to reach runs in a transaction when every call of a method of that name on a
receiver txlint cannot type is made in one (`self.object.anonymize()` inside `atomic`); not the
methods Django itself calls (`save()`, `delete()`, `clean()`). Flags count: a helper's
write under `if commit:` is not made by a call passing `commit=False`, and a call made under
`if do_restore:` runs in a transaction when every call that passes the flag does.

Only writes that belong together count: the second uses the row the first made (the object, its
key, `cursor.lastrowid`), or the object the first saved (`order.save()`, then rows made for it or
looked up by it; a form made with `instance=order` saves `order`), or a method that changes the
object it is called on and writes rows built from it, then that object saved (`thread.move(archive)`,
whose signal moves the thread's posts, then `thread.save()`), or one amount written to both (a transfer's `amount`, not a key a write only finds its rows by: `filter(pk=job.pk)`); rows of one thing
deleted with others of it made or changed (a parent and its children, a replacement). Models
merely tied by a foreign key, two updates that share a key (a counter kept in step), unrelated
writes, cleanups that delete by a threshold or purge the rows that belong to an object kept (its
fees, its check-ins: a re-run finishes the job), a write in the `except` handler of the block
that made the other (the record of a failed attempt), a later write that ensures its row on demand (`get_or_create`, or made when a
lookup found nothing: code that needs the row makes it when it is missing; or the first write
under a check that it is missing, `if not page.has_translation(language):` or `if not
....exists():`), a row ensured first
(`get_or_create`, a many-to-many `add()`) and a later write made on every run (a retry finds the
row and makes the second; not one made only `if created:`), an instance saved only when new
(`if not answer.pk: answer.save()`) and a later write made whatever the test found (run again,
the row is found saved), a later write in a `try` whose
`except` handler deletes the row made before it (compensation), writes that ensure rows (`get_or_create`,
`update_or_create`) and otherwise only set values or delete (code written to be run again, which
the next run completes), a log entry beside the work it records, the mail or
notice a helper sends about it (`send_*`, `mail`, `notify_*`, or any helper whose write is made
inside one of those) and what a helper called to look a
row up (`get_*`, `find_*`) writes on the way are not a unit of work; nor is a follow-up made only
when a lookup finds the row it is given, the code carrying on without it otherwise (`if user:
mail.to_users.add(user)` after `.first()`, or after `except Unit.DoesNotExist: return False`):
best effort, its absence a state the code itself leaves. A write
inside a transaction block and a related one outside it (or in a second block) commit apart too.
In a loop over a SQLAlchemy session, where writes wait for a commit, each iteration is the unit of
work: writes to several tables in it that separate commits commit (the function's own, or those of
helpers that commit inside, such as a repository's `create(model)` and `update(model)`) commit
one by one as well; outside loops, TXL103 reports the commit between such writes. An attribute
changed on a loaded object (`cert.resolved = True`, `setattr(cert, key, value)`) is a write of its
row; a change to the row an earlier write made or changed is its status kept up to date, no half
of a unit of work.
One finding per function, at the first write that splits the work, naming every table involved.

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

## Fix
Django: the function is decorated with `@transaction.atomic` (module code, generators: the
writes, from the first to the last, are wrapped in `with transaction.atomic():`); peewee: with
`@db.atomic()`, where `db` is the one database the module names (no fix when it names none or
several); Tortoise: the writes are wrapped in `async with in_transaction():`; a DB-API
connection in autocommit mode: in `async with conn.transaction():` (asyncpg), `with
conn.transaction():` (psycopg 3), `with conn:` (psycopg2) or `with txlint.runtime.atomic(conn):`
(sqlite3), when the writes go through a connection the function names. The import is added
once, or the name the file already imports is used (`from django.db.transaction import atomic`
gives `@atomic`). Safe when the function has no `try`/`except` that swallows an
error (a caught failure would now undo the writes before it, or go on inside a broken
transaction) and makes no commit, rollback or `close()` of its own; unsafe otherwise. No fix for
the other drivers (aiosqlite, PyMySQL), for writes through a cursor or a helper, for Django
writes in an `async def`, nor in a function that writes or deletes
files (a transaction around them is TXL301's hazard: order the file work first).
""",
)
