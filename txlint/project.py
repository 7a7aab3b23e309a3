"""The project-wide pass: resolves every file's facts against all the others into effects.

Names are resolved by txlint's own light analysis (imports with aliases, assignments,
parameters with annotations or the arguments callers pass, `with ... as`, `self.x` set in
methods), and framework knowledge turns calls on the resolved receivers into effects.
"""

import weakref
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Tuple

from txlint import sql as sqlkit
from txlint.config import Config
from txlint.facts import Event, FunctionFacts, ModuleFacts, Ref
from txlint.frameworks import Registry
from txlint.values import AUTOCOMMIT, CallView, EffectSpec, Outcome, Value

_MAX_DEPTH = 24
# How many values may be worked out inside one another (the stack of `_in_progress`). Values
# that do not depend on the depth they are asked at (a class, whether a function runs in a
# transaction) start again from depth 0, so _MAX_DEPTH alone does not bound the stack: a class
# hierarchy 110 deep, or 500 helpers each called only by the next, would nest 110 or 500 deep.
# Each value takes at most a few Python frames, so this bound stays well inside Python's default
# recursion limit (1000) wherever the project is asked from. A value asked for past it is unknown
# and cuts below everything (nothing it is part of is kept); kept values carry their height so
# that one is never used where working it out would have gone past it (see `_fits`).
_MAX_NESTING = 80
_NO_CUT = 1 << 30
_CUT_ALL = -1
_MAX_CALL_DEPTH = 5
_BUILTINS = {"open"}
_DEPENDS = {"fastapi.Depends", "fastapi.params.Depends"}
# Libraries that give a project a way to write other than raw SQL.
_ORM_ROOTS = {"django", "sqlalchemy", "sqlmodel", "flask_sqlalchemy", "peewee", "playhouse", "tortoise", "pony",
              "piccolo", "prisma", "mongoengine"}
_SIGNALS_IN_TRANSACTION = {f"django.db.models.signals.{name}" for name in ("pre_delete", "post_delete", "m2m_changed")}
_DRIVER_ROOTS = {"sqlite3", "aiosqlite", "psycopg2", "psycopg", "pymysql", "MySQLdb", "asyncpg", "databases"}


@dataclass(frozen=True)
class Effect:
    """One thing a function does, in order, at a call site of the function itself.

    For effects of helper functions, `site` is the call of the helper in this function and
    `via` names the helper (the effect happened inside it).
    """

    kind: str  # write | read | commit | rollback | file_write | file_delete | staged_file | after_commit
    spec: EffectSpec
    site: Event
    in_scope: bool  # a transaction scope encloses it (in this function or inside the helper)
    via: str = ""
    receiver: str = ""

    @property
    def line(self) -> int:
        return self.site.range[0]


class Unit:
    """A function (or a module's top-level code) with its facts and module."""

    __slots__ = ("facts", "module")

    def __init__(self, facts: FunctionFacts, module: ModuleFacts):
        self.facts = facts
        self.module = module

    @property
    def qualname(self) -> str:
        return self.facts.qualname


class ModuleIndex(NamedTuple):
    """What a run keeps of a module to resolve names against it without its facts: an incremental
    run loads a module's facts only when one of these names is asked for."""

    functions: Tuple[str, ...]  # qualnames, in the module's order
    classes: Tuple[str, ...]
    import_roots: FrozenSet[str]  # the top-level packages it imports from


def index_of(module: ModuleFacts) -> ModuleIndex:
    return ModuleIndex(tuple(module.functions), tuple(module.classes),
                       frozenset(qualified.split(".", 1)[0] for qualified in module.imports.values()))


@dataclass
class CallGraph:
    """The project's calls into its own functions, by caller: what each caller's calls resolve to
    (callee qualname, event number), the functions it passes to a transaction call (as
    `transaction.atomic(view)` in urls.py), and what resolving them read (tracked runs only:
    packed by the `pack` the Project was given, txlint.engine.NameTable.pack, else a tuple)."""

    calls: Dict[str, Tuple[Tuple[str, int], ...]] = field(default_factory=dict)
    wrapped: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    reads: Dict[str, object] = field(default_factory=dict)


class FactsUnavailable(RuntimeError):
    """A module's facts could not be loaded (its cache entry is gone): the run starts over in full."""


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


class Project:
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
        self._reads: Optional[set] = None  # what the value being worked out has read so far
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
        self._values: Dict[tuple, Tuple[Optional[Value], int]] = {}  # -> (value, deepest depth it holds at)
        self._cut_values: Dict[tuple, Optional[Value]] = {}  # (key, depth) -> value cut short by a depth limit
        self._class_values: Dict[str, Value] = {}
        self._effects: Dict[Tuple[str, int], List[Effect]] = {}  # (qualname, depth) -> effects
        self._complete_effects: Dict[str, int] = {}  # qualname -> deepest depth worked out without a cut
        self._effects_cut = False  # a helper was left out of the effects being worked out: too deep
        self._cut_effects: set = set()  # the (qualname, depth) effects kept with a helper left out
        self._in_transaction: Dict[str, bool] = {}
        self._in_materializer: Dict[str, bool] = {}
        # A memoised value -> what working it out read: the names it read itself and the memoised
        # values it used, expanded only by `expand` (a union kept per value took 0.4 GB on mlflow).
        # An evaluated value is known by its own key, (function, ref), and keeps just its function's
        # name when that is all it read; the others by (table, key).
        self._memo_reads: Dict[tuple, object] = {}
        self._graph: Optional[CallGraph] = None
        self._callers: Optional[Dict[str, List[Tuple[str, int]]]] = None
        self._wrapped_functions: set = set()
        self._models_by_name: Optional[Dict[str, List[str]]] = None
        self._snapshot_names: Optional[frozenset] = None
        self._in_progress: Dict[object, int] = {}  # the values being worked out -> their place in the stack
        # The lowest place in the stack of values being worked out that the current one depends
        # on through a cut: a value asked for again while it is worked out (x = f(x), helpers
        # calling each other) cuts at that value's place; the call graph still being built cuts
        # below everything (_CUT_ALL). A value is kept (memoised) only if no cut reaches below
        # its own place: otherwise what it is depends on what was asked first.
        self._cut = _NO_CUT
        # How much deeper the current value could have been asked for and still be worked out
        # the same: the least room left under a depth limit by what it asked, below it. A value
        # with room r asked at depth d holds at any depth up to d + r; one that hit a limit
        # (negative room) holds only at the depth it was asked at (see `evaluate`).
        self._room = _NO_CUT
        # The deepest place in that stack that the values being worked out have reached (asked
        # for a value there, or used a kept one reaching there); a value's height is how far
        # below its own place that is. Kept with its height, a value is used only where it would
        # not reach past _MAX_NESTING (see `_fits`), so what is known does not depend on the
        # order things were asked in.
        self._reached = 0
        self._heights: Dict[object, int] = {}  # (table, key) -> height, for `_memo` and effects
        self._building_callers = False
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

    def _as_project_names_it(self, imported: str, module: ModuleFacts) -> str:
        """An import as the project names it. A folder that is not a package is on `sys.path`
        when its scripts run (a script's own folder, a Django project's next to manage.py): an
        import its modules make of a name the project has no top-level module for is looked for
        beside them first, then in the folders above up to a package (`import helpers` in
        scripts/job.py is scripts.helpers). A module of a regular package imports absolutely
        (Python 3 has no implicit relative imports): `from sqlalchemy import text` in
        airflow/utils/db.py is never airflow/utils/sqlalchemy.py."""
        top = imported.partition(".")[0]
        if top in self._module_prefixes or module.path.endswith("__init__.py"):
            return imported
        folders = module.module.split(".")[:-1]
        while folders:
            prefix = ".".join(folders)
            if prefix in self._module_names:
                break  # a regular package (its __init__ is a module of the project)
            if f"{prefix}.{top}" in self._module_prefixes:
                return f"{prefix}.{imported}"
            folders.pop()
        return imported

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

    # -- what a value read ----------------------------------------------------------------------
    def note(self, name: object) -> None:
        if self._reads is not None:
            self._reads.add(name)

    @contextmanager
    def track(self, reads: set):
        """Collect into `reads` what everything worked out inside reads."""
        outer, self._reads = self._reads, reads
        try:
            yield reads
        finally:
            self._reads = outer
            if outer is not None:
                outer.update(reads)

    @contextmanager
    def untracked(self):
        """Work out a project-wide value: the names it reads are not what the asker depends on
        (the value itself is, under a name of its own)."""
        outer, self._reads = self._reads, None
        try:
            yield
        finally:
            self._reads = outer

    def _memo_hit(self, table: str, key: object) -> None:
        if self._reads is not None:
            self._reads.add((table, key))

    def expand(self, reads: Iterable[object]) -> set:
        """The names in `reads`, with the memoised values it used replaced by what they read."""
        names, seen, pending, memo_reads = set(), set(), list(reads), self._memo_reads
        while pending:
            item = pending.pop()
            used = memo_reads.get(item)
            if used is None:
                names.add(item)
            elif isinstance(used, str):
                names.add(used)
            elif item not in seen:
                seen.add(item)
                pending.extend(used)
        return names

    def _begin(self) -> Optional[set]:
        """Start collecting the reads of a value to memoise (always, in a tracked project: a value
        worked out where nothing is tracked, `untracked`, may be asked for later where something
        is); returns the outer collection."""
        outer = self._reads
        if self.tracking:
            self._reads = set()
        return outer

    def _end(self, outer: Optional[set], table: str, key: object, keep: bool) -> None:
        if not self.tracking:
            return
        inner, self._reads = self._reads, outer
        if keep:
            self._memo_reads[(table, key)] = tuple(inner)
            if outer is not None:
                outer.add((table, key))
        elif outer is not None:
            outer.update(inner)

    def module_unit(self, module: ModuleFacts) -> Unit:
        return self.units[module.module]

    # -- name resolution -----------------------------------------------------------------------
    def evaluate(self, ref: Optional[Ref], unit: Unit, depth: int = 0) -> Optional[Value]:
        if ref is None:
            return None
        if depth > _MAX_DEPTH:
            self._room = min(self._room, _MAX_DEPTH - depth)
            return None
        key = (unit.qualname, ref)
        entry = self._values.get(key)
        if entry is not None and depth <= entry[1]:
            reach = len(self._in_progress) + entry[2]  # `_fits` inlined
            if reach < _MAX_NESTING:
                if reach > self._reached:
                    self._reached = reach
                if self._reads is not None:
                    self._reads.add(key)
                self._room = min(self._room, entry[1] - depth)
                return entry[0]
        cut_key = (key, depth)
        entry = self._cut_values.get(cut_key)
        if entry is not None and self._fits(entry[1]):
            if self._reads is not None:
                self._reads.add(cut_key)
            self._room = min(self._room, -1)
            return entry[0]
        if key in self._in_progress:
            self._cut_at(key)
            return None  # a cycle (x = f(x)): no information
        # _enter, _begin, _leave and _end inlined: this is the model's hottest path.
        in_progress = self._in_progress
        position = len(in_progress)
        if position >= _MAX_NESTING:
            self._cut = _CUT_ALL  # too deep to work out: unknown, and no value it is part of is kept
            return None
        in_progress[key] = position
        saved_cut, self._cut = self._cut, _NO_CUT
        saved_room, self._room = self._room, _MAX_DEPTH - depth
        saved_reached, self._reached = self._reached, position
        outer = self._reads
        if self.tracking:
            self._reads = {unit.qualname}
        try:
            value = self._evaluate(ref, unit, depth + 1)
        finally:
            del in_progress[key]
            cut, room = self._cut, self._room
            self._cut = saved_cut if cut >= position else min(saved_cut, cut)
            self._room = min(saved_room, room)
            kept = cut >= position
            memo_key = key if room >= 0 else cut_key
            height, self._reached = self._reached - position, max(saved_reached, self._reached)
            if self.tracking:
                inner, self._reads = self._reads, outer
                if kept:
                    # A value's own key stands for what it read (the key of an evaluated value is
                    # (function, ref): no name is one); most read only their function.
                    self._memo_reads[memo_key] = unit.qualname if len(inner) == 1 else tuple(inner)
                    if outer is not None:
                        outer.add(memo_key)
                elif outer is not None:
                    outer.update(inner)
        if kept:
            if room >= 0:
                self._values[key] = (value, depth + room, height)
            else:
                self._cut_values[cut_key] = (value, height)
        return value

    def _fits(self, height: int) -> bool:
        """Can a value kept with this height be used here? Worked out here it would reach that much
        deeper into the stack of values being worked out; past _MAX_NESTING it would have been cut
        short, so it is worked out again (and comes out cut short, as it would in any order)."""
        reach = len(self._in_progress) + height
        if reach >= _MAX_NESTING:
            return False
        if reach > self._reached:
            self._reached = reach
        return True

    def _enter(self, key: object) -> Tuple[int, Tuple[int, int, int]]:
        """Start working out a value that does not depend on the depth it is asked at (what it
        evaluates starts from depth 0); returns its place in the stack, and the cut, room and
        deepest place reached so far."""
        position = len(self._in_progress)
        self._in_progress[key] = position
        saved = (self._cut, self._room, self._reached)
        self._cut = self._room = _NO_CUT
        self._reached = position
        return position, saved

    def _leave(self, key: object, position: int, saved: Tuple[int, int, int]) -> Tuple[bool, int]:
        """Done working out a value: can it be kept, and its height (see `_fits`)?"""
        del self._in_progress[key]
        cut = self._cut
        self._cut = min(saved[0], cut if cut < position else _NO_CUT)
        self._room = saved[1]
        height, self._reached = self._reached - position, max(saved[2], self._reached)
        return cut >= position, height

    def _cut_at(self, key: object) -> None:
        self._cut = min(self._cut, self._in_progress[key])

    def _evaluate(self, ref: Ref, unit: Unit, depth: int) -> Optional[Value]:
        kind = ref[0]
        if kind == "name":
            return self._resolve_name(ref[1], unit, depth)
        if kind == "attr":
            return self.attribute(self.evaluate(ref[1], unit, depth), ref[2], depth)
        if kind == "call":
            return self.call(ref, unit, depth).value
        if kind == "str":
            return Value("string", sql=ref[1])
        if kind == "concat":
            text = self.string_of(ref, unit, depth)
            return Value("string", sql=text) if text is not None else None
        if kind == "list":
            return self.evaluate(ref[1][0], unit, depth) if ref[1] else None
        if kind == "div":
            return self.evaluate(ref[1], unit, depth)  # Path(...) / "name" is still a path
        if kind == "sub":
            base = self.evaluate(ref[1], unit, depth)
            if base is not None and base.kind == "handle" and base.name == "connection":
                return base  # django.db.connections["alias"]
            return None
        if kind == "enter":
            value = self.evaluate(ref[1], unit, depth)
            if value is None:
                return None
            knowledge = self.registry.for_value(value)
            entered = knowledge.enter(value) if knowledge is not None else None
            return entered or value
        if kind == "iter":
            value = self.evaluate(ref[1], unit, depth)
            if value is not None and value.kind == "handle" and value.name in ("manager", "query") and value.flags:
                return Value("instance", name=value.flags[0], library=value.library, table=value.table)
            return None
        if kind == "param":
            return self._parameter(ref, unit, depth)
        if kind == "self":
            return self.instance_of(ref[1])
        if kind == "cls":
            return self.class_value(ref[1])
        if kind == "annotated":
            typed = self._instance_of_type(ref[1], unit, depth)
            return typed or self.evaluate(ref[2], unit, depth)
        if kind == "function":
            return Value("function", name=ref[1])
        return None

    def string_of(self, ref: Optional[Ref], unit: Unit, depth: int = 0) -> Optional[str]:
        """The text of a string expression; unknown parts become the SQL placeholder."""
        if ref is None:
            return None
        if depth > _MAX_DEPTH:
            self._room = min(self._room, _MAX_DEPTH - depth)
            return None
        if ref[0] == "str":
            return ref[1]
        if ref[0] == "concat":
            parts = [self.string_of(part, unit, depth + 1) for part in ref[1]]
            if all(part is None for part in parts):
                return None
            return "".join(sqlkit.PLACEHOLDER if part is None else part for part in parts)
        value = self.evaluate(ref, unit, depth + 1)
        if value is not None and value.kind in ("string", "statement") and value.sql:
            return value.sql
        return None

    def _resolve_name(self, name: str, unit: Unit, depth: int) -> Optional[Value]:
        current: Optional[Unit] = unit
        while current is not None:
            candidates = current.facts.bindings.get(name)
            if candidates:
                for candidate in reversed(candidates):
                    value = self.evaluate(candidate, current, depth)
                    if value is not None:
                        return self._with_attribute_settings(value, name, current)
                if not current.facts.is_module:
                    return None
            current = self._enclosing_unit(current)
        module = unit.module
        self.note(module.module)  # its imports
        qualname = f"{module.module}.{name}"
        if qualname in self.modules:
            return Value("qname", name=qualname)  # a submodule of this package
        if qualname in self.units and qualname != module.module:
            return Value("function", name=qualname)
        if qualname in self.classes:
            return self.class_value(qualname)
        imported = module.imports.get(name)
        if imported is not None:
            return self.resolve_qualname(self._as_project_names_it(imported, module), depth)
        if name in _BUILTINS:
            return Value("qname", name=f"builtins.{name}")
        return None

    @staticmethod
    def _with_attribute_settings(value: Value, name: str, unit: Unit) -> Value:
        """`conn.autocommit = True` / `conn.isolation_level = None` switch a DB-API connection to autocommit."""
        if value.kind != "handle" or value.name != "connection":
            return value
        for attribute, switched in (("autocommit", "True"), ("isolation_level", "None")):
            for ref in unit.facts.bindings.get(f"{name}.{attribute}", ()):
                if ref == ("const", switched):
                    return Value(value.kind, value.name, value.library, value.table, value.sql, AUTOCOMMIT, value.flags)
        return value

    def _enclosing_unit(self, unit: Unit) -> Optional[Unit]:
        if unit.facts.is_module:
            return None
        qualname = unit.qualname
        if ".<locals>." in qualname:
            return self.units.get(qualname.rsplit(".<locals>.", 1)[0])
        return self.module_unit(unit.module)

    def resolve_qualname(self, qualname: str, depth: int = 0) -> Optional[Value]:
        if qualname in self.classes:
            return self.class_value(qualname)
        if qualname in self.modules:
            return Value("qname", name=qualname)  # a project module: its attributes resolve inside it
        if qualname in self.units:
            return Value("function", name=qualname)
        knowledge = self.registry.for_qname(qualname)
        if knowledge is not None:
            value = knowledge.qname_value(qualname)
            if value is not None:
                return value
        parts = qualname.split(".")
        for index in range(len(parts) - 1, 0, -1):
            module = self.modules.get(".".join(parts[:index]))
            if module is None:
                continue
            value = self._name_in_module(parts[index], module, depth + 1)
            for attribute in parts[index + 1:]:
                value = self.attribute(value, attribute, depth + 1)
            return value
        return Value("qname", name=qualname)

    def _name_in_module(self, name: str, module: ModuleFacts, depth: int) -> Optional[Value]:
        """A name as a project module defines or imports it. Imports can go round (`a.py: from b
        import x`, `b.py: from a import x`, a package importing a submodule that is not in the
        project), so a name asked for again while it is resolved is unknown, a cut like any other
        cycle (see `_cut`); and a chain of re-exports counts against the depth limit like the
        steps of any other value, so it ends in unknown past _MAX_DEPTH."""
        if depth > _MAX_DEPTH:
            self._room = min(self._room, _MAX_DEPTH - depth)
            return None
        key = ("import", module.module, name)
        in_progress = self._in_progress
        if key in in_progress:
            self._cut_at(key)
            return None
        position = len(in_progress)
        if position >= _MAX_NESTING:
            self._cut = _CUT_ALL
            return None
        in_progress[key] = position
        if position > self._reached:
            self._reached = position
        saved_cut, self._cut = self._cut, _NO_CUT
        try:
            return self._resolve_name(name, self.module_unit(module), depth)
        finally:
            del in_progress[key]
            cut = self._cut
            self._cut = min(saved_cut, cut if cut < position else _NO_CUT)

    def attribute(self, base: Optional[Value], name: str, depth: int = 0) -> Optional[Value]:
        if base is None:
            return None
        if base.kind == "qname":
            return self.resolve_qualname(f"{base.name}.{name}", depth + 1)
        knowledge = self.registry.for_value(base)
        if knowledge is not None:
            value = knowledge.attribute(base, name)
            if value is not None:
                return value
        if base.kind in ("model", "instance", "class", "object") and base.name in self.classes:
            return self._member(base, name, depth)
        return None

    def _class_chain(self, qualname: str) -> List[str]:
        """The class and its project base classes, nearest first."""
        chain, pending = [], [qualname]
        while pending and len(chain) < 16:
            current = pending.pop(0)
            if current in chain or current not in self.classes:
                continue
            chain.append(current)
            facts, module = self.classes[current]
            for base in facts.bases:
                value = self.evaluate(base, self.module_unit(module))
                if value is not None and value.kind in ("model", "class") and value.name in self.classes:
                    pending.append(value.name)
        return chain

    def _member(self, base: Value, name: str, depth: int) -> Optional[Value]:
        for qualname in self._class_chain(base.name):
            facts, module = self.classes[qualname]
            if name in facts.methods:
                return Value("function", name=facts.methods[name], flags=("method",))
            if base.kind in ("instance", "object"):
                for ref, assigner in facts.self_attributes.get(name, ()):
                    unit = self.units.get(assigner)
                    value = self.evaluate(ref, unit, depth + 1) if unit is not None else None
                    if value is not None:
                        return value
            ref = facts.attributes.get(name)
            if ref is not None:
                field = self._model_field(base, name, ref)
                if field is not None:
                    return field
                value = self.evaluate(ref, self.module_unit(module), depth + 1)
                if value is not None:
                    return value
        if base.kind == "instance" and base.library == "django" and name.endswith("_set"):
            return Value("handle", name="related", library="django", table=name[:-4])
        return None

    @staticmethod
    def _model_field(base: Value, name: str, ref: Ref) -> Optional[Value]:
        """Django fields that carry writes of their own: many-to-many managers and file fields."""
        if base.kind != "instance" or ref[0] != "call":
            return None
        func = ref[1]
        field_type = func[2] if func[0] == "attr" else func[1] if func[0] == "name" else ""
        if field_type.endswith("ManyToManyField"):
            return Value("handle", name="related", library=base.library,
                         table=f"{base.name.rsplit('.', 1)[-1]}.{name}")
        if field_type in ("FileField", "ImageField"):
            return Value("fileobj", name="fieldfile", library="files")
        if base.library == "django" and field_type in ("ManyToManyField",):
            return None
        return None

    def class_value(self, qualname: str) -> Value:
        """A project class: a model (of some library) or a plain class (also while its own bases
        are being worked out: a class deriving from itself)."""
        return self._memo("class", self._class_values, qualname, lambda: self._class_value(qualname),
                          Value("class", name=qualname))

    def _class_value(self, qualname: str) -> Value:
        facts, module = self.classes[qualname]
        for base in facts.bases:
            library = self._model_library(base, facts, module)
            if library:
                knowledge = self.registry.by_library[library]
                table = knowledge.model_table(facts.name, module.module, facts.attributes)
                return Value("model", name=qualname, library=library, table=table)
        return Value("class", name=qualname)

    def _memo(self, table: str, memo: dict, key: object, compute: Callable[[], object], in_progress: object):
        """`compute()`, kept in `memo` under `key` unless worked out from a cut (see `_cut`), with
        what it read (tracked runs). Asked for again while it is worked out, it is `in_progress`,
        and that is a cut."""
        if key in memo and self._fits(self._heights[(table, key)]):
            self._memo_hit(table, key)
            return memo[key]
        if (table, key) in self._in_progress:
            self._cut_at((table, key))
            return in_progress
        if len(self._in_progress) >= _MAX_NESTING:
            self._cut = _CUT_ALL  # too deep to work out (see `evaluate`)
            return in_progress
        value, kept, height = self._work_out(table, key, compute)
        if kept:
            memo[key] = value
            self._heights[(table, key)] = height
        return value

    def _work_out(self, table: str, key: object, compute: Callable[[], object]) -> Tuple[object, bool, int]:
        """`compute()` as a value of its own in the stack of values being worked out, with what it
        read collected (tracked runs); returns it, whether it can be kept (see `_cut`) and its
        height (see `_fits`)."""
        position, saved = self._enter((table, key))
        outer = self._begin()
        try:
            value = compute()
        finally:
            kept, height = self._leave((table, key), position, saved)
            self._end(outer, table, key, kept)
        return value, kept, height

    def _model_library(self, base: Ref, facts, module: ModuleFacts) -> str:
        value = self.evaluate(base, self.module_unit(module))
        if value is None:
            return ""
        if value.kind == "model":
            return value.library
        if value.kind == "modelbase":
            return value.library
        if value.kind == "qname":
            library = self.registry.model_bases.get(value.name)
            if library and self.registry.by_library[library].accepts_model(value.name, facts.attributes):
                return library
        return ""

    def instance_of(self, class_qualname: str) -> Optional[Value]:
        if class_qualname not in self.classes:
            return None
        cls = self.class_value(class_qualname)
        if cls.kind == "model":
            return Value("instance", name=cls.name, library=cls.library, table=cls.table)
        return Value("object", name=class_qualname)

    def _instance_of_type(self, ref: Optional[Ref], unit: Unit, depth: int) -> Optional[Value]:
        if ref is None:
            return None
        if ref[0] == "sub":  # Optional[Session], Annotated[Session, ...]
            inner = ref[2]
            if inner[0] == "list" and inner[1]:
                inner = inner[1][0]
            return self._instance_of_type(inner, unit, depth)
        if ref[0] == "str":
            return self._instance_of_type(("name", ref[1].split("[")[0].strip()), unit, depth)
        value = self.evaluate(ref, unit, depth)
        if value is None:
            return None
        if value.kind in ("model", "class"):
            return self.instance_of(value.name)
        if value.kind == "qname":
            return self._call_target(value, CallView((), (), lambda r: None, lambda r: None), depth).value
        return None

    def _parameter(self, ref: Ref, unit: Unit, depth: int) -> Optional[Value]:
        _, name, annotation, default = ref
        typed = self._instance_of_type(annotation, unit, depth)
        if typed is not None:
            return typed
        if default is not None:
            value = self.evaluate(default, unit, depth)
            if value is not None:
                return value
        return self._argument_from_callers(name, unit, depth)

    def _argument_from_callers(self, name: str, unit: Unit, depth: int) -> Optional[Value]:
        """What callers pass for a parameter (the first caller whose argument resolves)."""
        self._room = min(self._room, _MAX_DEPTH // 2 - depth)
        if depth > _MAX_DEPTH // 2:
            return None
        params = [param.name for param in unit.facts.params]
        if name not in params:
            return None
        index = params.index(name)
        if unit.facts.class_qualname is not None and params and index > 0:
            index -= 1  # bound call: `self` is not passed
        targets = [unit.qualname]
        if unit.facts.name == "__init__" and unit.facts.class_qualname:
            targets.append(unit.facts.class_qualname)
        if self._building_callers:
            self._cut = _CUT_ALL  # asked while the graph is built: unknown for now, asked again later
            return None
        for target in targets:
            for caller, event in map(self.call_site, self.callers_of(target)[:8]):
                _, _, args, kwargs = event.ref
                argument = dict(kwargs).get(name)
                if argument is None and index < len(args):
                    argument = args[index]
                value = self.evaluate(argument, caller, depth + 1)
                if value is not None:
                    return value
        return None

    # -- calls ---------------------------------------------------------------------------------
    def call(self, ref: Ref, unit: Unit, depth: int = 0) -> Outcome:
        _, func, args, kwargs = ref
        view = CallView(args, kwargs, lambda r: self.evaluate(r, unit, depth + 1),
                        lambda r: self.string_of(r, unit, depth + 1))
        function_name = func[2] if func[0] == "attr" else func[1] if func[0] == "name" else ""
        if function_name == "get_model":
            model = self._model_by_label(view)
            if model is not None:
                return Outcome(value=model)
        if func[0] == "attr":
            base = self.evaluate(func[1], unit, depth)
            if base is None:
                return self._run_on_unknown_receiver(func[2], view)
            knowledge = self.registry.for_value(base)
            if knowledge is not None:
                outcome = knowledge.method(base, func[2], view)
                if outcome is not None:
                    return outcome
            if base.kind == "handle" and base.name == "manager" and base.flags:
                custom = self._custom_manager_method(base.flags[0], func[2], depth)
                if custom is not None:
                    return self._call_target(custom, view, depth)
            target = self.attribute(base, func[2], depth)
        else:
            target = self.evaluate(func, unit, depth)
        if target is None:
            return Outcome()
        return self._call_target(target, view, depth)

    def _run_on_unknown_receiver(self, name: str, view: CallView) -> Outcome:
        """`x.execute(text("UPDATE ..."))` with x unresolved: the statement still says what runs."""
        if name not in self.registry.statement_runners or not view.args:
            return Outcome()
        statement = view.value(0)
        if statement is None or statement.kind != "statement":
            return Outcome()
        knowledge = self.registry.for_value(statement)
        outcome = knowledge.run_statement(statement, name, view) if knowledge is not None else None
        return outcome or Outcome()

    def _model_by_label(self, view: CallView) -> Optional[Value]:
        """`apps.get_model("shop", "Order")` / `get_model("shop.Order")`: the model named by strings."""
        first, second = view.string(0, "app_label"), view.string(1, "model_name")
        if first is None:
            return None
        if second is None:
            if "." not in first:
                return None
            first, second = first.split(".", 1)
        if self._models_by_name is None:
            self._models_by_name = {}
            with self.untracked():
                for qualname in self.classes:
                    self._models_by_name.setdefault(qualname.rsplit(".", 1)[-1].lower(), []).append(qualname)
        self.note(("model", second.lower()))
        candidates = [self.class_value(q) for q in self._models_by_name.get(second.lower(), ())]
        models = [value for value in candidates if value.kind == "model"]
        if len(models) == 1:
            return models[0]
        return Value("model", name=f"{first}.{second}", library="django", table=f"{first}_{second.lower()}".lower())

    def _custom_manager_method(self, model_qualname: str, name: str, depth: int) -> Optional[Value]:
        """A method of a project manager class assigned on the model (`objects = OrderManager()`)."""
        for qualname in self._class_chain(model_qualname):
            facts, module = self.classes[qualname]
            for ref in facts.attributes.values():
                if ref[0] != "call":
                    continue
                manager = self.evaluate(ref[1], self.module_unit(module), depth + 1)
                if manager is None or manager.kind != "class":
                    continue
                for manager_class in self._class_chain(manager.name):
                    method = self.classes[manager_class][0].methods.get(name)
                    if method is not None:
                        return Value("function", name=method, flags=("method",))
        return None

    def _call_target(self, target: Value, view: CallView, depth: int) -> Outcome:
        if target.kind == "qname":
            if target.name in _DEPENDS:
                dependency = view.value(0, "dependency")
                if dependency is not None and dependency.kind == "function":
                    return Outcome(value=self.return_value(dependency.name, depth))
                return Outcome()
            knowledge = self.registry.for_qname(target.name)
            outcome = knowledge.call_qname(target.name, view) if knowledge is not None else None
            return outcome or Outcome()
        if target.kind == "function":
            return Outcome(value=self.return_value(target.name, depth), callee=target.name)
        if target.kind == "model":
            return Outcome(value=Value("instance", name=target.name, library=target.library, table=target.table))
        if target.kind == "class":
            init = f"{target.name}.__init__"
            return Outcome(value=Value("object", name=target.name), callee=init if init in self.units else "")
        knowledge = self.registry.for_value(target)
        if knowledge is not None:
            outcome = knowledge.call_value(target, view)
            if outcome is not None:
                return outcome
        if target.kind == "scope":
            return Outcome(value=target)  # transaction.atomic(using=...) is still the scope
        return Outcome()

    def return_value(self, qualname: str, depth: int) -> Optional[Value]:
        unit = self.units.get(qualname)
        if unit is None:
            return None
        for ref in unit.facts.bindings.get("<return>", ()):
            value = self.evaluate(ref, unit, depth + 1)
            if value is not None:
                return value
        return None

    # -- transaction scopes --------------------------------------------------------------------
    def opens_transaction(self, value: Optional[Value], as_decorator: bool) -> bool:
        if value is None:
            return False
        if value.kind in ("qname", "function") and self.registry.is_transaction_helper(value.name):
            return True
        knowledge = self.registry.for_value(value)
        return knowledge is not None and knowledge.opens_transaction(value, as_decorator)

    def _scope_opens(self, unit: Unit, with_id: int) -> bool:
        item = unit.facts.withs.get(with_id)
        if item is None:
            return False
        ref = item.ref
        if ref[0] == "call":
            callee = self.evaluate(ref[1], unit)
            if callee is not None and callee.kind in ("qname", "function") and \
                    self.registry.is_transaction_helper(callee.name):
                return True
            if callee is not None and callee.kind == "function" and self._yields_in_transaction(callee.name):
                return True
        return self.opens_transaction(self.evaluate(ref, unit), as_decorator=False)

    def _yields_in_transaction(self, qualname: str) -> bool:
        """A project context manager (`@contextmanager`) that yields inside a transaction scope."""
        helper = self.units.get(qualname)
        if helper is None or not helper.facts.yield_contexts:
            return False
        key = ("yields", qualname)
        if key in self._in_progress:
            self._cut_at(key)
            return False
        position, saved = self._enter(key)
        try:
            return all(any(self._scope_opens(helper, with_id) for with_id in context.scopes)
                       or self.decorated_transactional(helper)
                       for context in helper.facts.yield_contexts)
        finally:
            self._leave(key, position, saved)

    def in_scope(self, unit: Unit, event: Event) -> bool:
        if any(self._scope_opens(unit, with_id) for with_id in event.context.scopes):
            return True
        # `for row in db.batch_commit(rows, 100):` runs each chunk of iterations in a transaction.
        return any(self._loop_opens(unit, loop_id) for loop_id in event.context.loops)

    def _loop_opens(self, unit: Unit, loop_id: int) -> bool:
        loop = unit.facts.loops.get(loop_id)
        return loop is not None and loop.iterable[0] == "call" and \
            self.opens_transaction(self.evaluate(loop.iterable, unit), as_decorator=False)

    def decorated_transactional(self, unit: Unit) -> bool:
        for decorator in unit.facts.decorators:
            value = self.evaluate(decorator, unit)
            if self.opens_transaction(value, as_decorator=True):
                return True
        if unit.facts.class_qualname in self.classes:
            facts, module = self.classes[unit.facts.class_qualname]
            for decorator in facts.decorators:
                if self.opens_transaction(self.evaluate(decorator, self.module_unit(module)), as_decorator=True):
                    return True
        return False

    def _is_non_atomic_view(self, unit: Unit) -> bool:
        for decorator in unit.facts.decorators:
            value = self.evaluate(decorator, unit)
            if value is not None and value.kind == "scope" and value.name == "non_atomic_requests":
                return True
        return False

    def runs_in_transaction(self, unit: Unit) -> bool:
        """Is this function always run inside a transaction that it does not open itself?

        Django migrations (unless atomic = False), Alembic migrations, Django views under
        ATOMIC_REQUESTS, and helpers whose every caller calls them inside a transaction.
        """
        # Callers calling each other in a cycle count as "not known to be in one".
        return self._memo("transaction", self._in_transaction, unit.qualname,
                          lambda: self._runs_in_transaction(unit), False)

    def _runs_in_transaction(self, unit: Unit) -> bool:
        self.note(unit.qualname)
        if self.decorated_transactional(unit) or self._framework_transaction(unit) or self._is_wrapped(unit.qualname):
            return True
        callers = self.callers_of(unit.qualname)
        return bool(callers) and all(self.in_scope(caller, event) or self.runs_in_transaction(caller)
                                     for caller, event in map(self.call_site, callers))

    # -- materializers ------------------------------------------------------------------------
    def snapshot_names(self) -> frozenset:
        """The configured snapshots in lower case, with the tables of the models they name."""
        self.note(("snapshots",))
        if self._snapshot_names is None:
            names = {name.lower() for name in self.config.snapshots}
            with self.untracked():
                for qualname in list(self.classes) if self.config.snapshots else ():
                    if qualname.rsplit(".", 1)[-1] in self.config.snapshots:
                        value = self.class_value(qualname)
                        if value.kind == "model" and value.table:
                            names.add(value.table.lower())
            self._snapshot_names = frozenset(names)
        return self._snapshot_names

    def _is_materializer(self, value: Optional[Value]) -> bool:
        return value is not None and value.kind == "scope" and value.name == "materializer"

    def in_materializer_scope(self, unit: Unit, event: Event) -> bool:
        for with_id in event.context.scopes:
            item = unit.facts.withs.get(with_id)
            if item is not None and self._is_materializer(self.evaluate(item.ref, unit)):
                return True
        return False

    def runs_in_materializer(self, unit: Unit) -> bool:
        """Decorated with `materializer`, or only ever called from materializer code."""
        return self._memo("materializer", self._in_materializer, unit.qualname,
                          lambda: self._runs_in_materializer(unit), False)

    def _runs_in_materializer(self, unit: Unit) -> bool:
        self.note(unit.qualname)
        if any(self._is_materializer(self.evaluate(decorator, unit)) for decorator in unit.facts.decorators):
            return True
        callers = self.callers_of(unit.qualname)
        return bool(callers) and all(self.in_materializer_scope(caller, event) or self.runs_in_materializer(caller)
                                     for caller, event in map(self.call_site, callers))

    def _framework_transaction(self, unit: Unit) -> bool:
        module = unit.module
        self.note(module.module)  # its path, imports and classes
        path = "/" + module.path
        if "/migrations/" in path:
            self.note(f"{module.module}.Migration")
            migration = module.classes.get(f"{module.module}.Migration")
            if migration is not None:
                return migration.attributes.get("atomic") != ("const", "False")
        if "/versions/" in path or "/alembic/" in path:
            if any(name.startswith("alembic") for name in module.imports.values()):
                return True
        if self.atomic_requests and not unit.facts.is_async and self._is_view(unit):
            return not self._is_non_atomic_view(unit)
        if [param.name for param in unit.facts.params] == ["apps", "schema_editor"]:
            return True  # a RunPython function: Django runs it in the migration's transaction
        return self._receives_signal_in_transaction(unit)

    def _receives_signal_in_transaction(self, unit: Unit) -> bool:
        """`@receiver(pre_delete | post_delete | m2m_changed)`: sent inside Django's own atomic block."""
        for decorator in unit.facts.decorators:
            if decorator[0] != "call" or not decorator[2]:
                continue
            callee = self.evaluate(decorator[1], unit)
            signal = self.evaluate(decorator[2][0], unit)
            if callee is not None and callee.kind == "qname" and callee.name == "django.dispatch.receiver" and \
                    signal is not None and signal.kind == "qname" and signal.name in _SIGNALS_IN_TRANSACTION:
                return True
        return False

    @staticmethod
    def _is_view(unit: Unit) -> bool:
        parts = unit.module.module.split(".")
        return "views" in parts or "viewsets" in parts or "api" in parts[-1:]

    def _settings_atomic_requests(self) -> bool:
        """DATABASES[...]["ATOMIC_REQUESTS"] = True in a settings module."""
        for name in list(self.modules):
            if "settings" not in name.split(".")[-1]:
                continue
            module = self.modules[name]
            for ref in module.functions[module.module].bindings.get("DATABASES", ()):
                if ref[0] != "dict":
                    continue
                for _, alias in ref[1]:
                    if alias[0] == "dict" and (("str", "ATOMIC_REQUESTS"), ("const", "True")) in alias[1]:
                        return True
        return False

    # -- call graph and effects ----------------------------------------------------------------
    def callers(self) -> Dict[str, List[Tuple[str, int]]]:
        """callee qualname -> [(calling function's qualname, number of the call event)], the callers
        in the order of their files and functions."""
        if self._callers is None:
            self.call_graph()
        return self._callers

    def call_graph(self) -> CallGraph:
        """The call graph, built once, before any rule asks (see `Linter.run`)."""
        if self._graph is None:
            self._resolve_calls(CallGraph(), self._function_order())
        return self._graph

    def _function_order(self) -> List[str]:
        """The project's functions, in the order of their files, without loading a module."""
        return [qualname for name in self.order
                for qualname in (self._index[name].functions if name in self._index else self.modules[name].functions)]

    def restore_call_graph(self, previous: CallGraph, read_changed: Callable[[object], bool]) -> set:
        """Take the call graph of the run before, resolving again the calls of the functions in
        modules given fresh and of those whose resolution read something that changed (asked of
        `read_changed` with what it read); returns the graph's names that changed: ("callers", f)
        for a function whose list of calls is not what it was (other calls, or the same in
        another order: the first caller whose argument resolves is the one taken), ("wrapped", f)
        for one that became (or stopped being) wrapped in a transaction call."""
        fresh = {qualname for name in self.order if name not in self._index
                 for qualname in self.modules[name].functions}
        redo = fresh | {caller for caller, reads in previous.reads.items() if read_changed(reads)}
        order = self._function_order()
        graph = CallGraph()
        for qualname in order:
            if qualname not in redo and qualname in previous.calls:
                graph.calls[qualname] = previous.calls[qualname]
                graph.wrapped[qualname] = previous.wrapped.get(qualname, ())
                graph.reads[qualname] = previous.reads[qualname]
        self._resolve_calls(graph, order, redo)
        before = _callers_by_callee(previous.calls)
        changed_graph = {("callers", callee) for callee in before.keys() | self._callers.keys()
                         if before.get(callee) != self._callers.get(callee)}
        for caller in redo | (set(previous.calls) - set(graph.calls)):
            wrapped_before, wrapped_after = set(previous.wrapped.get(caller, ())), set(graph.wrapped.get(caller, ()))
            changed_graph.update(("wrapped", function) for function in wrapped_before ^ wrapped_after)
        return changed_graph

    def _resolve_calls(self, graph: CallGraph, order: List[str], only: Optional[set] = None) -> None:
        """Resolve the calls of the functions in `only` (all if None) into `graph`, then index it.
        Values that need the callers are not known yet: they are asked again later, not kept."""
        self._building_callers = True
        try:
            for qualname in order if only is None else [qualname for qualname in order if qualname in only]:
                unit = self.units[qualname]
                reads: set = set()
                calls, wrapped = [], []
                with self.track(reads) if self.tracking else nullcontext():
                    self.note(qualname)
                    for number, event in enumerate(unit.facts.events):
                        callee = self._callee_only(event.ref, unit)
                        if callee:
                            calls.append((callee, number))
                        wrapped.extend(self._wrapped_by_call(unit, event))
                graph.calls[qualname], graph.wrapped[qualname] = tuple(calls), tuple(wrapped)
                if self.tracking:
                    names = self.expand(reads)
                    graph.reads[qualname] = self._pack(names) if self._pack is not None else tuple(names)
        finally:
            self._building_callers = False
        ordered = {qualname: graph.calls[qualname] for qualname in order if qualname in graph.calls}
        graph.calls = ordered
        graph.wrapped = {qualname: graph.wrapped[qualname] for qualname in ordered if graph.wrapped.get(qualname)}
        graph.reads = {qualname: graph.reads[qualname] for qualname in ordered if qualname in graph.reads}
        self._graph, self._callers = graph, _callers_by_callee(ordered)
        self._wrapped_functions = {function for functions in graph.wrapped.values() for function in functions}

    def callers_of(self, qualname: str) -> List[Tuple[str, int]]:
        """The calls of the function, each as (calling function's qualname, number of the call)."""
        sites = self.callers().get(qualname, [])
        self.note(("callers", qualname))
        if self._reads is not None:
            self._reads.update(caller for caller, _ in sites)
        return sites

    def call_site(self, site: Tuple[str, int]) -> Tuple[Unit, Event]:
        """(calling function, call event) of a call site; its module is loaded only now."""
        unit = self.units[site[0]]
        return unit, unit.facts.events[site[1]]

    def _is_wrapped(self, qualname: str) -> bool:
        self.call_graph()  # the call graph pass also notes functions wrapped by a transaction call
        self.note(("wrapped", qualname))
        return qualname in self._wrapped_functions

    def _wrapped_by_call(self, unit: Unit, event: Event) -> List[str]:
        """`transaction.atomic(view)` (as in urls.py): the function passed in runs in a transaction."""
        arguments = [argument for argument in event.ref[2] if argument[0] in ("name", "attr")]
        if not arguments:
            return []
        if not self.opens_transaction(self.evaluate(event.ref[1], unit), as_decorator=True):
            return []
        wrapped = []
        for argument in arguments:
            value = self.evaluate(argument, unit)
            if value is not None and value.kind == "function":
                wrapped.append(value.name)
        return wrapped

    def _callee_only(self, ref: Ref, unit: Unit) -> str:
        func = ref[1]
        if func[0] == "name":
            value = self.evaluate(func, unit)
        elif func[0] == "attr" and func[1][0] in ("name", "attr"):
            value = self.evaluate(func, unit)
        else:
            return ""
        if value is None:
            return ""
        if value.kind == "function":
            return value.name
        if value.kind == "class" and f"{value.name}.__init__" in self.units:
            return value.name
        return ""

    def effects(self, unit: Unit, depth: int = 0) -> List[Effect]:
        """The function's effects in order, with its helpers' effects placed at their call sites,
        down to _MAX_CALL_DEPTH calls below the function asked about (`depth`: how far below it
        this one is).

        What a helper contributes depends on how deep it sits, so effects are kept by function and
        depth; the effects of a function whose helpers were all followed to the end hold at any
        shallower depth too. (Kept by function alone, a helper first met deep in a call chain would
        keep its cut-short effects for every caller: findings would depend on which function was
        checked first.) The depth bound also ends recursion."""
        key = (unit.qualname, depth)
        cached = self._effects.get(key)
        if cached is None:
            deepest = self._complete_effects.get(unit.qualname, -1)
            if deepest >= depth:
                key = (unit.qualname, deepest)
                cached = self._effects[key]
        if cached is not None and self._fits(self._heights[("effects", key)]):
            self._memo_hit("effects", key)
            if key in self._cut_effects:
                self._effects_cut = True  # what is worked out from it leaves a helper out too
            return cached
        key = (unit.qualname, depth)
        cut, self._effects_cut = self._effects_cut, False
        try:
            result, kept, height = self._work_out("effects", key, lambda: self._effects_in_order(unit, depth))
        finally:
            complete = not self._effects_cut
            self._effects_cut = self._effects_cut or cut
        complete = complete and kept
        if kept:
            self._effects[key] = result
            self._heights[("effects", key)] = height
            if not complete:
                self._cut_effects.add(key)
        if complete and depth > self._complete_effects.get(unit.qualname, -1):
            self._complete_effects[unit.qualname] = depth
        return result

    def _effects_in_order(self, unit: Unit, depth: int) -> List[Effect]:
        self.note(unit.qualname)
        result: List[Effect] = []
        for event in unit.facts.events:
            if event.context.deferred:
                continue
            outcome = self.call(event.ref, unit)
            inside = None
            if outcome.effect is not None:
                inside = self.in_scope(unit, event)
                result.extend(self._direct_effects(outcome.effect, event, inside, unit))
            if outcome.callee and depth >= _MAX_CALL_DEPTH:
                self._effects_cut = True
            elif outcome.callee:
                callee = self.units.get(outcome.callee)
                if callee is None or callee is unit:
                    continue
                inside = self.in_scope(unit, event) if inside is None else inside
                wrapped = self.decorated_transactional(callee)
                for effect in self.effects(callee, depth + 1):
                    result.append(Effect(effect.kind, effect.spec, event, inside or wrapped or effect.in_scope,
                                         via=effect.via or callee.qualname, receiver=effect.receiver))
        return self._inside_explicit_begin(result)

    def _direct_effects(self, spec: EffectSpec, event: Event, inside: bool, unit: Unit) -> List[Effect]:
        receiver = _receiver_text(event.ref)
        if spec.kind != "sql":
            return [Effect(spec.kind, spec, event, inside, receiver=receiver)]
        if not spec.sql:
            return []
        effects = []
        for statement in sqlkit.classify_sql(spec.sql):
            if statement.kind in ("write", "ddl", "bulk"):
                tables = statement.tables or ("?",)
                write = EffectSpec("write", spec.library, tables[0], "raw", spec.regime, spec.atomic_alone,
                                   spec.sql, spec.bulk, aliases=tables[1:])
                effects.append(Effect("write", write, event, inside, receiver=receiver))
            elif statement.commits:
                effects.append(Effect("commit", EffectSpec("commit", spec.library, regime=spec.regime, sql=spec.sql),
                                      event, inside, receiver=receiver))
            elif statement.kind == "txctl" and statement.keyword in ("BEGIN", "START", "ROLLBACK", "ABORT"):
                kind = "begin" if statement.keyword in ("BEGIN", "START") else "rollback"
                effects.append(Effect(kind, EffectSpec(kind, spec.library, regime=spec.regime, sql=spec.sql),
                                      event, inside, receiver=receiver))
        return effects

    @staticmethod
    def _inside_explicit_begin(effects: List[Effect]) -> List[Effect]:
        """Autocommit writes between a raw `BEGIN` and its `COMMIT`/`ROLLBACK` are in that transaction."""
        if not any(effect.kind == "begin" and not effect.via for effect in effects):
            return effects
        result, open_transaction = [], False
        for effect in effects:
            if not effect.via and effect.kind == "begin":
                open_transaction = True
            elif not effect.via and effect.kind in ("commit", "rollback"):
                open_transaction = False
            elif open_transaction and effect.kind == "write" and effect.spec.regime == AUTOCOMMIT:
                effect = replace(effect, in_scope=True)
            result.append(effect)
        return result


def _callers_by_callee(calls: Dict[str, Tuple[Tuple[str, int], ...]]) -> Dict[str, List[Tuple[str, int]]]:
    """callee -> [(caller, call number)], in the callers' order."""
    callers: Dict[str, List[Tuple[str, int]]] = {}
    for caller, sites in calls.items():
        for callee, number in sites:
            callers.setdefault(callee, []).append((caller, number))
    return callers


def _receiver_text(ref: Ref) -> str:
    func = ref[1]
    if func[0] != "attr":
        return ""
    return _ref_text(func[1])


def _ref_text(ref: Ref) -> str:
    if ref[0] == "name":
        return ref[1]
    if ref[0] == "attr":
        return f"{_ref_text(ref[1])}.{ref[2]}"
    if ref[0] == "call":
        return f"{_ref_text(ref[1])}()"
    return "?"
