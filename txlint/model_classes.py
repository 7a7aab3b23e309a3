"""Project classes: whether a class is a model (of which library, which table), its base classes,
the attributes and methods of classes and their instances (fields, `self.x` set in methods,
custom managers), and models named by strings (`apps.get_model("shop", "Order")`).

May use evaluation (txlint.model_values), the read tracking (`_memo`), the framework registry and
the project's table of classes.
"""

from typing import Dict, List, Optional, Set, Tuple

from txlint.dataflow import called_name
from txlint.facts import ModuleFacts, Ref
from txlint.frameworks import SwappableModel
from txlint.values import CallView, Value


_PROPERTIES = {"property", "cached_property"}


_RELATION_FIELDS = ("ForeignKey", "OneToOneField", "ParentalKey")


class ClassMembers:
    """Part of `Project` (txlint.project). Owns `_class_values` (qualname -> the class's value,
    memoised) and `_models_by_name` (lower-case class name -> qualnames, built once)."""

    def _init_classes(self) -> None:
        self._class_values: Dict[str, Value] = {}
        self._models_by_name: Optional[Dict[str, List[str]]] = None
        self._related_names: Optional[Dict[str, List[str]]] = None  # related_name -> classes with such a field
        self._settings_module_names: Optional[List[str]] = None

    def attribute(self, base: Optional[Value], name: str, depth: int = 0) -> Optional[Value]:
        if base is None:
            return None
        if base.kind == "qname":
            value = self.resolve_qualname(f"{base.name}.{name}", depth + 1)
            if value is not None and value.kind == "qname" and self.uses_orm:
                for knowledge in self.registry.all:
                    model = knowledge.imported_model(base.name, name)
                    if model is not None:
                        return model
            return value
        knowledge = self.registry.for_value(base)
        if knowledge is not None:
            value = knowledge.attribute(base, name)
            if value is not None:
                return value
        if base.kind in ("model", "instance", "class", "object") and base.name in self.classes:
            return self._member(base, name, depth)
        if base.kind == "instance" and knowledge is not None:
            return knowledge.reverse_accessor(base, name)  # of a model from another package
        if base.kind == "handle" and base.name == "manager" and base.flags:
            return self._custom_manager_method(base.flags[0], name, depth)  # for the call graph
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
                if base[0] == "sub":
                    base = base[1]  # a generic base, `BaseDAO[Slice]`: the class it parametrises
                value = self.evaluate(base, self.module_unit(module))
                if value is not None and value.kind in ("model", "class") and value.name in self.classes:
                    pending.append(value.name)
        return chain

    def _member(self, base: Value, name: str, depth: int) -> Optional[Value]:
        for qualname in self._class_chain(base.name):
            facts, module = self.classes[qualname]
            if name in facts.methods:
                method = facts.methods[name]
                if base.kind in ("instance", "object") and self._is_property(method):
                    # `self.model`: what the getter returns
                    return self.as_receiver(base, self.return_value(method, depth + 1), method)
                return Value("function", name=method, flags=("method",))
            if base.kind in ("instance", "object"):
                for ref, assigner in facts.self_attributes.get(name, ()):
                    unit = self.units.get(assigner)
                    value = self.evaluate(ref, unit, depth + 1) if unit is not None else None
                    if value is not None:
                        return value
            ref = facts.attributes.get(name)
            if ref is not None:
                field = self._model_field(base, name, ref, module, depth)
                if field is not None:
                    return field
                value = self.evaluate(ref, self.module_unit(module), depth + 1)
                if value is not None:
                    return value
        if base.kind == "instance" and name in self.registry.inherited_field_names:
            for library_base in self.library_bases(base.name, depth):
                knowledge, names = self.registry.inherited_fields.get(library_base, (None, ()))
                if name in names:
                    return knowledge.inherited_field(base, name)  # `page_user.user_permissions` of a User subclass
        knowledge = self.registry.for_value(base) if base.kind == "instance" else None
        accessor = knowledge.reverse_accessor(base, name) if knowledge is not None else None
        if accessor is None and base.kind == "instance" and base.library == "django":
            return self._reverse_relation(base, name, depth)
        if accessor is not None and accessor.kind == "handle" and accessor.name == "related" and not accessor.flags:
            return self._related_rows_of(accessor)
        return accessor

    def as_receiver(self, receiver: Value, value: Optional[Value], method: str) -> Optional[Value]:
        """What a method or property of `receiver` returns, when that is an instance of the method's
        own class (`return self` in a mixin's `specific`, a manager mixin's `with_user`): the
        receiver itself, whose class is the one the object really has (a model deriving from the
        mixin, the manager of a model)."""
        if value is None or value.kind not in ("instance", "object") or value == receiver:
            return value
        if receiver.kind not in ("instance", "object") and (receiver.kind, receiver.name) != ("handle", "manager"):
            return value
        unit = self.units.get(method)
        owner = unit.facts.class_qualname if unit is not None else None
        return receiver if owner and value.name in self._class_chain(owner) else value

    def _related_rows_of(self, accessor: Value) -> Value:
        """`thread.post_set`: the rows of the one project model the accessor is named for (`post`);
        else the accessor as the library knows it."""
        self.note(("model", accessor.table))
        models = [value for value in map(self.class_value, self.classes_by_name(accessor.table))
                  if value.kind == "model" and value.library == accessor.library]
        if len(models) != 1:
            return accessor
        return Value("handle", name="related", library=accessor.library,
                     table=models[0].name.rsplit(".", 1)[-1], flags=(models[0].name,))

    def _reverse_relation(self, base: Value, name: str, depth: int) -> Optional[Value]:
        """`order.lines`: the rows of the model whose relation field to the instance's model (or a
        base of it) has `related_name="lines"` (its library's related manager)."""
        self.note(("related_name", name))
        if self._related_names is None:
            self._related_names = {}
            for module in self.order:
                for related_name, qualname in self.index_entry(module).related_names:
                    self._related_names.setdefault(related_name, []).append(qualname)
        targets = set(self._class_chain(base.name))
        for qualname in self._related_names.get(name, ()):
            facts, module = self.classes[qualname]
            for ref in facts.attributes.values():
                if ref[0] == "call" and ("related_name", ("str", name)) in ref[3] and ref[2]:
                    target = self.evaluate(ref[2][0], self.module_unit(module), depth + 1)
                    if target is not None and target.kind == "model" and target.name in targets:
                        model = self.class_value(qualname)
                        knowledge = self.registry.for_value(model)
                        return knowledge.related_rows(model) if knowledge is not None else None
        return None

    def property_returns(self, class_qualname: str, name: str) -> Tuple[Ref, ...]:
        """What the property `name` of the class (or of a project base of it) returns, as written
        (`return OrderForm(instance=self.order)`); nothing when `name` is a plain method."""
        for owner in self._class_chain(class_qualname):
            method = self.classes[owner][0].methods.get(name)
            if method is not None:
                unit = self.units.get(method)
                if unit is None or not self._is_property(method):
                    return ()
                return tuple(unit.facts.bindings.get("<return>", ()))
        return ()

    def _is_property(self, method: str) -> bool:
        """Decorated `@property` or `@cached_property` (functools' or Django's)."""
        unit = self.units.get(method)
        return unit is not None and any(
            (decorator[0] == "name" and decorator[1] in _PROPERTIES) or
            (decorator[0] == "attr" and decorator[2] in _PROPERTIES) for decorator in unit.facts.decorators)

    def library_bases(self, qualname: str, depth: int = 0) -> Set[str]:
        """The qualified names of the library classes the class and its project bases derive from
        (`django.contrib.admin.ModelAdmin`, `django.forms.ModelForm`)."""
        bases = set()
        for owner in self._class_chain(qualname):
            facts, module = self.classes[owner]
            unit = self.module_unit(module)
            for base in facts.bases:
                value = self.evaluate(base, unit, depth + 1)
                if value is None:
                    continue
                if value.kind == "qname" or (value.kind == "model" and value.name not in self.classes):
                    bases.add(value.name)  # (a library's model: django.contrib.auth's User)
        return bases

    def _overriding_method(self, model_qualname: str, name: str) -> str:
        """The project method a model class (or a project base of it) defines under a library
        method's name (`save`, `delete`), or ""."""
        for qualname in self._class_chain(model_qualname):
            method = self.classes[qualname][0].methods.get(name)
            if method is not None:
                return method
        return ""

    def _model_field(self, base: Value, name: str, ref: Ref, module: ModuleFacts, depth: int) -> Optional[Value]:
        """Fields that carry writes of their own: Django's many-to-many managers and file fields,
        and what the model's library says of its own fields (a SQLAlchemy relationship's
        collection); and a Django foreign key or one-to-one field, whose value is an instance of
        the model it points to."""
        if ref[0] == "annotated" and ref[2] is not None:
            ref = ref[2]  # `slices: Mapped[list[Slice]] = relationship(...)`
        if base.kind != "instance" or ref[0] != "call":
            return None
        field_type = called_name(ref[1])
        knowledge = self.registry.for_value(base)
        field = knowledge.field(base, name, field_type) if knowledge is not None else None
        if field is not None:
            return field
        if field_type.endswith("ManyToManyField"):
            return Value("handle", name="related", library=base.library,
                         table=f"{base.name.rsplit('.', 1)[-1]}.{name}")
        if field_type.endswith(("FileField", "ImageField")):  # also subclasses named so (`WagtailImageField`)
            return Value("fileobj", name="fieldfile", library="files")
        if base.library == "django" and field_type in _RELATION_FIELDS:
            target = self._related_model(base, dict(ref[3]).get("to") or (ref[2][0] if ref[2] else None),
                                         module, depth)
            if target is not None:
                return Value("instance", name=target.name, library=target.library, table=target.table)
        return None

    def _related_model(self, base: Value, ref: Optional[Ref], module: ModuleFacts, depth: int) -> Optional[Value]:
        """The model a relation field points to: a class (`ForeignKey(Order)`), `"self"`, or a label
        (`"Order"`, `"shop.Order"`) naming one project model."""
        if ref is None:
            return None
        if ref[0] != "str":
            value = self.evaluate(ref, self.module_unit(module), depth + 1)
            if value is not None and value.kind == "qname" and value.name in self.registry.swappable_models:
                return self.swappable_model(self.registry.swappable_models[value.name])  # settings.AUTH_USER_MODEL
            return value if value is not None and value.kind == "model" else None
        if ref[1] == "self":
            return self.class_value(base.name)
        label, _, name = ref[1].rpartition(".")
        self.note(("model", name.lower()))
        models = [value for value in map(self.class_value, self.classes_by_name(name.lower())) if value.kind == "model"]
        if label and len(models) > 1:
            models = [value for value in models if f".{label}." in f".{value.name}"]
        return models[0] if len(models) == 1 else None

    def class_value(self, qualname: str) -> Value:
        """A project class: a model (of some library) or a plain class (also while its own bases
        are being worked out: a class deriving from itself)."""
        return self._memo("class", self._class_values, qualname, lambda: self._class_value(qualname),
                          Value("class", name=qualname))

    def _class_value(self, qualname: str) -> Value:
        facts, module = self.classes[qualname]
        unit = self.module_unit(module)
        # Each base evaluated once: past the nesting limit nothing is memoised, and evaluating a
        # deep hierarchy's bases twice per class would double the work at every level.
        bases = [self.evaluate(base, unit) for base in facts.bases]
        library = next(filter(None, (self._model_library(value, facts) for value in bases)), "") or \
            self._library_of_declared_fields(bases, facts, module)
        if library:
            table = self.registry.by_library[library].model_table(facts.name, module.module, facts.attributes)
            return Value("model", name=qualname, library=library, table=table)
        for knowledge in self.registry.all:
            if facts.bases and knowledge.declares_model(facts.attributes):
                # A base from a package txlint does not know (flask_appbuilder's `Model`), but the
                # class maps a table of the library's own (`__tablename__`, `Column(...)`).
                table = knowledge.model_table(facts.name, module.module, facts.attributes)
                return Value("model", name=qualname, library=knowledge.library, table=table)
        return Value("class", name=qualname)

    def _library_of_declared_fields(self, bases: List[Optional[Value]], facts, module: ModuleFacts) -> str:
        """A class deriving from another package's class (`class Page(MP_Node)`: treebeard's), or
        from one txlint cannot resolve (`User = apps.get_registered_model(...)`), is a model of the
        library whose fields it declares (`title = models.CharField(...)`)."""
        if not any(value is None or (value.kind == "qname" and not value.name.startswith("builtins."))
                   for value in bases):
            return ""
        unit = self.module_unit(module)
        for ref in facts.attributes.values():
            if not (isinstance(ref, tuple) and ref and ref[0] == "call"):
                continue
            field = self.evaluate(ref[1], unit)
            if field is not None and field.kind == "qname":
                for knowledge in self.registry.all:
                    if knowledge.is_model_field(field.name):
                        return knowledge.library
        return ""

    def _model_library(self, value: Optional[Value], facts) -> str:
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

    def _model_by_label(self, view: CallView) -> Optional[Value]:
        """`apps.get_model("shop", "Order")` / `get_model("shop.Order")`: the model named by strings."""
        first, second = view.string(0, "app_label"), view.string(1, "model_name")
        if first is None:
            return None
        if second is None:
            if "." not in first:
                return None
            first, second = first.split(".", 1)
        self.note(("model", second.lower()))
        candidates = [self.class_value(q) for q in self.classes_by_name(second.lower())]
        models = [value for value in candidates if value.kind == "model"]
        if len(models) == 1:
            return models[0]
        return Value("model", name=f"{first}.{second}", library="django", table=f"{first}_{second.lower()}".lower())

    def classes_by_name(self, lower_name: str) -> List[str]:
        """The project's classes whose own name is this, in lower case (`apps.get_model` finds models
        by it). The caller notes ("model", lower_name) as read."""
        if self._models_by_name is None:
            self._models_by_name = {}
            with self.untracked():
                for qualname in self.classes:
                    self._models_by_name.setdefault(qualname.rsplit(".", 1)[-1].lower(), []).append(qualname)
        return self._models_by_name.get(lower_name, [])

    def is_manager_class(self, qualname: str) -> bool:
        """Does a project class derive from a library's manager or query set (`class UserManager(BaseUserManager)`)?"""
        for current in self._class_chain(qualname):
            facts, module = self.classes[current]
            for base in facts.bases:
                value = self.evaluate(base, self.module_unit(module))
                if value is not None and value.kind == "qname" and value.name in self.registry.manager_bases:
                    return True
        return False

    def swappable_model(self, swappable: SwappableModel) -> Optional[Value]:
        """The model the project's settings choose (`AUTH_USER_MODEL = "accounts.User"` in a settings
        module), else the project's one model of that name deriving from the library's bases (the
        settings may lie outside the files checked), else the library's own model."""
        label = self._setting_string(swappable.setting)
        name = label.rpartition(".")[2] if label else swappable.default.rpartition(".")[2]
        self.note(("model", name.lower()))
        models = [value for value in map(self.class_value, self.classes_by_name(name.lower()))
                  if value.kind == "model" and (label or self._derives_from(value.name, swappable.bases))]
        if len(models) == 1:
            return models[0]
        return self.resolve_qualname(swappable.default)

    def _setting_string(self, setting: str) -> str:
        """The one string a settings module of the project binds a setting to ("" when none or several)."""
        labels = set()
        for name in self.settings_modules():
            for ref in self.modules[name].functions[name].bindings.get(setting, ()):
                labels.add(ref[1] if ref[0] == "str" else None)
        return labels.pop() or "" if len(labels) == 1 else ""

    def settings_modules(self) -> List[str]:
        """The project's settings modules (`settings`, `settings_prod`, ...). The set of modules is
        fixed for a run and its incremental successors, so the list is kept; their bindings are read
        (and noted) by whoever asks."""
        if self._settings_module_names is None:
            self._settings_module_names = [name for name in self.order if "settings" in name.split(".")[-1]]
        return self._settings_module_names

    def _derives_from(self, qualname: str, bases) -> bool:
        for current in self._class_chain(qualname):
            facts, module = self.classes[current]
            for base in facts.bases:
                value = self.evaluate(base, self.module_unit(module))
                if value is not None and value.kind in ("qname", "model") and value.name in bases:
                    return True
        return False

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
