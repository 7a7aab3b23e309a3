"""Framework knowledge: which calls write, commit or open a transaction, one module per library.

Each module defines a `Knowledge` subclass; the registry below is the only place that lists
them. Adding a library touches no rule, and rules never name a library's functions.
"""

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from txlint.values import CallView, Outcome, Value


@dataclass(frozen=True)
class TransactionIdiom:
    """A library's transaction as fixes write it: `from module import name`, then `@decorator` on a
    function or `with block:` around statements (`{}` stands for the name as the file imports it).
    `on_commit`: how to run a callable after the transaction commits ("" when the library has no way).

    An empty `module` means the transaction is a method of a database handle (`db.atomic()`): `{}`
    then stands for the one name of such a handle the function's module sees, or (from
    `Knowledge.connection_idiom`) for the connection the writes go through; `{handle}` in `block`
    stands for that connection too (`atomic(conn)`)."""

    module: str
    name: str
    block: str
    decorator: str = ""  # "": it decorates no function
    asynchronous: bool = False  # `async with`, in `async def` only
    on_commit: str = ""
    runtime_default: bool = False  # txlint.runtime's `atomic()` without a target runs on its default database
    # Another import of the same transaction a file may have, used as it is when present:
    # (module, name, block, decorator), as `from django.db.transaction import atomic`.
    alternative: Tuple[str, str, str, str] = ("", "", "", "")
    handle: str = ""  # the connection the block is written with, when it is one (set by the rule)


@dataclass(frozen=True)
class SwappableModel:
    """A model the project's settings choose: the setting that names it by label ("app.Model"), the
    library's own model when none is named, and the base classes a project's replacement derives from."""

    setting: str
    default: str
    bases: Tuple[str, ...]


# txlint.runtime's own, for fixes that need a runtime helper (stage_file, on_commit) around
# writes of a library whose default database `atomic()` finds (txlint.runtime's docs).
RUNTIME_IDIOM = TransactionIdiom("txlint.runtime", "atomic", "{}()")


class Knowledge:
    """What one library (or family of libraries) does. Every hook may return None: "not mine"."""

    library = ""
    roots: Tuple[str, ...] = ()  # top-level import names this knowledge owns
    # Qualified names of base classes that make a class a model of this library.
    model_bases: Tuple[str, ...] = ()
    # Base classes of a model's manager or query set: `self` in their methods is the manager of the
    # model it was called through (`User.objects.create_user(...)`).
    manager_bases: Tuple[str, ...] = ()
    # Models the project's settings choose (Django's user model), by the names that give them.
    swappable_models: Dict[str, "SwappableModel"] = {}
    # Parameters the framework passes an instance of a class the method's class names in an
    # attribute: (method, parameter) -> attribute (a Django view's `form_valid(self, form)` gets
    # an instance of its `form_class`).
    parameter_classes: Dict[Tuple[str, str], str] = {}
    # Library methods that call a method of what they are given: `super().form_valid(form)` in a
    # Django view runs `form.save()` (method -> the method it calls on its first argument).
    calls_on_argument: Dict[str, str] = {}
    # Of those, the ones that keep what that call returned in an attribute of `self` (Django's
    # `form_valid` sets `self.object = form.save()`): method -> attribute.
    keeps_result_as: Dict[str, str] = {}
    # And the library base classes in which the row that call saves is a new one: method -> bases
    # (Django's CreateView).
    creating_bases: Dict[str, Tuple[str, ...]] = {}
    # A method of the library's views that returns an instance of the model a class attribute names
    # (Django's `get_object()` of a single-object view: its `model`), whatever an override does.
    returns_instance_of: Dict[str, str] = {}
    # Methods of a model that the library itself calls, from outside the project's code (Django's
    # `save()` from a form, `clean()` from validation): where the project calls them tells nothing
    # of where they run.
    model_methods_called_by_library: Tuple[str, ...] = ()
    # Methods a library base class always calls inside a transaction of its own: base qname ->
    # method names (Django's ModelAdmin saves in `changeform_view`'s `transaction.atomic`).
    methods_in_transaction: Dict[str, Tuple[str, ...]] = {}
    # Classes a library base class names in attributes of the project's subclass and whose methods
    # it calls inside a transaction of its own: base qname -> (attributes, methods; "clean_*" is a
    # prefix). Django's ModelAdmin builds, validates and saves its `form` in `changeform_view`.
    classes_in_transaction: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {}
    # Methods an abstract model of another package gives the project's models deriving from it, that
    # this library says what they do (`inherited_method`): base qname -> method names
    # (django-treebeard's node API on a Django model).
    inherited_methods: Dict[str, Tuple[str, ...]] = {}
    # Fields a library's model declares and a project model deriving from it inherits, that
    # `inherited_field` gives the value of: base qname -> field names (django.contrib.auth's
    # many-to-many `groups` and `user_permissions` on a custom user model).
    inherited_fields: Dict[str, Tuple[str, ...]] = {}
    # Signals (a `signal` value): the methods that run every receiver connected to one (Django's
    # `Signal.send`), and the decorators that connect the function they decorate (`@receiver(sig)`).
    signal_sends: Tuple[str, ...] = ()
    receiver_decorators: Tuple[str, ...] = ()
    # Methods that run a statement object of this library passed as their first argument, whatever
    # the receiver is (`x.execute(text("..."))` where x could not be resolved).
    statement_runners: Tuple[str, ...] = ()
    # How findings name the library's habit of committing every statement, and what to write instead
    # (`{what}`: "them", "the loop").
    autocommit_regime = "autocommit"
    transaction_fix = "wrap {what} in one transaction, for example `with txlint.runtime.atomic(...):`"
    # The transaction a fix writes (None: no fix wraps this library's writes mechanically).
    transaction_idiom: Optional[TransactionIdiom] = None
    # The method a fix calls instead of a commit that splits a unit of work, by the handle's role
    # (a session's `flush()` sends the writes, and gives new rows their keys, without committing);
    # a role not named here: the commit is only removed.
    commit_replacements: Dict[str, str] = {}

    def connection_idiom(self, handle: Value) -> Optional[TransactionIdiom]:
        """The transaction a fix writes around writes made through `handle` (a connection), for a
        library with no `transaction_idiom` of its own."""
        return None

    def qname_value(self, qname: str) -> Optional[Value]:
        """The value of an imported name itself (for example a transaction decorator)."""
        return None

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        """Calling an imported function or class by its qualified name."""
        return None

    def attribute(self, value: Value, name: str) -> Optional[Value]:
        return None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        """Calling `value.name(...)`."""
        return None

    def is_model_field(self, qname: str) -> bool:
        """Is this a field class of this library's models (a class declaring one is a model)?"""
        return False

    def imported_model(self, qname: str, attribute: str) -> Optional[Value]:
        """A class imported from another package (`qname`), used through an attribute only this
        library's models have (Django's `StaticDevice.objects`): that model, else None."""
        return None

    def reverse_accessor(self, instance: Value, name: str) -> Optional[Value]:
        """An attribute of a model instance that its class does not declare, which the library adds
        for the models pointing to it (Django's `order.orderline_set`)."""
        return None

    def inherited_method(self, model: Value, name: str, call: CallView) -> Optional[Outcome]:
        """Calling `name`, which `model` (a model value) inherits from a base in `inherited_methods`,
        on an instance of it, on the class or on its manager."""
        return None

    def inherited_field(self, instance: Value, name: str) -> Optional[Value]:
        """`instance.name`, a field of a base in `inherited_fields` that the instance's model inherits."""
        return None

    def related_rows(self, model: Value) -> Optional[Value]:
        """The rows of `model` reached from an instance its relation field points to, through the
        field's `related_name` (Django's `order.lines` for `OrderLine.order = ForeignKey(Order,
        related_name="lines")`)."""
        return None

    def call_value(self, value: Value, call: CallView) -> Optional[Outcome]:
        """Calling `value(...)`."""
        return None

    def item(self, value: Value) -> Optional[Value]:
        """What a loop over `value` (a handle of this library) binds to each item: by default, for
        a handle of a model's rows (a manager, a query, a related manager) whose first flag names
        the model, an instance of that model."""
        if value.name in ("manager", "query", "related") and value.flags:
            return Value("instance", name=value.flags[0], library=value.library, table=value.table)
        return None

    def run_statement(self, statement: Value, name: str, call: CallView) -> Optional[Outcome]:
        """`receiver.name(statement, ...)` on a receiver that could not be resolved (see statement_runners)."""
        return None

    def declares_model(self, attributes: Dict[str, tuple]) -> bool:
        """Do a class's attributes map it to a table of this library, whatever its base classes are?"""
        return False

    def field(self, instance: Value, name: str, field_type: str) -> Optional[Value]:
        """The value of `instance.name` when the model declares it with a call of `field_type`
        (the name the field's constructor is called by), if the library gives it one."""
        return None

    def enter(self, value: Value) -> Optional[Value]:
        """What `with value as x` binds to x, when it differs from value."""
        return None

    def opens_transaction(self, value: Value, as_decorator: bool) -> bool:
        """Does `with value:` (or `@value`) run its body in one transaction?"""
        return False

    def accepts_model(self, base_qname: str, attributes: Dict[str, tuple]) -> bool:
        """Is a class deriving from this model base really a model (for example SQLModel's table=True)?"""
        return True

    def model_table(self, class_name: str, module: str, attributes: Dict[str, tuple]) -> str:
        """The table name of a model class of this library."""
        return class_name.lower()


def _load():
    from txlint.frameworks import (alembic, databases, dbapi, django, files, pandas, peewee, runtime, sqlalchemy,
                                   tortoise)

    return (
        alembic.AlembicKnowledge(),
        databases.DatabasesKnowledge(),
        pandas.PandasKnowledge(),
        sqlalchemy.SQLAlchemyKnowledge(),
        django.DjangoKnowledge(),
        dbapi.DBAPIKnowledge(),
        peewee.PeeweeKnowledge(),
        tortoise.TortoiseKnowledge(),
        files.FilesKnowledge(),
        runtime.RuntimeKnowledge(),
    )


class Registry:
    """All framework knowledge, with lookups by library name and by qualified-name root."""

    def __init__(self, transaction_helpers: Tuple[str, ...] = ()):
        self.all = _load()
        self.by_library = {knowledge.library: knowledge for knowledge in self.all}
        self.by_root: Dict[str, Knowledge] = {}
        for knowledge in self.all:
            for root in knowledge.roots:
                self.by_root[root] = knowledge
        self.model_bases: Dict[str, str] = {}
        for knowledge in self.all:
            for base in knowledge.model_bases:
                self.model_bases[base] = knowledge.library
        self.manager_bases = frozenset(base for knowledge in self.all for base in knowledge.manager_bases)
        self.swappable_models: Dict[str, SwappableModel] = {}
        self.parameter_classes: Dict[Tuple[str, str], str] = {}
        self.calls_on_argument: Dict[str, str] = {}
        self.keeps_result_as: Dict[str, str] = {}
        self.returns_instance_of: Dict[str, str] = {}
        self.creating_bases: Dict[str, Tuple[str, ...]] = {}
        self.methods_in_transaction: Dict[str, Tuple[str, ...]] = {}
        self.classes_in_transaction: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {}
        # base qname -> (the knowledge that says what they do, the methods it gives)
        self.inherited_methods: Dict[str, Tuple[Knowledge, Tuple[str, ...]]] = {}
        self.inherited_fields: Dict[str, Tuple[Knowledge, Tuple[str, ...]]] = {}
        for knowledge in self.all:
            self.inherited_methods.update((base, (knowledge, names))
                                          for base, names in knowledge.inherited_methods.items())
            self.inherited_fields.update((base, (knowledge, names))
                                         for base, names in knowledge.inherited_fields.items())
            self.classes_in_transaction.update(knowledge.classes_in_transaction)
            self.swappable_models.update(knowledge.swappable_models)
            self.parameter_classes.update(knowledge.parameter_classes)
            self.calls_on_argument.update(knowledge.calls_on_argument)
            self.keeps_result_as.update(knowledge.keeps_result_as)
            self.returns_instance_of.update(knowledge.returns_instance_of)
            self.creating_bases.update(knowledge.creating_bases)
            self.methods_in_transaction.update(knowledge.methods_in_transaction)
        self.model_methods_called_by_library = frozenset(
            name for knowledge in self.all for name in knowledge.model_methods_called_by_library)
        self.inherited_method_names = frozenset(name for _, names in self.inherited_methods.values() for name in names)
        self.inherited_field_names = frozenset(name for _, names in self.inherited_fields.values() for name in names)
        self.transaction_helpers = frozenset(transaction_helpers)
        self.statement_runners = frozenset(name for knowledge in self.all for name in knowledge.statement_runners)
        self.signal_sends = frozenset(name for knowledge in self.all for name in knowledge.signal_sends)
        self.receiver_decorators = frozenset(name for knowledge in self.all for name in knowledge.receiver_decorators)

    def for_qname(self, qname: str) -> Optional[Knowledge]:
        return self.by_root.get(qname.split(".", 1)[0])

    def for_value(self, value: Value) -> Optional[Knowledge]:
        return self.by_library.get(value.library)

    def autocommit_regime(self, library: str) -> str:
        knowledge = self.by_library.get(library)
        return knowledge.autocommit_regime if knowledge is not None else Knowledge.autocommit_regime

    def transaction_fix(self, library: str, what: str = "them") -> str:
        knowledge = self.by_library.get(library)
        return (knowledge or Knowledge).transaction_fix.format(what=what)

    def transaction_idiom(self, library: str) -> Optional[TransactionIdiom]:
        knowledge = self.by_library.get(library)
        return knowledge.transaction_idiom if knowledge is not None else None

    def connection_idiom(self, handle: Value) -> Optional[TransactionIdiom]:
        knowledge = self.by_library.get(handle.library)
        return knowledge.connection_idiom(handle) if knowledge is not None else None

    def commit_replacement(self, library: str, role: str) -> str:
        knowledge = self.by_library.get(library)
        return knowledge.commit_replacements.get(role, "") if knowledge is not None else ""

    def is_transaction_helper(self, qname: str) -> bool:
        return qname in self.transaction_helpers
