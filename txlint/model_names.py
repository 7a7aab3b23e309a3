"""Name resolution: what a name means in a function (its bindings, the enclosing functions, the
module's own names and imports), what a qualified name is (a project class, module or function,
a framework's name, a name a project module defines or re-exports), and imports as the project
names them.

May use evaluation (txlint.model_values), classes (txlint.model_classes), the read tracking and
the project's tables of modules, functions and classes.
"""

from typing import Optional

from txlint.facts import ModuleFacts
from txlint.model_reads import _CUT_ALL, _MAX_NESTING, _NO_CUT
from txlint.model_units import Unit
from txlint.model_values import _MAX_DEPTH
from txlint.values import AUTOCOMMIT, Value

_BUILTINS = {"open", "getattr"}
_DJANGO_SETTINGS = "django.conf.settings."


class NameResolution:
    """Part of `Project` (txlint.project). Reads `_module_prefixes` and `_module_names` (set by
    `Project` for the run); owns no state of its own."""

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

    def _resolve_name(self, name: str, unit: Unit, depth: int) -> Optional[Value]:
        current: Optional[Unit] = unit
        while current is not None:
            candidates = current.facts.bindings.get(name)
            if candidates:
                for candidate in reversed(candidates):
                    value = self.evaluate(candidate, current, depth)
                    if value is not None and value.kind == "signal" and not value.name and current.facts.is_module:
                        # `username_changed = Signal()`: the signal is known by the variable's qualified
                        # name, which its senders and its receivers' decorators both resolve to.
                        return Value("signal", name=f"{current.module.module}.{name}", library=value.library)
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
        for source in reversed(module.star_imports):  # the last `import *` that has the name wins
            value = self._star_imported(name, self._as_project_names_it(source, module), depth)
            if value is not None:
                return value
        if name in _BUILTINS:
            return Value("qname", name=f"builtins.{name}")
        return None

    def _star_imported(self, name: str, source: str, depth: int) -> Optional[Value]:
        """`name` as `from source import *` brings it in: what a project module defines or imports
        under it (a name starting with `_` is not exported), or what a framework knows by
        `source.name`."""
        if name.startswith("_"):
            return None
        module = self.modules.get(source)
        if module is None:
            knowledge = self.registry.for_qname(f"{source}.{name}")
            return knowledge.qname_value(f"{source}.{name}") if knowledge is not None else None
        if name in self.module_unit(module).facts.bindings or f"{source}.{name}" in self.units or \
                f"{source}.{name}" in self.classes or name in module.imports or module.star_imports:
            return self._name_in_module(name, module, depth + 1)
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
        if qualname.startswith(_DJANGO_SETTINGS) and qualname.count(".") == 3:
            value = self._project_setting(qualname[len(_DJANGO_SETTINGS):], depth)
            if value is not None:
                return value
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

    def _project_setting(self, name: str, depth: int) -> Optional[Value]:
        """`settings.ORDER_MODEL`: the value a settings module of the project (a module whose name
        says settings) binds to the name, the first of them in file order that does."""
        for module_name in self.settings_modules():
            module = self.modules[module_name]
            if name in self.module_unit(module).facts.bindings:
                return self._name_in_module(name, module, depth + 1)
        return None

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
