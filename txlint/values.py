"""The abstract values txlint infers for expressions, and what framework knowledge returns."""

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

AUTOCOMMIT = "autocommit"  # every write outside a transaction scope commits on its own
IMPLICIT = "implicit"  # writes are atomic up to the next commit


@dataclass(frozen=True)
class Value:
    """What an expression is, as far as database writes are concerned.

    kind is one of:
      qname        an imported or module-level thing known only by its qualified name (`name`)
      class        a project class that is not a model (`name` = qualname)
      model        a model class (`library`, `name` = model qualname, `table`)
      instance     an instance of a model (`library`, `name`, `table`)
      object       an instance of a project class that is not a model (`name` = class qualname)
      function     a project function (`name` = qualname)
      handle       a database handle: session, connection, cursor, engine, database, manager...
                   (`library`, `name` = the handle's role, `table` = model for managers/querysets)
      scope        something that opens a transaction when entered or used as a decorator
      statement    a SQL statement object: SQLAlchemy DML (`table`) or text()/SQL() (`sql`)
      string       a string (`sql` = its text)
      builtin      a builtin function (`name`)
      fileobj      a path or storage object that can write files (`library`, `name`)
      signal       a signal its receivers are connected to (`library`, `name` = the qualified name
                   of the module-level variable it is bound to, "" until bound)
    """

    kind: str
    name: str = ""
    library: str = ""
    table: str = ""
    sql: str = ""
    regime: str = ""
    flags: Tuple[str, ...] = ()

    def has(self, flag: str) -> bool:
        return flag in self.flags


@dataclass(frozen=True)
class EffectSpec:
    """What a call does to the database or the file system."""

    kind: str  # write | read | commit | rollback | file_write | file_delete | after_commit | sql
    library: str = ""
    table: str = ""
    how: str = "orm"  # writes: orm | core | raw; files: move | tree | field (a file field saving its row) | unsaved_field
    regime: str = ""
    atomic_alone: bool = False  # the library wraps this one call in its own transaction
    sql: str = ""  # for raw SQL: the statement text, when it could be resolved
    bulk: bool = False  # one call writes many rows (a batch)
    aliases: Tuple[str, ...] = ()  # other names of the target (its table name)
    idempotent: bool = False  # get_or_create / update_or_create: running it again changes nothing
    saves_argument: bool = False  # it writes the object given as its first argument (`session.add(order)`)
    # The keyword argument naming an unsaved instance the call inserts as a new row (treebeard's
    # `parent.add_child(instance=page)`): "" when none.
    new_row_keyword: str = ""
    removes: bool = False  # it only deletes rows or links (`session.delete(row)`, `user.groups.remove(group)`)
    # It adds a row only when it is missing (`get_or_create`, a many-to-many `add()` of existing
    # rows, which adds no link twice): what it leaves on its own is a state the code expects.
    ensures: bool = False
    # It changes attributes of a loaded object (`cert.resolved = True`): an UPDATE of that row only.
    sets_attribute: bool = False


@dataclass(frozen=True)
class Outcome:
    value: Optional[Value] = None
    effect: Optional[EffectSpec] = None
    callee: str = ""  # qualname of the project function called
    receivers: Tuple[str, ...] = ()  # qualnames of the project functions a signal sent runs


class CallView:
    """Lazy access to a call's arguments, for framework knowledge."""

    def __init__(self, args, kwargs, evaluate: Callable, string_of: Callable):
        self.args = args
        self.kwargs = dict(kwargs)
        self._evaluate = evaluate
        self._string_of = string_of

    def arg_ref(self, index: int, keyword: Optional[str] = None):
        if keyword is not None and keyword in self.kwargs:
            return self.kwargs[keyword]
        if index < len(self.args):
            return self.args[index]
        return None

    def value(self, index: int, keyword: Optional[str] = None) -> Optional[Value]:
        ref = self.arg_ref(index, keyword)
        return self._evaluate(ref) if ref is not None else None

    def string(self, index: int, keyword: Optional[str] = None) -> Optional[str]:
        ref = self.arg_ref(index, keyword)
        return self._string_of(ref) if ref is not None else None

    def keyword_value(self, keyword: str) -> Optional[Value]:
        ref = self.kwargs.get(keyword)
        return self._evaluate(ref) if ref is not None else None

    def const(self, keyword: str):
        ref = self.kwargs.get(keyword)
        return ref[1] if ref is not None and ref[0] == "const" else None


def target_name(target: Optional[Value]) -> str:
    """The display name of what a write touches: the model's class name, or the table."""
    if target is None:
        return ""
    if target.kind in ("model", "instance"):
        return target.name.rsplit(".", 1)[-1]
    if target.kind in ("handle", "statement", "string") and target.table:
        return target.table
    return ""


def write_effect(library: str, target: Optional[Value], regime: str, how: str = "orm", **options) -> Outcome:
    table = target_name(target)
    table_names = ()
    if target is not None and target.table and target.table != table:
        table_names = (target.table,)
    return Outcome(effect=EffectSpec("write", library, table, how, regime, aliases=table_names, **options))


def effect(kind: str, library: str = "", regime: str = "", **options) -> Outcome:
    return Outcome(effect=EffectSpec(kind, library, regime=regime, **options))


def first_model(value: Optional[Value]) -> Optional[Value]:
    """The model an argument refers to: a model class, an instance, or the first of a list."""
    if value is None:
        return None
    if value.kind in ("model", "instance", "statement"):
        return value
    return None
