"""TXL301 file-db-without-cleanup: a file and rows written in one operation, with nothing to
clean up when the later step fails."""

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable, List, Optional, Set, Tuple

from txlint.dataflow import called_name, flowing_names, followed, names_in
from txlint.fixes.file_cleanup import fix, fix_plan
from txlint.write_calls import is_log, sends_a_message, updates_existing_rows
from txlint.idempotence import inserts
from txlint.rule import Report, Rule, RuleContext, report_at
from txlint.values import IMPLICIT

if TYPE_CHECKING:
    from txlint.project import Effect

_FILE_KINDS = ("file_write", "file_delete")
_TEMPORARY_TABLE = re.compile(r"^(cached|temp|tmp|uploaded)|cache$")
# The helper of the library at hand: Django has its own on_commit; elsewhere txlint.runtime's.
_DEFER = {"django": "`transaction.on_commit(partial(...))`"}
_RUNTIME_DEFER = "`txlint.runtime.on_commit(partial(...))` inside `txlint.runtime.atomic(...)`"


def _defer(write: "Effect") -> str:
    return _DEFER.get(write.spec.library, _RUNTIME_DEFER)


def _fix(write: "Effect") -> str:
    return (f"write the file with `txlint.runtime.stage_file(path, data)` inside `txlint.runtime.atomic(...)`, "
            f"defer it with {_defer(write)}, or delete it in an `except` block that re-raises")


def check(context: RuleContext) -> Iterable[Report]:
    if context.makes_throwaway_data() or context.is_migration():
        return  # a migration's file upkeep runs once, and a re-run completes it
    effects = [effect for effect in context.effects if not effect.site.context.deferred]
    files = [e for e in effects if e.kind in _FILE_KINDS]
    # A log entry or a notice about the work points at no file; a temporary row expires with its file.
    writes = [e for e in effects if e.kind == "write" and not _temporary_row(e) and not is_log(e)
              and not sends_a_message(e)]
    if not files or not writes:
        return
    for file_effect in files:
        for write in writes:
            report = _hazard(context, effects, file_effect, write)
            if report is not None:
                in_transaction = _rollback_can_follow(context, write, file_effect)
                yield replace(report, fix=fix_plan(context, file_effect, write, in_transaction))
                return  # one finding per function: the first orphaning pair


def _temporary_row(write: "Effect") -> bool:
    """A row that stands for a temporary file (a cached download, an upload being staged): it
    expires and is cleaned up with its file, so neither can be orphaned for long."""
    return any(_TEMPORARY_TABLE.search(name.lower()) for name in (write.spec.table, *write.spec.aliases))


def _hazard(context: RuleContext, effects: List["Effect"], file_effect: "Effect", write: "Effect") -> Optional[Report]:
    if file_effect.spec.how in ("tree", "field") or write.site is file_effect.site:
        # Removing a directory tree is scratch space, not a file a row points at; a file field's
        # save() and delete() update their row in the same call, once the file is written or gone.
        return None
    if context.in_handler(file_effect.site.context) or context.in_handler(write.site.context):
        return None  # an except/finally block: the cleanup this rule asks for, not the operation
    facts = context.unit.facts
    own_file = _model_save_override(context) and _of_own_row(context, file_effect, write)
    if not own_file and not (flowing_names(file_effect.site.ref, facts) & flowing_names(write.site.ref, facts)):
        return None  # not linked by data: a report file unrelated to the rows
    file_first = effects.index(file_effect) < effects.index(write)
    first, second = (file_effect, write) if file_first else (write, file_effect)
    if not context.sequential(first.site.context, second.site.context):
        return None
    if file_effect.kind == "file_delete":
        if _of_new_object(context, file_effect):
            return None  # the files of an object this function made: there are none to lose yet
        if file_first and context.is_batch_job():
            return None  # an operator's command that wipes and reloads: running it again repairs it
        if file_first and not _rollback_can_follow(context, write, file_effect):
            return report_at(file_effect.site, (
                f"deletes the file before the write to {_name(write)} at line {write.line}: if that write fails, the "
                f"row still points at a file that is gone; change the row first and delete the file after the "
                f"commit ({_defer(write)})"))
        if _rollback_can_follow(context, write, file_effect):
            return report_at(file_effect.site, (
                f"deletes a file inside a transaction that can still roll back (with the write to {_name(write)} at "
                f"line {write.line}): if it does, the row points at a file that is gone; delete the file after the "
                f"commit ({_defer(write)})"))
        if own_file:
            return report_at(file_effect.site, (
                f"deletes a file after this model's row is written (line {write.line}), inside whatever transaction "
                "the caller of save() runs in (an atomic view, the admin): if it rolls back, the row points at a "
                f"file that is gone; delete the file after the commit ({_defer(write)})"))
        return None
    if own_file and file_first and file_effect.spec.how == "move" and not _moves_new_file(effects, file_effect) and \
            not _cleaned_up(effects, write, ("file_write",)):
        return report_at(file_effect.site, (
            f"moves a file or directory before this model's row is written (line {write.line}): if that write "
            "fails, or the transaction the caller of save() runs in rolls back, the row names the old path, where "
            f"nothing is left; move it after the commit ({_defer(write)}), or move it back in an `except` block "
            "that re-raises"))
    if file_first and file_effect.spec.how == "move" and not (file_effect.via or write.via) and \
            _moves_file_of_row(context, file_effect, write) and not inserts(context, write) and \
            not _moves_new_file(effects, file_effect) and not _cleaned_up(effects, write, ("file_write",)):
        return report_at(file_effect.site, (
            f"moves the file the row names before the write to {_name(write)} at line {write.line}: if that write "
            f"fails, the row names the old path, where nothing is left; write the row first and move the file "
            f"after the commit ({_defer(write)}), or move it back in an `except` block that re-raises"))
    if file_first or file_effect.spec.how == "move":
        # A file no row points at (the write after it failed or rolled back) is an orphan upload that
        # maintainers leave to storage cleanup; renaming a finished file into place is atomic.
        return None
    if write.via or file_effect.via:
        return None  # a helper's row and another's file share arguments, not a path
    if file_effect.spec.how == "unsaved_field" and updates_existing_rows(write) and \
            not _stores_name_given(context, file_effect, write):
        # `doc.file.save(name, content, save=False)` picks the stored name in that call and sets it
        # on the instance only, for the save after it: a row updated before cannot name the file,
        # and it is no new row left without its file (as a row inserted before is).
        return None
    if _durable_before(context, effects, write, file_effect) and \
            not _cleaned_up(effects, file_effect, ("rollback", "write")):
        return report_at(file_effect.site, (
            f"if this file write fails, the row written at line {write.line} ({_name(write)}) is already committed "
            f"and points at a file that was never written: {_fix(write)}"))
    return None


def _durable_before(context: RuleContext, effects: List["Effect"], write: "Effect", later: "Effect") -> bool:
    """Is the write committed by the time `later` runs (autocommit outside a transaction, or a commit between)?"""
    start, end = effects.index(write), effects.index(later)
    if any(effect.kind == "commit" for effect in effects[start + 1:end]):
        return True
    if context.runs_in_transaction():
        return False  # the caller's transaction commits later
    unit = context.unit
    scopes = [with_id for with_id in write.site.context.scopes if context.project._scope_opens(unit, with_id)]
    if scopes:
        return scopes[0] not in later.site.context.scopes  # the outermost transaction has ended
    if write.via and write.in_scope:
        return True  # a helper's own transaction, committed when it returned
    return write.spec.regime != IMPLICIT


def _stores_name_given(context: RuleContext, file_effect: "Effect", write: "Effect") -> bool:
    """Does what the write stores (its arguments; not the fields `update_fields` names) come from
    what the file's name is made of (`filter(pk=pk).update(path=name)`, then
    `doc.file.save(name, ...)`)?"""
    call = file_effect.site.ref
    name = call[2][0] if call[2] else dict(call[3]).get("name")
    if name is None:
        return True
    named: Set[str] = set()
    names_in(name, named)
    stored: Set[str] = set()
    for argument in (*write.site.ref[2], *(value for key, value in write.site.ref[3] if key != "update_fields")):
        names_in(argument, stored)
    facts = context.unit.facts
    return bool(followed(named, facts) & followed(stored, facts))


def _of_new_object(context: RuleContext, file_effect: "Effect") -> bool:
    """Are the files deleted those of an object made earlier in the function (`user =
    User.objects.create_user(...)`, then `delete_avatar(user)`)?"""
    bindings = context.unit.facts.bindings
    return any(_makes_object(context, ref) for name in flowing_names(file_effect.site.ref, context.unit.facts)
               for ref in bindings.get(name, ()))


def _makes_object(context: RuleContext, ref) -> bool:
    """A call that makes a new object: a model's constructor, or a `create...` factory."""
    if not (isinstance(ref, tuple) and ref and ref[0] == "call"):
        return False
    if called_name(ref[1]).startswith(("create", "_create")):
        return True
    value = context.project.evaluate(ref[1], context.unit)
    return value is not None and value.kind == "model"


def _model_save_override(context: RuleContext) -> bool:
    """Is the function a Django model's own save()? Django runs it from every caller, inside the
    caller's transaction when there is one, so it cannot know that its write has committed. (A
    delete() override's files go with a row being deleted: a retry of the delete finishes it.)"""
    facts = context.unit.facts
    if facts.name != "save" or facts.class_qualname not in context.project.classes:
        return False
    owner = context.project.class_value(facts.class_qualname)
    return owner.kind == "model" and owner.library == "django"


def _of_own_row(context: RuleContext, file_effect: "Effect", write: "Effect") -> bool:
    """In a model's save(): is the file one of the instance's own (`self.image`, or
    `self._original_image` kept from before), and the write its own row (`super().save()`)?"""
    facts = context.unit.facts
    used: Set[str] = set()
    names_in(file_effect.site.ref, used, paths=True)
    paths = followed(used, facts, paths=True)
    return "super" in flowing_names(write.site.ref, facts) and any(path.startswith("self.") for path in paths)


def _moves_file_of_row(context: RuleContext, move: "Effect", write: "Effect") -> bool:
    """Is the path moved away built from what the later write changes (`os.rename(doc.path,
    new)`, then `doc.save()`)? Not a file from elsewhere (an upload's temporary path) put in place."""
    func, arguments = move.site.ref[1], move.site.ref[2]
    module_call = func[0] == "name" or (func[0] == "attr" and func[1][0] == "name" and func[1][1] in ("os", "shutil"))
    source = (arguments[0] if arguments else None) if module_call else func[1]
    if source is None:
        return False
    facts = context.unit.facts
    return bool(flowing_names(source, facts) & flowing_names(write.site.ref, facts))


def _moves_new_file(effects: List["Effect"], move: "Effect") -> bool:
    """Is a file written before the move (a temporary file renamed into place)? Then the move
    puts a finished file where the row will point, and takes away no file a row names."""
    return any(effect.kind == "file_write" and effect.spec.how != "move"
               for effect in effects[:effects.index(move)])


def _rollback_can_follow(context: RuleContext, write: "Effect", delete: "Effect") -> bool:
    """A delete inside the same open transaction as a write (a scope, or before an implicit commit)."""
    unit = context.unit
    shared = set(write.site.context.scopes) & set(delete.site.context.scopes)
    if any(context.project._scope_opens(unit, with_id) for with_id in shared):
        return True
    return context.runs_in_transaction()


def _cleaned_up(effects: List["Effect"], later: "Effect", cleanups: Tuple[str, ...]) -> bool:
    """The later step sits in a try whose except/finally undoes the earlier one.

    A file written first is undone by deleting it; a row written first by rolling back or by
    another write (deleting the row).
    """
    try_ids = {try_id for try_id, part in later.site.context.trys if part == "body"}
    if not try_ids:
        return False
    for effect in effects:
        for try_id, part in effect.site.context.trys:
            if try_id in try_ids and part in ("except", "finally") and effect.kind in cleanups:
                return True
    return False


def _name(write: "Effect") -> str:
    table = write.spec.table
    return table if table not in ("", "?") else "the database"


RULE = Rule(
    code="TXL301",
    name="file-db-without-cleanup",
    summary="A file write and database writes in one operation, where a failure of the later step leaves an orphan",
    check=check,
    fix=fix,
    docs="""\
## What it does
Finds a function that writes or deletes a file (or an object in S3 / Google Cloud Storage, a
Django storage file through `default_storage`, `storages[...]` or a file field's `storage`, or a
file a library writes in its own format: `joblib.dump`, `numpy.save`, `torch.save`, a PIL image's
`save`) and database rows that refer to each other — the path flows into the row,
or the row's id into the path — ordered so that a failure leaves a row pointing at a file that
is gone or was never written: a row committed before its file is written, a file deleted before
the write to the row that points at it, or deleted inside a transaction that can still roll back,
or a file the row names renamed before the row is changed (`os.rename(doc.path, new)`, then
`doc.save()`).
A Django model's own `save()` runs inside its caller's transaction when there is one (an atomic
view, the admin): a file of the instance deleted there after its row is written (the old image
replaced by a new one), or a file or directory of it renamed before the row is written (to follow
a new slug), is reported too: a rollback brings the old row back, not the file.
Not a finding: a file left with no row pointing at it (the row's write failed after the upload:
storage cleanup's business, and nothing points at a missing file), cleanup in an
`except`/`finally` block, a file written after the commit or deferred with
`transaction.on_commit`, `txlint.runtime.stage_file`, a rename moved back in an `except` block, a
file just written or an upload's file renamed into place, the files a model's `delete()` removes
with its row (a retry of the delete finishes it), a file field's own `save()` and `delete()`
(they update the row in the same call, unless told `save=False`), rows that exist already
updated before a file field's `save(name, content, save=False)` (the stored name is picked in that
call and set on the instance, for the save after it: no row written before can name it), the files of an object the
function has just made, a management command or script that wipes and reloads (run it again), a
log entry or a mail about the work beside the file, a row that stands for a temporary file (a model named `Cached...`,
`Temp...`, `Uploaded...`: it expires with its file), a migration, and demo or seed data.

## Why is this bad?
Files are not part of the transaction. A crash between the two steps leaves the database and the
file system disagreeing, and nothing notices until a user opens a broken link.

## Example
```python
from django.db import models


class Report(models.Model):
    path = models.CharField(max_length=200)


def save_report(name, body):
    path = f"/srv/reports/{name}.txt"
    report = Report.objects.create(path=path)
    with open(path, "w") as handle:
        handle.write(body)
    return report
```

## Use instead
```python
from django.db import models
from txlint.runtime import atomic, stage_file


class Report(models.Model):
    path = models.CharField(max_length=200)


def save_report(name, body):
    path = f"/srv/reports/{name}.txt"
    with atomic():
        report = Report.objects.create(path=path)
        stage_file(path, body)
    return report
```
The file appears if and only if the row commits.

## Fix
Unsafe. With Django (where `txlint.runtime.atomic()` finds the default database): a file
written with `with open(path, "w") as f: f.write(data)` (or `"wb"`), or with
`Path.write_text`/`write_bytes`, becomes `stage_file(path, data)`, and it and the write are
wrapped in `with atomic():` from `txlint.runtime`; a file deleted before the row is saved, or in
a transaction that can still roll back, is deleted by `transaction.on_commit(partial(...))`
(the arguments are taken when the line runs, as before: a lambda would read them after the
commit), and the delete and the write are wrapped in `with transaction.atomic():` if no
transaction encloses them.

With a SQLAlchemy session or connection, or a sqlite3, psycopg2 or psycopg connection, named by
a plain name of the function (`session`, `conn`): the statements from the write to the file step
are wrapped in `with atomic(session):` from `txlint.runtime`, the file written becomes
`stage_file(path, data)` and the file deleted `on_commit(partial(...))`, and the function's own
commit of that session in the span no longer commits, because the end of the block now does: a
file written after the commit is staged before it, and a file deleted before the write is
wrapped with the write and the commit that follows it. A session's commit inside the block
becomes `session.flush()`, which gives new rows their keys as the commit did (a path named by
the row's id still has it); a commit that ends the block is removed. `atomic(session)` joins a
transaction the session has already begun (a query before it), so the block commits that work
too, as the commit did. A driver connection in autocommit mode (sqlite3 with
`isolation_level=None`, psycopg with `autocommit=True`) has no commit to remove: the block is the
transaction its statements lacked. No fix when the function does not commit the session itself
(nor is it in autocommit mode), commits it in a `try` or under an `if` the write is not under,
commits another one or rolls back in the span, or writes inside `with session.begin():` or a
caller's transaction (atomic would begin or commit a transaction that is not the function's),
nor in `async def`.

Unsafe because the file now appears (or goes) only when the transaction commits. No fix for
other shapes of file code, in loops, or made by helpers.
""",
)
