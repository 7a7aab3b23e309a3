"""Django ORM: autocommit by default; `transaction.atomic` as decorator and context manager.

Library-internal atomic blocks (bulk_create, bulk_update, cascading delete, m2m changes,
update_or_create) make one call atomic on its own.
"""

import re
from typing import Optional

from txlint.frameworks import Knowledge, SwappableModel, TransactionIdiom, django_forms, treebeard
from txlint.values import AUTOCOMMIT, CallView, Outcome, Value, effect, write_effect

LIBRARY = "django"

_MANAGER_WRITES = {
    "create": False, "acreate": False,
    "get_or_create": False, "aget_or_create": False,
    "update_or_create": True, "aupdate_or_create": True,
    "bulk_create": True, "abulk_create": True,
    "bulk_update": True, "abulk_update": True,
    "update": False, "aupdate": False,
    "delete": True, "adelete": True,  # the deletion collector wraps cascades in one transaction
    "create_user": False, "create_superuser": False,  # django.contrib.auth's UserManager
}
_IDEMPOTENT = {"get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"}
_QUERYSET_CHAIN = {
    "filter", "exclude", "all", "select_related", "prefetch_related", "order_by", "using", "select_for_update",
    "annotate", "alias", "only", "defer", "distinct", "none", "reverse", "extra", "complex_filter", "union",
    "intersection", "difference", "filter_by",
}
_INSTANCE_GETTERS = {"get", "aget", "first", "afirst", "last", "alast", "latest", "earliest", "get_or_none"}
_INSTANCE_WRITES = {"save": False, "asave": False, "delete": True, "adelete": True}
_RELATED_WRITES = {"add", "aadd", "remove", "aremove", "set", "aset", "clear", "aclear"}
_RELATED_ROWS = _QUERYSET_CHAIN | _INSTANCE_GETTERS | {"iterator"}
_MANAGER_ATTRIBUTES = {"objects", "_default_manager", "_base_manager"}
_RELATED = "related"  # a manager's flag: it is a reverse foreign key's related manager
# A file's content for a file field or a storage: a row saved with one stores the file with it.
_FILE_CONTENTS = {"django.core.files.File", "django.core.files.base.File", "django.core.files.base.ContentFile",
                  "django.core.files.images.ImageFile", "django.core.files.uploadedfile.SimpleUploadedFile"}
# Forms and serializers whose save() writes the model their `class Meta: model = ...` names.
MODEL_FORM_BASES = {"django.forms.ModelForm", "django.forms.models.ModelForm", "django.forms.BaseModelForm",
                    "django.forms.models.BaseModelForm"}
MODEL_SERIALIZER_BASES = {"rest_framework.serializers.ModelSerializer",
                          "rest_framework.serializers.HyperlinkedModelSerializer"}


# Functions that return the model an app label and a model name give (django-swappable-models:
# the model a `<APP>_<MODEL>_MODEL` setting swaps in, else that one), as `apps.get_model` does.
MODEL_BY_LABEL = {"swapper.load_model"}

_USER_MODEL = SwappableModel("AUTH_USER_MODEL", "django.contrib.auth.models.User",
                             ("django.contrib.auth.models.AbstractUser", "django.contrib.auth.models.AbstractBaseUser",
                              "django.contrib.auth.base_user.AbstractBaseUser"))
# The many-to-many fields of django.contrib.auth's models (PermissionsMixin's and Group's), which
# a project's user model deriving from them inherits.
_USER_RELATIONS = ("groups", "user_permissions")
_AUTH_RELATIONS = {
    **dict.fromkeys(("django.contrib.auth.models.PermissionsMixin", "django.contrib.auth.models.AbstractUser",
                     "django.contrib.auth.models.User"), _USER_RELATIONS),
    "django.contrib.auth.models.Group": ("permissions",),
}
_CONTRIB_MODEL = re.compile(r"^django\.contrib\.\w+\.models\.[A-Z]\w*$")


def _manager(model: Value) -> Value:
    """The default manager of a model (flags: the model's qualname)."""
    return Value("handle", name="manager", library=LIBRARY, table=model.table, regime=AUTOCOMMIT, flags=(model.name,))


def _related_manager(model: Value) -> Value:
    """The related manager of a reverse foreign key (`order.lines`): Django builds it on the
    model's default manager, so it filters, makes and changes the model's rows like `objects` does,
    and adds, removes and clears links too (flags: the model's qualname, then `_RELATED`)."""
    return Value("handle", name="manager", library=LIBRARY, table=model.table, regime=AUTOCOMMIT,
                 flags=(model.name, _RELATED))


def _model_of(manager: Value) -> Value:
    return Value("model", name=manager.flags[0] if manager.flags else "", library=LIBRARY, table=manager.table)


_SIGNAL_CLASSES = {"django.dispatch.Signal", "django.dispatch.dispatcher.Signal",
                   "django.db.models.signals.ModelSignal"}
# The signals Django defines (`django.db.models.signals.post_save`, `django.core.signals.request_finished`).
_DJANGO_SIGNAL = re.compile(r"^django\.[\w.]*\bsignals\.[a-z_]+$")

# The form methods Django's admin runs in changeform_view ("clean_*": a field's own clean method).
_FORM_METHODS = ("__init__", "is_valid", "full_clean", "clean", "clean_*", "_post_clean", "save", "save_m2m")


class DjangoKnowledge(Knowledge):
    library = LIBRARY
    autocommit_regime = "Django autocommit"
    transaction_fix = ("wrap {what} in `with transaction.atomic():` (or decorate the function with `@transaction.atomic`)")
    transaction_idiom = TransactionIdiom("django.db", "transaction", "{}.atomic()", decorator="{}.atomic",
                                         on_commit="{}.on_commit", runtime_default=True,
                                         alternative=("django.db.transaction", "atomic", "{}()", "{}"))
    roots = ("django",)
    model_bases = ("django.db.models.Model", "django.db.models.base.Model",
                   "django.contrib.auth.models.AbstractUser", "django.contrib.auth.models.AbstractBaseUser",
                   "django.contrib.auth.base_user.AbstractBaseUser", "django.contrib.auth.models.PermissionsMixin",
                   *treebeard.NODE_BASES)

    manager_bases = ("django.db.models.Manager", "django.db.models.manager.Manager", "django.db.models.manager.BaseManager",
                     "django.db.models.QuerySet", "django.db.models.query.QuerySet",
                     "django.contrib.auth.models.BaseUserManager", "django.contrib.auth.base_user.BaseUserManager",
                     "django.contrib.auth.models.UserManager", *treebeard.NODE_MANAGER_BASES)
    inherited_methods = dict.fromkeys(treebeard.NODE_BASES, treebeard.NODE_WRITES)
    inherited_fields = _AUTH_RELATIONS
    parameter_classes = {("form_valid", "form"): "form_class", ("form_invalid", "form"): "form_class"}
    # ModelFormMixin.form_valid: `self.object = form.save()`; DRF's CreateModelMixin.perform_create
    # and UpdateModelMixin.perform_update: `serializer.save()`.
    calls_on_argument = {"form_valid": "save", "perform_create": "save", "perform_update": "save"}
    keeps_result_as = {"form_valid": "object"}
    returns_instance_of = {"get_object": "model"}  # SingleObjectMixin.get_object
    # Model methods Django calls: forms, admin and serializers save and validate, `delete()` cascades,
    # URLs and serialization ask for these.
    model_methods_called_by_library = ("save", "asave", "delete", "adelete", "clean", "clean_fields",
                                       "full_clean", "validate_unique", "validate_constraints",
                                       "get_absolute_url", "natural_key", "refresh_from_db")
    creating_bases = {"form_valid": ("django.views.generic.CreateView", "django.views.generic.edit.CreateView")}
    # ModelAdmin.changeform_view and delete_view run these inside `transaction.atomic(using=...)`.
    methods_in_transaction = dict.fromkeys(
        ("django.contrib.admin.ModelAdmin", "django.contrib.admin.options.ModelAdmin"),
        ("save_form", "save_model", "save_related", "save_formset", "log_addition", "log_change",
         "construct_change_message", "response_add", "response_change", "delete_model", "log_deletion",
         "response_delete"))
    # changeform_view also builds, validates and saves (`save_form`) its form inside it.
    classes_in_transaction = {
        **dict.fromkeys(("django.contrib.admin.ModelAdmin", "django.contrib.admin.options.ModelAdmin"),
                        (("form",), _FORM_METHODS)),
        "django.contrib.auth.admin.UserAdmin": (("form", "add_form"), _FORM_METHODS)}
    signal_sends = ("send", "send_robust", "asend", "asend_robust")
    receiver_decorators = ("django.dispatch.receiver", "django.dispatch.dispatcher.receiver")
    swappable_models = {"django.contrib.auth.get_user_model": _USER_MODEL,
                        "django.conf.settings.AUTH_USER_MODEL": _USER_MODEL}

    def qname_value(self, qname: str) -> Optional[Value]:
        if qname in ("django.db.transaction.atomic", "django.db.transaction.Atomic"):
            return Value("scope", name="atomic", library=LIBRARY)
        if qname == "django.db.transaction.non_atomic_requests":
            return Value("scope", name="non_atomic_requests", library=LIBRARY)
        if qname in ("django.db.connection", "django.db.connections"):
            return Value("handle", name="connection", library=LIBRARY, regime=AUTOCOMMIT)
        if _CONTRIB_MODEL.match(qname) and qname not in self.manager_bases:  # BaseUserManager is no model
            name = qname.rsplit(".", 1)[-1]
            app = qname.split(".")[2]
            return Value("model", name=qname, library=LIBRARY, table=f"{app}_{name.lower()}")
        if _DJANGO_SIGNAL.match(qname):
            return Value("signal", name=qname, library=LIBRARY)
        if qname in ("django.core.files.storage.default_storage", "django.core.files.storage.storages"):
            return Value("fileobj", name="storage", library="files")  # (`storages["media"]` is one too)
        return None

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        if qname in ("django.db.transaction.atomic", "django.db.transaction.Atomic"):
            return Outcome(value=Value("scope", name="atomic", library=LIBRARY))
        if qname == "django.db.transaction.non_atomic_requests":
            return Outcome(value=Value("scope", name="non_atomic_requests", library=LIBRARY))
        if qname in _SIGNAL_CLASSES:
            return Outcome(value=Value("signal", library=LIBRARY))  # named by the variable it is bound to
        if qname == "django.db.transaction.on_commit":
            return effect("after_commit", LIBRARY)
        if qname in ("django.db.transaction.commit",):
            return effect("commit", LIBRARY, AUTOCOMMIT)
        if qname in ("django.db.transaction.rollback",):
            return effect("rollback", LIBRARY, AUTOCOMMIT)
        if qname in ("django.shortcuts.get_object_or_404", "django.shortcuts.aget_object_or_404"):
            model = call.value(0, "klass")
            if model is not None and model.kind == "model":
                return Outcome(value=Value("instance", name=model.name, library=LIBRARY, table=model.table))
            if model is not None and model.kind == "handle" and model.name == "manager":
                return Outcome(value=Value("instance", name=_model_of(model).name, library=LIBRARY, table=model.table))
        if qname in ("django.db.models.expressions.RawSQL", "django.db.models.RawSQL"):
            return Outcome(value=Value("statement", library=LIBRARY, sql=call.string(0) or "", flags=("text",)))
        if qname == "django.utils.decorators.method_decorator":
            inner = call.value(0)
            if inner is not None and inner.kind == "scope":
                return Outcome(value=inner)
        if qname in _FILE_CONTENTS:
            return Outcome(value=Value("fileobj", name="content", library="files"))
        if qname in django_forms.FACTORIES:
            return django_forms.form_class_of(qname, call)
        return None

    def call_value(self, value: Value, call: CallView) -> Optional[Outcome]:
        made = django_forms.instance_of(value)
        return Outcome(value=made) if made is not None else None

    def item(self, value: Value) -> Optional[Value]:
        return django_forms.item(value) or super().item(value)

    def attribute(self, value: Value, name: str) -> Optional[Value]:
        if value.library != LIBRARY:
            return None
        if value.kind == "model" and name in _MANAGER_ATTRIBUTES:
            return _manager(value)
        if value.kind == "handle" and value.name == "manager" and name == "model" and value.flags:
            return _model_of(value)  # `self.model(...)` in a manager's method
        if value.kind == "handle" and value.name == "connection" and name in ("connection",):
            return value
        if value.kind == "instance" and name in _AUTH_RELATIONS.get(value.name, ()):
            return self.inherited_field(value, name)  # `user.groups` of django.contrib.auth's own User
        if value.kind == "handle":
            return django_forms.attribute(value, name)
        return None

    def inherited_field(self, instance: Value, name: str) -> Optional[Value]:
        return Value("handle", name="related", library=LIBRARY, table=f"{instance.name.rsplit('.', 1)[-1]}.{name}")

    def is_model_field(self, qname: str) -> bool:
        module, _, name = qname.rpartition(".")
        return module in ("django.db.models", "django.db.models.fields", "django.db.models.fields.related") and \
            name.endswith(("Field", "ForeignKey"))

    def imported_model(self, qname: str, attribute: str) -> Optional[Value]:
        # A capitalised class of another package's models module (`django_otp.plugins.otp_static.
        # models.StaticDevice`), used through its manager.
        parts = qname.split(".")
        if attribute not in _MANAGER_ATTRIBUTES or "models" not in parts[1:-1] or not parts[-1][:1].isupper():
            return None
        app = parts[parts.index("models", 1) - 1]
        return _manager(Value("model", name=qname, library=LIBRARY, table=f"{app}_{parts[-1].lower()}"))

    def reverse_accessor(self, instance: Value, name: str) -> Optional[Value]:
        if instance.library == LIBRARY and name.endswith("_set") and len(name) > 4:
            return Value("handle", name="related", library=LIBRARY, table=name[:-4])
        return None

    def related_rows(self, model: Value) -> Optional[Value]:
        return _related_manager(model) if model.kind == "model" and model.library == LIBRARY else None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.library != LIBRARY:
            return None
        if value.kind == "handle" and value.name == "manager":
            return self._manager_method(value, name, call)
        if value.kind == "instance":
            if name in _INSTANCE_WRITES:
                return write_effect(LIBRARY, value, AUTOCOMMIT, atomic_alone=_INSTANCE_WRITES[name])
            if name in ("refresh_from_db", "arefresh_from_db"):
                return effect("read", LIBRARY, AUTOCOMMIT)
            return None
        if value.kind == "handle" and value.name == "related":
            if value.flags and name in _RELATED_ROWS:
                # The rows of a reverse relation (`thread.post_set`), whose model is known: its query
                # sets and the instances they give (what its updates and deletes write is not followed).
                return Outcome(value=value) if name in _QUERYSET_CHAIN or name == "iterator" \
                    else self._manager_method(value, name, call)
            if name in _RELATED_WRITES:
                return write_effect(LIBRARY, value, AUTOCOMMIT, atomic_alone=True, ensures=name in ("add", "aadd"))
            if name in ("create", "acreate", "get_or_create", "update_or_create"):
                return write_effect(LIBRARY, value, AUTOCOMMIT, atomic_alone=name == "update_or_create",
                                    ensures=name == "get_or_create")
            return None
        if value.kind == "handle" and value.name == "connection":
            if name == "cursor":
                return Outcome(value=Value("handle", name="cursor", library=LIBRARY, regime=AUTOCOMMIT))
            return None
        if value.kind == "handle" and value.name == "cursor":
            if name in ("execute", "executemany", "callproc"):
                return effect("sql", LIBRARY, AUTOCOMMIT, how="raw", sql=call.string(0, "sql") or "",
                              bulk=name == "executemany")
            return None
        if value.kind == "model" and name in _MANAGER_WRITES:
            return None  # Django writes go through a manager; M.save() is a class method misuse
        if value.kind == "handle":
            return django_forms.method(value, name, call)
        return None

    def _manager_method(self, manager: Value, name: str, call: CallView) -> Optional[Outcome]:
        if name in _RELATED_WRITES and manager.has(_RELATED):
            # (`order.lines.add(line)` sets the foreign key of the rows given, in one query)
            return write_effect(LIBRARY, _model_of(manager), AUTOCOMMIT, atomic_alone=True,
                                ensures=name in ("add", "aadd"))
        if name in _QUERYSET_CHAIN:
            return Outcome(value=manager)
        if name in _INSTANCE_GETTERS:
            return Outcome(value=Value("instance", name=_model_of(manager).name, library=LIBRARY, table=manager.table))
        if name in _MANAGER_WRITES:
            model = _model_of(manager)
            outcome = write_effect(LIBRARY, model, AUTOCOMMIT, atomic_alone=_MANAGER_WRITES[name],
                                   bulk=name in ("bulk_create", "abulk_create", "bulk_update", "abulk_update"),
                                   idempotent=name in _IDEMPOTENT, ensures=name in ("get_or_create", "aget_or_create"))
            if name in ("create", "acreate", "get_or_create", "aget_or_create", "update_or_create",
                        "aupdate_or_create"):
                return Outcome(value=Value("instance", name=model.name, library=LIBRARY, table=model.table),
                               effect=outcome.effect)
            return outcome
        if name == "raw":
            return effect("sql", LIBRARY, AUTOCOMMIT, how="raw", sql=call.string(0, "raw_query") or "")
        return None

    def inherited_method(self, model: Value, name: str, call: CallView) -> Optional[Outcome]:
        if name not in treebeard.NODE_WRITES:
            return None
        if name not in treebeard.NEW_NODE_METHODS:
            return write_effect(LIBRARY, model, AUTOCOMMIT, atomic_alone=True)  # `move`: the subtree's rows
        given = call.keyword_value(treebeard.NEW_NODE_KEYWORD)
        node = given if given is not None and given.kind == "instance" else \
            Value("instance", name=model.name, library=LIBRARY, table=model.table)
        outcome = write_effect(LIBRARY, node, AUTOCOMMIT, atomic_alone=True, new_row_keyword=treebeard.NEW_NODE_KEYWORD)
        return Outcome(value=node, effect=outcome.effect)

    def opens_transaction(self, value: Value, as_decorator: bool) -> bool:
        return value.kind == "scope" and value.library == LIBRARY and value.name == "atomic"

    def enter(self, value: Value) -> Optional[Value]:
        return None

    def model_table(self, class_name, module, attributes) -> str:
        ref = attributes.get("Meta.db_table")
        if ref is not None and ref[0] == "str":
            return ref[1]
        parts = module.split(".")
        app = parts[-2] if parts[-1] == "models" and len(parts) > 1 else (
            parts[parts.index("models") - 1] if "models" in parts[1:] else parts[-1])
        return f"{app}_{class_name.lower()}"
