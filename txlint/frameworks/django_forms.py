"""Django's form factories: `modelform_factory(Model)`, `modelformset_factory(Model)` and
`inlineformset_factory(Parent, Model)` build a form (or formset) class for a model at run time, so
no `class Meta: model = ...` names it. Their forms' save() writes a row of the model; a formset's
writes one per changed form and deletes the forms marked for deletion, each in its own statement
(BaseModelFormSet.save runs no transaction of its own). `save(commit=False)` writes nothing.

The classes and their instances are handles (flags: the model's qualname)."""

from typing import Optional

from txlint.values import AUTOCOMMIT, CallView, Outcome, Value, write_effect

LIBRARY = "django"

# factory -> (index of the model argument, its keyword, the role of the class it makes)
FACTORIES = {
    "django.forms.modelform_factory": (0, "model", "form_class"),
    "django.forms.models.modelform_factory": (0, "model", "form_class"),
    "django.forms.modelformset_factory": (0, "model", "formset_class"),
    "django.forms.models.modelformset_factory": (0, "model", "formset_class"),
    "django.forms.inlineformset_factory": (1, "model", "formset_class"),
    "django.forms.models.inlineformset_factory": (1, "model", "formset_class"),
}
_MADE_BY = {"form_class": "form", "formset_class": "formset"}
# BaseFormSet's lists of its forms (a loop over the formset itself goes over `forms`).
_FORM_LISTS = ("forms", "initial_forms", "extra_forms", "deleted_forms", "saved_forms")


def form_class_of(qname: str, call: CallView) -> Optional[Outcome]:
    """The form or formset class a factory call makes, when its model is known."""
    index, keyword, role = FACTORIES[qname]
    base = call.value(99, "form") if role == "form_class" else None
    if base is not None and base.kind == "class":
        return Outcome(value=base)  # a subclass of the project's form: its save() runs
    model = call.value(index, keyword)
    if model is None or model.kind != "model":
        return None
    return Outcome(value=Value("handle", name=role, library=LIBRARY, table=model.table, flags=(model.name,)))


def _made(role: str, like: Value) -> Value:
    """A form, formset or list of forms of the model `like` (a factory-made handle) is for."""
    return Value("handle", name=role, library=LIBRARY, table=like.table, flags=like.flags)


def _row(form: Value) -> Value:
    """An instance of the model the form is for."""
    return Value("instance", name=form.flags[0], library=LIBRARY, table=form.table)


def instance_of(form_class: Value) -> Optional[Value]:
    """What calling a factory-made class makes (a form, a formset), else None."""
    role = _MADE_BY.get(form_class.name) if form_class.kind == "handle" else None
    return _made(role, form_class) if role else None


def method(form: Value, name: str, call: CallView) -> Optional[Outcome]:
    """`form.save()` / `formset.save()` of a factory-made form or formset."""
    if name != "save" or form.name not in ("form", "formset") or not form.flags:
        return None
    instance = _row(form)
    if call.const("commit") == "False":
        return Outcome(value=instance if form.name == "form" else None)
    written = write_effect(LIBRARY, instance, AUTOCOMMIT, bulk=form.name == "formset")
    return Outcome(value=instance if form.name == "form" else None, effect=written.effect)


def attribute(form: Value, name: str) -> Optional[Value]:
    """`form.instance`: the row the form edits or makes; `formset.forms` (and the formset's other
    lists of its forms)."""
    if not form.flags:
        return None
    if name == "instance" and form.name == "form":
        return _row(form)
    if name in _FORM_LISTS and form.name == "formset":
        return _made("forms", form)
    return None


def item(forms: Value) -> Optional[Value]:
    """A form of a formset, in a loop over the formset or over one of its lists of forms."""
    if forms.name in ("formset", "forms") and forms.flags:
        return _made("form", forms)
    return None
