"""Which writes of a function belong to one unit of work.

Two writes that commit apart are a hazard only when they belong together: a failure between
them must leave something a maintainer would call broken (an order without its lines). Writes
that merely sit in one function (a setting saved, then an unrelated counter bumped; derived data
recomputed; two cleanups) are not. TXL101 and TXL103 report a pair only with evidence that it
belongs together:

- **data**: both calls use a value of the function's own (a local variable or parameter, or
  `self.x` in a method), directly or through the variables it was built from; the result of one
  write, given to the other (`order = Order.objects.create(...)`, then
  `Invoice.objects.create(order=order)`) is one such value. Database handles (sessions,
  connections, cursors, managers), classes and modules do not count: every write shares them.
- **relation**: one of the writes makes a row, and the two models are tied by a relation field
  (a foreign key, a one-to-one or many-to-many field, SQLAlchemy's `relationship`), in either
  direction: a parent and its child.

Writes that only delete rows by a threshold (pruning, cleanups) are not a unit of work even then:
each delete is complete on its own, and running the function again finishes the job. Deletes
tied to one object (its id, the instance: a warehouse and its items) still are. Nor is an
entry in a log of what happened (an audit entry, an activity log, a history record): it records
the work, it is no half of it.

What it may use: the function's facts (its events and bindings), `Project.evaluate` to tell
handles from data, and the project's classes (read through the project, so incremental runs see
what was read) for relation fields.
"""

import re
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, Set

from txlint.dataflow import INSERTED_KEY, followed, names_in
from txlint.facts import Ref

if TYPE_CHECKING:
    from txlint.project import Effect, Project, Unit

# Values that are not data: every write of the function shares them.
_NOT_DATA = {"handle", "scope", "model", "class", "qname", "function", "builtin"}
_CLOSURE_DEPTH = 3  # assignments followed back from a write's call
_IDENTITY = re.compile(r"(^|_)(id|ids|pk|pks|key|uuid)$")
_LOG_TABLE = re.compile(r"(log|logs|logentry|logentries|audit|auditentry|auditentries|history|historyentry)$|"
                        r"^historical|activitylog|actionlog|auditlog")
_DELETES = {"delete", "adelete", "delete_many", "delete_all", "remove", "aremove", "clear", "aclear",
            "delete_instance", "truncate"}
_DELETE_SQL = ("DELETE", "TRUNCATE", "DROP")
_UPDATES = {"update", "aupdate", "bulk_update", "abulk_update", "update_many"}


def _contains(ref: Ref, part: Ref) -> bool:
    """Is `part` the value of `ref`, or what it unpacks, awaits or enters?"""
    while isinstance(ref, tuple) and ref:
        if ref == part:
            return True
        if ref[0] in ("unpack", "enter", "iter", "sub"):
            ref = ref[1]
        elif ref[0] == "annotated":
            ref = ref[2]
        else:
            return False
    return False


class WriteLinks:
    """The evidence that links the writes of one function (see the module's docstring)."""

    def __init__(self, project: "Project", unit: "Unit"):
        self.project = project
        self.unit = unit
        self._data: Dict[int, FrozenSet[str]] = {}
        self._is_data: Dict[str, bool] = {}

    def related(self, first: "Effect", second: "Effect") -> bool:
        """Does `second` (the later write) belong with `first`?"""
        if is_log(first) or is_log(second):
            return False  # an audit or activity log entry records the work; it is no half of it
        if INSERTED_KEY in self.data_of(second):
            return True  # it uses the key an earlier INSERT made (`cursor.lastrowid`)
        shared = self.data_of(first) & self.data_of(second)
        if any(self._is_data_name(name) for name in shared):
            return True
        # Models tied by a relation, when one of the writes makes a row: a parent and its child.
        # Two updates of related models by keys of their own may well touch unrelated rows.
        return (_makes_rows(first) or _makes_rows(second)) and models_related(self.project, first, second)

    def deletes_of_one_thing(self, effects: List["Effect"]) -> bool:
        """Deletes tied to one object (its id, the instance): a parent and its children go together.
        Deletes by a threshold (`created < cutoff`) are cleanups, each complete on its own."""
        shared = frozenset.intersection(*(self.data_of(effect) for effect in effects)) if effects else frozenset()
        return any(_IDENTITY.search(name) or self._is_instance(name) for name in shared)

    def _is_instance(self, name: str) -> bool:
        root, _, attribute = name.partition(".")
        ref: Ref = ("name", root) if not attribute else ("attr", ("name", root), attribute)
        value = self.project.evaluate(ref, self.unit)
        return value is not None and value.kind == "instance"

    def same_object(self, first: "Effect", second: "Effect") -> bool:
        """Is `second` a method of the object `first` made (`ra = X.objects.create(...)`, then
        `ra.validated_save()`)?"""
        root = second.receiver.split(".", 1)[0] if second.receiver and not second.via else ""
        return bool(root) and any(_contains(ref, first.site.ref) for ref in self.unit.facts.bindings.get(root, ()))

    def data_of(self, effect: "Effect") -> FrozenSet[str]:
        """The data paths a write's call uses, through the variables they were built from, and the
        names its result is bound to."""
        key = id(effect.site)
        found = self._data.get(key)
        if found is None:
            bindings = self.unit.facts.bindings
            direct: Set[str] = set()
            names_in(effect.site.ref, direct, paths=True)
            direct.update(name for name, refs in bindings.items()
                          if any(_contains(ref, effect.site.ref) for ref in refs))
            reached = followed(direct, self.unit.facts, paths=True, steps=_CLOSURE_DEPTH)
            found = self._data[key] = frozenset(name for name in reached if name in bindings
                                                 or name == INSERTED_KEY or self._bound_self(name))
        return found

    def _bound_self(self, path: str) -> bool:
        return "." in path and path.split(".", 1)[0] in self.unit.facts.bindings

    def _is_data_name(self, name: str) -> bool:
        known = self._is_data.get(name)
        if known is None:
            root, _, attribute = name.partition(".")
            ref: Ref = ("name", root) if not attribute else ("attr", ("name", root), attribute)
            value = self.project.evaluate(ref, self.unit)
            known = self._is_data[name] = value is None or value.kind not in _NOT_DATA
        return known


def is_log(effect: "Effect") -> bool:
    """A write to a log of what happened (an audit entry, an activity log, a history record)."""
    return any(_LOG_TABLE.search(name) for name in _names_of(effect))


def is_delete(effect: "Effect") -> bool:
    """Does the write only delete rows (as far as its call shows)?"""
    if effect.spec.how == "raw":
        return effect.spec.sql.lstrip().upper().startswith(_DELETE_SQL)
    if effect.via:
        return False
    func = effect.site.ref[1]
    if func[0] == "attr" and func[2] in _DELETES:
        return True
    # `session.execute(delete(Model).where(...))`, `conn.execute(table.delete())`
    statement = effect.site.ref[2][0] if effect.site.ref[2] else None
    return effect.spec.how == "core" and statement is not None and statement[0] == "call" and \
        _called_name(statement) == "delete"


def _called_name(ref: Ref) -> str:
    """The name a call's chain starts from: `delete` in `delete(M).where(...)`, `table.delete()`."""
    while ref[0] == "call":
        func = ref[1]
        if func[0] == "name":
            return func[1]
        if func[0] != "attr":
            return ""
        if func[1][0] != "call":
            return func[2]
        ref = func[1]
    return ""


def _makes_rows(effect: "Effect") -> bool:
    """Can the write insert (or save) rows? Only an update or delete seen in the call says no."""
    if effect.spec.how == "raw":
        return not effect.spec.sql.lstrip().upper().startswith(("UPDATE", *_DELETE_SQL))
    if effect.via:
        return True
    func = effect.site.ref[1]
    return not (func[0] == "attr" and (func[2] in _DELETES or func[2] in _UPDATES))


def only_deletes(effects: Iterable["Effect"]) -> bool:
    return all(is_delete(effect) for effect in effects)


# -- relations between models --------------------------------------------------------------------
def models_related(project: "Project", first: "Effect", second: "Effect") -> bool:
    first_names, second_names = _names_of(first), _names_of(second)
    return bool(_relation_targets(project, first_names) & second_names
                or _relation_targets(project, second_names) & first_names)


def _names_of(effect: "Effect") -> FrozenSet[str]:
    return frozenset(name.lower() for name in (effect.spec.table, *effect.spec.aliases) if name not in ("", "?"))


def _relation_targets(project: "Project", names: FrozenSet[str]) -> FrozenSet[str]:
    """What the models of these names point at through relation fields (lower-case names)."""
    targets: Set[str] = set()
    relation_fields = project.registry.relation_fields
    for name in names:
        for facts in _classes_named(project, name):
            own = facts.name.lower()
            for ref in facts.attributes.values():
                for target in _relation_calls(ref, relation_fields):
                    targets.add(own if target == "self" else target)
    return frozenset(targets)


def _classes_named(project: "Project", name: str) -> List[object]:
    project.note(("model", name))
    found = []
    for qualname in project.classes_by_name(name):
        entry = project.classes.get(qualname)
        if entry is not None:
            found.append(entry[0])
    return found


def _relation_calls(ref: Ref, relation_fields: FrozenSet[str], depth: int = 0) -> Iterable[str]:
    """The targets of the relation fields called in a class attribute's value, lower-case."""
    if not isinstance(ref, tuple) or not ref or depth > 4:
        return
    if ref[0] == "call":
        func = ref[1]
        called = func[2] if func[0] == "attr" else func[1] if func[0] == "name" else ""
        if called in relation_fields:
            arguments = [*ref[2][:1], *(value for key, value in ref[3] if key in ("to", "argument", "model"))]
            for argument in arguments:
                yield from _target_names(argument)
        for argument in (*ref[2], *(value for _, value in ref[3])):
            yield from _relation_calls(argument, relation_fields, depth + 1)
    elif ref[0] in ("annotated",) and ref[2] is not None:
        yield from _relation_calls(ref[2], relation_fields, depth + 1)


def _target_names(ref: Ref) -> Iterable[str]:
    """`Order`, `shop.Order`, `"shop.Order"`, `"orders.id"`, `settings.AUTH_USER_MODEL`."""
    if ref[0] == "name":
        yield ref[1].lower()
    elif ref[0] == "attr":
        yield "user" if ref[2] == "AUTH_USER_MODEL" else ref[2].lower()
    elif ref[0] == "str":
        for part in ref[1].split("."):
            if part:
                yield part.lower()
