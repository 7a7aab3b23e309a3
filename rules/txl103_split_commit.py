"""TXL103 split-commit: a commit between writes that belong together (evidence.py says when they do)."""

from typing import TYPE_CHECKING, Iterable, List, Optional

from txlint.dataflow import LOOKUP_PREFIXES, is_lookup_call
from txlint.write_calls import only_deletes
from txlint.findings import FixPlan
from txlint.model_effects import handles_an_error_inside
from txlint.rule import Report, Rule, RuleContext, report_at, unless_in_transaction
from txlint.values import IMPLICIT

if TYPE_CHECKING:
    from txlint.fixes.editing import FunctionEdit
    from txlint.project import Effect


def _main_path_writes(context: RuleContext, effects: List["Effect"]) -> List[int]:
    return [
        index for index, effect in enumerate(effects)
        if effect.kind == "write" and effect.spec.regime == IMPLICIT and not effect.in_scope
        and not context.in_handler(effect.site.context) and not handles_an_error_inside(effect)
        and not context.site_in_scope(effect.site)
    ]


@unless_in_transaction
def check(context: RuleContext) -> Iterable[Report]:
    effects = [effect for effect in context.effects if not effect.site.context.deferred]
    writes = _main_path_writes(context, effects)
    links = context.links()
    for index, commit in enumerate(effects):
        if not context.main_path_commit(commit):
            continue
        if commit.site.context.loops:
            continue  # per-row commits are TXL102's
        if _gets_or_creates(commit) or _joins_a_given_connection(context, commit):
            continue
        if context.never_returns(commit.via):
            continue  # committed by a helper that then raises (`kill()` recording the end, then stopping)
        before = [effects[i] for i in writes if i < index and _related(context, effects[i], commit)]
        after = [effects[i] for i in writes if i > index and _related(context, commit, effects[i])]
        # A row committed with its status set, which the function sets again when the work is
        # done, is published early on purpose (a query shown as running, a job as pending).
        before = [first for first in before if not links.publishes_status(first)]
        pairs = [(first, second) for first in before for second in after
                 if context.in_sequence(first, second)
                 and not (first.site is commit.site is second.site) and links.related(first, second)]
        involved = [pair[index] for pair in pairs for index in (0, 1)]
        if not pairs or (only_deletes(involved) and not links.deletes_of_one_thing(involved)):
            continue
        if _made_when_not_found_by_every_caller(context):
            return  # what it committed before a failure is found by the next run, which takes the other way
        first, second = pairs[0]
        via = f" (inside {commit.via.rsplit('.', 1)[-1]}())" if commit.via else ""
        yield report_at(
            commit.site,
            f"commit{via} between the write to {_name(first)} at line {first.site.range[0]} and the write to "
            f"{_name(second)} at line {second.site.range[0]}: if the later write fails, the earlier one "
            f"stays committed; commit once after both (or use one `with session.begin():` block)",
            _one_commit(context, commit, effects[effects.index(second) + 1:]),
        )
        return  # one finding per unit of work: the first commit that splits it


def _one_commit(context: RuleContext, commit: "Effect", later: List["Effect"]) -> Optional[FixPlan]:
    """Take out the commit (a session flushes instead, so new rows keep their keys), when the
    function itself commits after the later write; a commit made by a helper is not touched."""
    if commit.via or not any(effect.kind == "commit" and effect.spec.library == commit.spec.library
                             for effect in later):
        return None
    line, method = commit.site.range[0], ""
    called = commit.site.ref[1]
    if called[0] == "attr":
        value = context.project.evaluate(called[1], context.unit)
        if value is not None and value.kind == "handle":
            method = context.project.registry.commit_replacement(commit.spec.library, value.name)
    title = f"replace the commit on line {line} with `{method}()`" if method else f"remove the commit on line {line}"
    return FixPlan(safe=False, title=title, action="remove-commit", function_line=context.function_line(),
                   lines=(line,), details=(("method", method),))


def fix(edit: "FunctionEdit") -> bool:
    """Remove the commit between the writes, or make it the session's flush."""
    statement = edit.statement_at(edit.plan.lines[0])
    call = edit.lone_call(statement)
    if call is None or edit.method_name(call) != "commit":
        return False
    method = edit.plan.detail("method")
    if not method:
        edit.replace(statement, [])
        return True
    edit.replace(statement, [edit.renamed_call(statement, method)])
    return True


def _gets_or_creates(commit: "Effect") -> bool:
    """A commit inside a helper that gets a row or makes it (`get_tag`, `get_or_create_run`,
    `ensure_user`), however deep down the helpers it calls: the shared row it commits is complete
    on its own, and a retry finds it. The same for a get-or-create spelled out (`role =
    get_by_name(n)`, then `if not role: role = create(n)`)."""
    return commit.found_or_made or any(helper.rsplit(".", 1)[-1].lstrip("_").startswith(_GETTERS) for helper in commit.helpers)


def _made_when_not_found_by_every_caller(context: RuleContext) -> bool:
    """Is every call of the function made when a lookup found nothing (under `if not exists:`, or
    in the `else` of `if exists:`, where `exists, _ = find_cert(certificate)`)? It makes the row
    the lookup missed, as a sync does: the next run finds what it committed and goes the other
    way (updating, linking), so a failure after its first commit is completed there."""
    sites = context.project.call_sites_of(context.unit)
    return bool(sites) and all(any(_tests_not_found(caller, block, arm) for block, arm in event.context.branches)
                               for caller, event in sites)


def _tests_not_found(caller, block: int, arm: str) -> bool:
    flag = caller.facts.flag_ifs.get(block)
    if flag is None or (arm == "body") != flag[1]:
        return False
    return any(_is_lookup(ref) for ref in caller.facts.bindings.get(flag[0], ()))


def _is_lookup(ref) -> bool:
    while isinstance(ref, tuple) and ref and ref[0] == "unpack":
        ref = ref[1]
    return is_lookup_call(ref, (*LOOKUP_PREFIXES, "exists"))


def _joins_a_given_connection(context: RuleContext, commit: "Effect") -> bool:
    """The session committed was made on a connection the function was given (`Session(bind=connection)`
    in a mapper event listener): it joins that connection's transaction, and SQLAlchemy 2.0 does not
    commit a transaction it joined (`join_transaction_mode`), so its commit is not one."""
    bindings = context.unit.facts.bindings
    names = {commit.receiver.split(".", 1)[0]} if commit.receiver and not commit.via else \
        {argument[1] for argument in commit.site.ref[2] if argument[0] == "name"}
    for name in names:
        session = context.project.evaluate(("name", name), context.unit)
        if session is None or session.kind != "handle" or session.name != "session":
            continue
        for ref in bindings.get(name, ()):
            while ref[0] == "enter":
                ref = ref[1]
            if ref[0] != "call":
                continue
            bind = dict(ref[3]).get("bind")
            if bind is not None and bind[0] == "name" and any(
                    given[0] == "param" for given in bindings.get(bind[1], ())):
                return True
    return False


_GETTERS = ("get_", "ensure_")


def _related(context: RuleContext, first: "Effect", second: "Effect") -> bool:
    """Writes and commits of one library on one path through the function.

    The handle is not compared: a cursor commits through its connection, and a helper commits
    the session it was given under another name.
    """
    return first.spec.library == second.spec.library and context.in_sequence(first, second)


def _name(effect: "Effect") -> str:
    return effect.spec.table if effect.spec.table not in ("", "?") else "the database"


RULE = Rule(
    code="TXL103",
    name="split-commit",
    summary="A commit between writes that belong together, so a failure after it leaves half committed",
    check=check,
    fix=fix,
    docs="""\
## What it does
Finds a `commit()` between two writes of the same function on the same session or connection,
in libraries where writes are atomic up to the next commit (SQLAlchemy sessions and
connections, DB-API drivers such as sqlite3, psycopg2, psycopg 3 and PyMySQL). Commits made by
helper functions count where the helper is called.

The two writes must belong together, as TXL101 decides it: the second uses the row the first
made or the object it saved, or one amount is written to both. Models merely tied by a foreign
key are not enough, and cleanups that only delete rows are not reported. Not a split either: the
commit of a helper that gets or makes a shared row (`get_tag(...)`, `ensure_user(...)`, however
deep down the helpers it calls; or spelled out, `role = get_by_name(name)` and then `if role is
None: role = create(Role(name=name))`: the row is complete on its own and a retry finds it), and the commit of a session made on a connection the
function was given (`Session(bind=connection)` in a mapper event listener joins the flush's
transaction, which SQLAlchemy 2.0 does not commit from the joined session), nor a commit in a
function every caller calls only when a lookup found nothing (`if not exists:
certificate_create(...)`: the next run finds the row it committed and takes the other way). Writes
that TXL101 does not count as one unit (a later write in a `try` whose handler deletes the row made
before it) are no split here either, nor a commit that publishes a status: the row committed was
made with its status or state set (`Query(status="running")`, or a helper given
`status=RUNNING`), and the function sets that field again when the work is done (`query.status =
"success"`), so the early commit lets other processes see the work running. One finding per
function, at the first commit that splits its work.

## Why is this bad?
Everything before the commit is permanent; if the write after it fails, the database keeps the
first half of the change: a parent row without its children, a status flipped without the work
it stands for.

## Example
```python
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine("sqlite://")


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)


class Membership(Base):
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


def open_account():
    with Session(engine) as session:
        account = Account()
        session.add(account)
        session.commit()
        session.add(Membership(account_id=account.id))
        session.commit()
```

## Use instead
```python
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine("sqlite://")


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)


class Membership(Base):
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


def open_account():
    with Session(engine) as session:
        account = Account()
        session.add(account)
        session.flush()
        session.add(Membership(account_id=account.id))
        session.commit()
```
`flush()` sends the INSERT (and gives the new row its id) without committing; or run both
writes in one `with session.begin():` block.

## Fix
Unsafe: the commit between the writes is taken out, so that the one commit after the last
write commits both (or neither). On a SQLAlchemy session it becomes `flush()`, which sends the
writes and gives new rows their keys without committing; on a connection or a DB-API driver it
is removed. Offered only when the function itself commits after the later write, and not for a
commit made inside a helper. Unsafe because what the first commit made durable early (for other
connections to see, or to survive a later failure) now waits for the last one.
""",
)
