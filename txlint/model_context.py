"""Transaction and materializer context: whether a `with`, a loop or a decorator opens a
transaction, whether a function always runs inside one that it does not open itself (framework
conventions, txlint.model_conventions; transaction calls wrapping it; every caller calling it
inside one), and the same for materializers and snapshot tables.

May use evaluation (txlint.model_values), classes, the callers in the call graph
(txlint.model_graph), the read tracking (`_memo`), the framework registry and the configuration.
"""

from typing import Dict, List, Optional, Tuple

from txlint import flags
from txlint.dataflow import calls_super
from txlint.facts import Event
from txlint.model_conventions import FrameworkConventions
from txlint.model_units import Unit
from txlint.values import Value

_FLAG_DEPTH = 4  # callers followed passing a flag on (`load_all(do_restore=do_restore)`)


def _called_on_own_instance(func: tuple) -> bool:
    """`self.save()` (or `cls.build()`): a call the class of the instance dispatches. Not
    `super().save()`, which runs the base's method, nor `phase.save()` in a method of the class,
    which runs whatever class `phase` is of."""
    return func[0] == "attr" and func[1] in (("name", "self"), ("name", "cls"))


class TransactionContext(FrameworkConventions):
    """Part of `Project` (txlint.project). Owns `_in_transaction` and `_in_materializer` (qualname
    -> does it always run in one, memoised) and `_snapshot_names` (built once). `_atomic_requests`
    is set by `Project` from the configuration or `_settings_atomic_requests`."""

    def _init_context(self) -> None:
        self._in_transaction: Dict[str, bool] = {}
        self._in_materializer: Dict[str, bool] = {}
        self._snapshot_names: Optional[frozenset] = None
        self._subclass_lists: Dict[str, Tuple[str, ...]] = {}
        self._init_conventions()
        # class qualname -> (view class, method) pairs: the views that name it in an attribute the
        # framework reads (`form_class`) and the method they are given an instance in (`form_valid`)
        self._views_of_classes: Optional[Dict[str, List[Tuple[str, str]]]] = None

    # -- transaction scopes --------------------------------------------------------------------
    def opens_transaction(self, value: Optional[Value], as_decorator: bool) -> bool:
        if value is None:
            return False
        if value.kind in ("qname", "function") and self.registry.is_transaction_helper(value.name):
            return True
        knowledge = self.registry.for_value(value)
        return knowledge is not None and knowledge.opens_transaction(value, as_decorator)

    def _scope_opens(self, unit: Unit, with_id: int) -> bool:
        item = unit.facts.withs.get(with_id)
        if item is None:
            return False
        ref = item.ref
        if ref[0] == "call":
            callee = self.evaluate(ref[1], unit)
            if callee is not None and callee.kind in ("qname", "function") and \
                    self.registry.is_transaction_helper(callee.name):
                return True
            if callee is not None and callee.kind == "function" and self._yields_in_transaction(callee.name):
                return True
        return self.opens_transaction(self.evaluate(ref, unit), as_decorator=False)

    def _yields_in_transaction(self, qualname: str) -> bool:
        """A project context manager (`@contextmanager`) that yields inside a transaction scope."""
        helper = self.units.get(qualname)
        if helper is None or not helper.facts.yield_contexts:
            return False
        key = ("yields", qualname)
        if key in self._in_progress:
            self._cut_at(key)
            return False
        position, saved = self._enter(key)
        try:
            return all(any(self._scope_opens(helper, with_id) for with_id in context.scopes)
                       or self.decorated_transactional(helper)
                       for context in helper.facts.yield_contexts)
        finally:
            self._leave(key, position, saved)

    def _wraps_in_transaction(self, qualname: str) -> bool:
        """A project decorator whose wrapper calls the decorated function inside a transaction:
        `def transactional(fn): @wraps(fn) def wrapper(*a, **k): with atomic(): return fn(*a, **k)`."""
        decorator = self.units.get(qualname)
        if decorator is None or not decorator.facts.params or not decorator.facts.local_functions:
            return False
        wrapped = decorator.facts.params[0].name
        key = ("wraps", qualname)
        if key in self._in_progress:
            self._cut_at(key)
            return False
        position, saved = self._enter(key)
        try:
            for inner_name in decorator.facts.local_functions.values():
                inner = self.units.get(inner_name)
                if inner is None:
                    continue
                calls = [event for event in inner.facts.events if event.ref[1] == ("name", wrapped)]
                if calls and (self.decorated_transactional(inner)
                              or all(self.in_scope(inner, event) for event in calls)):
                    return True
            return False
        finally:
            self._leave(key, position, saved)

    def opening_scope(self, unit: Unit, event: Event) -> Optional[int]:
        """The outermost `with` of the function around the event that opens a transaction."""
        return next((with_id for with_id in event.context.scopes if self._scope_opens(unit, with_id)), None)

    def in_scope(self, unit: Unit, event: Event) -> bool:
        if any(self._scope_opens(unit, with_id) for with_id in event.context.scopes):
            return True
        # `for row in db.batch_commit(rows, 100):` runs each chunk of iterations in a transaction.
        return any(self._loop_opens(unit, loop_id) for loop_id in event.context.loops)

    def _loop_opens(self, unit: Unit, loop_id: int) -> bool:
        loop = unit.facts.loops.get(loop_id)
        return loop is not None and loop.iterable[0] == "call" and \
            self.opens_transaction(self.evaluate(loop.iterable, unit), as_decorator=False)

    def decorated_transactional(self, unit: Unit) -> bool:
        for decorator in unit.facts.decorators:
            value = self.evaluate(decorator, unit)
            if self.opens_transaction(value, as_decorator=True):
                return True
            if decorator[0] == "call":
                # `@unit_of_work()`: a `@contextmanager` is a ContextDecorator, and its body runs
                # the function where it yields.
                helper = self.evaluate(decorator[1], unit)
                if helper is not None and helper.kind == "function" and self._yields_in_transaction(helper.name):
                    return True
            if value is not None and value.kind == "function" and self._wraps_in_transaction(value.name):
                return True
        if unit.facts.class_qualname in self.classes:
            facts, module = self.classes[unit.facts.class_qualname]
            for decorator in facts.decorators:
                if self.opens_transaction(self.evaluate(decorator, self.module_unit(module)), as_decorator=True):
                    return True
        return False

    def runs_in_transaction(self, unit: Unit, self_class: str = "") -> bool:
        """Is this function always run inside a transaction that it does not open itself?

        Django migrations (unless atomic = False), Alembic migrations, Django views under
        ATOMIC_REQUESTS, and helpers whose every caller calls them inside a transaction.
        `self_class`: the class `self` is known to be an instance of, when it is a subclass of the
        method's own (a base class's `dispatch` reached from a subclass's `handle_form`).
        """
        return self._transaction_state(unit, self_class) is True

    def _transaction_state(self, unit: Unit, self_class: str) -> Optional[bool]:
        """Whether the function always runs in a transaction, or None when it is reached only
        through calls of functions whose question is being worked out (callers calling each other
        in a cycle: `save()` calls `seed()`, which calls `save()`). Such calls run wherever their
        caller's other calls do: they say nothing, and the question asked first decides from the
        calls into the cycle. A None is never kept (it depends on the answer being worked out)."""
        key = (unit.qualname, self_class) if self_class else unit.qualname
        if ("transaction", key) in self._in_progress:
            self._cut_at(("transaction", key))
            return None
        # Too deep to work out: not known to be in one.
        return self._memo("transaction", self._in_transaction, key, lambda: self._decided(unit, self_class, key), False)

    def _decided(self, unit: Unit, self_class: str, key: object) -> Optional[bool]:
        state = self._runs_in_transaction(unit, self_class)
        if state is None and self._cut >= self._in_progress[("transaction", key)]:
            return False  # its cycles lead back only to itself: no call enters them from elsewhere
        return state

    def _runs_in_transaction(self, unit: Unit, self_class: str) -> Optional[bool]:
        self.note(unit.qualname)
        if self._declared_in_transaction(unit):
            return True
        # Its calls of itself (a recursion) run wherever its other calls do: they say nothing.
        callers = [site for site in self._call_sites(unit) if site[0] != unit.qualname]
        registered = self._registered_in_transaction(unit)
        if registered is False:
            return False
        if not callers and not registered:
            if self._run_by_views_in_transaction(unit):
                return True
            callers = self._model_method_calls_by_name(unit)
        # A method the library also calls inside its transaction needs no caller of the project.
        vouched = bool(registered) or (not callers and self._library_runs_in_transaction(unit))
        if not callers and not vouched:
            return False
        only_through_cycles = not vouched
        for caller, event in map(self.call_site, callers):
            if self._made_for_another_class(caller, event, self_class) or self.in_scope(caller, event):
                only_through_cycles = False
                continue
            state = self._caller_in_transaction(caller, event, self._instance_class(unit, caller, event, self_class))
            if state is False:
                return False
            only_through_cycles = only_through_cycles and state is None
        return None if only_through_cycles else True

    def _model_method_calls_by_name(self, unit: Unit) -> List[Tuple[str, int]]:
        """For a model's own method that no call is seen to reach (`customer.anonymize()` on an object
        nothing types): every call of a method of that name on a receiver nothing resolves. It runs in
        a transaction when each of them is made in one; any of them may be its call, and a call of
        another object's method of that name only adds one more that must be. Not for a method the
        library calls itself (`save()`, `clean()`) nor a decorated one (an event handler, a
        validator): those run from outside the project's code too."""
        name, class_qualname = unit.facts.name, unit.facts.class_qualname
        if not class_qualname or name.startswith("__") or unit.facts.decorators or \
                name in self.registry.model_methods_called_by_library or \
                class_qualname not in self.classes or self.class_value(class_qualname).kind != "model":
            return []
        return [site for site in self.calls_by_name_alone(name) if site[0] != unit.qualname]

    def _registered_in_transaction(self, unit: Unit) -> Optional[bool]:
        """A function its module hands to a method of a project class (`dispatcher.replace("owner",
        patch_owner)`: a registry of handlers): is it called in a transaction? Yes when every class
        it is handed to calls the callables it keeps (`handler["handler"](...)`) only inside one;
        None when the module hands it to no project method (what other calls do with it is not
        followed, as before)."""
        if unit.facts.class_qualname or "<locals>" in unit.qualname:
            return None
        passed = ("name", unit.facts.name)
        classes = set()
        for qualname in unit.module.functions:
            holder = self.units.get(qualname)
            for event in holder.facts.events if holder is not None else ():
                if passed not in event.ref[2] and passed not in [value for _, value in event.ref[3]]:
                    continue
                callee = self.evaluate(event.ref[1], holder)
                method = self.units.get(callee.name) if callee is not None and callee.kind == "function" else None
                if method is not None and method.facts.class_qualname:
                    classes.add(method.facts.class_qualname)
        if not classes:
            return None
        return all(self._calls_kept_callables_in_transaction(qualname) for qualname in sorted(classes))

    def _run_by_views_in_transaction(self, unit: Unit) -> bool:
        """A form's `save()` that no project code is seen to call: the views naming its class in
        `form_class` run it in their `form_valid` (also through a mixin's or Django's own
        `super().form_valid(form)`); in a transaction when each of them has a `form_valid` of
        the project that runs in one."""
        owner, name = unit.facts.class_qualname, unit.facts.name
        if not owner:
            return False
        views = [(view, method) for view, method in self._views_of(owner)
                 if self.registry.calls_on_argument.get(method) == name]
        if not views:
            return False
        for view, method in views:
            handler = self.units.get(self._overriding_method(view, method))
            if handler is None or not self.runs_in_transaction(handler):
                return False
        return True

    def _views_of(self, class_qualname: str) -> List[Tuple[str, str]]:
        if self._views_of_classes is None:
            self._views_of_classes = {}
            named = [(attribute, method) for (method, _), attribute in self.registry.parameter_classes.items()]
            for qualname, (facts, module) in self.classes.items():
                for attribute, method in named:
                    ref = facts.attributes.get(attribute)
                    value = self.evaluate(ref, self.module_unit(module)) if ref is not None else None
                    if value is not None and value.kind == "class":
                        self._views_of_classes.setdefault(value.name, []).append((qualname, method))
        for attribute in set(self.registry.parameter_classes.values()):
            self.note(("class attribute", attribute))
        return self._views_of_classes.get(class_qualname, [])

    def _calls_kept_callables_in_transaction(self, class_qualname: str) -> bool:
        """Does the class call the callables it keeps (a subscript, `handler["handler"](...)`, or a
        parameter, `callback(...)`) somewhere, and only inside a transaction?"""
        found = False
        for method in self.classes[class_qualname][0].methods.values():
            unit = self.units.get(method)
            if unit is None:
                continue
            parameters = {param.name for param in unit.facts.params}
            for event in unit.facts.events:
                func = event.ref[1]
                if func[0] != "sub" and not (func[0] == "name" and func[1] in parameters):
                    continue
                if not (self.in_scope(unit, event) or self.runs_in_transaction(unit)):
                    return False
                found = True
        return found

    def _made_for_another_class(self, caller: Unit, event: Event, self_class: str) -> bool:
        """A `super().real_dispatch(...)` call that tells nothing of where this method runs: made
        in a class that `self_class` does not derive from (it runs for instances of that other
        class, never for this one), or in an override that nothing in the project is seen to call
        (run by the framework wherever it runs the method for that class)."""
        if not calls_super(event.ref[1]):
            return False
        if self_class and caller.facts.class_qualname not in self._class_chain(self_class):
            return True
        return not self._call_sites(caller) and not self._declared_in_transaction(caller)

    def _instance_class(self, unit: Unit, caller: Unit, event: Event, self_class: str) -> str:
        """For a call on `self` (`self.wrapped_dispatch()`), the class `self` is an instance of in
        the caller when that is a subclass of the caller's own class: the callee's (an override
        the caller dispatches to) or the one known for the callee; "" when it is the caller's own."""
        func, owner = event.ref[1], caller.facts.class_qualname
        if not owner or func[0] != "attr" or func[1] != ("name", "self"):
            return ""
        known = self_class or unit.facts.class_qualname or ""
        return known if known and known != owner and owner in self._class_chain(known) else ""

    def _declared_in_transaction(self, unit: Unit) -> bool:
        """In a transaction whoever calls it: decorated, by framework convention, or passed to a
        transaction call (`transaction.atomic(view)`)."""
        return self.decorated_transactional(unit) or self._framework_transaction(unit) or \
            self._is_wrapped(unit.qualname)

    def call_sites_of(self, unit: Unit) -> List[Tuple[Unit, Event]]:
        """(calling function, call event) of every call that reaches the function."""
        return [self.call_site(site) for site in self._call_sites(unit)]

    def _call_sites(self, unit: Unit) -> List[Tuple[str, int]]:
        """Every call that reaches the function: resolved, through `self` in a base class, or by
        its name alone."""
        return [*self.callers_of(unit.qualname), *self._dispatching_callers(unit), *self.callers_by_name(unit)]

    def _caller_in_transaction(self, caller: Unit, event: Event, self_class: str = "") -> Optional[bool]:
        """Does the caller run in a transaction whenever it makes this call (None: only as its
        callers in a cycle do, see `_transaction_state`)? A call under `if flag:`
        on one of the caller's parameters is made only for the calls of the caller that pass a
        true flag (`load(do_restore=True)` from a transaction, `load()` elsewhere), or pass on a
        flag of their own that their callers set (`load_all(do_restore=do_restore)`). A call under
        `if not self.is_atomic:` (or after `if self.is_atomic: ... return`) is never made when
        the class of `self`, and every subclass of it, sets the attribute true."""
        conditions = flags.conditions(caller.facts, event.context, event.range[0])
        instance = self_class or caller.facts.class_qualname or ""
        if any(name.startswith("self.") and self._attribute_rules_out(instance, name[5:], value)
               for name, value in conditions.items()):
            return True
        needed = {name: value for name, value in conditions.items()
                  if flags.is_plain_parameter(caller.facts, name)}
        if not needed:
            return self._transaction_state(caller, self_class)
        return self._in_transaction_when(caller, needed, 0)

    def _attribute_rules_out(self, class_qualname: str, attribute: str, value: bool) -> bool:
        """Does no instance of the class or of a project subclass have a class attribute of this
        truth? Each binds it (itself or through its nearest base) to a constant of the other."""
        if class_qualname not in self.classes:
            return False
        for qualname in (class_qualname, *self._subclasses(class_qualname)):
            for owner in self._class_chain(qualname):
                facts = self.classes[owner][0]
                if attribute in facts.self_attributes:
                    return False
                if attribute in facts.attributes:
                    if flags.truth(facts.attributes[attribute]) != (not value):
                        return False
                    break
            else:
                return False
        return True

    def _subclasses(self, class_qualname: str) -> Tuple[str, ...]:
        """The project classes deriving from the class, itself aside."""
        return self._memo("subclasses", self._subclass_lists, class_qualname, lambda: tuple(
            qualname for qualname in self.classes
            if qualname != class_qualname and class_qualname in self._class_chain(qualname)), ())

    def _in_transaction_when(self, unit: Unit, needed: Dict[str, bool], depth: int) -> bool:
        """Is the function in a transaction on every call that passes flags of these truths?"""
        if depth > _FLAG_DEPTH:
            return self.runs_in_transaction(unit)
        if self._declared_in_transaction(unit):
            return True
        sites = self._call_sites(unit)
        if not sites:
            return False
        for outer, call in map(self.call_site, sites):
            passed_on: Dict[str, bool] = {}
            ruled_out = False
            for name, value in needed.items():
                passed = flags.passed_for(unit.facts, call.ref, name)
                known = flags.truth(passed)
                if known is not None and known != value:
                    ruled_out = True
                elif passed is not None and passed[0] == "name":
                    passed_on[passed[1]] = value
            if ruled_out or self.in_scope(outer, call):
                continue
            passed_on = {name: value for name, value in passed_on.items()
                         if flags.is_plain_parameter(outer.facts, name)}
            if not (self._in_transaction_when(outer, passed_on, depth + 1) if passed_on
                    else self.runs_in_transaction(outer)):
                return False
        return True

    def _dispatching_callers(self, unit: Unit) -> List[Tuple[str, int]]:
        """Calls that reach an overriding method through `self`: a base class's method that calls
        `self.handle_form()` (a generic view's `dispatch` inside `transaction.atomic`) runs the
        subclass's `handle_form`, though the call resolves to the base class's own."""
        owner = unit.facts.class_qualname
        if not owner or owner not in self.classes:
            return []
        chain = self._class_chain(owner)
        found = []
        for base in chain[1:]:
            overridden = self.classes[base][0].methods.get(unit.facts.name)
            if overridden is None:
                continue
            for caller, number in self.callers_of(overridden):
                caller_unit = self.units.get(caller)
                if caller_unit is not None and caller_unit.facts.class_qualname in chain and \
                        _called_on_own_instance(caller_unit.facts.events[number].ref[1]):
                    found.append((caller, number))
        return found

    # -- materializers ------------------------------------------------------------------------
    def snapshot_names(self) -> frozenset:
        """The configured snapshots in lower case, with the tables of the models they name."""
        self.note(("snapshots",))
        if self._snapshot_names is None:
            names = {name.lower() for name in self.config.snapshots}
            with self.untracked():
                for qualname in list(self.classes) if self.config.snapshots else ():
                    if qualname.rsplit(".", 1)[-1] in self.config.snapshots:
                        value = self.class_value(qualname)
                        if value.kind == "model" and value.table:
                            names.add(value.table.lower())
            self._snapshot_names = frozenset(names)
        return self._snapshot_names

    def _is_materializer(self, value: Optional[Value]) -> bool:
        return value is not None and value.kind == "scope" and value.name == "materializer"

    def in_materializer_scope(self, unit: Unit, event: Event) -> bool:
        for with_id in event.context.scopes:
            item = unit.facts.withs.get(with_id)
            if item is not None and self._is_materializer(self.evaluate(item.ref, unit)):
                return True
        return False

    def runs_in_materializer(self, unit: Unit) -> bool:
        """Decorated with `materializer`, or only ever called from materializer code."""
        return self._memo("materializer", self._in_materializer, unit.qualname,
                          lambda: self._runs_in_materializer(unit), False)

    def _runs_in_materializer(self, unit: Unit) -> bool:
        self.note(unit.qualname)
        if any(self._is_materializer(self.evaluate(decorator, unit)) for decorator in unit.facts.decorators):
            return True
        callers = [*self.callers_of(unit.qualname), *self._dispatching_callers(unit)]
        return bool(callers) and all(self.in_materializer_scope(caller, event) or self.runs_in_materializer(caller)
                                     for caller, event in map(self.call_site, callers))
