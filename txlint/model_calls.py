"""Calls: what a call expression returns and does (txlint.values.Outcome: its value, its effect,
the project function it calls), from the framework registry or the project's own functions.

May use evaluation (txlint.model_values), classes (txlint.model_classes), signal receivers
(txlint.model_signals) and the framework registry; owns no state.
"""

from dataclasses import replace
from typing import Dict, Optional, Tuple

from txlint.dataflow import SETS_ATTRIBUTE, called_name, calls_super
from txlint.facts import Ref
from txlint.inlining import arguments_at, inlined, parameters_returned
from txlint.model_units import Unit
from txlint.frameworks.django import MODEL_BY_LABEL, MODEL_FORM_BASES, MODEL_SERIALIZER_BASES
from txlint.values import AUTOCOMMIT, CallView, Outcome, Value, write_effect

_DEPENDS = {"fastapi.Depends", "fastapi.params.Depends"}
# Manager methods that save a new instance through its `save()`.
_SAVING_CREATES = {"create", "acreate", "get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"}
_SUPER = "super"  # flag of the instance `super()` gives: its overridden methods are the library's


class CallOutcomes:
    """Part of `Project` (txlint.project). Owns `_parameters_returned` (qualname -> the parameters
    a helper's return is built from, see txlint.inlining)."""

    def _init_calls(self) -> None:
        self._parameters_returned: Dict[str, Tuple[str, ...]] = {}

    def call(self, ref: Ref, unit: Unit, depth: int = 0) -> Outcome:
        _, func, args, kwargs = ref
        view = CallView(args, kwargs, lambda r: self.evaluate(r, unit, depth + 1),
                        lambda r: self.string_of(r, unit, depth + 1))
        if called_name(func) in ("get_model", "get_registered_model"):
            model = self._model_by_label(view) or self._swapped_model(args, unit, depth)
            if model is not None:
                return Outcome(value=model)
        if func == ("name", "getattr") and len(args) in (2, 3):
            attribute = self._getattr(args, unit, depth)
            if attribute is not None:
                return Outcome(value=attribute)
        if func == ("name", "super") and unit.facts.class_qualname:
            return Outcome(value=self._super_instance(unit.facts.class_qualname))
        if func == ("name", "setattr") and len(args) == 3 and "setattr" not in unit.facts.bindings:
            # `setattr(cert, key, value)` is the attribute assignment `cert.<key> = value`
            return self.call(("call", ("attr", args[0], SETS_ATTRIBUTE), args[1:], ()), unit, depth + 1)
        if func[0] == "attr" and func[2] == SETS_ATTRIBUTE and self._is_new_object(func[1], unit, depth):
            return Outcome()  # filling in an object being made: the write is its `add()` or `save()`
        base = None  # the receiver of a method call
        if func[0] == "attr":
            if calls_super(func):
                inherited = self._base_class_method(unit, func[2])
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
            if base.kind == "signal" and func[2] in self.registry.signal_sends:
                # `username_changed.send(sender=self)` runs every receiver connected to it, here.
                return Outcome(receivers=self.receivers_sent(base, view.value(0, "sender")))
            if base.kind == "handle" and base.name == "manager" and base.flags:
                # The project's manager method first: `create_user` of a custom UserManager is its own.
                custom = self._custom_manager_method(base.flags[0], func[2], depth)
                if custom is not None:
                    outcome = self._call_target(custom, view, depth)
                    returned = self.as_receiver(base, outcome.value, custom.name)
                    return outcome if returned is outcome.value else replace(outcome, value=returned)
            knowledge = self.registry.for_value(base)
            if knowledge is not None:
                outcome = knowledge.method(base, func[2], view)
                if outcome is not None:
                    return self._with_override(base, func[2], outcome)
            target = self.attribute(base, func[2], depth)
            if func[2] in self.registry.inherited_method_names and (target is None or base.has(_SUPER)):
                inherited = self._inherited_method(base, func[2], view, depth)
                if inherited is not None:
                    return inherited
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
        if target is not None and target.kind == "function":
            if outcome.callee:
                returned = self._returned_for_this_call(target.name, ref, unit, depth)
                if returned is not None:
                    outcome = replace(outcome, value=returned[0])
            if base is not None and outcome.value is not None:
                outcome = replace(outcome, value=self.as_receiver(base, outcome.value, target.name))
        if outcome.value is None and func[0] == "attr" and func[1] == ("name", "self"):
            instance = self._instance_the_library_returns(unit, func[2], depth)
            if instance is not None:
                return replace(outcome, value=instance)
        return outcome

    def _is_new_object(self, ref: Ref, unit: Unit, depth: int) -> bool:
        """Is the object `self` in an `__init__`, or a variable the function binds to a new instance
        (`cert = Certificate(**kwargs)`)?"""
        if ref[0] != "name":
            return False
        bound = unit.facts.bindings.get(ref[1], ())
        if unit.facts.name == "__init__" and bound and bound[0][0] == "self":
            return True
        for value in bound:
            if value[0] == "call":
                made = self.evaluate(value[1], unit, depth + 1)
                if made is not None and made.kind in ("model", "class"):
                    return True
        return False

    def _returned_for_this_call(self, qualname: str, call: Ref, caller: Unit, depth: int) -> Optional[tuple]:
        """What a helper returns to this call, when its return is built from a parameter that holds
        a model or a model object and this call passes it (`database.update(cert)` returning its
        `model`; `database.get(PendingCertificate, id)` querying it): (value,), the value worked
        out with this call's arguments (txlint.inlining). None when the return does not depend on
        such a parameter: the helper's one return value holds."""
        helper = self.units.get(qualname)
        if helper is None or depth > 16 or "<return>" not in helper.facts.bindings:
            return None
        names = self._parameters_returned.get(qualname)
        if names is None:
            names = self._parameters_returned[qualname] = parameters_returned(helper.facts)
        passed = {}
        for name, argument in arguments_at(helper.facts, call, caller.qualname, names).items():
            generic = self.evaluate(("name", name), helper, depth + 1)
            if generic is not None and generic.kind in ("model", "instance"):
                passed[name] = argument
        if not passed:
            return None
        found = False
        for returned in helper.facts.bindings["<return>"]:
            rewritten = inlined(returned, helper.facts, passed)
            if rewritten is None:
                continue
            found = True
            value = self.evaluate(rewritten, helper, depth + 1)
            if value is not None:
                return (value,)
        return (None,) if found else None

    def _instance_the_library_returns(self, unit: Unit, name: str, depth: int) -> Optional[Value]:
        """`self.get_object()` in a single-object view: an instance of its `model` (see
        `returns_instance_of`), when the method's own return value is not known."""
        attribute = self.registry.returns_instance_of.get(name)
        owner = unit.facts.class_qualname
        if attribute is None or not owner or owner not in self.classes:
            return None
        named = self.attribute(Value("class", name=owner), attribute, depth + 1)
        return self.instance_of(named.name) if named is not None and named.kind == "model" else None

    def _base_class_method(self, unit: Unit, name: str) -> Optional[Value]:
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

    def _swapped_model(self, args, unit: Unit, depth: int) -> Optional[Value]:
        """`apps.get_registered_model(app_label, model_name)` after `app_label, model_name =
        settings.AUTH_USER_MODEL.rsplit(".", 1)` (or `get_model(settings.AUTH_USER_MODEL)`): the
        model that setting swaps in."""
        if not args:
            return None
        label = args[0]
        if label[0] == "name":
            split = [ref[1] for ref in unit.facts.bindings.get(label[1], ()) if ref[0] == "unpack" and
                     ref[1][0] == "call" and ref[1][1][0] == "attr" and ref[1][1][2] in ("split", "rsplit")]
            if not split:
                return None
            label = split[0][1][1]
        setting = self.evaluate(label, unit, depth + 1)
        if setting is None or setting.kind != "qname" or setting.name not in self.registry.swappable_models:
            return None
        return self.swappable_model(self.registry.swappable_models[setting.name])

    def _getattr(self, args, unit: Unit, depth: int) -> Optional[Value]:
        """`getattr(obj, "groups")`, or `getattr(obj, name)` with `name` bound to strings only (one
        per branch): the first of those attributes the object has."""
        builtin = self.evaluate(("name", "getattr"), unit, depth)
        if builtin is None or builtin.name != "builtins.getattr":
            return None
        name = args[1]
        if name[0] == "str":
            names = [name[1]]
        elif name[0] == "name":
            bound = unit.facts.bindings.get(name[1], ())
            names = [ref[1] for ref in bound if ref[0] == "str"]
            if len(names) != len(bound):
                return None
        else:
            return None
        receiver = self.evaluate(args[0], unit, depth + 1)
        for attribute in names:
            value = self.attribute(receiver, attribute, depth + 1)
            if value is not None:
                return value
        return None

    def _inherited_method(self, receiver: Value, name: str, view: CallView, depth: int) -> Optional[Outcome]:
        """`parent.add_child(instance=page)`: a method the receiver's model (also through its class
        or manager) inherits from another package's abstract model (django-treebeard's nodes), as the
        library that knows that base says, when the project's classes do not override it."""
        if receiver.kind in ("instance", "model"):
            qualname = receiver.name
        elif receiver.kind == "handle" and receiver.name == "manager" and receiver.flags:
            qualname = receiver.flags[0]
        else:
            return None
        if qualname not in self.classes:
            return None
        model = self.class_value(qualname)
        if model.kind != "model":
            return None
        for base in self.library_bases(qualname, depth):
            knowledge, names = self.registry.inherited_methods.get(base, (None, ()))
            if name in names:
                return knowledge.inherited_method(model, name, view)
        return None

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
            if target.name in MODEL_BY_LABEL:
                return Outcome(value=self._model_by_label(view))
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
