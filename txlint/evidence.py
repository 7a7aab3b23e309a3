"""Which writes of a function belong to one unit of work.

Two writes that commit apart are a hazard only when they belong together: a failure between
them must leave something a maintainer would call broken (an order without its lines). Writes
that merely sit in one function (a setting saved, then a counter bumped; derived data
recomputed; two cleanups) are not. On real applications, judged as their maintainers would,
most pairs that only shared a variable, a key or a foreign key were of that kind, so TXL101 and
TXL103 report a pair only with evidence that the second write depends on the first:

- **made**: the second uses the row the first made: its result (`order =
  Order.objects.create(...)`, then `Invoice.objects.create(order=order)`), a new instance it saved
  or added (`order = Order(...)`, `session.add(order)`, or handed to a helper that adds it:
  `ChartDAO.create(chart)`), or the key an INSERT returned (`cursor.lastrowid`). Data flows
  through containers too (`kwargs["roles"] = roles`, then `Certificate(**kwargs)`).
- **saved**: both are the function's own writes, and the second uses the object the first saved
  (`order.save()`, then `Payment.objects.create(order=order)` or `order.lines.update(...)`); or
  the second is a helper's, given the object saved for a parameter its write is built from
  (`session.add(topic)`, then `post.save(user, topic)` where `save` sets `self.topic = topic`
  and adds the post). Not when the helper writes that same object again (a status updated
  after it was committed), nor when its write is a get-or-create. A form made with
  `instance=order` (here, or by a property of the class) saves `order` when it is saved.
- **changed by its method**: a method called on an object sets attributes of it and writes rows
  built from it (`thread.move(archive)`: the category set, the posts moved by its signal), then
  the function saves the object (`thread.save()`): one change of the object, in two commits.
- **read back**: both are the function's own writes and add new rows, and the second's rows are
  built from a lookup of the model whose rows the first added (members imported, then bills whose
  payers are looked up among the members). Updates recomputed from the rows (a total, a count)
  are not: derived data that a re-run recomputes.
- **amount**: both are the function's own writes and write one value of the function's own that
  is not a key, an object or a handle (a transfer's `amount`, a sale's `quantity`), or store one
  attribute of an object that is not a key (`update(poster_name=user.username)` in each of the
  tables that keep a copy of the name); what a write only finds its rows by (`filter(pk=job.pk)`,
  `where(Job.id == job_id)`) is not written.
- **one thing**: one of them deletes, and both look rows up by one identity (an id, an instance,
  an equality filter), or both are helpers called on one instance (`user.remove_from_group(g)`,
  then `user.add_to_group(h)`): a parent and its children, a replacement. Deletes by a threshold
  (`created__lt=cutoff`) are cleanups, each complete on its own.

Never evidence: a later write that ensures its row (`get_or_create`, `update_or_create`, or made
when a lookup found nothing: code that needs the row makes it when it is missing; or the first
write under `if not page.has_translation(language):` or `if not ....exists():`), a row ensured
first (`get_or_create`, a many-to-many `add()`) and a later write made on every run (a retry finds
the row and makes the second; not one made only `if created:`, nor a save of the row ensured), an
instance saved only when new (`if not answer.pk: answer.save()`) and a later write made whatever
the test found, a
later write in a `try` whose `except` handler deletes the row the first made (compensation), a variable a later loop binds
to its items (not the row made under that name), a write in an `except` handler of the `try` that made the other (the record of
a failed attempt), an entry in a log of what happened (an audit entry, an activity log, a history
record; it records the work, it is no half of it), models merely tied by a foreign key, and two
updates that share a key (a counter or flag kept in step, which its own code recomputes), and a
later change to the attributes of the object the first write made, saved or changed (`query.status
= "failed"` after the query was committed as running: its status kept up to date), and a write
made inside a helper called to look something up, however deep (`get_raw_connection()` storing a
refreshed token on its way), and a later write made only when a lookup finds the row it is given,
the code carrying on without it otherwise (`if user: mail.to_users.add(user)` after `user =
...first()`, or after `except Unit.DoesNotExist: return False`): a best-effort follow-up, whose
absence is a state the code itself leaves (txlint.lookup_guards).

A commit after a write that makes a row with its status set, whose status the function sets
again later (`Query(status=RUNNING)` committed, then `query.status = "success"`), publishes the
row's state on purpose: TXL103 does not count it as a split (`publishes_status`).

What it may use: the function's facts (its events and bindings) and `Project.evaluate` to tell
handles, objects and models from data.
"""

import re
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Set

from txlint.dataflow import INSERTED_KEY, calls_super, followed, names_in
from txlint.facts import Ref
from txlint.lookup_guards import waits_alone
from txlint.write_calls import (
    IDENTITY,
    argument_names,
    attributes_written,
    deleted_in_handler,
    equality_keys,
    fetches,
    handles_failure_of,
    is_delete,
    is_log,
    is_object_path,
    object_path,
    makes_rows,
    method_owner,
    new_row_given,
    object_written,
    objects_named,
    removes_a_row_by_its_key,
    sends_a_message,
    site_receiver,
    whole_arguments,
    written_looking_up,
)

if TYPE_CHECKING:
    from txlint.project import Effect, Project, Unit

# Values that are not data: every write of the function shares them.
_NOT_DATA = {"handle", "scope", "model", "class", "qname", "function", "builtin"}
_CLOSURE_DEPTH = 3  # assignments followed back from a write's call
_SESSION_SAVES = {"add", "add_all", "merge", "delete"}
_STATUS_FIELD = re.compile(r"(^|_)(status|state)$")


def _contains(ref: Ref, part: Ref) -> bool:
    """Is `part` the value of `ref`, or what it unpacks, awaits or enters?"""
    while isinstance(ref, tuple) and ref:
        if ref == part:
            return True
        if ref[0] in ("unpack", "enter", "iter", "sub"):
            ref = ref[1]
        elif ref[0] == "annotated":
            ref = ref[2]
        else:
            return False
    return False


class WriteLinks:
    """The evidence that links the writes of one function (see the module's docstring)."""

    def __init__(self, project: "Project", unit: "Unit"):
        self.project = project
        self.unit = unit
        self._data: Dict[object, FrozenSet[str]] = {}
        self._is_data: Dict[str, bool] = {}

    def related(self, first: "Effect", second: "Effect") -> bool:
        """Does `second` (the later write) belong with `first`?"""
        if is_log(first) or is_log(second):
            return False  # an audit or activity log entry records the work; it is no half of it
        if sends_a_message(first) or sends_a_message(second):
            return False  # the mail or notice about the work (an outbox row): a side effect, not half of it
        if handles_failure_of(second, first):
            return False  # the record of a failed attempt, written because the work did not go through
        if written_looking_up(first) or written_looking_up(second):
            return False  # a row a lookup keeps on its way (a token refreshed to get a connection)
        if self._changes_the_same_row(first, second):
            return False  # the row the first wrote, changed again: a status kept up to date, not its other half
        if self._saved_when_new(first, second):
            # `if not answer.pk: answer.save()`, then its options set on every run: the code takes
            # the saved row the other way next time (the options cleared and set again).
            return False
        if first.spec.ensures and not self._made_only_when_created(first, second) and \
                site_receiver(second) not in self.made_by(first):
            # `device, _ = get_or_create(...)`, then a token for it: left alone, the row ensured is
            # what the code expects to find, and a retry finds it and makes the second again. Not
            # when the second saves the row ensured (`response.save()` and what its save() writes).
            return False
        if self._undone_on_failure(first, second):
            return False  # compensated: the handler of the `try` around the second deletes the first's row
        if second.spec.idempotent or second.found_or_made:
            # Ensured on demand (`get_or_create`, or made when a lookup found nothing): whatever
            # needs the row makes it if missing.
            return False
        if waits_alone(second, first):
            # A best-effort follow-up (`if user: mail.to_users.add(user)` after `user = ...first()`):
            # when the lookup finds nothing the code carries on without it, so the first's rows
            # without it are a state the code itself leaves (txlint.lookup_guards).
            return False
        second_data = self.data_of(second)
        if INSERTED_KEY in second_data:
            return True  # it uses the key an earlier INSERT made (`cursor.lastrowid`)
        if (self.made_by(first) - self._rebound_by_loop(first, second)) & second_data:
            return True  # the row the first write made, or its key, is part of the second
        if second.via and not second.spec.idempotent and \
                (self.saved_by(first) & frozenset(second.uses)) - {second.saves}:
            # The object saved is given to a helper that makes another row with it (`post.save(user,
            # topic)`); the same object written again (a status updated after it) is not evidence.
            return True
        if second.called_on and second.called_on in self.made_by(first) and not second.spec.idempotent:
            return True  # a method of the new row makes rows from it (`order.add_first_line()`)
        if first.called_on and not second.via and not second.spec.idempotent and \
                first.called_on in self.saved_by(second) and self._changes_its_object(first):
            # A method of the object changes it and writes rows built from it (`thread.move(archive)`
            # sets its category, and its signal moves the thread's posts); the change is saved after
            # (`thread.save()`): the method's work, committed in two halves.
            return True
        if not first.via and not second.via and self.made_by(first) and self._new_rows_read_back(first, second):
            return True  # rows made from the rows the first made, looked up again (`Person.query...`)
        if not first.via and not second.via:
            if self.saved_by(first) & objects_named(second):
                return True  # the object saved is part of the next write (`Payment(order=order)`, `order.lines...`)
            if any(self._is_quantity(name) for name in argument_names(first) & argument_names(second)):
                return True  # one amount written to both (a transfer's `amount`, a sale's `quantity`)
            if any(self._is_quantity(path) for path in attributes_written(first) & attributes_written(second)):
                return True  # one value of an object copied into both (a user's name kept in several tables)
        if is_delete(first) or is_delete(second):
            # Rows of one thing deleted with others of it changed or made: a parent and its
            # children, or a replacement. Updates alone (a counter, a flag) are not enough.
            shared = self.data_of(first) & second_data
            owner = method_owner(first)
            if owner and owner == method_owner(second) and self._is_instance(owner):
                return True  # one object's links replaced: `user.remove_from_group(g)`, then `user.add_to_group(h)`
            return self._one_thing(shared) or \
                bool(shared & (equality_keys(first.site.ref) | equality_keys(second.site.ref)))
        return False

    def _changes_its_object(self, effect: "Effect") -> bool:
        """Does the method the write was made in (called on an object) set an attribute of `self`,
        changing the object its caller then saves?"""
        method = self.project.units.get(effect.helpers[0]) if effect.helpers else None
        return method is not None and any(name.startswith("self.") for name in method.facts.bindings)

    def _changes_the_same_row(self, first: "Effect", second: "Effect") -> bool:
        """Does the second write change attributes of the row the first made, saved or changed
        (`query.status = "failed"` after the query was committed as running), or of a row of the
        first's model when what the first wrote is not known (a helper's progress update of the
        query it was given, then the query's final status)? Two rows both known (a transfer's two
        accounts) are not one."""
        if not second.spec.sets_attribute or not second.saves:
            return False
        written = self.made_by(first) | self.saved_by(first) | ({first.saves} if first.saves else frozenset())
        if second.saves in written:
            return True
        return first.spec.table == second.spec.table and not first.saves and not self.saved_by(first)

    def _rebound_by_loop(self, first: "Effect", second: "Effect") -> Set[str]:
        """The variables a loop around the second write (not around the first) binds to its items:
        there they name the items, not what the first write made under the same name."""
        loops = set(second.site.context.loops) - set(first.site.context.loops)
        items = [("iter", self.unit.facts.loops[loop].iterable) for loop in loops if loop in self.unit.facts.loops]
        return {name for name, refs in self.unit.facts.bindings.items()
                if any(_contains(ref, item) for ref in refs for item in items)}

    def _made_only_when_created(self, first: "Effect", second: "Effect") -> bool:
        """Is the second write made only when the first created its row (`obj, created =
        get_or_create(...)`, then `if created:`)? A retry finds the row and skips it: the row
        stays without what the second makes. Any branch around it, or a test of the flag, is
        taken for one."""
        flags = {name for name, refs in self.unit.facts.bindings.items()
                 if not name.startswith("_") and ("unpack", first.site.ref, 1) in refs}
        if not flags:
            return False
        tested = any(name in flags for name, _ in self.unit.facts.flag_ifs.values())
        return tested or bool(second.site.context.branches)

    def _saved_when_new(self, first: "Effect", second: "Effect") -> bool:
        """Is the first write the save of an instance made only when it is not saved yet (`if not
        answer.pk: answer.save()`), and the second made outside that branch, whatever the test
        found? The function is written for a row that exists as well: run again, it finds the row
        saved and makes the second. Not a second made in that branch only (a retry skips it)."""
        func = first.site.ref[1]
        if first.via or func[0] != "attr" or func[2] not in ("save", "asave") or func[1][0] != "name":
            return False
        saved = func[1][1]
        tests = self.unit.facts.new_row_ifs
        arms = [arm for arm in first.site.context.branches if arm[1] == "body" and tests.get(arm[0]) == saved]
        return bool(arms) and not any(arm in second.site.context.branches for arm in arms)

    def _undone_on_failure(self, first: "Effect", second: "Effect") -> bool:
        """Is the second write made in the body of a `try` that the first is outside of, whose
        `except` handler deletes the row the first made or saved (`theme = create_theme(...)`,
        then `try: create_css(theme, ...) except Exception: theme.delete(); raise`)? A failure
        of the second undoes the first: deliberate compensation."""
        outside = {block for block, _ in first.site.context.trys}
        blocks = {block for block, part in second.site.context.trys if part == "body"} - outside
        made = self.made_by(first) | self.saved_by(first)
        return bool(blocks and made) and deleted_in_handler(self.project.effects(self.unit), blocks, made)

    def publishes_status(self, first: "Effect") -> bool:
        """Does the first write make a row with its status set (`Query(status=RUNNING)`, or a helper
        given `status=RUNNING` that makes it), whose status the function sets again later
        (`query.status = "success"`)? A commit right after it publishes the row's state on purpose,
        so that other processes see the work running (and can track or cancel it); the work that
        follows ends by setting the final state. Only a field named status or state: another value
        set again (a total recomputed) is half of the work."""
        bindings = self.unit.facts.bindings
        for name in self.made_by(first) | self.saved_by(first):
            if "." in name:
                continue
            creations = [first.site.ref, *(ref for ref in bindings.get(name, ()) if ref and ref[0] == "call")]
            set_when_made = {keyword for call in creations for keyword, _ in call[3]
                             if keyword and _STATUS_FIELD.search(keyword)}
            if any(f"{name}.{field}" in bindings for field in set_when_made):
                return True
        return False

    def deletes_of_one_thing(self, effects: List["Effect"]) -> bool:
        """Deletes tied to one object (its id, the instance) that remove the object itself too: a
        parent and its children go together. Deletes by a threshold (`created < cutoff`) are
        cleanups, each complete on its own, and so are purges of the rows that belong to an object
        kept (its orders, its fees, its check-ins): a re-run finishes what a failure left."""
        return bool(effects) and any(removes_a_row_by_its_key(effect) for effect in effects) and \
            self._one_thing(frozenset.intersection(*(self.data_of(effect) for effect in effects)))

    def _one_thing(self, shared: FrozenSet[str]) -> bool:
        return any(IDENTITY.search(name) or self._is_instance(name) for name in shared)

    def _is_instance(self, name: str) -> bool:
        root, _, attribute = name.partition(".")
        ref: Ref = ("name", root) if not attribute else ("attr", ("name", root), attribute)
        value = self.project.evaluate(ref, self.unit)
        return value is not None and value.kind == "instance"

    def same_object(self, first: "Effect", second: "Effect") -> bool:
        """Is `second` a method of the object `first` made (`ra = X.objects.create(...)`, then
        `ra.validated_save()`)?"""
        root = object_written(second)
        return bool(root) and any(_contains(ref, first.site.ref) for ref in self.unit.facts.bindings.get(root, ()))

    def made_by(self, effect: "Effect") -> FrozenSet[str]:
        """The names of the rows a write makes: what its call returns (`order = Order.objects.create()`),
        and a new instance it saves or adds (`order = Order(...)`, then `order.save()` or
        `session.add(order)`)."""
        key = ("made", id(effect.site))
        found = self._data.get(key)
        if found is None:
            bindings = self.unit.facts.bindings
            made = set() if fetches(effect) else \
                {name for name, refs in bindings.items() if any(_contains(ref, effect.site.ref) for ref in refs)}
            if makes_rows(effect):
                made.update(name for name in self._saved_names(effect) if self.constructed(name))
                made.update(new_row_given(effect))
                made.update(self._created_by_the_library(effect))
            found = self._data[key] = frozenset(made)
        return found

    def saved_by(self, effect: "Effect") -> FrozenSet[str]:
        """The objects a row-making write saves or adds (`order.save()`, `session.add(order)`)."""
        return frozenset(self._saved_names(effect)) if makes_rows(effect) else frozenset()

    def _saved_names(self, effect: "Effect") -> Set[str]:
        """`order` in `order.save()` and `session.add(order)`; not `order` in `Invoice.objects.create(order=order)`."""
        if effect.via:
            return {effect.saves} if effect.saves else set()  # `ChartDAO.create(chart)`: a helper adding what it is given
        func = effect.site.ref[1]
        if func[0] == "attr" and func[2] in _SESSION_SAVES:
            return set(whole_arguments(effect))
        if effect.spec.new_row_keyword:
            return set(new_row_given(effect))
        if calls_super(func):
            return self._saved_by_the_library(effect)
        if not is_object_path(effect.receiver):
            return set()
        return {effect.receiver, *self._instance_a_form_saves(effect)}

    def _instance_a_form_saves(self, effect: "Effect") -> Set[str]:
        """`form.save()` of a form made with `instance=order` (a Django ModelForm, a DRF
        serializer): the form saves that instance, so `order` is saved too. The form is made here
        (`form = OrderForm(instance=order)`) or by a property of the class (`@cached_property def
        form(self): return OrderForm(instance=self.order)`, whose `self` is this one's); the
        instance must be of the model the save writes."""
        func = effect.site.ref[1]
        if func[2] != "save":
            return set()
        receiver = func[1]
        if receiver[0] == "name":
            made = self.unit.facts.bindings.get(receiver[1], ())
        elif receiver[0] == "attr" and receiver[1] == ("name", "self") and self.unit.facts.class_qualname:
            made = self.project.property_returns(self.unit.facts.class_qualname, receiver[2])
        else:
            return set()
        saved = set()
        for ref in made:
            given = dict(ref[3]).get("instance") if isinstance(ref, tuple) and ref and ref[0] == "call" else None
            path = object_path(given) if given is not None else ""
            if not path or (receiver[0] == "attr" and not path.startswith("self.")):
                continue  # (a property's own local is nothing here)
            value = self.project.evaluate(given, self.unit)
            if value is not None and value.kind == "instance" and value.name.rsplit(".", 1)[-1] == effect.spec.table:
                saved.add(path)
        return saved

    def _saved_by_the_library(self, effect: "Effect") -> Set[str]:
        """`super().form_valid(form)`, Django's own saving the form: the form, and `self.object`,
        where Django keeps the instance saved."""
        call = effect.site.ref
        registry = self.project.registry
        if call[1][2] not in registry.calls_on_argument or not call[2] or call[2][0][0] != "name":
            return set()
        attribute = registry.keeps_result_as.get(call[1][2])
        return {call[2][0][1], *([f"self.{attribute}"] if attribute else [])}

    def _created_by_the_library(self, effect: "Effect") -> Set[str]:
        """`super().form_valid(form)` of a view whose library base creates the row it saves (Django's
        CreateView): the form and `self.object` hold a new row."""
        func = effect.site.ref[1]
        class_qualname = self.unit.facts.class_qualname
        if effect.via or not calls_super(func) or not class_qualname or class_qualname not in self.project.classes:
            return set()
        creating = self.project.registry.creating_bases.get(func[2], ())
        if not creating or not self.project.library_bases(class_qualname) & set(creating):
            return set()
        return self._saved_by_the_library(effect)

    def _new_rows_read_back(self, first: "Effect", second: "Effect") -> bool:
        """Does the second write add new rows built from a lookup of the model whose new rows the
        first added (members added, then bills whose payer is looked up among the members)?"""
        made = [name for name in self.saved_by(second) if self.constructed(name)]
        if not made or not first.spec.table:
            return False
        names: Set[str] = set()
        for name in made:
            for ref in self.unit.facts.bindings.get(name, ()):
                names_in(ref, names)
        for name in followed(names, self.unit.facts, steps=2) - set(made):
            value = self.project.evaluate(("name", name), self.unit)
            if value is not None and value.kind == "model" and value.name.rsplit(".", 1)[-1] == first.spec.table:
                return True
        return False

    def _is_quantity(self, name: str) -> bool:
        """A plain value of the function's own (not a key that finds rows, not an object or a handle)."""
        if IDENTITY.search(name) or name in ("self", "cls"):
            return False
        root, _, attribute = name.partition(".")
        value = self.project.evaluate(("attr", ("name", root), attribute) if attribute else ("name", root), self.unit)
        return value is None or value.kind not in (*_NOT_DATA, "instance")

    def constructed(self, name: str) -> bool:
        """Is the variable bound here to a new instance of a model (`order = Order(total=1)`)?"""
        for ref in self.unit.facts.bindings.get(name, ()):
            if isinstance(ref, tuple) and ref and ref[0] == "call":
                value = self.project.evaluate(ref[1], self.unit)
                if value is not None and value.kind == "model":
                    return True
        return False

    def data_of(self, effect: "Effect") -> FrozenSet[str]:
        """The data paths a write's call uses, through the variables they were built from, and the
        names its result is bound to."""
        key = id(effect.site)
        found = self._data.get(key)
        if found is None:
            bindings = self.unit.facts.bindings
            direct: Set[str] = set()
            names_in(effect.site.ref, direct, paths=True)
            direct.update(name for name, refs in bindings.items()
                          if any(_contains(ref, effect.site.ref) for ref in refs))
            reached = followed(direct, self.unit.facts, paths=True, steps=_CLOSURE_DEPTH)
            found = self._data[key] = frozenset(name for name in reached if name in bindings
                                                 or name == INSERTED_KEY or self._bound_self(name))
        return found

    def _bound_self(self, path: str) -> bool:
        return "." in path and path.split(".", 1)[0] in self.unit.facts.bindings

    def _is_data_name(self, name: str) -> bool:
        known = self._is_data.get(name)
        if known is None:
            root, _, attribute = name.partition(".")
            ref: Ref = ("name", root) if not attribute else ("attr", ("name", root), attribute)
            value = self.project.evaluate(ref, self.unit)
            known = self._is_data[name] = value is None or value.kind not in _NOT_DATA
        return known
