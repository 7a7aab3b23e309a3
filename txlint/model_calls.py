"""Calls: what a call expression returns and does (txlint.values.Outcome: its value, its effect,
the project function it calls), from the framework registry or the project's own functions.

May use evaluation (txlint.model_values), classes (txlint.model_classes), signal receivers
(txlint.model_signals) and the framework registry; owns no state.
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
            base = self.evaluate(func[1], unit, depth)
            if base is None:
                on_argument = self._library_call_on_argument(ref, unit, depth)
                if on_argument is not None:
                    return on_argument
                return self._run_on_unknown_receiver(func[2], view)
            if base.kind == "signal" and func[2] in self.registry.signal_sends:
                # `username_changed.send(sender=self)` runs every receiver connected to it, here.
                return Outcome(receivers=self.receivers_sent(base, view.value(0, "sender")))
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
        else:
            method = self._bound_method(func, unit)
            if method is not None and depth < 8:
                # `create = Order.objects.create`, then `create(total=1)`: the method, called
                return self.call(("call", method, args, kwargs), unit, depth + 1)
            target = self.evaluate(func, unit, depth)
        if target is None:
            return Outcome()
        return self._call_target(target, view, depth)

    def _model_form_save(self, class_qualname: str, view: CallView, depth: int) -> Optional[Outcome]:
        """`form.save()` of a ModelForm, `serializer.save()` of a DRF ModelSerializer, neither
        overriding save(): a write of the model their `Meta.model` names, returning its instance
        (none with `commit=False`). A serializer that overrides `create()` writes through it."""
        model = None
        for qualname in self._class_chain(class_qualname):
            facts, module = self.classes[qualname]
            if "Meta.model" in facts.attributes:
                model = self.evaluate(facts.attributes["Meta.model"], self.module_unit(module), depth + 1)
                if model is not None:
                    break
        if model is None or model.kind != "model":
            return None
        bases = self.library_bases(class_qualname, depth)
        instance = Value("instance", name=model.name, library=model.library, table=model.table)
        if bases & MODEL_SERIALIZER_BASES:
            create = self._overriding_method(class_qualname, "create")
            if create:
                return Outcome(value=self.return_value(create, depth) or instance, callee=create)
        elif not bases & MODEL_FORM_BASES:
            return None
        if view.const("commit") == "False":
            return Outcome(value=instance)
        return Outcome(value=instance, effect=write_effect(model.library, instance, AUTOCOMMIT).effect)

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
        """`super().form_valid(form)` where no project base class defines `form_valid`: Django's
        own, which saves the form (`calls_on_argument`), as though `form.save()` were called here."""
        func, args = ref[1], ref[2]
        if not calls_super(func) or not args or depth >= 8:
            return None
        method = self.registry.calls_on_argument.get(func[2])
        class_qualname = unit.facts.class_qualname
        if method is None or not class_qualname or class_qualname not in self.classes:
            return None
        if any(func[2] in self.classes[base][0].methods for base in self._class_chain(class_qualname)[1:]):
            return None  # a project mixin's override runs instead, and what it does is not known here
        return self.call(("call", ("attr", args[0], method), (), ()), unit, depth + 1)

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
        session, an engine, the Flask-SQLAlchemy object; a subclass of Django's `Signal` (one
        whose `send()` picks the receivers of enabled plugins) makes a signal."""
        for qualname in self._class_chain(class_qualname):
            facts, module = self.classes[qualname]
            for base in facts.bases:
                value = self.evaluate(base, self.module_unit(module), depth + 1)
                if value is None or value.kind != "qname":
                    continue
                knowledge = self.registry.for_qname(value.name)
                outcome = knowledge.call_qname(value.name, view) if knowledge is not None else None
                if outcome is not None and outcome.value is not None and outcome.value.kind in ("handle", "signal"):
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
