"""Which local names flow into a call: its arguments and receiver, followed through assignments."""

from typing import FrozenSet, Iterable, Set

from txlint.facts import FunctionFacts, Ref

_IGNORED = frozenset({"self", "cls"})
_MAX_STEPS = 4
# Attributes of a cursor or result that carry the key the previous INSERT made.
_INSERTED_KEYS = frozenset({"lastrowid", "inserted_primary_key", "insert_id"})
INSERTED_KEY = "<inserted key>"  # the name `paths=True` gives such an attribute
# The method an attribute assignment is recorded as calling (`obj.x = v`, `setattr(obj, "x", v)`).
SETS_ATTRIBUTE = "__setattr__"


def called_name(func: Ref) -> str:
    """The name a call's function ref ends in: `create` for `Order.objects.create`, `mail` for `mail`."""
    return func[2] if func[0] == "attr" else func[1] if func[0] == "name" else ""


def calls_super(func: Ref) -> bool:
    """Is a call's function ref a method of `super()` (`super().form_valid`)?"""
    return func[0] == "attr" and func[1][0] == "call" and func[1][1] == ("name", "super")


def names_passed_whole(call: Ref) -> FrozenSet[str]:
    """The variables a call is given whole, by position or keyword (`Post(topic=topic)`, `session.add(topic)`)."""
    return frozenset(argument[1] for argument in (*call[2], *(value for _, value in call[3]))
                     if isinstance(argument, tuple) and argument and argument[0] == "name")


LOOKUP_PREFIXES = ("get", "find", "fetch", "lookup", "first")
PRESENCE_PREFIXES = ("has_", "exists")  # checks that something is there (`page.has_translation(l)`, `qs.exists()`)


def is_lookup_call(ref: Ref, prefixes: tuple = LOOKUP_PREFIXES) -> bool:
    """A call whose function's name starts as a lookup's does (`get_by_name(...)`, `_find_cert(...)`)."""
    return isinstance(ref, tuple) and bool(ref) and ref[0] == "call" and \
        called_name(ref[1]).lstrip("_").startswith(prefixes)


def names_in(ref: Ref, into: Set[str], paths: bool = False) -> None:
    """The names an expression is built from. With `paths` (what two writes share, for
    txlint.evidence), `self.x` is kept as the path `self.x` rather than `self`, `cursor.lastrowid`
    as INSERTED_KEY, and the operands of operators and comparisons count too (the key a filter
    compares against: `Order.id == order_id`), though no value flows from them into a path."""
    if not isinstance(ref, tuple) or not ref:
        return
    kind = ref[0]
    if kind == "name":
        into.add(ref[1])
    elif kind == "attr":
        base = ref[1]
        if paths and base[0] == "name" and base[1] in _IGNORED:
            into.add(f"{base[1]}.{ref[2]}")
        elif paths and ref[2] in _INSERTED_KEYS:
            into.add(INSERTED_KEY)
        else:
            names_in(base, into, paths)
    elif kind == "call":
        names_in(ref[1], into, paths)
        for argument in ref[2]:
            names_in(argument, into, paths)
        for _, argument in ref[3]:
            names_in(argument, into, paths)
    elif kind in ("sub", "div"):
        names_in(ref[1], into, paths)
        names_in(ref[2], into, paths)
    elif kind in ("concat", "list") or (kind == "expr" and paths):
        for part in ref[1]:
            names_in(part, into, paths)
    elif kind == "dict":
        for key, value in ref[1]:
            names_in(key, into, paths)
            names_in(value, into, paths)
    elif kind in ("enter", "iter", "unpack"):
        names_in(ref[1], into, paths)
    elif kind == "annotated" and ref[2] is not None:
        names_in(ref[2], into, paths)


def followed(names: Iterable[str], facts: FunctionFacts, paths: bool = False, steps: int = _MAX_STEPS) -> Set[str]:
    """The names, plus the names they were computed from (up to `steps` assignments back)."""
    seen = set(names)
    frontier = set(seen)
    for _ in range(steps):
        found: Set[str] = set()
        for name in frontier:
            for bound in facts.bindings.get(name, ()):
                names_in(bound, found, paths)
        frontier = found - seen
        if not frontier:
            break
        seen |= frontier
    return seen


def flowing_names(ref: Ref, facts: FunctionFacts) -> FrozenSet[str]:
    """The names a call uses, plus the names those were computed from (a few assignments back)."""
    used: Set[str] = set()
    names_in(ref, used)
    return frozenset(followed(used, facts) - _IGNORED)
