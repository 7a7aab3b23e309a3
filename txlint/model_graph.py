"""The call graph: which project functions each function calls (and which it passes to a
transaction call), built once before any rule asks, restored from the run before in an
incremental run, and the callers of a function.

May use evaluation (txlint.model_values), calls (txlint.model_calls: the receivers a signal's
`send()` runs, each a call of its own there), `opens_transaction` (txlint.model_context), the read
tracking and the project's table of functions.
"""

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from txlint.dataflow import calls_super
from txlint.facts import Event, Ref
from txlint.model_units import Unit


@dataclass
class CallGraph:
    """The project's calls into its own functions, by caller: what each caller's calls resolve to
    (callee qualname, event number), the functions it passes to a transaction call (as
    `transaction.atomic(view)` in urls.py), and what resolving them read (tracked runs only:
    packed by the `pack` the Project was given, txlint.run_state.NameTable.pack, else a tuple)."""

    calls: Dict[str, Tuple[Tuple[str, int], ...]] = field(default_factory=dict)
    wrapped: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    reads: Dict[str, object] = field(default_factory=dict)
    # Calls of a project method by its name alone, on a receiver nothing resolves (`new_event =
    # super().create(...)`, then `new_event.copy_data_from(...)`): caller -> ((name, number), ...).
    named: Dict[str, Tuple[Tuple[str, int], ...]] = field(default_factory=dict)


class CallGraphs:
    """Part of `Project` (txlint.project). Owns `_graph` (the CallGraph, once built), `_callers`
    (callee -> call sites), `_wrapped_functions` (functions passed to a transaction call) and
    `_building_callers` (true while the graph is built: values that need the callers are not
    kept then), `_named_callers` (method name -> call sites by that name alone) and
    `_method_owners` (method name -> the project's methods of that name, built once)."""

    def _init_graph(self) -> None:
        self._graph: Optional[CallGraph] = None
        self._callers: Optional[Dict[str, List[Tuple[str, int]]]] = None
        self._wrapped_functions: set = set()
        self._building_callers = False
        self._named_callers: Dict[str, List[Tuple[str, int]]] = {}
        self._method_owners: Optional[Dict[str, Tuple[str, ...]]] = None

    def callers(self) -> Dict[str, List[Tuple[str, int]]]:
        """callee qualname -> [(calling function's qualname, number of the call event)], the callers
        in the order of their files and functions."""
        if self._callers is None:
            self.call_graph()
        return self._callers

    def call_graph(self) -> CallGraph:
        """The call graph, built once, before any rule asks (see `Linter.run`)."""
        if self._graph is None:
            self._resolve_calls(CallGraph(), self._function_order())
        return self._graph

    def _function_order(self) -> List[str]:
        """The project's functions, in the order of their files, without loading a module."""
        return [qualname for name in self.order
                for qualname in (self._index[name].functions if name in self._index else self.modules[name].functions)]

    def restore_call_graph(self, previous: CallGraph, read_changed: Callable[[object], bool]) -> set:
        """Take the call graph of the run before, resolving again the calls of the functions in
        modules given fresh and of those whose resolution read something that changed (asked of
        `read_changed` with what it read); returns the graph's names that changed: ("callers", f)
        for a function whose list of calls is not what it was (other calls, or the same in
        another order: the first caller whose argument resolves is the one taken), ("wrapped", f)
        for one that became (or stopped being) wrapped in a transaction call."""
        fresh = {qualname for name in self.order if name not in self._index
                 for qualname in self.modules[name].functions}
        redo = fresh | {caller for caller, reads in previous.reads.items() if read_changed(reads)}
        order = self._function_order()
        graph = CallGraph()
        for qualname in order:
            if qualname not in redo and qualname in previous.calls:
                graph.calls[qualname] = previous.calls[qualname]
                graph.wrapped[qualname] = previous.wrapped.get(qualname, ())
                graph.reads[qualname] = previous.reads[qualname]
                graph.named[qualname] = previous.named.get(qualname, ())
        self._resolve_calls(graph, order, redo)
        before = _callers_by_callee(previous.calls)
        changed_graph = {("callers", callee) for callee in before.keys() | self._callers.keys()
                         if before.get(callee) != self._callers.get(callee)}
        named_before = _callers_by_callee(previous.named)
        changed_graph.update(("named", name) for name in named_before.keys() | self._named_callers.keys()
                             if named_before.get(name) != self._named_callers.get(name))
        for caller in redo | (set(previous.calls) - set(graph.calls)):
            wrapped_before, wrapped_after = set(previous.wrapped.get(caller, ())), set(graph.wrapped.get(caller, ()))
            changed_graph.update(("wrapped", function) for function in wrapped_before ^ wrapped_after)
        return changed_graph

    def call_graph_part(self, part: int, parts: int) -> CallGraph:
        """The calls of one of `parts` runs of the project's functions (in the order of their files,
        each run about as long as the others), for `join_call_graph` in every process that checks
        modules: each resolves one part at the same time (txlint.check_workers). What a function's
        calls resolve to does not depend on what was resolved before it, so the parts put together
        are the graph one process builds. Untracked runs only: a tracked run packs what resolving
        read with one table of names, the parent's."""
        order = self._function_order()
        size = -(-len(order) // parts)
        graph = CallGraph()
        self._resolve_into(graph, order[part * size:(part + 1) * size])
        graph.wrapped = {qualname: functions for qualname, functions in graph.wrapped.items() if functions}
        graph.named = {qualname: methods for qualname, methods in graph.named.items() if methods}
        return graph  # (sent to the other processes: the empty entries left out)

    def join_call_graph(self, parts: List[CallGraph]) -> None:
        """The call graph from its parts (see `call_graph_part`)."""
        graph = CallGraph()
        for part in parts:
            graph.calls.update(part.calls)
            graph.wrapped.update(part.wrapped)
            graph.named.update(part.named)
        self._index_graph(graph, self._function_order())

    def _resolve_calls(self, graph: CallGraph, order: List[str], only: Optional[set] = None) -> None:
        """Resolve the calls of the functions in `only` (all if None) into `graph`, then index it."""
        self._resolve_into(graph, order if only is None else [qualname for qualname in order if qualname in only])
        self._index_graph(graph, order)

    def _resolve_into(self, graph: CallGraph, qualnames: List[str]) -> None:
        """Resolve the calls of these functions into `graph`. Values that need the callers are not
        known yet: they are asked again later, not kept."""
        self._building_callers = True
        try:
            for qualname in qualnames:
                unit = self.units[qualname]
                reads: set = set()
                calls, wrapped, named = [], [], []
                with self.track(reads) if self.tracking else nullcontext():
                    self.note(qualname)
                    for number, event in enumerate(unit.facts.events):
                        callee, method = self._callee_only(event.ref, unit)
                        if callee:
                            calls.append((callee, number))
                        elif method:
                            named.append((method, number))
                        calls.extend((receiver, number) for receiver in self._receivers_called(event.ref, unit))
                        wrapped.extend(self._wrapped_by_call(unit, event))
                graph.calls[qualname], graph.wrapped[qualname] = tuple(calls), tuple(wrapped)
                graph.named[qualname] = tuple(named)
                if self.tracking:
                    names = self.expand(reads)
                    graph.reads[qualname] = self._pack(names) if self._pack is not None else tuple(names)
        finally:
            self._building_callers = False

    def _index_graph(self, graph: CallGraph, order: List[str]) -> None:
        """Put the graph's tables in the order of the functions and index the callers."""
        ordered = {qualname: graph.calls[qualname] for qualname in order if qualname in graph.calls}
        graph.calls = ordered
        graph.wrapped = {qualname: graph.wrapped[qualname] for qualname in ordered if graph.wrapped.get(qualname)}
        graph.reads = {qualname: graph.reads[qualname] for qualname in ordered if qualname in graph.reads}
        graph.named = {qualname: graph.named[qualname] for qualname in ordered if graph.named.get(qualname)}
        self._graph, self._callers = graph, _callers_by_callee(ordered)
        self._named_callers = _callers_by_callee(graph.named)
        self._wrapped_functions = {function for functions in graph.wrapped.values() for function in functions}

    def callers_of(self, qualname: str) -> List[Tuple[str, int]]:
        """The calls of the function, each as (calling function's qualname, number of the call)."""
        sites = self.callers().get(qualname, [])
        self.note(("callers", qualname))
        if self._reads is not None:
            self._reads.update(caller for caller, _ in sites)
        return sites

    def callers_by_name(self, unit: Unit) -> List[Tuple[str, int]]:
        """The calls that reach a method by its name alone, on receivers nothing resolves: only for
        a name no other method of the project has, and one that says what it does (`copy_data_from`,
        not `save` or `run`, which library objects have too)."""
        name = unit.facts.name
        if not unit.facts.class_qualname or not _distinctive(name):
            return []
        self.callers()
        self.note(("method", name))
        if self._methods_named(name) != (unit.qualname,):
            return []
        return self.calls_by_name_alone(name)

    def calls_by_name_alone(self, name: str) -> List[Tuple[str, int]]:
        """Every call of a method of this name on a receiver nothing resolves, whatever the name and
        however many of the project's methods have it."""
        self.callers()
        self.note(("named", name))
        sites = self._named_callers.get(name, [])
        if self._reads is not None:
            self._reads.update(caller for caller, _ in sites)
        return sites

    def _methods_named(self, name: str) -> Tuple[str, ...]:
        if self._method_owners is None:
            owners: Dict[str, List[str]] = {}
            for module in self.order:
                entry = self.index_entry(module)
                classes = set(entry.classes)
                for qualname in entry.functions:
                    owner, _, method = qualname.rpartition(".")
                    if owner in classes:
                        owners.setdefault(method, []).append(qualname)
            self._method_owners = {method: tuple(qualnames) for method, qualnames in owners.items()}
        return self._method_owners.get(name, ())

    def call_site(self, site: Tuple[str, int]) -> Tuple[Unit, Event]:
        """(calling function, call event) of a call site; its module is loaded only now."""
        unit = self.units[site[0]]
        return unit, unit.facts.events[site[1]]

    def _is_wrapped(self, qualname: str) -> bool:
        self.call_graph()  # the call graph pass also notes functions wrapped by a transaction call
        self.note(("wrapped", qualname))
        return qualname in self._wrapped_functions

    def _wrapped_by_call(self, unit: Unit, event: Event) -> List[str]:
        """`transaction.atomic(view)` (as in urls.py): the function passed in runs in a transaction."""
        arguments = [argument for argument in event.ref[2] if argument[0] in ("name", "attr")]
        if not arguments:
            return []
        if not self.opens_transaction(self.evaluate(event.ref[1], unit), as_decorator=True):
            return []
        wrapped = []
        for argument in arguments:
            value = self.evaluate(argument, unit)
            if value is not None and value.kind == "function":
                wrapped.append(value.name)
        return wrapped

    def _called_by_the_library(self, ref: Ref, unit: Unit) -> str:
        """`super().form_valid(form)`: the method of a project base class that defines it; else,
        where the method is the library's own (also `self.perform_create(serializer)`), the project
        method it calls on its argument (the form's `save()`, a serializer's `create()`), as though
        called here."""
        func = ref[1]
        if calls_super(func):
            inherited = self._base_class_method(unit, func[2])
            if inherited is not None:
                return inherited.name  # a project base class's method (a view's mixin), not the library's
        argument = self.library_method_argument(ref, unit)
        if argument is None:
            return ""
        return self._saved_by(("call", ("attr", argument, self.registry.calls_on_argument[func[2]]), (), ()), unit)

    def _saved_by(self, ref: Ref, unit: Unit) -> str:
        """The project method a `save()` call runs: the receiver's own, or the `create()` a DRF
        serializer's save() runs."""
        func = ref[1]
        receiver = self.evaluate(func[1], unit)
        if receiver is None or receiver.kind not in ("object", "instance"):
            return ""
        target = self.attribute(receiver, func[2])
        if target is not None and target.kind == "function":
            return target.name
        return self.call(ref, unit).callee if receiver.kind == "object" else ""

    def _receivers_called(self, ref: Ref, unit: Unit) -> Tuple[str, ...]:
        """The receivers a signal's `send()` runs (`username_changed.send(sender=self)`)."""
        func = ref[1]
        if func[0] != "attr" or func[2] not in self.registry.signal_sends:
            return ()
        return self.call(ref, unit).receivers

    def _callee_only(self, ref: Ref, unit: Unit) -> Tuple[str, str]:
        """The project function a call resolves to; else, for a method call on a receiver nothing
        resolves, the method's name (see `callers_by_name`, `calls_by_name_alone`)."""
        func = ref[1]
        if func[0] == "name":
            value = self.evaluate(func, unit)
        elif func[0] == "attr" and func[1][0] in ("name", "attr"):
            value = self.evaluate(func, unit)
        else:
            return self._called_by_the_library(ref, unit), ""
        if value is None and func[0] == "attr":
            called = self._saved_by(ref, unit) if func[2] == "save" else self._called_by_the_library(ref, unit)
            if called:
                return called, ""
        if value is None:
            return "", func[2] if func[0] == "attr" and not func[2].startswith("__") else ""
        if value.kind == "function":
            return value.name, ""
        if value.kind == "class" and f"{value.name}.__init__" in self.units:
            return value.name, ""
        return "", ""


def _distinctive(name: str) -> bool:
    """A method name of several words (`copy_data_from`), not a dunder: one a library object is
    unlikely to have too, unlike `save`, `run` or `get`."""
    return "_" in name.strip("_") and not name.startswith("__")


def _callers_by_callee(calls: Dict[str, Tuple[Tuple[str, int], ...]]) -> Dict[str, List[Tuple[str, int]]]:
    """callee -> [(caller, call number)], in the callers' order."""
    callers: Dict[str, List[Tuple[str, int]]] = {}
    for caller, sites in calls.items():
        for callee, number in sites:
            callers.setdefault(callee, []).append((caller, number))
    return callers
