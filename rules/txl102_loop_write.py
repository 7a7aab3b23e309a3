"""TXL102 loop-write: one commit per row inside a loop."""

from typing import TYPE_CHECKING, Iterable, List, Set

from txlint.dataflow import names_passed_whole
from txlint.write_calls import deleted_in_handler, only_deletes
from txlint.idempotence import inserts, not_idempotent
from txlint.findings import FixPlan
from txlint.loop_children import children_written_one_by_one
from txlint.rule import Report, Rule, RuleContext, is_autocommit_write, report_at, unless_in_transaction

if TYPE_CHECKING:
    from txlint.fixes.editing import FunctionEdit
    from txlint.project import Effect


@unless_in_transaction
def check(context: RuleContext) -> Iterable[Report]:
    effects = [effect for effect in context.effects if not effect.site.context.deferred]
    if not context.is_batch_job():
        yield from children_written_one_by_one(context, effects, _handled_per_item)
        return
    reported: Set[int] = set()
    for effect in effects:
        loops = effect.site.context.loops
        if not loops or loops[0] in reported:
            continue
        if _repeats_until_stopped(context, loops[-1]):
            continue  # repeated until a condition (a daemon's main loop, a batch per pass): not row by row
        if _autocommit_row_write(context, effect):
            in_loop = [other for other in effects if other.site.context.loops[:1] == loops[:1]
                       and is_autocommit_write(other)]
            if only_deletes(in_loop):
                continue  # a cleanup row by row: a re-run deletes what is left
            if not context.is_named_job() and not any(not_idempotent(context, other) for other in in_loop):
                continue  # values set in some command or script: a re-run sets them again
            if _handled_per_item(context, effect):
                continue  # each item succeeds or fails on its own, by design
            if _stores_files(context, loops[0], effects):
                continue  # each row stored with its file: one transaction would leave files no row names
            if _resumes(context, loops[0], in_loop):
                continue  # each row looked up before it is added: a re-run skips the rows done
            if _undone_by_every_caller(context):
                return  # each caller deletes the object the rows belong to when the function fails
            reported.add(loops[0])
            yield report_at(
                effect.site,
                f"writes {effect.spec.table or 'a row'} once per iteration of the loop at line "
                f"{context.loop_line(loops[0])}, and each write commits on its own, so a failure part-way "
                f"leaves the rows before it committed: {context.fix_for(effect.spec.library, 'the loop')}, "
                f"or write the rows in one bulk call{_runner_hint(context)}",
                context.transaction_plan(effect.spec.library, (context.loop_line(loops[0]),) * 2, decorate=False,
                                         through=effect),
            )
            return  # one finding per function: the first loop that splits its work
        elif _commit_per_iteration(context, effect, effects):
            in_loop = [other for other in effects if other.site.context.loops[:1] == loops[:1] and other.kind == "write"]
            if only_deletes(in_loop):
                continue  # pruning in batches, each committed so that progress is kept
            if not context.is_named_job() and not any(not_idempotent(context, other) for other in in_loop):
                continue
            reported.add(loops[0])
            via = f" (inside {effect.via.rsplit('.', 1)[-1]}())" if effect.via else ""
            yield report_at(
                effect.site,
                f"commits once per iteration of the loop at line {context.loop_line(loops[0])}{via}, so a "
                f"failure part-way leaves the rows before it committed: commit once after the loop (or in "
                f"batches every N rows), or run each row in its own `begin()` block with a rollback on error"
                f"{_runner_hint(context)}",
                None if effect.via else _commit_after_loop(context, effect, context.loop_line(loops[0])),
            )
            return


def _undone_by_every_caller(context: RuleContext) -> bool:
    """Is every call of the function made in the body of a `try` whose `except` handler deletes an
    object the call passes (`create_css(theme_dir, theme, items)` under `try:`, then `except
    Exception: theme.delete()`)? The caller undoes the rows made for it: deliberate compensation."""
    project = context.project
    sites = project.call_sites_of(context.unit)
    if not sites:
        return False
    for caller, event in sites:
        passed = names_passed_whole(event.ref)
        blocks = {block for block, part in event.context.trys if part == "body"}
        if not (passed and blocks and deleted_in_handler(project.effects(caller), blocks, passed)):
            return False
    return True


def _commit_after_loop(context: RuleContext, commit: "Effect", loop_line: int) -> FixPlan:
    line = commit.site.range[0]
    return FixPlan(safe=False, title=f"move the commit on line {line} after the loop at line {loop_line}",
                   action="move-commit", function_line=context.function_line(), lines=(line, loop_line))


def fix(edit: "FunctionEdit") -> bool:
    """Wrap the loop in one transaction, or move its per-row commit after it."""
    if edit.plan.action != "move-commit":
        return edit.open_transaction()
    commit_line, loop_line = edit.plan.lines
    commit, loop = edit.statement_at(commit_line), edit.statement_at(loop_line)
    call = edit.lone_call(commit)
    if call is None or loop is None or edit.block_of(loop) is None:
        return False
    root = edit.root_name(call)
    if root is None or root in edit.bound_in(loop):
        return False  # a handle made per row: after the loop it would be the last row's only
    edit.replace(commit, [])
    edit.insert_after(loop, commit.with_changes(leading_lines=()))
    return True


def _runner_hint(context: RuleContext) -> str:
    """For a management command or a script: the runner that commits a backfill batch by batch."""
    unit = context.unit
    parts = unit.module.module.lower().split(".")
    if not (unit.facts.is_module or "commands" in parts or "scripts" in parts):
        return ""
    return ("; for a backfill over many rows, `txlint.runtime.backfill` commits it in batches that resume "
            "after a crash, with a dry run and a parity report")


def _repeats_until_stopped(context: RuleContext, loop_id: int) -> bool:
    """A `while` loop, or `for _ in itertools.count()`: a service loop, not one over rows."""
    loop = context.unit.facts.loops[loop_id]
    if loop.kind == "while":
        return True
    iterable = loop.iterable
    if iterable[0] != "call":
        return False
    value = context.project.evaluate(iterable[1], context.unit)
    return value is not None and value.kind == "qname" and value.name in ("itertools.count", "itertools.repeat")


def _handled_per_item(context: RuleContext, effect: "Effect") -> bool:
    """The write sits in a `try` inside the loop whose handler carries on with the next item (a
    fan-out that notifies each watcher, or imports each file, independently)."""
    loops = effect.site.context.loops
    for try_id, part in effect.site.context.trys:
        block = context.unit.facts.trys.get(try_id)
        if part == "body" and block is not None and block.handlers_reraise and \
                not all(block.handlers_reraise) and set(loops) & set(block.loops):
            return True
    return False


def _stores_files(context: RuleContext, loop_id: int, effects: List["Effect"]) -> bool:
    """Does each iteration store a file with its row (a file field's save(), or a Django
    `File`/`ContentFile` made for a file field)? Committing row by row keeps each file with the
    row that names it; a rollback of one transaction around the loop could not remove the files."""
    if any(effect.kind == "file_write" and effect.spec.how == "field" and loop_id in effect.site.context.loops
           for effect in effects):
        return True
    for event in context.unit.facts.events:
        if loop_id in event.context.loops:
            value = context.project.evaluate(event.ref, context.unit)
            if value is not None and value.kind == "fileobj" and value.name == "content":
                return True
    return False


def _resumes(context: RuleContext, loop_id: int, in_loop: List["Effect"]) -> bool:
    """Every row the loop adds is looked up first, in the same iteration, in the table it goes to
    (`if User.objects.filter(username=name).exists(): continue`, or `get()` with the row made on
    `DoesNotExist`): an import that skips what is there, so a re-run resumes where a failure
    stopped it."""
    # A model's save() override runs with the library's own insert (at the same call): its writes
    # are that row's, looked up with it.
    direct_sites = {id(effect.site) for effect in in_loop if not effect.via}
    adding = [effect for effect in in_loop if inserts(context, effect)
              and not (effect.via and id(effect.site) in direct_sites)]
    if not adding or any(effect.via or effect.spec.table in ("", "?") for effect in adding):
        return False
    looked_up = {table for event in context.unit.facts.events
                 if loop_id in event.context.loops and event.range < adding[0].site.range
                 for table in [_table_looked_up(context, event.ref)] if table}
    return all(looked_up & {effect.spec.table, *effect.spec.aliases} for effect in adding)


def _table_looked_up(context: RuleContext, call) -> str:
    """The model's table a query chain ending in a lookup reads (`User.objects.filter(...).exists()`)."""
    func = call[1]
    if func[0] != "attr" or func[2] not in _LOOKUPS:
        return ""
    ref = func[1]
    while ref[0] in ("call", "attr"):
        ref = ref[1][1] if ref[0] == "call" and ref[1][0] == "attr" else ref[1]
        if ref[0] == "name":
            value = context.project.evaluate(ref, context.unit)
            return value.table if value is not None and value.kind == "model" else ""
    return ""


_LOOKUPS = {"exists", "aexists", "get", "aget", "first", "afirst", "one_or_none", "scalar", "count", "acount"}


def _autocommit_row_write(context: RuleContext, effect: "Effect") -> bool:
    if not is_autocommit_write(effect) or effect.in_scope or effect.spec.bulk or effect.spec.idempotent:
        return False  # a batch, or an upsert that a re-run completes without harm
    if effect.via:
        return False  # each item's own operation (`component.push()`, `user.anonymize()`), complete on its own
    return not context.site_in_scope(effect.site)


def _commit_per_iteration(context: RuleContext, commit: "Effect", effects) -> bool:
    if not context.main_path_commit(commit) or context.never_returns(commit.via):
        return False  # (a helper that commits and then raises ends the loop: once, not per iteration)
    loop = commit.site.context.loops[-1]
    if any(branch in context.unit.facts.modulo_ifs for branch, _ in commit.site.context.branches):
        return False  # commits every N rows: deliberate batching
    in_loop = [effect for effect in effects if loop in effect.site.context.loops]
    if not any(effect.kind == "write" for effect in in_loop):
        return False
    if commit.via and all(effect.via for effect in in_loop if effect.kind == "write"):
        return False  # each item handed to helpers that write and commit it: an operation of its own per call
    # A body that commits or rolls back each row in try/except is a deliberate per-row transaction.
    return not any(effect.kind == "rollback" and context.in_handler(effect.site.context) for effect in in_loop)


RULE = Rule(
    code="TXL102",
    name="loop-write",
    summary="Per-row writes in a loop where each iteration commits on its own",
    check=check,
    fix=fix,
    docs="""\
## What it does
Finds a backfill, import or data-migration job (a management command, a script, a `*_jobs`
module, a function named `backfill_*`, `import_*`, `migrate_*`, `sync_*`, `convert_*`,
`transfer_*`; in other commands, scripts and job modules, only a loop that adds rows or changes a
value from itself, which a re-run would apply again) whose loop writes
rows one at a time where every iteration commits on its own: in an autocommit library (Django,
peewee, Tortoise, asyncpg) with no transaction around the loop, or with a `commit()` inside the
loop body (SQLAlchemy, DB-API drivers). A loop in application code (a view saving the few rows
of one form, a scheduler committing each task it hands out, an object copying or moving its
children, derived data recomputed in full: a re-run completes it) is left be: each row is complete on
its own there, and maintainers commit per item on purpose. There, only a loop over the related rows
of an object the function saves before or after it (`user.save()`, then `for entry in
user.entries.filter(...): entry.save()`), each saved on its own, is reported (the object and its
rows are one change, and a failure part-way leaves the object changed with only some of them), and
a loop that adds the rows replacing a set deleted just before it (a user's recovery codes deleted,
then new ones created one by one: a failure leaves the old ones gone and only some of the new). Not a finding: a loop whose
body opens its own transaction per item on purpose (`with transaction.atomic():` inside the
loop, commit plus rollback per item in try/except, or a helper that does both, like SQLAlchemy's
`session_scope()` recipe), a loop that commits every N rows, a `while` loop (a daemon's main
loop, or one that moves a batch of rows per pass), bulk calls (`bulk_create`,
`bulk_update`, `executemany`), and a loop that only deletes rows (a cleanup: running it again
deletes what is left), and a loop whose body catches each item's errors and goes on with the
next (each item succeeds or fails on its own, by design), and a loop that hands each item to an
operation of its own (`component.push()`, `close(order)`, a repository's `create(row)` that adds
and commits it: the helper's writes are that item's work, complete when it returns), and an
import that looks each row up in the table it adds to before adding it (`if
Tag.objects.filter(name=name).exists(): continue`, or `get()` with the row made on
`DoesNotExist`: a re-run skips what is there and resumes). One finding per function, at the
first loop.

## Why is this bad?
A backfill that crashes at row 5,000 of 10,000 leaves half the rows migrated and no record of
which: re-running it may apply the change twice, and rolling back is impossible.

## Example
```python
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine("sqlite://")


def backfill(users):
    with Session(engine) as session:
        for user in users:
            user.email = user.email.lower()
            session.add(user)
            session.commit()
```

## Use instead
```python
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine("sqlite://")


def backfill(users):
    with Session(engine) as session:
        for user in users:
            user.email = user.email.lower()
            session.add(user)
        session.commit()
```
In Django, put `with transaction.atomic():` around the loop or use `bulk_update`. For a backfill
over many rows (a management command, a script), `txlint.runtime.backfill` commits it in batches
that resume after a crash, with a dry run and a parity report; its writer, decorated with
`@batch_writer`, runs inside each batch's transaction (see docs/backfill.md).

## Fix
A loop of autocommit writes is wrapped in one transaction (`with transaction.atomic():` in
Django, `with db.atomic():` in peewee, `async with in_transaction():` in Tortoise, the
connection's transaction for DB-API drivers as in TXL101's fix): safe under the same conditions as TXL101's
(no `try` that swallows errors, no commit or rollback of the function's own), and offered where
TXL101's is; in application code (an object and its rows, a replaced set) the function is
decorated with the transaction instead, as in TXL101's fix. A `commit()` in
the loop body is moved after the loop: unsafe, because it changes the batch semantics (nothing
is committed until the last row is written, and a failure keeps none of the rows; a long job
also holds its transaction, and its locks, to the end). No fix when the commit is made by a
helper, or on a session or connection made anew in the loop.
""",
)
