"""What a rule is, and the context it queries."""

import os
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Tuple

import pathspec

from txlint.config import Config
from txlint.evidence import WriteLinks
from txlint.facts import Context, Event, Range
from txlint.findings import FixPlan
from txlint.model_effects import exclusive_inside
from txlint.patterns import compile_patterns
from txlint.values import AUTOCOMMIT, IMPLICIT

if TYPE_CHECKING:  # rules are loaded on every run, the project model only when one is checked
    from txlint.frameworks import TransactionIdiom
    from txlint.project import Effect, Project, Unit

_THROWAWAY_WORDS = ("demo", "seed", "sample_data", "sampledata", "fake", "dummy", "benchmark", "from_fixture",
                    "create_test", "test_data", "testdata")
_SETUP_FUNCTIONS = {"install", "init_db", "initdb", "setup_db", "create_db", "bootstrap"}
_CODE_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
_SPECS: Dict[Tuple[str, ...], pathspec.PathSpec] = {}


@dataclass(frozen=True)
class Report:
    range: Range  # the call the finding is about
    message: str
    fix: Optional[FixPlan] = None  # what the rule's fix would do here (None: no mechanical fix)


@dataclass(frozen=True)
class Rule:
    """A rule: its contract (code, name), its documentation and its check.

    `docs` is Markdown with the sections *What it does*, *Why is this bad?*, *Example*,
    *Use instead* and *Fix*; the test suite lints the first code block under *Example* (it must
    be flagged) and under *Use instead* (it must be clean), and for a rule with a fix it fixes
    the *Example* and compares it with *Use instead*, so the docs cannot lie.

    `fix(edit)` carries out a finding's `FixPlan` on the reported function: `edit` is a
    `txlint.fixes.editing.FunctionEdit` (libcst is imported only then); it returns False when
    the code around the finding leaves no mechanical fix.
    """

    code: str
    name: str
    summary: str
    docs: str
    check: Optional[Callable[["RuleContext"], Iterable[Report]]] = None
    enabled_by_default: bool = True
    fix: Optional[Callable[..., bool]] = None

    def section_code(self, heading: str) -> str:
        match = re.search(rf"## {re.escape(heading)}\n(.*?)(?=\n## |\Z)", self.docs, re.S)
        if not match:
            return ""
        block = _CODE_BLOCK.search(match.group(1))
        return block.group(1) if block else ""


# What batch jobs are named for. Not copy/move/load/rebuild: an object copying or moving itself is
# application code, and recomputing derived data is complete whenever it is run again.
_JOB_WORDS = ("backfill", "migrate", "import", "sync", "convert", "transfer")


class RuleContext:
    """One function seen by a rule: its effects and the project around it."""

    def __init__(self, project: "Project", unit: "Unit", config: Config,
                 module_answers: Optional[Dict[str, bool]] = None):
        self.project = project
        self.unit = unit
        self.config = config
        self._links: Optional[WriteLinks] = None
        self._throwaway: Optional[bool] = None  # every rule asks; the answer is the function's
        # Answers about the function's module, shared by the contexts of its functions.
        self._module_answers: Dict[str, bool] = {} if module_answers is None else module_answers

    @property
    def effects(self) -> List["Effect"]:
        return self.project.effects(self.unit)

    def runs_in_transaction(self) -> bool:
        return self.project.runs_in_transaction(self.unit)

    def site_in_scope(self, event: Event) -> bool:
        return self.project.in_scope(self.unit, event)

    def opening_scope(self, event: Event) -> Optional[int]:
        """The outermost `with` around the event that opens a transaction (None: none does)."""
        return self.project.opening_scope(self.unit, event)

    def links(self) -> "WriteLinks":
        """The evidence that links this function's writes (made once per function)."""
        if self._links is None:
            self._links = WriteLinks(self.project, self.unit)
        return self._links

    def loop_line(self, loop_id: int) -> int:
        loop = self.unit.facts.loops.get(loop_id)
        return loop.range[0] if loop else 0

    def never_returns(self, qualname: str) -> bool:
        """Does the project's function never come back (`-> NoReturn`, or it ends in `raise`)? What
        it does is the last thing on its path: no later write follows it."""
        unit = self.project.units.get(qualname) if qualname else None
        return unit is not None and unit.facts.never_returns

    def sequential(self, first: Context, second: Context) -> bool:
        """Can `second` run after `first` on one path through the function?"""
        first_arms = dict(first.branches)
        for branch, arm in second.branches:
            if branch in first_arms and first_arms[branch] != arm:
                return False
        second_arms = set(second.branches)
        for arm in first.branches:
            if arm in self.unit.facts.terminating_arms and arm not in second_arms:
                return False
        return True

    def in_sequence(self, first: "Effect", second: "Effect") -> bool:
        """Can the effect `second` happen after `first` on one path, through this function and
        through the helper call both are made inside?"""
        return self.sequential(first.site.context, second.site.context) and not exclusive_inside(first, second)

    def path_matches(self, patterns: Tuple[str, ...]) -> bool:
        """Does this module's file match gitignore-style patterns anchored at the configuration root?"""
        if not patterns:
            return False
        spec = _SPECS.get(patterns)
        if spec is None:
            spec = _SPECS[patterns] = compile_patterns(patterns)
        relative = os.path.relpath(os.path.abspath(self.unit.module.path), self.config.root).replace(os.sep, "/")
        return spec.match_file(relative)

    def makes_throwaway_data(self) -> bool:
        """Demo, seed, sample, fixture, example or benchmark data (a `create_demo_data` command,
        `seed.py`, a `populate` module or function, a module that imports faker or factory_boy): a
        run that fails part-way is run again on a fresh database, so half-written data there is no
        hazard."""
        if self._throwaway is None:
            self._throwaway = self._names_throwaway_data()
        return self._throwaway

    def _names_throwaway_data(self) -> bool:
        parts = self.unit.module.module.lower().split(".")
        names = (*parts, self.unit.facts.name.lower())
        owner = (self.unit.facts.class_qualname or "").rsplit(".", 1)[-1]
        if self.unit.facts.name.startswith("test_") or owner.endswith(("TestCase", "Tests", "Test")):
            return True  # test code the default excludes did not catch: the test runner rolls it back
        if self.unit.facts.name in _SETUP_FUNCTIONS or self.unit.facts.name.startswith("create_default"):
            return True  # first set-up of an empty database: a failed run is run again from scratch
        return any(word in name for name in names for word in _THROWAWAY_WORDS) or \
            any(part.startswith(("populate", "fixture")) or part == "examples" for part in parts) or \
            self.unit.facts.name.lower().lstrip("_").startswith("populate") or \
            self._imports_fake_data_library()

    def _imports_fake_data_library(self) -> bool:
        answer = self._module_answers.get("imports faker")
        if answer is None:
            answer = self._module_answers["imports faker"] = any(
                imported.split(".", 1)[0] in ("faker", "factory") for imported in self.unit.module.imports.values())
        return answer

    def is_batch_job(self) -> bool:
        """A backfill, import or data-migration job: a management command, a script, a `*_jobs`
        module, or a function named for it (`backfill_*`, `migrate_*`, `import_*`, `sync_*`...).
        Elsewhere (a view saving the few rows of one form, a signal handler, an object copying
        itself) a loop's rows are a handful, each complete on its own; in a job over a table, a
        crash leaves the data half migrated, and an operator runs the job again."""
        unit = self.unit
        parts = unit.module.module.lower().split(".")
        return unit.facts.is_module or "commands" in parts or "scripts" in parts or parts[-1].endswith("jobs") or \
            self.is_named_job()

    def is_named_job(self) -> bool:
        """A function or module named for a backfill, import or data migration (`backfill_prices`,
        `migrate_view_counts`, `import_users`): there any half-applied change is the hazard. In other
        commands and scripts only a loop that adds rows is (a re-run adds them again; updates it
        sets again)."""
        parts = self.unit.module.module.lower().split(".")
        return any(part.startswith(_JOB_WORDS) for part in (parts[-1], self.unit.facts.name.lower()))

    def is_migration(self) -> bool:
        path = "/" + self.unit.module.path
        return "/migrations/" in path or ("/versions/" in path and any(
            name.startswith("alembic") for name in self.unit.module.imports.values()))

    def direct(self, effect: "Effect") -> bool:
        """Made by this function itself, not by a helper it calls (the helper reports its own)."""
        return not effect.via and not effect.site.context.deferred

    def main_path_commit(self, effect: "Effect") -> bool:
        """A commit of an implicitly begun transaction on the function's main path: not inside a
        transaction scope (here or in the helper), not in an `except`/`finally` block, and not
        the end of a helper's scope of its own (`session_scope`)."""
        return (effect.kind == "commit" and effect.spec.regime == IMPLICIT and not effect.in_scope
                and not self.site_in_scope(effect.site) and not self.in_handler(effect.site.context)
                and not self._ends_scope_of_its_own(effect))

    def _ends_scope_of_its_own(self, commit: "Effect") -> bool:
        """The commit is a helper's that also rolls back on error (SQLAlchemy's `session_scope()`
        recipe): each call of the helper is a transaction of its own, with the boundaries the
        code chose, as a `with transaction.atomic():` block would be."""
        helper = self.project.units.get(commit.via) if commit.via else None
        return helper is not None and any(
            effect.kind == "rollback" and not effect.via and self.in_handler(effect.site.context)
            for effect in self.project.effects(helper))

    def fix_for(self, library: str, what: str = "them") -> str:
        """What to write instead, in the library's own idiom."""
        return self.project.registry.transaction_fix(library, what)

    def autocommit_regime(self, library: str) -> str:
        return self.project.registry.autocommit_regime(library)

    def transaction_plan(self, library: str, lines: Tuple[int, ...], decorate: bool,
                         around_files: bool = False, through: Optional["Effect"] = None) -> Optional[FixPlan]:
        """A fix that runs the statements on `lines` (first to last) in one transaction of the
        library: the function decorated when `decorate` and the library's transaction decorates
        (not module code, a generator or an `async def`), else the statements wrapped in its `with`
        block; None when the library has no idiom a fix can write here. A library without one of
        its own (DB-API drivers) may have one for the connection the write `through` is made on.

        None too in a function that writes or deletes files (unless `around_files`: TXL301's fix,
        which defers the file work to the commit): a transaction around them would leave a file
        written (or gone) when it rolls back, which TXL301 reports.

        Safe when the function neither swallows errors in a `try` (a rollback would then go
        unnoticed, or a caught failure would now undo the rows before it) nor manages the
        transaction itself (a commit or rollback of its own)."""
        idiom = self.project.registry.transaction_idiom(library)
        if idiom is None and through is not None:
            idiom = self._connection_idiom(through)
        facts = self.unit.facts
        if idiom is None or idiom.asynchronous != facts.is_async or not lines:
            return None
        if not around_files and any(effect.kind in ("file_write", "file_delete") for effect in self.effects):
            return None  # a transaction around file work is TXL301's hazard: its fix orders the two
        if not idiom.module and not idiom.name:
            handle = self._database_name(library)
            if handle is None:
                return None
            idiom = replace(idiom, name=handle)
        generator = bool(facts.yield_contexts)
        decorating = decorate and bool(idiom.decorator) and not facts.is_module and not generator
        name = idiom.name
        if decorating:
            title = f"decorate {facts.name}() with @{idiom.decorator.format(name)}"
        else:
            title = (f"wrap {'line' if lines[0] == lines[-1] else 'lines'} {lines[0]}"
                     f"{'' if lines[0] == lines[-1] else f'-{lines[-1]}'} in "
                     f"`{'async ' if idiom.asynchronous else ''}with {idiom.block.format(name)}:`")
        return FixPlan(safe=self.leaves_errors_alone(), title=title, action="decorate" if decorating else "wrap",
                       function_line=self.function_line(), lines=(lines[0], lines[-1]),
                       details=idiom_details(idiom))

    def _connection_idiom(self, write: "Effect") -> Optional["TransactionIdiom"]:
        """The transaction of the connection a write of this function is made on, written with the
        connection's name (`conn`, `self.conn`): a name bound before the write, not a call."""
        receiver = write.receiver
        if write.via or not receiver or not all(part.isidentifier() for part in receiver.split(".")):
            return None
        called = write.site.ref[1]
        value = self.project.evaluate(called[1], self.unit) if called[0] == "attr" else None
        idiom = self.project.registry.connection_idiom(value) if value is not None else None
        if idiom is None:
            return None
        if not idiom.module:
            return replace(idiom, name=receiver, handle=receiver)
        return replace(idiom, block=idiom.block.replace("{handle}", receiver), handle=receiver)

    def _database_name(self, library: str) -> Optional[str]:
        """The one module-level or imported name in this function's module bound to a database
        handle of the library (peewee's `db = PostgresqlDatabase(...)`), if there is exactly one."""
        module = self.unit.module
        top = module.functions.get(module.module)
        names = {*module.imports, *(top.bindings if top is not None else ())}
        found = []
        for name in sorted(names):
            value = self.project.evaluate(("name", name), self.unit)
            if value is not None and value.kind == "handle" and value.name == "database" and value.library == library:
                found.append(name)
        return found[0] if len(found) == 1 else None

    def function_line(self) -> int:
        """The line of the function's name, where a FixPlan finds it (0 for module-level code)."""
        return 0 if self.unit.facts.is_module else self.unit.facts.range[0]

    def leaves_errors_alone(self) -> bool:
        """No `try` that swallows an error, no commit or rollback of the function's own."""
        if any(not all(block.handlers_reraise) for block in self.unit.facts.trys.values()):
            return False
        return not any(effect.kind in ("commit", "rollback") and not effect.via for effect in self.effects)

    def in_handler(self, context: Context) -> bool:
        """Inside an `except` or `finally` block: error handling, not the main path."""
        return any(part in ("except", "finally") for _, part in context.trys)


def idiom_details(idiom: "TransactionIdiom") -> Tuple[Tuple[str, str], ...]:
    """A transaction idiom as a FixPlan's details (what txlint.fixes.editing.FunctionEdit.open_transaction reads)."""
    also = dict(zip(("also_module", "also_name", "also_block", "also_decorator"), idiom.alternative))
    return (("module", idiom.module), ("name", idiom.name), ("block", idiom.block), ("decorator", idiom.decorator),
            ("async", "yes" if idiom.asynchronous else ""), ("on_commit", idiom.on_commit), ("handle", idiom.handle),
            *also.items())


def is_autocommit_write(effect: "Effect") -> bool:
    return effect.kind == "write" and effect.spec.regime == AUTOCOMMIT


def known_table(effect: "Effect") -> bool:
    return effect.spec.table not in ("", "?")


def where(effect: "Effect") -> str:
    """`Order` (line 12), or `Order` (line 12, in helper create_invoice)."""
    line = effect.site.range[0]
    helper = f", in {effect.via.rsplit('.', 1)[-1]}()" if effect.via else ""
    return f"{effect.spec.table} (line {line}{helper})"


def unless_in_transaction(check: Callable[["RuleContext"], Iterable[Report]]):
    """A rule's check that reports nothing in a function always run inside a transaction, nor in
    code that makes throwaway data (see `RuleContext.makes_throwaway_data`).

    The question is asked only once there is something to report: most functions have nothing,
    and the answer walks up through every caller of the function.
    """
    def checked(context: "RuleContext") -> Iterable[Report]:
        if context.makes_throwaway_data():
            return
        reports = list(check(context))
        if reports and not context.runs_in_transaction():
            yield from reports

    checked.__doc__ = check.__doc__
    return checked


def report_at(event: Event, message: str, fix: Optional[FixPlan] = None) -> Report:
    return Report(event.range, message, fix)


def distinct(items: Iterable) -> Tuple:
    return tuple(dict.fromkeys(items))


def is_snapshot(effect: "Effect", project: "Project") -> bool:
    """Does a write touch a configured snapshot (by model class name or table name)?"""
    names = project.snapshot_names()
    return bool(names) and any(name.lower() in names for name in (effect.spec.table, *effect.spec.aliases))
