"""What a rule is, and the context it queries."""

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, Iterable, List, Optional, Tuple

import pathspec

from txlint.config import Config
from txlint.evidence import WriteLinks
from txlint.facts import Context, Event, Range
from txlint.patterns import compile_patterns
from txlint.values import AUTOCOMMIT, IMPLICIT

if TYPE_CHECKING:  # rules are loaded on every run, the project model only when one is checked
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


@dataclass(frozen=True)
class Rule:
    """A rule: its contract (code, name), its documentation and its check.

    `docs` is Markdown with the sections *What it does*, *Why is this bad?*, *Example* and
    *Use instead*; the test suite lints the first code block under *Example* (it must be
    flagged) and under *Use instead* (it must be clean), so the docs cannot lie.
    """

    code: str
    name: str
    summary: str
    docs: str
    check: Optional[Callable[["RuleContext"], Iterable[Report]]] = None
    enabled_by_default: bool = True

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

    def __init__(self, project: "Project", unit: "Unit", config: Config):
        self.project = project
        self.unit = unit
        self.config = config
        self._links: Optional[WriteLinks] = None

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
        `seed.py`, a `populate` module, a module that imports faker or factory_boy): a run that fails part-way is run again on a fresh database, so
        half-written data there is no hazard."""
        parts = self.unit.module.module.lower().split(".")
        names = (*parts, self.unit.facts.name.lower())
        owner = (self.unit.facts.class_qualname or "").rsplit(".", 1)[-1]
        if self.unit.facts.name.startswith("test_") or owner.endswith(("TestCase", "Tests", "Test")):
            return True  # test code the default excludes did not catch: the test runner rolls it back
        if self.unit.facts.name in _SETUP_FUNCTIONS or self.unit.facts.name.startswith("create_default"):
            return True  # first set-up of an empty database: a failed run is run again from scratch
        return any(word in name for name in names for word in _THROWAWAY_WORDS) or \
            any(part.startswith(("populate", "fixture")) or part == "examples" for part in parts) or \
            any(imported.split(".", 1)[0] in ("faker", "factory") for imported in self.unit.module.imports.values())

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

    def in_handler(self, context: Context) -> bool:
        """Inside an `except` or `finally` block: error handling, not the main path."""
        return any(part in ("except", "finally") for _, part in context.trys)


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


def report_at(event: Event, message: str) -> Report:
    return Report(event.range, message)


def distinct(items: Iterable) -> Tuple:
    return tuple(dict.fromkeys(items))


def is_snapshot(effect: "Effect", project: "Project") -> bool:
    """Does a write touch a configured snapshot (by model class name or table name)?"""
    names = project.snapshot_names()
    return bool(names) and any(name.lower() in names for name in (effect.spec.table, *effect.spec.aliases))
