"""The constant an object's attribute holds when a method of it is called (`response.state =
States.COMMENT`, then `response.save()`), and whether the method still sees it when it tests the
attribute (`if self.state == States.APPROVED:`), so that txlint.flags can leave out the arm of that
test the value rules out.

Both are told only when nothing can have changed the value: in the caller, the setting is the last
one before the call, made on every way to it (not in a branch, loop or `try` the call is not in),
on an object the function made or looked up itself (bound once, never handed to anything or copied
to another name), with no other use of the object in between; in the method, nothing uses `self`
before the test (its own `super()` aside, when that is the framework's method).

May use function facts only; literal values are compared here, names of constants by the caller.
"""

import ast
from typing import Optional

from txlint.dataflow import SETS_ATTRIBUTE, names_in, names_passed_whole
from txlint.facts import Context, FunctionFacts, Ref


def value_set_before(facts: FunctionFacts, index: int, name: str, attribute: str) -> Optional[Ref]:
    """The constant's ref `name.attribute` is set to whenever the event at `index` runs; None when
    that cannot be told (see the module's docstring)."""
    if not _made_here(facts, name):
        return None
    event = facts.events[index]
    for earlier in reversed(facts.events[:index]):
        ref = earlier.ref
        if ref[1] == ("attr", ("name", name), SETS_ATTRIBUTE) and len(ref[2]) == 2:
            if ref[2][0] != ("str", attribute):
                continue  # another attribute of it
            value = ref[2][1]
            if earlier.context.deferred or not _on_every_way(earlier.context, event.context) or \
                    not is_constant(value):
                return None
            return value
        used: set = set()
        names_in(ref, used)
        if name in used:
            return None  # a call given it, a method of it: it may set the attribute
    return None


def is_constant(ref: Ref) -> bool:
    """A literal (`"done"`, `3`, `None`) or an attribute of a name (`States.DONE`)."""
    return ref[0] in ("str", "const") or (ref[0] == "attr" and ref[1][0] == "name")


def literals_equal(first: Ref, second: Ref) -> Optional[bool]:
    """Are two literal refs equal values? None when either is not a literal."""
    if first[0] not in ("str", "const") or second[0] not in ("str", "const"):
        return None
    if first[0] != second[0]:
        return False  # a string is never a number, None or a boolean
    if first[0] == "str":
        return first[1] == second[1]
    try:
        return ast.literal_eval(first[1]) == ast.literal_eval(second[1])
    except (ValueError, SyntaxError):
        return None


def keeps_until_tested(method: FunctionFacts, attribute: str, super_is_framework) -> bool:
    """Does `self.<attribute>` in the method still hold what its caller set when the method tests
    it? Not when the method sets it, or uses `self` before the test (or anywhere in a loop around
    a test), other than through `super()` calls `super_is_framework(event)` accepts."""
    if f"self.{attribute}" in method.bindings or not method.params or method.params[0].name != "self":
        return False
    tests = [(line, loops) for name, _, _, line, loops in method.value_ifs.values() if name == f"self.{attribute}"]
    if not tests:
        return False
    first_line = min(line for line, _ in tests)
    loops = {loop for _, around in tests for loop in around}
    for event in method.events:
        if event.range[0] >= first_line and not loops & set(event.context.loops):
            continue
        used: set = set()
        names_in(event.ref, used)
        if "self" in used or ("super" in used and not super_is_framework(event)):
            return False
    return True


def _made_here(facts: FunctionFacts, name: str) -> bool:
    """Is `name` an object the function made or looked up (bound once, to a call's result or an
    item of it), never handed to a call whole nor copied into another name?"""
    bound = facts.bindings.get(name, ())
    if len(bound) != 1 or bound[0][0] not in ("call", "unpack") or any(param.name == name for param in facts.params):
        return False
    for refs in facts.bindings.values():
        for ref in refs:
            if _holds_whole(ref, name):
                return False
    return not any(name in names_passed_whole(event.ref) for event in facts.events)


def _holds_whole(ref: Ref, name: str) -> bool:
    if not isinstance(ref, tuple) or not ref:
        return False
    if ref == ("name", name):
        return True
    if ref[0] in ("list", "concat", "expr"):
        return any(_holds_whole(part, name) for part in ref[1])
    if ref[0] == "dict":
        return any(_holds_whole(value, name) for _, value in ref[1])
    if ref[0] == "call":
        return name in names_passed_whole(ref)
    return False


def _on_every_way(earlier: Context, later: Context) -> bool:
    """Does code at `earlier` run on every way to code after it at `later`: in the same branch arms,
    loops and `try` parts, or ones around them?"""
    return all(getattr(later, part)[:len(getattr(earlier, part))] == getattr(earlier, part)
               for part in ("branches", "loops", "trys"))
