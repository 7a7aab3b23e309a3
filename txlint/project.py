"""The project-wide pass: resolves every file's facts against all the others into effects.

Names are resolved by txlint's own light analysis (imports with aliases, assignments,
parameters with annotations or the arguments callers pass, `with ... as`, `self.x` set in
methods), and framework knowledge turns calls on the resolved receivers into effects.

`Project` is composed of parts, one job each (each module says what it may use):

- txlint.model_reads: what a value read (incremental runs) and when a worked-out value is kept;
- txlint.model_values: evaluating expressions and parameters;
- txlint.model_names: resolving names and qualified names, imports as the project names them;
- txlint.model_classes: project classes, models and their members;
- txlint.model_calls: what a call returns and does;
- txlint.model_signals: the receivers connected to a signal, which its `send()` runs;
- txlint.model_context: transaction and materializer context;
- txlint.model_conventions: where a framework runs a function in a transaction (part of the context);
- txlint.model_graph: the call graph and a function's callers;
- txlint.model_effects: a function's effects in order.

This module owns the tables of the project's modules, functions and classes (loaded on demand in
an incremental run) and what every module can change (ORM in use, ATOMIC_REQUESTS).
"""

import weakref
from typing import Callable, Dict, Iterable, Optional, Tuple

from txlint.config import Config
from txlint.facts import ModuleFacts
from txlint.frameworks import Registry
from txlint.model_calls import CallOutcomes
from txlint.model_classes import ClassMembers
from txlint.model_context import TransactionContext
from txlint.model_effects import _MAX_CALL_DEPTH, Effect, EffectLists
from txlint.model_graph import CallGraph, CallGraphs
from txlint.model_names import NameResolution
from txlint.model_reads import ReadTracking
from txlint.model_signals import SignalReceivers
from txlint.model_units import FactsUnavailable, ModuleIndex, Unit, index_of
from txlint.model_values import ValueEvaluation

__all__ = ["CallGraph", "Effect", "FactsUnavailable", "ModuleIndex", "Project", "Unit", "index_of", "_MAX_CALL_DEPTH"]

# Libraries that give a project a way to write other than raw SQL.
_ORM_ROOTS = {"django", "sqlalchemy", "sqlmodel", "flask_sqlalchemy", "peewee", "playhouse", "tortoise", "pony",
              "piccolo", "prisma", "mongoengine"}
_DRIVER_ROOTS = {"sqlite3", "aiosqlite", "psycopg2", "psycopg", "pymysql", "MySQLdb", "asyncpg", "databases"}


class _Table(dict):
    """Qualified names of the project's functions, classes or modules -> their facts.

    Each name asked for, found or not, is noted as read by what the project is working out (see
    `Project.track`), and in an incremental run a module's facts are loaded the first time one
    of its names is asked for. Iterating yields every name; look each up (dict's own `values()`,
    `items()` and `len()` see only the modules loaded so far).
    """

    __slots__ = ("project", "owners")

    def __init__(self, project: "Project"):
        super().__init__()
        # A weak reference: a cycle would leave the whole model (facts, memos, reads) to the cycle
        # collector, which flake8's forked workers would each run over the parent's garbage.
        self.project = weakref.proxy(project)
        self.owners: Dict[str, str] = {}  # name -> module, for the modules not loaded yet

    def __contains__(self, name) -> bool:
        self.project.note(name)
        return dict.__contains__(self, name) or name in self.owners

    def __getitem__(self, name):
        self.project.note(name)
        if name in self.owners:
            self.project.load(self.owners[name])
        return dict.__getitem__(self, name)

    def get(self, name, default=None):
        self.project.note(name)
        if name in self.owners:
            self.project.load(self.owners[name])
        return dict.get(self, name, default)

    def __iter__(self):
        yield from dict.__iter__(self)
        yield from [name for name in self.owners if not dict.__contains__(self, name)]


class Project(EffectLists, CallGraphs, TransactionContext, CallOutcomes, SignalReceivers, ClassMembers,
              NameResolution, ValueEvaluation, ReadTracking):
    """The project model. With `tracking`, every value worked out keeps the names it read
    (functions, classes, modules, a function's callers, ...), so that the next run knows what an
    edit can change; with an `index` of the modules not given, their facts are loaded on demand."""

    def __init__(self, modules: Iterable[ModuleFacts], config: Config, registry: Optional[Registry] = None,
                 tracking: bool = False, index: Optional[Dict[str, ModuleIndex]] = None,
                 load: Optional[Callable[[str], Optional[ModuleFacts]]] = None,
                 pack: Optional[Callable[[Iterable[object]], bytes]] = None):
        self.config = config
        self.registry = registry or Registry(config.transaction_helpers)
        self.tracking = tracking or index is not None
        self._init_reads()
        self.modules: Dict[str, ModuleFacts] = _Table(self) if self.tracking else {}
        self.units: Dict[str, Unit] = _Table(self) if self.tracking else {}
        self.classes: Dict[str, Tuple[object, ModuleFacts]] = _Table(self) if self.tracking else {}
        self._load = load
        self._pack = pack  # how a caller's reads are kept, as soon as its calls are resolved (else a tuple)
        given = list(modules)
        # The modules in the order of their files: the call graph lists a function's callers in it,
        # and of two modules that define the same name, the later one's is the project's.
        self.order = list(index) if index is not None else list(dict.fromkeys(module.module for module in given))
        self._position = {name: position for position, name in enumerate(self.order)}
        # The modules given, indexed here once; `_index`: those whose facts are loaded on demand.
        self._given_index = {module.module: index_of(module) for module in given}
        self._index: Dict[str, ModuleIndex] = {}
        for name, entry in (index or {}).items():
            if name not in self._given_index:
                self._index[name] = entry
                self.modules.owners[name] = name
                self.units.owners.update(dict.fromkeys(entry.functions, name))
                self.classes.owners.update(dict.fromkeys(entry.classes, name))
        for module in given:
            self.add(module)
        self._init_values()
        self._init_calls()
        self._init_classes()
        self._init_signals()
        self._init_effects()
        self._init_context()
        self._init_graph()
        self._atomic_requests = config.atomic_requests or self._settings_atomic_requests()
        roots = set().union(*(entry.import_roots for entry in (*self._index.values(), *self._given_index.values())))
        self._uses_orm = bool(roots & _ORM_ROOTS)
        self.writes_only_raw_sql = not self._uses_orm and bool(roots & _DRIVER_ROOTS)
        # Every dotted prefix of a module name (`app`, `app.models`): the packages, namespace
        # packages included, that an import can name. Fixed for a run and its incremental
        # successors (another set of files is a full run), so it is not tracked.
        self._module_prefixes = {name[:end] for name in self.order
                                 for end in (*(i for i, c in enumerate(name) if c == "."), len(name))}
        self._module_names = set(self.order)

    def add(self, module: ModuleFacts) -> None:
        position = self._position.get(module.module, len(self._position))
        dict.__setitem__(self.modules, module.module, module)
        for qualname, facts in module.functions.items():
            if self._later(dict.get(self.units, qualname), position):
                dict.__setitem__(self.units, qualname, Unit(facts, module))
        for qualname, facts in module.classes.items():
            if self._later(dict.get(self.classes, qualname), position):
                dict.__setitem__(self.classes, qualname, (facts, module))

    def _later(self, present, position: int) -> bool:
        """Does a module at `position` define a name over what defines it now (None, a Unit or a class)?"""
        if present is None:
            return True
        module = present.module if isinstance(present, Unit) else present[1]
        return self._position.get(module.module, -1) <= position

    def load(self, name: str) -> None:
        """Load a module named in the index (its facts come from the cache)."""
        if dict.__contains__(self.modules, name):
            return
        module = self._load(name) if self._load is not None else None
        if module is None or module.module != name:
            raise FactsUnavailable(name)
        entry = self._index[name]
        for table, names in ((self.modules, (name,)), (self.units, entry.functions), (self.classes, entry.classes)):
            for owned in names:
                if table.owners.get(owned) == name:
                    del table.owners[owned]
        self.add(module)

    def index_entry(self, name: str) -> ModuleIndex:
        """The module's names, from the index or from its facts."""
        entry = self._index.get(name)
        return entry if entry is not None else self._given_index[name]

    def globals(self) -> Tuple[bool, bool, frozenset]:
        """What every module can change: ORM in use, ATOMIC_REQUESTS on, the snapshot tables."""
        with self.untracked():
            return self._uses_orm, self._atomic_requests, self.snapshot_names()

    @property
    def uses_orm(self) -> bool:
        self.note(("orm",))
        return self._uses_orm

    @property
    def atomic_requests(self) -> bool:
        self.note(("atomic_requests",))
        return self._atomic_requests

    def module_unit(self, module: ModuleFacts) -> Unit:
        return self.units[module.module]
