"""Which local names flow into a call: its arguments and receiver, followed through assignments."""

from typing import FrozenSet, Set

from txlint.facts import FunctionFacts, Ref

_IGNORED = frozenset({"self", "cls"})
_MAX_STEPS = 4


def names_in(ref: Ref, into: Set[str]) -> None:
    if not isinstance(ref, tuple) or not ref:
        return
    kind = ref[0]
    if kind == "name":
        into.add(ref[1])
    elif kind == "attr":
        names_in(ref[1], into)
    elif kind == "call":
        names_in(ref[1], into)
        for argument in ref[2]:
            names_in(argument, into)
        for _, argument in ref[3]:
            names_in(argument, into)
    elif kind in ("sub", "div"):
        names_in(ref[1], into)
        names_in(ref[2], into)
    elif kind in ("concat", "list"):
        for part in ref[1]:
            names_in(part, into)
    elif kind == "dict":
        for key, value in ref[1]:
            names_in(key, into)
            names_in(value, into)
    elif kind in ("enter", "iter"):
        names_in(ref[1], into)


def flowing_names(ref: Ref, facts: FunctionFacts) -> FrozenSet[str]:
    """The names a call uses, plus the names those were computed from (a few assignments back)."""
    seen: Set[str] = set()
    names_in(ref, seen)
    frontier = set(seen)
    for _ in range(_MAX_STEPS):
        found: Set[str] = set()
        for name in frontier:
            for bound in facts.bindings.get(name, ()):
                names_in(bound, found)
        frontier = found - seen
        if not frontier:
            break
        seen |= frontier
    return frozenset(seen - _IGNORED)
