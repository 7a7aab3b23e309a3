"""TXL301 file-db-without-cleanup: a file and rows written in one operation, with nothing to
clean up when the later step fails."""

from typing import Iterable, List, Optional, Tuple

from txlint.dataflow import flowing_names
from txlint.project import Effect
from txlint.rule import Report, Rule, RuleContext, report_at

_FILE_KINDS = ("file_write", "file_delete")


def check(context: RuleContext) -> Iterable[Report]:
    effects = [effect for effect in context.effects if not effect.site.context.deferred]
    files = [e for e in effects if e.kind in _FILE_KINDS]
    writes = [e for e in effects if e.kind == "write"]
    if not files or not writes:
        return
    pair = _orphaning_pair(context, effects, files, writes)
    if pair is None:
        return
    first, second = pair
    if first.kind == "file_delete" or second.kind == "file_delete":
        delete = first if first.kind == "file_delete" else second
        yield report_at(delete.site, (
            f"deletes a file inside a transaction that can still roll back (with the write to {_name(writes)} "
            f"at line {writes[0].line}): if it does, the row points at a file that is gone; delete the file "
            f"after the commit (`transaction.on_commit(...)`, or `Transaction.on_commit` of txlint.runtime.atomic)"))
        return
    if first.kind == "write":
        orphan = f"the row written at line {first.line} ({_name([first])}) is left pointing at a file that was never written"
    else:
        orphan = f"the file written at line {first.line} is left with no row pointing at it"
    yield report_at(second.site, (
        f"if this step fails, {orphan}: write the file with `txlint.runtime.stage_file(path, data)` inside "
        f"`atomic(...)`, defer it with `transaction.on_commit`, or delete the file in an `except` block "
        f"that re-raises"))


def _orphaning_pair(context: RuleContext, effects: List[Effect], files, writes) -> Optional[Tuple[Effect, Effect]]:
    facts = context.unit.facts
    for file_effect in files:
        if file_effect.spec.how == "move" and not _followed_by_write(effects, file_effect):
            continue  # a temporary file renamed into place after the rows are written
        if file_effect.spec.how == "tree":
            continue  # removing a directory tree: scratch space, not a file a row points at
        file_names = flowing_names(file_effect.site.ref, facts)
        for write in writes:
            if write.site is file_effect.site:
                continue
            if not (file_names & flowing_names(write.site.ref, facts)):
                continue  # not linked by data: a report file unrelated to the rows
            if file_effect.kind == "file_delete":
                if _rollback_can_follow(context, write, file_effect):
                    return (write, file_effect) if write.line <= file_effect.line else (file_effect, write)
                continue
            first, second = (write, file_effect) if effects.index(write) < effects.index(file_effect) else (
                file_effect, write)
            if not context.sequential(first.site.context, second.site.context):
                continue
            if _cleaned_up(context, effects, second):
                continue
            return first, second
    return None


def _followed_by_write(effects: List[Effect], move: Effect) -> bool:
    index = effects.index(move)
    return any(effect.kind == "write" for effect in effects[index + 1:])


def _rollback_can_follow(context: RuleContext, write: Effect, delete: Effect) -> bool:
    """A delete inside the same open transaction as a write (a scope, or before an implicit commit)."""
    unit = context.unit
    shared = set(write.site.context.scopes) & set(delete.site.context.scopes)
    if any(context.project._scope_opens(unit, with_id) for with_id in shared):
        return True
    return context.runs_in_transaction()


def _cleaned_up(context: RuleContext, effects: List[Effect], later: Effect) -> bool:
    """The later step sits in a try whose except/finally deletes the file or rolls back."""
    try_ids = {try_id for try_id, part in later.site.context.trys if part == "body"}
    if not try_ids:
        return False
    for effect in effects:
        for try_id, part in effect.site.context.trys:
            if try_id in try_ids and part in ("except", "finally") and effect.kind in ("file_delete", "rollback"):
                return True
    return False


def _name(writes: List[Effect]) -> str:
    table = writes[0].spec.table
    return table if table not in ("", "?") else "the database"


RULE = Rule(
    code="TXL301",
    name="file-db-without-cleanup",
    summary="A file write and database writes in one operation, where a failure of the later step leaves an orphan",
    check=check,
    docs="""\
## What it does
Finds a function that writes a file (or an object in S3 / Google Cloud Storage, or a Django
storage file) and database rows that refer to each other — the path flows into the row, or the
row's id into the path — ordered so that if the later step fails the earlier one is orphaned: a
row pointing at a file that was never written, or a file no row points to. Deleting a file inside
a transaction that can still roll back is the same hazard in reverse. Not a finding: cleanup in an
`except`/`finally` block, a temporary file renamed into place after the rows are written, a file
write deferred with `transaction.on_commit`, or `txlint.runtime.stage_file`.

## Why is this bad?
Files are not part of the transaction. A crash between the two steps leaves the database and the
file system disagreeing, and nothing notices until a user opens a broken link — or the disk fills
with files nobody references.

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

from txlint.runtime import atomic


class Report(models.Model):
    path = models.CharField(max_length=200)


def save_report(name, body):
    path = f"/srv/reports/{name}.txt"
    with atomic() as transaction:
        report = Report.objects.create(path=path)
        transaction.stage_file(path, body)
    return report
```
The file appears if and only if the row commits.
""",
)
