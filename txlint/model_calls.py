"""Calls: what a call expression returns and does (txlint.values.Outcome: its value, its effect,
the project function it calls), from the framework registry or the project's own functions.

May use evaluation (txlint.model_values), classes (txlint.model_classes) and the framework
registry; owns no state.
"""

from typing import Optional

from txlint.dataflow import called_name
from txlint.facts import Ref
from txlint.model_units import Unit
from txlint.values import CallView, Outcome, Value

_DEPENDS = {"fastapi.Depends", "fastapi.params.Depends"}


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

    def _call_target(self, target: Value, view: CallView, depth: int) -> Outcome:
        if target.kind == "qname":
            if target.name == "typing.cast":
                return Outcome(value=view.value(1, "val"))  # `cast(Dashboard, query.one())`: the value itself
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
        return None
