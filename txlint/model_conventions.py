"""Framework conventions for where a function runs: in a transaction whoever calls it because
the framework runs it in one (Django and Alembic migrations, RunPython functions, views under
ATOMIC_REQUESTS, receivers of signals Django sends inside its atomic block, methods a library base
class calls inside its own transaction).

Part of `Project` through `TransactionContext` (txlint.model_context). May use evaluation
(txlint.model_values), classes (txlint.model_classes), the read tracking (`_memo`), the framework
registry and the configuration.
"""

from typing import Dict, Tuple

from txlint.model_units import Unit

_SIGNALS_IN_TRANSACTION = {f"django.db.models.signals.{name}" for name in ("pre_delete", "post_delete", "m2m_changed")}


class FrameworkConventions:
    """Owns `_library_classes` (method name -> the project classes a library class runs it for in
    its transaction, memoised)."""

    def _init_conventions(self) -> None:
        self._library_classes: Dict[str, Tuple[str, ...]] = {}

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
        return self._receives_signal_in_transaction(unit) or self._library_calls_in_transaction(unit)

    def _library_calls_in_transaction(self, unit: Unit) -> bool:
        """A method a library base class of its class calls inside a transaction of its own
        (`save_model` of a Django `ModelAdmin`)."""
        owner = unit.facts.class_qualname
        if not owner or owner not in self.classes:
            return False
        return any(unit.facts.name in self.registry.methods_in_transaction.get(base, ())
                   for base in self.library_bases(owner))

    def _library_runs_in_transaction(self, unit: Unit) -> bool:
        """A method of a class that a library class of the project names in an attribute and runs
        inside its transaction (the `save()` of a ModelAdmin's `form`), for that class or a subclass
        of it that does not override the method."""
        owner, name = unit.facts.class_qualname, unit.facts.name
        if not owner or not self.registry.classes_in_transaction:
            return False
        return any(self._overriding_method(named, name) == unit.qualname for named in self._classes_run_by_library(name))

    def _classes_run_by_library(self, method: str) -> Tuple[str, ...]:
        """The project classes whose method of this name a library class calls in its transaction."""
        return self._memo("library_classes", self._library_classes, method,
                          lambda: tuple(self._find_classes_run_by_library(method)), ())

    def _find_classes_run_by_library(self, method: str):
        declared = self.registry.classes_in_transaction
        attributes = {attribute for names, _ in declared.values() for attribute in names}
        for qualname in self.classes:
            facts, module = self.classes[qualname]
            if not attributes & set(facts.attributes):
                continue
            for base in self.library_bases(qualname) & set(declared):
                names, methods = declared[base]
                if not any(method == pattern or (pattern.endswith("*") and method.startswith(pattern[:-1]))
                           for pattern in methods):
                    continue
                for attribute in names:
                    ref = facts.attributes.get(attribute)
                    value = self.evaluate(ref, self.module_unit(module)) if ref is not None else None
                    if value is not None and value.kind == "class":
                        yield value.name

    def _receives_signal_in_transaction(self, unit: Unit) -> bool:
        """`@receiver(pre_delete | post_delete | m2m_changed)`: sent inside Django's own atomic block."""
        for decorator in unit.facts.decorators:
            if decorator[0] != "call" or not decorator[2]:
                continue
            signal = self.evaluate(decorator[2][0], unit)
            if signal is not None and signal.kind == "signal" and signal.name in _SIGNALS_IN_TRANSACTION and \
                    self._is_receiver_decorator(decorator[1], unit):
                return True
        return False

    @staticmethod
    def _is_view(unit: Unit) -> bool:
        parts = unit.module.module.split(".")
        return "views" in parts or "viewsets" in parts or "api" in parts[-1:]

    def _settings_atomic_requests(self) -> bool:
        """DATABASES[...]["ATOMIC_REQUESTS"] = True in a settings module."""
        for name in self.settings_modules():
            module = self.modules[name]
            for ref in module.functions[module.module].bindings.get("DATABASES", ()):
                if ref[0] != "dict":
                    continue
                for _, alias in ref[1]:
                    if alias[0] == "dict" and (("str", "ATOMIC_REQUESTS"), ("const", "True")) in alias[1]:
                        return True
        return False

    def _is_non_atomic_view(self, unit: Unit) -> bool:
        for decorator in unit.facts.decorators:
            value = self.evaluate(decorator, unit)
            if value is not None and value.kind == "scope" and value.name == "non_atomic_requests":
                return True
        return False
