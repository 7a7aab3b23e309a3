"""Calls: what a call expression returns and does (txlint.values.Outcome: its value, its effect,
the project function it calls), from the framework registry or the project's own functions.

May use evaluation (txlint.model_values), classes (txlint.model_classes) and the framework
registry; owns no state.
"""

from dataclasses import replace
from typing import Optional

from txlint.dataflow import called_name, calls_super
from txlint.facts import Ref
from txlint.model_units import Unit
from txlint.frameworks.django import MODEL_FORM_BASES, MODEL_SERIALIZER_BASES
from txlint.values import AUTOCOMMIT, CallView, Outcome, Value, write_effect

_DEPENDS = {"fastapi.Depends", "fastapi.params.Depends"}
# Manager methods that save a new instance through its `save()`.
_SAVING_CREATES = {"create", "acreate", "get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"}
_SUPER = "super"  # flag of the instance `super()` gives: its overridden methods are the library's


class CallOutcomes:
    """Part of `Project` (txlint.project); owns no state."""

    def call(self, ref: Ref, unit: Unit, depth: int = 0) -> Outcome:
        _, func, args, kwargs = ref
        view = CallView(args, kwargs, lambda r: self.evaluate(r, unit, depth + 1),
                        lambda r: self.string_of(r, unit, depth + 1))
        if called_name(func) == "get_model":
            model = self._model_by_label(view)
            if model is not None:
                return Outcome(value=model)
        if func == ("name", "super") and unit.facts.class_qualname:
            return Outcome(value=self._super_instance(unit.facts.class_qualname))
        if func[0] == "attr":
            if calls_super(func):
                inherited = self._inherited_method(unit, func[2])
                if inherited is not None:
                    return self._call_target(inherited, view, depth)
                saved = self._library_save_of_form(unit, func[2], view, depth)
                if saved is not None:
                    return saved
            base = self.evaluate(func[1], unit, depth)
            if base is None:
                on_argument = self._library_call_on_argument(ref, unit, depth)
                if on_argument is not None:
                    return on_argument
                return self._run_on_unknown_receiver(func[2], view)
            if base.kind == "handle" and base.name == "manager" and base.flags:
                # The project's manager method first: `create_user` of a custom UserManager is its own.
                custom = self._custom_manager_method(base.flags[0], func[2], depth)
                if custom is not None:
                    return self._call_target(custom, view, depth)
            knowledge = self.registry.for_value(base)
            if knowledge is not None:
                outcome = knowledge.method(base, func[2], view)
                if outcome is not None:
                    return self._with_override(base, func[2], outcome)
            target = self.attribute(base, func[2], depth)
            if target is None and func[2] == "save" and base.kind == "object":
                saved = self._model_form_save(base.name, view, depth)
                if saved is not None:
                    return saved
            if target is None and func[1] == ("name", "self"):
                on_argument = self._library_call_on_argument(ref, unit, depth)
                if on_argument is not None:
                    return on_argument
        else:
            method = self._bound_method(func, unit)
            if method is not None and depth < 8:
                # `create = Order.objects.create`, then `create(total=1)`: the method, called
                return self.call(("call", method, args, kwargs), unit, depth + 1)
            target = self.evaluate(func, unit, depth)
        outcome = self._call_target(target, view, depth) if target is not None else Outcome()
        if outcome.value is None and func[0] == "attr" and func[1] == ("name", "self"):
            instance = self._instance_the_library_returns(unit, func[2], depth)
            if instance is not None:
                return replace(outcome, value=instance)
        return outcome

    def _instance_the_library_returns(self, unit: Unit, name: str, depth: int) -> Optional[Value]:
        """`self.get_object()` in a single-object view: an instance of its `model` (see
        `returns_instance_of`), when the method's own return value is not known."""
        attribute = self.registry.returns_instance_of.get(name)
        owner = unit.facts.class_qualname
        if attribute is None or not owner or owner not in self.classes:
            return None
        named = self.attribute(Value("class", name=owner), attribute, depth + 1)
        return self.instance_of(named.name) if named is not None and named.kind == "model" else None

    def _inherited_method(self, unit: Unit, name: str) -> Optional[Value]:
        """`super().form_valid(form)` in a method of a project class that is not a model: the
        method of the nearest project base class that defines it (a view's mixin, a serializer's
        base), else None (the library's). (In a model, `super().save()` stays the library's write of
        the instance itself.)"""
        class_qualname = unit.facts.class_qualname
        if not class_qualname or class_qualname not in self.classes or \
                self.class_value(class_qualname).kind == "model":
            return None
        for owner in self._class_chain(class_qualname)[1:]:
            method = self.classes[owner][0].methods.get(name)
            if method is not None:
                return Value("function", name=method, flags=("method",))
        return None

    def _model_form_save(self, class_qualname: str, view: CallView, depth: int) -> Optional[Outcome]:
        """`form.save()` of a ModelForm, `serializer.save()` of a DRF ModelSerializer, neither
        overriding save(): a write of the model their `Meta.model` names, returning its instance
        (none with `commit=False`). A serializer that overrides `create()` writes through it."""
        instance = self._meta_instance(class_qualname, depth)
        if instance is None:
            return None
        bases = self.library_bases(class_qualname, depth)
        if bases & MODEL_SERIALIZER_BASES:
            create = self._overriding_method(class_qualname, "create")
            if create:
                return Outcome(value=self.return_value(create, depth) or instance, callee=create)
        elif not bases & MODEL_FORM_BASES:
            return None
        return self._saved_instance(instance, view)

    def _library_save_of_form(self, unit: Unit, name: str, view: CallView, depth: int) -> Optional[Outcome]:
        """`super().save(commit=commit)` in a ModelForm's own save(), `super().create(validated_data)`
        or `super().update(instance, validated_data)` in a DRF ModelSerializer's: the library's
        method, which saves an instance of the model `Meta.model` names and returns it."""
        class_qualname = unit.facts.class_qualname
        if not class_qualname or class_qualname not in self.classes or name not in ("save", "create", "update"):
            return None
        instance = self._meta_instance(class_qualname, depth)
        if instance is None:
            return None
        bases = self.library_bases(class_qualname, depth)
        if name == "save" and bases & MODEL_FORM_BASES or name == "create" and bases & MODEL_SERIALIZER_BASES:
            return self._saved_instance(instance, view)
        if name == "update" and bases & MODEL_SERIALIZER_BASES:
            # It sets the fields given on an existing row: run again (a client retrying a failed
            # PUT or PATCH), it changes nothing, so what it leaves is a state the code expects.
            saved = self._saved_instance(instance, view)
            return replace(saved, effect=replace(saved.effect, idempotent=True, ensures=True))
        return None

    def _meta_instance(self, class_qualname: str, depth: int) -> Optional[Value]:
        """An instance of the model a form's or serializer's `class Meta: model = ...` names."""
        for qualname in self._class_chain(class_qualname):
            facts, module = self.classes[qualname]
            if "Meta.model" in facts.attributes:
                model = self.evaluate(facts.attributes["Meta.model"], self.module_unit(module), depth + 1)
                if model is not None:
                    if model.kind != "model":
                        return None
                    return Value("instance", name=model.name, library=model.library, table=model.table)
        return None

    def _saved_instance(self, instance: Value, view: CallView) -> Outcome:
        """The instance a form saves and returns (only returned with `commit=False`), with the
        model's own save() override as part of the write."""
        if view.const("commit") == "False":
            return Outcome(value=instance)
        return self._with_override(instance, "save", Outcome(
            value=instance, effect=write_effect(instance.library, instance, AUTOCOMMIT).effect))

    @staticmethod
    def _bound_method(func: Ref, unit: Unit) -> Optional[Ref]:
        """The attribute a local name is bound to, when that is its only binding in the function
        (`save = session.add`): a method kept in a variable and called later."""
        if func[0] != "name":
            return None
        bound = unit.facts.bindings.get(func[1], ())
        return bound[0] if len(bound) == 1 and bound[0][0] == "attr" else None

    def _super_instance(self, class_qualname: str) -> Optional[Value]:
        """`super()` in a model's method: the instance itself, whose library method (`save()`) runs
        without the class's own override."""
        value = self.instance_of(class_qualname)
        if value is None or value.kind != "instance":
            return None
        return Value(value.kind, value.name, value.library, value.table, flags=(*value.flags, _SUPER))

    def _with_override(self, receiver: Value, name: str, outcome: Outcome) -> Outcome:
        """`order.save()` (or `Order.objects.create(...)`, which saves the new instance) on a
        project model that overrides `save()`: the library's write, and the override's own writes
        with it (an override that saves other models makes them part of every save)."""
        if outcome.effect is None or outcome.effect.kind != "write" or outcome.callee:
            return outcome
        if receiver.kind == "instance" and not receiver.has(_SUPER):
            model, method = receiver.name, name
        elif receiver.kind == "handle" and receiver.name == "manager" and receiver.flags and name in _SAVING_CREATES:
            model, method = receiver.flags[0], "save"
        else:
            return outcome
        override = self._overriding_method(model, method) if model in self.classes else ""
        return replace(outcome, callee=override) if override else outcome

    def _library_call_on_argument(self, ref: Ref, unit: Unit, depth: int) -> Optional[Outcome]:
        """`super().form_valid(form)` where no project base class defines `form_valid` (or
        `self.perform_create(serializer)` where no project class in the chain defines it): the
        library's own, which saves its argument (`calls_on_argument`), as though `form.save()` were
        called here."""
        argument = self.library_method_argument(ref, unit)
        if argument is None or depth >= 8:
            return None
        return self.call(("call", ("attr", argument, self.registry.calls_on_argument[ref[1][2]]), (), ()),
                         unit, depth + 1)

    def library_method_argument(self, ref: Ref, unit: Unit) -> Optional[Ref]:
        """The argument of a call of a library method that saves it (`calls_on_argument`), made on
        `super()` or `self` in a class whose project chain does not define the method."""
        func, args = ref[1], ref[2]
        on_self = func[0] == "attr" and func[1] == ("name", "self")
        if not args or not (on_self or calls_super(func)) or func[2] not in self.registry.calls_on_argument:
            return None
        class_qualname = unit.facts.class_qualname
        if not class_qualname or class_qualname not in self.classes:
            return None
        chain = self._class_chain(class_qualname)
        if any(func[2] in self.classes[base][0].methods for base in (chain if on_self else chain[1:])):
            return None  # a project override runs instead
        return args[0]

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

    def _call_target(self, target: Value, view: CallView, depth: int) -> Outcome:
        if target.kind == "qname":
            if target.name == "typing.cast":
                return Outcome(value=view.value(1, "val"))  # `cast(Dashboard, query.one())`: the value itself
            swappable = self.registry.swappable_models.get(target.name)
            if swappable is not None:
                return Outcome(value=self.swappable_model(swappable))  # `User = get_user_model()`
            if target.name in _DEPENDS:
                dependency = view.value(0, "dependency")
                if dependency is not None and dependency.kind == "function":
                    return Outcome(value=self.return_value(dependency.name, depth))
                return Outcome()
            if target.name == "typing.cast":
                return Outcome(value=view.value(1))  # `cast(Session, x)` is x
            knowledge = self.registry.for_qname(target.name)
            outcome = knowledge.call_qname(target.name, view) if knowledge is not None else None
            return outcome or Outcome()
        if target.kind == "function":
            return Outcome(value=self.return_value(target.name, depth), callee=target.name)
        if target.kind == "model":
            return Outcome(value=Value("instance", name=target.name, library=target.library, table=target.table))
        if target.kind == "class":
            init = f"{target.name}.__init__"
            handle = self._library_handle_of(target.name, view, depth)
            return Outcome(value=handle or Value("object", name=target.name), callee=init if init in self.units else "")
        knowledge = self.registry.for_value(target)
        if knowledge is not None:
            outcome = knowledge.call_value(target, view)
            if outcome is not None:
                return outcome
        if target.kind == "scope":
            return Outcome(value=target)  # transaction.atomic(using=...) is still the scope
        return Outcome()

    def _library_handle_of(self, class_qualname: str, view: CallView, depth: int) -> Optional[Value]:
        """A project subclass of a library's database class (`class SQLAlchemy(flask_sqlalchemy.SQLAlchemy)`
        that only adds options, a `Session` subclass) makes what the library class makes: a
        session, an engine, the Flask-SQLAlchemy object."""
        for qualname in self._class_chain(class_qualname):
            facts, module = self.classes[qualname]
            for base in facts.bases:
                value = self.evaluate(base, self.module_unit(module), depth + 1)
                if value is None or value.kind != "qname":
                    continue
                knowledge = self.registry.for_qname(value.name)
                outcome = knowledge.call_qname(value.name, view) if knowledge is not None else None
                if outcome is not None and outcome.value is not None and outcome.value.kind == "handle":
                    return outcome.value
        return None

    def return_value(self, qualname: str, depth: int) -> Optional[Value]:
        unit = self.units.get(qualname)
        if unit is None:
            return None
        for ref in unit.facts.bindings.get("<return>", ()):
            value = self.evaluate(ref, unit, depth + 1)
            if value is not None:
                return value
        # `def connect(path) -> sqlite3.Connection:` returning what txlint cannot follow
        return self._instance_of_type(unit.facts.returns, unit, depth + 1)
