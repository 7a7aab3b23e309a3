"""Evaluating expressions: what value (txlint.values.Value) an expression of a function's facts
has, memoised by (function, expression) and bounded by depth; the text of string expressions;
parameters, from their annotation, their default or what callers pass.

May use the read tracking (txlint.model_reads) and, through the `Project` it is part of, name
resolution, classes, calls and the callers in the call graph.
"""

from typing import Dict, Optional, Tuple

from txlint import sql as sqlkit
from txlint.facts import Ref
from txlint.inlining import arguments_at, inlined
from txlint.model_reads import _CUT_ALL, _MAX_NESTING, _NO_CUT
from txlint.model_units import Unit
from txlint.values import CallView, Value

_MAX_DEPTH = 24

# Context managers that, entered, give the object they are given, and do nothing else with it
# (`with closing(conn) as c` opens no transaction, though `with conn` may).
ENTERS_AS_ITS_ARGUMENT = {"contextlib.closing", "contextlib.nullcontext"}


# A call given no arguments (a type called to make its instance, a class the framework instantiates).
_NO_ARGUMENTS = CallView((), (), lambda ref: None, lambda ref: None)

class ValueEvaluation:
    """Part of `Project` (txlint.project). Owns `_values` ((function, ref) -> (value, deepest
    depth it holds at, height)) and `_cut_values` (((function, ref), depth) -> (value, height):
    values that hit a depth limit hold only at the depth they were asked at)."""

    def _init_values(self) -> None:
        self._values: Dict[tuple, Tuple[Optional[Value], int]] = {}  # -> (value, deepest depth it holds at)
        self._cut_values: Dict[tuple, Optional[Value]] = {}  # (key, depth) -> value cut short by a depth limit

    def evaluate(self, ref: Optional[Ref], unit: Unit, depth: int = 0) -> Optional[Value]:
        if ref is None:
            return None
        if depth > _MAX_DEPTH:
            self._room = min(self._room, _MAX_DEPTH - depth)
            return None
        key = (unit.qualname, ref)
        entry = self._values.get(key)
        if entry is not None and depth <= entry[1]:
            reach = len(self._in_progress) + entry[2]  # `_fits` inlined
            if reach < _MAX_NESTING:
                if reach > self._reached:
                    self._reached = reach
                if self._reads is not None:
                    self._reads.add(key)
                room = entry[1] - depth  # (`min` inlined: this branch is taken most)
                if room < self._room:
                    self._room = room
                return entry[0]
        cut_key = (key, depth)
        entry = self._cut_values.get(cut_key)
        if entry is not None and self._fits(entry[1]):
            if self._reads is not None:
                self._reads.add(cut_key)
            self._room = min(self._room, -1)
            return entry[0]
        if key in self._in_progress:
            self._cut_at(key)
            return None  # a cycle (x = f(x)): no information
        # _enter, _begin, _leave and _end inlined: this is the model's hottest path.
        in_progress = self._in_progress
        position = len(in_progress)
        if position >= _MAX_NESTING:
            self._cut = _CUT_ALL  # too deep to work out: unknown, and no value it is part of is kept
            return None
        in_progress[key] = position
        saved_cut, self._cut = self._cut, _NO_CUT
        saved_room, self._room = self._room, _MAX_DEPTH - depth
        saved_reached, self._reached = self._reached, position
        outer = self._reads
        if self.tracking:
            self._reads = {unit.qualname}
        try:
            value = self._evaluate(ref, unit, depth + 1)
        finally:
            del in_progress[key]
            cut, room = self._cut, self._room
            self._cut = saved_cut if cut >= position else min(saved_cut, cut)
            self._room = min(saved_room, room)
            kept = cut >= position
            memo_key = key if room >= 0 else cut_key
            height, self._reached = self._reached - position, max(saved_reached, self._reached)
            if self.tracking:
                inner, self._reads = self._reads, outer
                if kept:
                    # A value's own key stands for what it read (the key of an evaluated value is
                    # (function, ref): no name is one); most read only their function.
                    self._memo_reads[memo_key] = unit.qualname if len(inner) == 1 else tuple(inner)
                    if outer is not None:
                        outer.add(memo_key)
                elif outer is not None:
                    outer.update(inner)
        if kept:
            if room >= 0:
                self._values[key] = (value, depth + room, height)
            else:
                self._cut_values[cut_key] = (value, height)
        return value

    def _evaluate(self, ref: Ref, unit: Unit, depth: int) -> Optional[Value]:
        kind = ref[0]
        if kind == "name":
            return self._resolve_name(ref[1], unit, depth)
        if kind == "attr":
            return self.attribute(self.evaluate(ref[1], unit, depth), ref[2], depth)
        if kind == "call":
            return self.call(ref, unit, depth).value
        if kind == "str":
            return Value("string", sql=ref[1])
        if kind == "concat":
            text = self.string_of(ref, unit, depth)
            return Value("string", sql=text) if text is not None else None
        if kind == "list":
            return self.evaluate(ref[1][0], unit, depth) if ref[1] else None
        if kind == "div":
            return self.evaluate(ref[1], unit, depth)  # Path(...) / "name" is still a path
        if kind == "sub":
            container = ref[1]
            if container[0] == "name":  # `conns[key]`: what `conns[k] = ...` or its dict display holds
                value = self._held_in(container[1], ref[2], unit, depth)
                if value is not None:
                    return value
            elif container[0] == "attr":  # `self.conns[key]`, with `self.conns[k] = ...` in a method
                value = self.attribute(self.evaluate(container[1], unit, depth), f"{container[2]}[]", depth)
                if value is not None:
                    return value
            base = self.evaluate(container, unit, depth)
            if base is not None and (base.kind, base.name) in (("handle", "connection"), ("fileobj", "storage")):
                return base  # django.db.connections["alias"], django.core.files.storage.storages["media"]
            return None
        if kind == "enter":
            entered = ref[1]
            if entered[0] == "call" and entered[2]:
                callee = self.evaluate(entered[1], unit, depth)
                if callee is not None and callee.kind == "qname" and callee.name in ENTERS_AS_ITS_ARGUMENT:
                    return self.evaluate(entered[2][0], unit, depth)  # `with closing(conn) as c`: c is conn
            value = self.evaluate(ref[1], unit, depth)
            if value is None:
                return None
            knowledge = self.registry.for_value(value)
            entered = knowledge.enter(value) if knowledge is not None else None
            return entered or value
        if kind == "iter":
            if ref[1][0] == "call":
                # (asked first: the value of a generator's call is taken to be what it yields, as
                # `with` enters it for a `@contextmanager`, and is not known for a loop over rows)
                passed_on = self._item_a_generator_passes_on(ref[1], unit, depth)
                if passed_on is not None:
                    return passed_on
            value = self.evaluate(ref[1], unit, depth)
            if value is not None and value.kind in ("object", "instance") and _typed_collection(ref[1], unit):
                return value  # `for serializer in serializers` with `serializers: List[OrderSerializer]`
            knowledge = self.registry.for_value(value) if value is not None and value.kind == "handle" else None
            return knowledge.item(value) if knowledge is not None else None
        if kind == "param":
            return self._parameter(ref, unit, depth)
        if kind == "at":  # a part of a helper's return inlined at a call (txlint.inlining)
            scope = self.units.get(ref[1])
            return self.evaluate(ref[2], scope, depth) if scope is not None else None
        if kind == "self":
            if ref[1] in self.classes and self.is_manager_class(ref[1]):
                return self._manager_from_callers(unit, depth) or self.instance_of(ref[1])
            return self.instance_of(ref[1])
        if kind == "cls":
            return self.class_value(ref[1])
        if kind == "annotated":
            typed = self._instance_of_type(ref[1], unit, depth)
            return typed or self.evaluate(ref[2], unit, depth)
        if kind == "function":
            return Value("function", name=ref[1])
        if kind == "unpack" and ref[2] == 0:
            # `obj, created = M.objects.get_or_create(...)`, `for order, total in orders_with_totals`:
            # the first element of a pair that holds an instance is that instance.
            value = self.evaluate(ref[1], unit, depth)
            return value if value is not None and value.kind == "instance" else None
        return None

    def _held_in(self, name: str, key: Ref, unit: Unit, depth: int) -> Optional[Value]:
        """What a container named `name` holds under `key`: the value stored with `name[k] = ...`
        in the function or module that binds it, or the entry of its dict display (the one under
        that key when the key is a string, else the first that resolves)."""
        current: Optional[Unit] = unit
        while current is not None:
            stored = current.facts.bindings.get(f"{name}[]", ())
            displays = [ref for ref in current.facts.bindings.get(name, ()) if ref[0] == "dict"]
            if stored or displays or name in current.facts.bindings:
                for ref in reversed(stored):
                    value = self.evaluate(ref, current, depth + 1)
                    if value is not None:
                        return value
                for display in displays:
                    entries = [value for entry_key, value in display[1] if key[0] != "str" or entry_key == key]
                    for entry in entries:
                        value = self.evaluate(entry, current, depth + 1)
                        if value is not None:
                            return value
                return None
            current = self._enclosing_unit(current)
        return None

    def string_of(self, ref: Optional[Ref], unit: Unit, depth: int = 0) -> Optional[str]:
        """The text of a string expression; unknown parts become the SQL placeholder."""
        if ref is None:
            return None
        if depth > _MAX_DEPTH:
            self._room = min(self._room, _MAX_DEPTH - depth)
            return None
        if ref[0] == "str":
            return ref[1]
        if ref[0] == "concat":
            parts = [self.string_of(part, unit, depth + 1) for part in ref[1]]
            if all(part is None for part in parts):
                return None
            return "".join(sqlkit.PLACEHOLDER if part is None else part for part in parts)
        value = self.evaluate(ref, unit, depth + 1)
        if value is not None and value.kind in ("string", "statement") and value.sql:
            return value.sql
        return None

    def _instance_of_type(self, ref: Optional[Ref], unit: Unit, depth: int) -> Optional[Value]:
        if ref is None:
            return None
        if ref[0] == "sub":  # Optional[Session], Annotated[Session, ...]
            inner = ref[2]
            if inner[0] == "list" and inner[1]:
                inner = inner[1][0]
            return self._instance_of_type(inner, unit, depth)
        if ref[0] == "str":
            return self._instance_of_type(("name", ref[1].split("[")[0].strip()), unit, depth)
        value = self.evaluate(ref, unit, depth)
        if value is None:
            return None
        if value.kind in ("model", "class"):
            return self.instance_of(value.name)
        if value.kind == "qname":
            return self._call_target(value, _NO_ARGUMENTS, depth).value
        return None

    def _parameter(self, ref: Ref, unit: Unit, depth: int) -> Optional[Value]:
        _, name, annotation, default = ref
        typed = self._instance_of_type(annotation, unit, depth)
        if typed is not None:
            return typed
        passed = self._passed_by_framework(name, unit, depth)
        if passed is not None:
            return passed
        if default is not None:
            value = self.evaluate(default, unit, depth)
            if value is not None:
                return value
        return self._argument_from_callers(name, unit, depth)

    def _manager_from_callers(self, unit: Unit, depth: int) -> Optional[Value]:
        """`self` in a method of a project manager: the manager it is called through
        (`User.objects.create_user(...)`), from the first caller whose receiver resolves."""
        self._room = min(self._room, _MAX_DEPTH // 2 - depth)
        if depth > _MAX_DEPTH // 2:
            return None
        if self._building_callers:
            # Asked while the graph is built: the manager's own class for now (its methods call
            # each other through `self`), asked again later.
            self._cut = _CUT_ALL
            return None
        for caller, event in map(self.call_site, self.callers_of(unit.qualname)[:8]):
            func = event.ref[1]
            value = self.evaluate(func[1], caller, depth + 1) if func[0] == "attr" else None
            if value is not None and value.kind == "handle" and value.name == "manager":
                return value
        return None

    def _passed_by_framework(self, name: str, unit: Unit, depth: int) -> Optional[Value]:
        """An instance of the class the method's class names in the attribute the framework reads
        (`form_class = ItemCreateForm`, then `def form_valid(self, form)`)."""
        attribute = self.registry.parameter_classes.get((unit.facts.name, name))
        owner = unit.facts.class_qualname
        if attribute is None or owner is None or owner not in self.classes:
            return None
        named = self.attribute(Value("class", name=owner), attribute, depth + 1)
        if named is not None and named.kind == "handle":  # `form_class = modelform_factory(Item, ...)`
            return self._call_target(named, _NO_ARGUMENTS, depth).value
        return self.instance_of(named.name) if named is not None and named.kind in ("class", "model") else None

    def _argument_from_callers(self, name: str, unit: Unit, depth: int) -> Optional[Value]:
        """What callers pass for a parameter (the first caller whose argument resolves); unknown
        when callers pass objects of different project classes (a view mixin's `form_valid(form)`
        reached through `super()` from views with different forms: which form's save() runs
        depends on the call)."""
        self._room = min(self._room, _MAX_DEPTH // 2 - depth)
        if depth > _MAX_DEPTH // 2:
            return None
        params = [param.name for param in unit.facts.params]
        if name not in params:
            return None
        index = params.index(name)
        if unit.facts.class_qualname is not None and params and index > 0:
            index -= 1  # bound call: `self` is not passed
        targets = [unit.qualname]
        if unit.facts.name == "__init__" and unit.facts.class_qualname:
            targets.append(unit.facts.class_qualname)
        if self._building_callers:
            self._cut = _CUT_ALL  # asked while the graph is built: unknown for now, asked again later
            return None
        found = None
        for target in targets:
            for caller, event in map(self.call_site, self.callers_of(target)[:8]):
                _, _, args, kwargs = event.ref
                argument = dict(kwargs).get(name)
                if argument is None and index < len(args):
                    argument = args[index]
                value = self.evaluate(argument, caller, depth + 1)
                if value is None:
                    continue
                if found is None:
                    if value.kind != "object":
                        return value
                    found = value
                elif value.kind == "object" and value.name != found.name:
                    return None
        return found

    def _item_a_generator_passes_on(self, call: Ref, unit: Unit, depth: int) -> Optional[Value]:
        """`for invoice in progress(qs, callback)` where the project's generator `progress` yields
        the items of what it is given (`yield from queryset`, or `for o in queryset: yield o`): an
        item of what this call passes (a row of `qs`)."""
        target = self.evaluate(call[1], unit, depth)
        helper = self.units.get(target.name) if target is not None and target.kind == "function" else None
        if helper is None or not helper.facts.yield_contexts or depth > 16:
            return None
        bindings = helper.facts.bindings
        iterables = list(bindings.get("<yields_from>", ()))
        for yielded in bindings.get("<return>", ()):
            if yielded[0] == "name":
                iterables.extend(bound[1] for bound in bindings.get(yielded[1], ()) if bound[0] == "iter")
        passed = arguments_at(helper.facts, call, unit.qualname, (param.name for param in helper.facts.params))
        for iterable in iterables:
            value = self.evaluate(("iter", inlined(iterable, helper.facts, passed) or iterable), helper, depth + 1)
            if value is not None:
                return value
        return None


def _typed_collection(ref: Ref, unit: Unit) -> bool:
    """Is `ref` a parameter annotated as a collection of one type (`List[X]`, `Sequence[X]`,
    `list[X]`), whose value txlint takes to be its element's?"""
    if ref[0] != "name":
        return False
    bindings = unit.facts.bindings.get(ref[1], ())
    return bool(bindings) and all(
        binding[0] == "param" and binding[2] is not None and binding[2][0] == "sub" and
        binding[2][1][-1] in _COLLECTIONS for binding in bindings)


_COLLECTIONS = {"List", "list", "Sequence", "Iterable", "Collection", "Tuple", "tuple", "Set", "set", "FrozenSet",
                "frozenset"}
