"""What txlint extracts from one file: a picklable summary that needs no syntax tree afterwards.

Expressions are kept as *refs*, small nested tuples that name what an expression is built from,
so that the project-wide pass can resolve them later (against other files' classes and
functions) without re-parsing:

    ("name", "x")                      a name, looked up in the function, module, imports
    ("attr", ref, "field")             attribute access
    ("call", ref, (args...), ((kw, ref), ...))
    ("sub", ref, ref)                  subscript
    ("div", ref, ref)                  `a / b`: a path joined from both (its value is the left side's)
    ("str", "text")                    a string; unknown interpolations become sql.PLACEHOLDER
    ("concat", (ref, ...))             string concatenation of parts
    ("const", value)                   True / False / None / numbers
    ("list", (ref, ...))               list, tuple or set display
    ("dict", ((ref, ref), ...))        dict display
    ("expr", (ref, ...))               an operator's result (`a - b`, `x == y`): no value, but the
                                       names of its operands flow into it
    ("unpack", ref, index)             element `index` of an unpacked value (`obj, created = ...`;
                                       -1 after a starred target)
    ("lambda",)                        a lambda
    ("?",)                             anything else
"""

import pickle
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

Ref = tuple
Range = Tuple[int, int, int, int]

UNKNOWN: Ref = ("?",)


@dataclass(frozen=True)
class Context:
    """Where an event sits in its function: the structure around it."""

    scopes: Tuple[int, ...] = ()  # ids of enclosing `with` items, outermost first
    loops: Tuple[int, ...] = ()  # ids of enclosing loops, outermost first
    branches: Tuple[Tuple[int, str], ...] = ()  # (if/match id, arm) pairs
    trys: Tuple[Tuple[int, str], ...] = ()  # (try id, "body" | "except" | "else" | "finally")
    deferred: bool = False  # inside a lambda: runs later, if at all


@dataclass
class Event:
    """A call, in execution order, with its position and context."""

    ref: Ref  # a ("call", ...) ref
    context: Context
    range: Range


@dataclass
class WithItem:
    ref: Ref
    is_async: bool
    target: Optional[str]
    range: Range


@dataclass
class Loop:
    kind: str  # "for", "while", "comprehension"
    iterable: Ref
    range: Range


@dataclass
class TryBlock:
    handlers_reraise: Tuple[bool, ...]  # per `except` handler: does it raise again?
    has_finally: bool
    loops: Tuple[int, ...] = ()  # ids of the loops around the `try` statement itself
    # per `except` handler: does it give up on the rest and carry on, never raising (`except
    # Unit.DoesNotExist: return False`, `continue`, `break`)?
    handlers_skip: Tuple[bool, ...] = ()


@dataclass
class Param:
    name: str
    annotation: Optional[Ref]
    default: Optional[Ref]


@dataclass
class FunctionFacts:
    qualname: str  # module.Class.method, module.func.<locals>.inner, or the module name for module code
    name: str
    class_qualname: Optional[str]
    decorators: List[Ref] = field(default_factory=list)
    params: List[Param] = field(default_factory=list)
    is_async: bool = False
    range: Range = (1, 1, 1, 1)  # the def's name
    extent: Range = (0, 0, 0, 0)  # the whole def, decorators included (0: unknown)
    bindings: Dict[str, List[Ref]] = field(default_factory=dict)
    events: List[Event] = field(default_factory=list)
    withs: Dict[int, WithItem] = field(default_factory=dict)
    loops: Dict[int, Loop] = field(default_factory=dict)
    modulo_ifs: Tuple[int, ...] = ()  # ids of `if` statements whose test uses `%` (batching every N rows)
    # ids of `if not x.has_y(...):` / `if not qs.exists():` statements: the body makes what is missing
    absence_ifs: Tuple[int, ...] = ()
    # `if not order.pk:` / `if order.pk is None:` / `if order._state.adding:`: if id -> the variable
    # whose row the body makes because it is not saved yet
    new_row_ifs: Dict[int, str] = field(default_factory=dict)
    trys: Dict[int, TryBlock] = field(default_factory=dict)
    local_functions: Dict[str, str] = field(default_factory=dict)  # local name -> qualname of a nested def
    terminating_arms: set = field(default_factory=set)  # (if id, arm) pairs that end in return/raise/...
    yield_contexts: List[Context] = field(default_factory=list)  # where the function yields
    is_module: bool = False
    never_returns: bool = False  # `-> NoReturn`, or it ends in `raise` and has no `return`
    returns: Optional[Ref] = None  # the return annotation
    # `if name:` / `if not name:` statements: if id -> (name, negated), for flags callers pass
    flag_ifs: Dict[int, Tuple[str, bool]] = field(default_factory=dict)
    # Those of them with no `else` whose body ends in return/raise: the code after them runs only
    # when the test is false. if id -> (last line of the body, branches and trys around the `if`)
    flag_exits: Dict[int, Tuple[int, tuple, tuple]] = field(default_factory=dict)


@dataclass
class ClassFacts:
    qualname: str
    name: str
    bases: List[Ref]
    attributes: Dict[str, Ref]  # class-body assignments; nested `class Meta` ones as "Meta.x"
    methods: Dict[str, str]  # name -> function qualname
    self_attributes: Dict[str, List[Tuple[Ref, str]]]  # self.x = ref, with the assigning function
    decorators: List[Ref] = field(default_factory=list)
    range: Range = (1, 1, 1, 1)


@dataclass
class ModuleFacts:
    path: str  # as reported
    module: str  # dotted module name
    imports: Dict[str, str]  # local name -> qualified name
    classes: Dict[str, ClassFacts]  # by qualname
    functions: Dict[str, FunctionFacts]  # by qualname; includes the module-level unit
    source_lines: int = 0
    star_imports: Tuple[str, ...] = ()  # the modules of `from x import *`, in order
    suppressions: Dict[int, Tuple[str, ...]] = field(default_factory=dict)  # line -> codes ("*" = all)
    suppression_reasons: Dict[int, str] = field(default_factory=dict)
    suppression_styles: Dict[int, str] = field(default_factory=dict)  # "txlint" or "noqa"


def pieces(facts: Optional[ModuleFacts]) -> Dict[object, bytes]:
    """What other modules can read of a module, by the names they read it under (see
    `txlint.project.Project.note`): each function and class by its qualified name, the module's
    own code with its path and imports by the module name, the classes by their lower-case
    name (`apps.get_model` finds models by it), the methods by their name (a call on a
    receiver nothing resolves reaches a method by its name alone), the classes with a field
    of a `related_name` by that name (`order.lines` finds them), the classes naming a class in an
    attribute `*_class` by that attribute (a view's `form_class`), and the functions connected to a
    signal by the signal's name (a `send()` anywhere runs them).

    Left out: positions, call sources, suppressions and the line count, which only the module's
    own findings show. Two versions of a module with equal pieces under a name read the same
    there (a comment, formatting, a moved line change nothing that another module reads).
    """
    if facts is None:
        return {}
    found: Dict[object, List[tuple]] = {}
    for unit in facts.functions.values():
        piece = (unit.qualname, unit.name, unit.class_qualname, unit.decorators,
                 [(param.name, param.annotation, param.default) for param in unit.params], unit.is_async,
                 unit.bindings, [(event.ref, event.context) for event in unit.events],
                 [(key, item.ref, item.is_async, item.target) for key, item in unit.withs.items()],
                 [(key, loop.kind, loop.iterable) for key, loop in unit.loops.items()], unit.modulo_ifs,
                 [(key, block.handlers_reraise, block.has_finally, block.loops, block.handlers_skip)
                  for key, block in unit.trys.items()],
                 unit.local_functions, sorted(unit.terminating_arms), unit.yield_contexts, unit.is_module,
                 unit.never_returns, unit.returns, unit.flag_ifs, unit.flag_exits, unit.absence_ifs, unit.new_row_ifs)
        if unit.is_module:
            piece = (facts.path, facts.module, facts.imports, facts.star_imports, piece)
        found.setdefault(unit.qualname, []).append(piece)
    for cls in facts.classes.values():
        piece = (cls.qualname, cls.name, cls.bases, cls.attributes, cls.methods, cls.self_attributes, cls.decorators)
        found.setdefault(cls.qualname, []).append(piece)
        found.setdefault(("model", cls.name.lower()), []).append(piece)
        for method, qualname in cls.methods.items():
            found.setdefault(("method", method), []).append((qualname,))
        for related_name in related_names_of(cls):
            found.setdefault(("related_name", related_name), []).append(piece)
        for attribute, ref in cls.attributes.items():
            if attribute.endswith("_class"):  # a class a framework makes instances of (`form_class`)
                found.setdefault(("class attribute", attribute), []).append((cls.qualname, ref))
    for key, holder, ref in signal_registrations(facts):
        found.setdefault(("receivers", key), []).append((holder, ref))
    # Equal bytes unpickle to equal values, so equal bytes mean equal pieces (the reverse can fail
    # only by chance of object sharing, which costs checking more, never a wrong result).
    return {name: pickle.dumps(found_pieces, protocol=4) for name, found_pieces in found.items()}


def related_names_of(cls: ClassFacts) -> Tuple[str, ...]:
    """The `related_name="..."` of the class's fields (`order = ForeignKey(Order, related_name="lines")`)."""
    return tuple(value[1] for ref in cls.attributes.values() if ref[0] == "call"
                 for key, value in ref[3] if key == "related_name" and value[0] == "str" and value[1] != "+")


def signal_registrations(facts: ModuleFacts) -> List[Tuple[str, str, Ref]]:
    """What may connect a function to a signal, as (the signal's name, the function holding it,
    the decorator or call): `@receiver(sig)` / `@receiver([a, b])` on a function (the function
    itself), and `sig.connect(handler)` anywhere (the function making the call). Read by their
    spelling alone (the name the signal is imported under), so that the project index finds
    every receiver of a signal without resolving anything; the model checks each one."""
    found = []
    for unit in facts.functions.values():
        for decorator in unit.decorators:
            if decorator[0] != "call" or not decorator[2] or _known_as(decorator[1], facts.imports) != "receiver":
                continue
            signals = decorator[2][0][1] if decorator[2][0][0] == "list" else (decorator[2][0],)
            for signal in signals:
                key = _known_as(signal, facts.imports)
                if key:
                    found.append((key, unit.qualname, decorator))
        for event in unit.events:
            func = event.ref[1]
            if func[0] == "attr" and func[2] == "connect" and (event.ref[2] or event.ref[3]):
                key = _known_as(func[1], facts.imports)
                if key:
                    found.append((key, unit.qualname, event.ref))
    return found


def _known_as(ref: Ref, imports: Dict[str, str]) -> str:
    """The name a thing is known by wherever it is imported: `username_changed` for
    `username_changed`, `signals.username_changed` or a name imported `as` another."""
    if ref[0] == "name":
        return imports.get(ref[1], ref[1]).rsplit(".", 1)[-1]
    return ref[2] if ref[0] == "attr" else ""


def changed_names(before: Optional[ModuleFacts], after: Optional[ModuleFacts]) -> set:
    """The names under which another module reads something different in `after` than in `before`."""
    old, new = pieces(before), pieces(after)
    return {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}
