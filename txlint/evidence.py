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
  after it was committed), nor when its write is a get-or-create.
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
refreshed token on its way).

A commit after a write that makes a row with its status set, whose status the function sets
again later (`Query(status=RUNNING)` committed, then `query.status = "success"`), publishes the
row's state on purpose: TXL103 does not count it as a split (`publishes_status`).

What it may use: the function's facts (its events and bindings) and `Project.evaluate` to tell
handles, objects and models from data.
"""

import re
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, Set

from txlint.dataflow import INSERTED_KEY, SETS_ATTRIBUTE, called_name, calls_super, followed, names_in, names_passed_whole
from txlint.facts import Ref

if TYPE_CHECKING:
    from txlint.project import Effect, Project, Unit

# Values that are not data: every write of the function shares them.
_NOT_DATA = {"handle", "scope", "model", "class", "qname", "function", "builtin"}
_CLOSURE_DEPTH = 3  # assignments followed back from a write's call
_IDENTITY = re.compile(r"(^|_)(id|ids|pk|pks|key|uuid)$")
_LOG_TABLE = re.compile(r"(log|logs|logentry|logentries|audit|auditentry|auditentries|history|historyentry)$|"
                        r"^historical|activitylog|actionlog|auditlog|^changes?$")  # weblate's Change: its history
_DELETES = {"delete", "adelete", "delete_many", "delete_all", "remove", "aremove", "clear", "aclear",
            "delete_instance", "truncate"}
_DELETE_SQL = ("DELETE", "TRUNCATE", "DROP")
_THRESHOLD_LOOKUPS = ("__lt", "__lte", "__gt", "__gte", "__range", "__in", "__contains", "__startswith")
_SESSION_SAVES = {"add", "add_all", "merge", "delete"}
_UPDATES = {"update", "aupdate", "bulk_update", "abulk_update", "update_many", SETS_ATTRIBUTE}
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
        if _handles_failure_of(second, first):
            return False  # the record of a failed attempt, written because the work did not go through
        if _written_looking_up(first) or _written_looking_up(second):
            return False  # a row a lookup keeps on its way (a token refreshed to get a connection)
        if self._changes_the_same_row(first, second):
            return False  # the row the first wrote, changed again: a status kept up to date, not its other half
        if self._saved_when_new(first, second):
            # `if not answer.pk: answer.save()`, then its options set on every run: the code takes
            # the saved row the other way next time (the options cleared and set again).
            return False
        if first.spec.ensures and not self._made_only_when_created(first, second) and \
                _site_receiver(second) not in self.made_by(first):
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
        if not first.via and not second.via and self.made_by(first) and self._new_rows_read_back(first, second):
            return True  # rows made from the rows the first made, looked up again (`Person.query...`)
        if not first.via and not second.via:
            if self.saved_by(first) & _objects_named(second):
                return True  # the object saved is part of the next write (`Payment(order=order)`, `order.lines...`)
            if any(self._is_quantity(name) for name in _arguments(first) & _arguments(second)):
                return True  # one amount written to both (a transfer's `amount`, a sale's `quantity`)
            if any(self._is_quantity(path) for path in _attributes_written(first) & _attributes_written(second)):
                return True  # one value of an object copied into both (a user's name kept in several tables)
        if is_delete(first) or is_delete(second):
            # Rows of one thing deleted with others of it changed or made: a parent and its
            # children, or a replacement. Updates alone (a counter, a flag) are not enough.
            shared = self.data_of(first) & second_data
            owner = _method_owner(first)
            if owner and owner == _method_owner(second) and self._is_instance(owner):
                return True  # one object's links replaced: `user.remove_from_group(g)`, then `user.add_to_group(h)`
            return self._one_thing(shared) or \
                bool(shared & (_equality_keys(first.site.ref) | _equality_keys(second.site.ref)))
        return False

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
        return bool(effects) and any(_removes_a_row_by_its_key(effect) for effect in effects) and \
            self._one_thing(frozenset.intersection(*(self.data_of(effect) for effect in effects)))

    def _one_thing(self, shared: FrozenSet[str]) -> bool:
        return any(_IDENTITY.search(name) or self._is_instance(name) for name in shared)

    def _is_instance(self, name: str) -> bool:
        root, _, attribute = name.partition(".")
        ref: Ref = ("name", root) if not attribute else ("attr", ("name", root), attribute)
        value = self.project.evaluate(ref, self.unit)
        return value is not None and value.kind == "instance"

    def same_object(self, first: "Effect", second: "Effect") -> bool:
        """Is `second` a method of the object `first` made (`ra = X.objects.create(...)`, then
        `ra.validated_save()`)?"""
        root = _object_written(second)
        return bool(root) and any(_contains(ref, first.site.ref) for ref in self.unit.facts.bindings.get(root, ()))

    def made_by(self, effect: "Effect") -> FrozenSet[str]:
        """The names of the rows a write makes: what its call returns (`order = Order.objects.create()`),
        and a new instance it saves or adds (`order = Order(...)`, then `order.save()` or
        `session.add(order)`)."""
        key = ("made", id(effect.site))
        found = self._data.get(key)
        if found is None:
            bindings = self.unit.facts.bindings
            made = set() if _fetches(effect) else \
                {name for name, refs in bindings.items() if any(_contains(ref, effect.site.ref) for ref in refs)}
            if _makes_rows(effect):
                made.update(name for name in self._saved_names(effect) if self.constructed(name))
                made.update(_new_row_given(effect))
                made.update(self._created_by_the_library(effect))
            found = self._data[key] = frozenset(made)
        return found

    def saved_by(self, effect: "Effect") -> FrozenSet[str]:
        """The objects a row-making write saves or adds (`order.save()`, `session.add(order)`)."""
        return frozenset(self._saved_names(effect)) if _makes_rows(effect) else frozenset()

    def _saved_names(self, effect: "Effect") -> Set[str]:
        """`order` in `order.save()` and `session.add(order)`; not `order` in `Invoice.objects.create(order=order)`."""
        if effect.via:
            return {effect.saves} if effect.saves else set()  # `ChartDAO.create(chart)`: a helper adding what it is given
        func = effect.site.ref[1]
        if func[0] == "attr" and func[2] in _SESSION_SAVES:
            return set(_whole_arguments(effect))
        if effect.spec.new_row_keyword:
            return set(_new_row_given(effect))
        if calls_super(func):
            return self._saved_by_the_library(effect)
        return {effect.receiver} if not effect.via and _is_object_path(effect.receiver) else set()

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
        if _IDENTITY.search(name) or name in ("self", "cls"):
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


def _removes_a_row_by_its_key(effect: "Effect") -> bool:
    """Does the delete remove a row named by its own key or instance (`order.delete()`,
    `session.delete(order)`, `filter(pk=order_id)`, `where(Order.id == order_id)`), rather than the
    rows that point at one (`filter(order__event=event)`)? Raw SQL and helpers' deletes: as far as
    txlint can tell, yes."""
    if effect.spec.how == "raw" or effect.via:
        return True
    call = effect.site.ref
    func = call[1]
    if func[0] == "attr" and func[1][0] == "name" and func[2] in _DELETES:
        return True  # `order.delete()`, `session.delete(order)`
    while isinstance(call, tuple) and call and call[0] == "call":
        if any(key in _OWN_KEYS for key, _ in call[3] if key):
            return True
        if any(_compares_own_key(argument) for argument in call[2]):
            return True
        func = call[1]
        call = func[1] if func[0] == "attr" else None
    return False


_OWN_KEYS = {"pk", "id", "pk__in", "id__in", "pk__exact", "id__exact"}


def _compares_own_key(ref: Ref) -> bool:
    """`Order.id == order_id` in a `where(...)`: a column named id or pk of a class."""
    if not isinstance(ref, tuple) or not ref:
        return False
    if ref[0] == "call":  # `delete(Order)` itself, or `and_(...)` around the comparisons
        return any(_compares_own_key(argument) for argument in ref[2])
    return ref[0] == "expr" and any(
        part[0] == "attr" and part[2] in ("id", "pk") and part[1][0] == "name" for part in ref[1]
        if isinstance(part, tuple) and part)


def _handles_failure_of(handler_write: "Effect", work: "Effect") -> bool:
    """Is the write in an `except` handler of the `try` whose body made the other one (a failed
    check-in recorded after the block that would have made it raised)?"""
    in_body = {block for block, part in work.site.context.trys if part == "body"}
    return any(part == "except" and block in in_body for block, part in handler_write.site.context.trys)


def deleted_in_handler(effects: Iterable["Effect"], blocks: Set[int], names: FrozenSet[str]) -> bool:
    """Does an `except` handler of one of these `try` blocks delete the row of one of these variables?"""
    return any(effect.kind == "write" and is_delete(effect) and _deleted_names(effect) & names and
               any(part == "except" and block in blocks for block, part in effect.site.context.trys)
               for effect in effects)


def _deleted_names(effect: "Effect") -> FrozenSet[str]:
    """The variables whose rows a delete removes: `theme` in `theme.delete()`, `session.delete(theme)`
    and `delete_theme(theme)`."""
    owner = effect.receiver if not effect.via else _method_owner(effect)
    return _whole_arguments(effect) | ({owner} if owner and "." not in owner else set())


def _new_row_given(effect: "Effect") -> FrozenSet[str]:
    """The variable (or attribute of `self`) holding the unsaved instance a call inserts, given by
    keyword (`page` in treebeard's `parent.add_child(instance=page)`)."""
    if effect.via or not effect.spec.new_row_keyword:
        return frozenset()
    given = dict(effect.site.ref[3]).get(effect.spec.new_row_keyword)
    paths: Set[str] = set()
    if given is not None and given[0] in ("name", "attr"):
        names_in(given, paths, paths=True)
    return frozenset(path for path in paths if _is_object_path(path) and path != "self")


def _site_receiver(effect: "Effect") -> str:
    """The variable whose method the write's call is (`response` in `response.save()`, also when
    the write is made inside that method)."""
    func = effect.site.ref[1]
    return func[1][1] if func[0] == "attr" and func[1][0] == "name" else ""


def _method_owner(effect: "Effect") -> str:
    """The variable whose method a helper's write was reached through (`user` in `user.add_to_group(g)`)."""
    func = effect.site.ref[1]
    return func[1][1] if effect.via and func[0] == "attr" and func[1][0] == "name" else ""


def _equality_keys(call: Ref) -> FrozenSet[str]:
    """The variables a query chain looks rows up by equality (`filter(action=action)`, not
    `filter(created__lt=cutoff)`): the rows of one thing, not those past a threshold."""
    keys: Set[str] = set()
    while isinstance(call, tuple) and call and call[0] == "call":
        keys.update(value[1] for key, value in call[3]
                    if key and not key.endswith(_THRESHOLD_LOOKUPS) and value[0] == "name")
        func = call[1]
        call = func[1] if func[0] == "attr" else None
    return frozenset(keys)


def _fetches(effect: "Effect") -> bool:
    """A write made inside a helper called to get something (`get_translation(...)`,
    `find_user(...)`): what it returns was looked up, not made by that write."""
    return bool(effect.via) and called_name(effect.site.ref[1]).lstrip("_").startswith(_FETCH_VERBS)


_FETCH_VERBS = ("get", "find", "fetch", "load", "lookup", "read")


def _written_looking_up(effect: "Effect") -> bool:
    """A write made inside a helper called to look something up, however deep down the helpers
    (`get_raw_connection()` calling `get_oauth2_access_token()`, which stores a refreshed token):
    what a lookup keeps on its way, no half of the work that asked for it."""
    return any(_names_a_lookup(helper.rsplit(".", 1)[-1]) for helper in effect.helpers)


def _names_a_lookup(name: str) -> bool:
    name = name.lstrip("_")
    return any(name == verb or name.startswith(f"{verb}_") for verb in _FETCH_VERBS)


def sends_a_message(effect: "Effect") -> bool:
    """A write made by a helper called to send a mail or a notice (`mail(...)`, `invite.send()`,
    `notify_user(...)`), or made inside one however it was reached (`_order_placed_email(...)`
    calling `mail(...)`, which queues the outbox row)."""
    if not effect.via:
        return False
    # (a signal's `send()` names no message: its receivers' names say what they do)
    return (not effect.by_receiver and called_name(effect.site.ref[1]).lstrip("_").startswith(_MESSAGE_VERBS)) or \
        effect.via.rsplit(".", 1)[-1].lstrip("_").startswith(_MESSAGE_VERBS)


_MESSAGE_VERBS = ("send", "mail", "email", "notify")


def _object_written(effect: "Effect") -> str:
    """The variable whose row a write saves: `ra` in `ra.save()`, and in `ra.validated_save()` when
    that method saves `self`."""
    if not effect.via:
        # `ra.save()`; not `ra.lines.create()`, which writes other rows through ra's relation
        return effect.receiver if "." not in effect.receiver else ""
    func = effect.site.ref[1]
    if effect.receiver == "self" and func[0] == "attr" and func[1][0] == "name":
        return func[1][1]
    return ""


def _objects_named(effect: "Effect") -> FrozenSet[str]:
    """The variables a write's call uses, or uses the attributes of (`Invoice(order_id=order.id)`,
    `order.lines.create()`), and the attributes of `self` it uses (`Invoice(order=self.order)`)."""
    names: Set[str] = set()
    names_in(effect.site.ref, names)
    paths: Set[str] = set()
    names_in(effect.site.ref, paths, paths=True)
    return frozenset(names | {path for path in paths if _is_object_path(path) and "." in path})


def _is_object_path(text: str) -> bool:
    """A variable (`order`) or an attribute of `self` (`self.order`): what a write can save whole."""
    root, _, attribute = text.partition(".")
    return bool(root) and (not attribute or (root == "self" and "." not in attribute and attribute.isidentifier()))


def _arguments(effect: "Effect") -> FrozenSet[str]:
    """Every variable a write's call is built from (its arguments, its query chain, a DB-API call's
    parameters), except those it only finds its rows by: a key (`filter(pk=job.pk)`,
    `where(Job.id == job_id)`) is no amount written, and two writes that share one are updates that
    share a key."""
    names: Set[str] = set()
    _names_outside_keys(effect.site.ref, names)
    return frozenset(name for name in names if "." not in name and name != INSERTED_KEY)


def _names_outside_keys(ref: Ref, into: Set[str]) -> None:
    """`names_in(ref, paths=True)`, leaving out the values of a call chain's key lookups."""
    if not isinstance(ref, tuple) or not ref:
        return
    if ref[0] == "attr" and isinstance(ref[1], tuple) and ref[1] and ref[1][0] == "call":
        _names_outside_keys(ref[1], into)  # the query chain the method is called on
    elif ref[0] == "call":
        _names_outside_keys(ref[1], into)
        for argument in ref[2]:
            if not _compares_own_key(argument):
                _names_outside_keys(argument, into)
        for keyword, argument in ref[3]:
            if not (keyword and keyword.split("__", 1)[0] in _KEY_FIELDS):
                _names_outside_keys(argument, into)
    else:
        names_in(ref, into, paths=True)  # operands too: `Customer.points + total`


_KEY_FIELDS = {"pk", "id"}


def _attributes_written(effect: "Effect") -> FrozenSet[str]:
    """The attributes of a variable a write stores as they are (`update(poster_name=user.username)`:
    `user.username`), not its keys."""
    return frozenset(f"{value[1][1]}.{value[2]}" for _, value in effect.site.ref[3]
                     if value[0] == "attr" and value[1][0] == "name" and not _IDENTITY.search(value[2]))


def _whole_arguments(effect: "Effect") -> FrozenSet[str]:
    """The variables a write's call is given whole (`Post(topic=topic)`, `session.add(topic)`)."""
    return names_passed_whole(effect.site.ref)


def is_log(effect: "Effect") -> bool:
    """A write to a log of what happened (an audit entry, an activity log, a history record)."""
    return any(_LOG_TABLE.search(name) for name in _names_of(effect))


def is_delete(effect: "Effect") -> bool:
    """Does the write only delete rows (as far as its call shows)?"""
    if effect.spec.how == "raw":
        return effect.spec.sql.lstrip().upper().startswith(_DELETE_SQL)
    if effect.via or effect.spec.removes:
        return effect.spec.removes  # a helper's write says so itself (`self.groups.remove(group)` inside it)
    func = effect.site.ref[1]
    if func[0] == "attr" and func[2] in _DELETES:
        return True
    # `session.execute(delete(Model).where(...))`, `conn.execute(table.delete())`
    statement = effect.site.ref[2][0] if effect.site.ref[2] else None
    return effect.spec.how == "core" and statement is not None and statement[0] == "call" and \
        _chain_start_name(statement) == "delete"


def _chain_start_name(ref: Ref) -> str:
    """The name a call's chain starts from: `delete` in `delete(M).where(...)`, `table.delete()`."""
    while ref[0] == "call":
        func = ref[1]
        if func[0] == "name":
            return func[1]
        if func[0] != "attr":
            return ""
        if func[1][0] != "call":
            return func[2]
        ref = func[1]
    return ""


def _makes_rows(effect: "Effect") -> bool:
    """Can the write insert (or save) rows? Only an update or delete seen in the call says no."""
    if effect.spec.how == "raw":
        return not effect.spec.sql.lstrip().upper().startswith(("UPDATE", *_DELETE_SQL))
    if effect.via:
        return True
    func = effect.site.ref[1]
    return not (func[0] == "attr" and (func[2] in _DELETES or func[2] in _UPDATES))


def only_deletes(effects: Iterable["Effect"]) -> bool:
    return all(is_delete(effect) for effect in effects)


def _names_of(effect: "Effect") -> FrozenSet[str]:
    return frozenset(name.lower() for name in (effect.spec.table, *effect.spec.aliases) if name not in ("", "?"))
