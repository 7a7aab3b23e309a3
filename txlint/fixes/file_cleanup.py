"""TXL301's fixes (a file and rows with nothing to clean up): what a finding's fix would do,
planned when the rule checks (no libcst), and carrying it out on the reported function when
fixing (through txlint.fixes.editing)."""

from typing import TYPE_CHECKING, Optional

from txlint.findings import FixPlan
from txlint.frameworks import RUNTIME_IDIOM
from txlint.rule import RuleContext, idiom_details
from txlint.values import AUTOCOMMIT

if TYPE_CHECKING:
    from txlint.fixes.editing import FunctionEdit
    from txlint.project import Effect


def fix_plan(context: RuleContext, file_effect: "Effect", write: "Effect", in_transaction: bool) -> Optional[FixPlan]:
    """Delete the file after the commit (the library's on_commit, with the arguments taken now),
    inside a transaction with the write; or stage the file written (txlint.runtime.stage_file)
    inside txlint.runtime.atomic() with the write. Only for a library whose transaction a fix
    can write and whose default database txlint.runtime.atomic() finds, for statements of this
    function itself outside loops. `in_transaction`: the write and a file delete share a
    transaction that is still open (the delete then needs only deferring, not a block around it)."""
    if file_effect.via or write.via or file_effect.site.context.loops or file_effect.spec.how == "move":
        return None  # a move is undone by moving it back, which a fix cannot write
    idiom = context.project.registry.transaction_idiom(write.spec.library)
    if idiom is None:
        return _runtime_plan(context, file_effect, write)
    if idiom.asynchronous:
        return None
    lines = sorted((file_effect.line, write.line))
    if file_effect.kind == "file_delete":
        if not idiom.on_commit:
            return None
        wrapped = None if in_transaction else context.transaction_plan(
            write.spec.library, tuple(lines), decorate=False, around_files=True)
        if not in_transaction and wrapped is None:
            return None
        return FixPlan(safe=False, title=f"delete the file after the commit ({idiom.on_commit.format(idiom.name)})",
                       action="defer-delete", function_line=context.function_line(), lines=(file_effect.line, *lines),
                       details=idiom_details(idiom) + (("wrap", "" if in_transaction else "yes"),))
    if not idiom.runtime_default or file_effect.kind != "file_write":
        return None
    return FixPlan(safe=False, title="write the file with stage_file() inside txlint.runtime's atomic()",
                   action="stage-file", function_line=context.function_line(), lines=(file_effect.line, *lines),
                   details=idiom_details(RUNTIME_IDIOM))


def _runtime_plan(context: RuleContext, file_effect: "Effect", write: "Effect") -> Optional[FixPlan]:
    """For a SQLAlchemy session or connection, or a sqlite3/psycopg connection, named by a plain
    name (`session`, `conn`): `with txlint.runtime.atomic(session):` from the write to the file
    step, the file deleted by txlint.runtime's `on_commit(partial(...))` or written by
    `stage_file(path, data)`. The function's own commits of that target in the span are removed
    (a session's made its flush, which gives new rows their keys as the commit did), since
    atomic's end now commits: a file written after the commit is staged before it, and a
    file deleted before the write waits for the commit that follows the write (the span runs to
    it). A driver connection in autocommit mode has no commit to remove: the block is the
    transaction its statements lacked. No fix inside a transaction opened elsewhere (atomic would
    join it and commit it), nor with another commit, a rollback, or a commit on another path."""
    target = write.receiver
    role = _runtime_target(context, target) if target.isidentifier() else None
    if role is None or context.unit.facts.is_async or context.runs_in_transaction() or \
            context.opening_scope(write.site) is not None or context.opening_scope(file_effect.site) is not None:
        return None
    effects = context.effects
    commits = [effect for effect in effects if effect.kind == "commit" and effect.line > write.line]
    # SQLAlchemy's AUTOCOMMIT isolation level is not this: atomic refuses such an engine.
    autocommit = write.spec.regime == AUTOCOMMIT and write.spec.library == "dbapi"
    first_line = min(file_effect.line, write.line)
    if file_effect.kind == "file_delete":
        if file_effect.line > write.line or not (commits or autocommit):
            return None
        last_line = write.line if autocommit else commits[0].line
        action, title = "runtime-defer-delete", f"delete the file after the commit (atomic({target}) and on_commit)"
    elif file_effect.kind == "file_write" and file_effect.line > write.line:
        last_line = file_effect.line
        action, title = "runtime-stage-file", f"write the file with stage_file() inside atomic({target})"
    else:
        return None
    spanned = [effect for effect in effects if first_line <= effect.line <= last_line]
    removed = [effect for effect in spanned if effect.kind == "commit"]
    if not (removed or autocommit) or not all(_movable(effect, write) for effect in spanned):
        return None
    return FixPlan(safe=False, title=title, action=action, function_line=context.function_line(),
                   lines=(file_effect.line, first_line, last_line),
                   details=(("target", target), ("commits", ",".join(str(effect.line) for effect in removed)),
                            ("method", context.project.registry.commit_replacement(write.spec.library, role))))


def _movable(effect: "Effect", write: "Effect") -> bool:
    """Can `effect` go inside the block on the write's target? Not a rollback, a helper's work,
    or a commit of another target, or one that may not run where the write does (under an `if`
    the write is not under, in a `try`): the block's end would commit where that did not."""
    if effect.kind == "rollback" or effect.via or effect.site.context.deferred:
        return False
    return effect.kind != "commit" or (effect.receiver == write.receiver and not effect.site.context.trys and
                                       effect.site.context.branches == write.site.context.branches)


def _runtime_target(context: RuleContext, name: str) -> Optional[str]:
    """The role of `name` ("session", "connection") if it is a target txlint.runtime.atomic
    opens a transaction on synchronously; None if not."""
    value = context.project.evaluate(("name", name), context.unit)
    if value is None or value.kind != "handle":
        return None
    if value.library == "sqlalchemy" and value.name in ("session", "connection"):
        return value.name
    if value.library == "dbapi" and value.name == "connection" and value.flags[:1] in (
            ("sqlite3",), ("psycopg2",), ("psycopg",)):
        return value.name
    return None


def fix(edit: "FunctionEdit") -> bool:
    """The file deleted after the commit, or staged with the rows (see fix_plan)."""
    plan = edit.plan
    statement = edit.statement_at(plan.lines[0])
    if statement is None:
        return False
    if plan.detail("target"):
        return _fix_with_runtime(edit, statement)
    if plan.action == "defer-delete":
        call = edit.lone_call(statement)
        transaction = edit.import_name(plan.detail("module"), plan.detail("name"))
        partial = edit.import_name("functools", "partial")
        if call is None or transaction is None or partial is None:
            return False
        edit.replace(statement, [edit.deferred_call(call, plan.detail("on_commit").format(transaction), partial)])
        return not plan.detail("wrap") or edit.wrap(plan.lines[1], plan.lines[2], plan.detail("block").format(transaction))
    staged = edit.staged_write(statement)
    atomic, stage_file = edit.import_name("txlint.runtime", "atomic"), edit.import_name("txlint.runtime", "stage_file")
    if staged is None or atomic is None or stage_file is None:
        return False
    path, data = staged
    edit.replace(statement, [edit.call_statement(stage_file, path, data)])
    return edit.wrap(plan.lines[1], plan.lines[2], plan.detail("block").format(atomic))


def _fix_with_runtime(edit: "FunctionEdit", statement) -> bool:
    """`with atomic(target):` around the span, the commits in it removed (see _runtime_plan)."""
    plan = edit.plan
    first = edit.statement_at(plan.lines[1])
    block = edit.block_of(first) if first is not None else None
    commits = [edit.statement_at(int(line)) for line in plan.detail("commits").split(",") if line]
    if block is None or edit.block_of(statement) is not block or not all(
            commit is not None and edit.block_of(commit) is block and _is_commit(edit, commit) for commit in commits):
        return False  # statements of one block only: a commit under an `if` or a delete in a `with` is another shape
    atomic = edit.import_name("txlint.runtime", "atomic")
    if plan.action == "runtime-defer-delete":
        call = edit.lone_call(statement)
        on_commit, partial = edit.import_name("txlint.runtime", "on_commit"), edit.import_name("functools", "partial")
        if call is None or atomic is None or on_commit is None or partial is None:
            return False
        replacement = edit.deferred_call(call, on_commit, partial)
    else:
        staged = edit.staged_write(statement)
        stage_file = edit.import_name("txlint.runtime", "stage_file")
        if staged is None or atomic is None or stage_file is None:
            return False
        replacement = edit.call_statement(stage_file, *staged)
    edit.replace(statement, [replacement])
    for commit in commits:
        # A session's commit also flushed: the statements after it may read a new row's key. The
        # span's last statement needs no flush: the block's end commits right after it.
        method = plan.detail("method") if edit.parsed.lines_of(commit)[1] < plan.lines[2] else ""
        edit.replace(commit, [edit.renamed_call(commit, method)] if method else [])
    target = plan.detail("target")
    return edit.wrap(plan.lines[1], plan.lines[2], f"{atomic}({target})", uses=target)


def _is_commit(edit: "FunctionEdit", statement) -> bool:
    call = edit.lone_call(statement)
    return call is not None and edit.method_name(call) == "commit"
