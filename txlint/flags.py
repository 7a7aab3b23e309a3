"""Flags a caller passes: `form.save(commit=False)` switches off what `save` does under `if commit:`,
and `load(do_restore=True)` switches on what it does under `if do_restore:`; and values it sets:
`response.state = States.COMMENT`, then `response.save()`, switches off what `save` does under
`if self.state == States.APPROVED:`.

What it may use: the callee's facts (its parameters, its `if` statements, its bindings) and the
call's ref; of the project, only what the caller's `equals` tells of the values it sets.
"""

from typing import Callable, Dict, Optional

from txlint.facts import Context, FunctionFacts, Ref

_FALSY = {"False", "None", "0", "0.0"}


def truth(ref: Optional[Ref]) -> Optional[bool]:
    """The truth of a constant (`False`, `None`, `0`, `""`, `True`, `1`); None for anything else."""
    if ref is None:
        return None
    if ref[0] == "const":
        return ref[1] not in _FALSY
    if ref[0] == "str":
        return bool(ref[1])
    return None


def is_plain_parameter(function: FunctionFacts, name: str) -> bool:
    """A parameter the body does not bind again: its value is what the caller passed."""
    return any(param.name == name for param in function.params) and len(function.bindings.get(name, ())) <= 1


def argument_for(callee: FunctionFacts, call: Ref, name: str) -> Optional[Ref]:
    """What the call passes for the callee's parameter `name`, by keyword or by position; None
    when it passes nothing for it, or passes `**kwargs` that may hold it."""
    names = [param.name for param in callee.params]
    if name not in names:
        return None
    _, func, args, kwargs = call
    for key, value in kwargs:
        if key == name:
            return value
        if key is None:
            return None  # `**options` may hold it
    index = names.index(name)
    if callee.class_qualname and names[0] in ("self", "cls") and (func[0] == "attr" or callee.name == "__init__"):
        index -= 1  # a bound call or a class called: `self` is not passed
    return args[index] if 0 <= index < len(args) else None


def passed_for(callee: FunctionFacts, call: Ref, name: str) -> Optional[Ref]:
    """What the call passes for the callee's parameter `name` (its default when it passes nothing);
    None when that cannot be told: the parameter is bound again in the body, or the call passes
    `**kwargs`."""
    if not is_plain_parameter(callee, name):
        return None
    passed = argument_for(callee, call, name)
    if passed is not None or any(key is None for key, _ in call[3]):
        return passed
    return next(param.default for param in callee.params if param.name == name)


def conditions(callee: FunctionFacts, context: Context, line: int = 0) -> Dict[str, bool]:
    """The flags code at `context` runs under: parameter (or `self.attribute`) -> the truth it
    needs (`if commit:` -> {"commit": True}; the `else` of `if not dry_run:` -> {"dry_run": True}).
    Given the code's line, code after `if flag: ... return` in the same block is that `if`'s `else`."""
    arms = list(context.branches)
    for block, (end, branches, trys) in callee.flag_exits.items() if line else ():
        if line > end and context.branches[:len(branches)] == branches and context.trys[:len(trys)] == trys:
            arms.append((block, "else"))
    needed: Dict[str, bool] = {}
    for block, arm in arms:
        flag = callee.flag_ifs.get(block)
        if flag is not None and arm in ("body", "else"):
            name, negated = flag
            needed[name] = (arm == "body") != negated
    return needed


# Given an attribute of `self` ("self.state") and a constant's ref of the callee: does the value
# the caller's object holds equal it (True / False), or can that not be told (None)?
Equals = Callable[[str, Ref], Optional[bool]]


def reached(callee: FunctionFacts, context: Context, call: Ref, equals: Optional[Equals] = None) -> bool:
    """Can code at `context` in the callee run for this call? Not when it sits in an arm of
    `if flag:` (or `if not flag:`) that the constant the call passes for `flag` rules out, nor in
    an arm of `if self.state == States.DONE:` (`!=`, `in`, `not in`) that the value the caller's
    object holds rules out (`equals`, for a method called on it)."""
    if equals is not None and any(_value_rules_out(callee, block, arm, equals) for block, arm in context.branches):
        return False
    return all(truth(passed_for(callee, call, name)) in (None, value)
               for name, value in conditions(callee, context).items())


def _value_rules_out(callee: FunctionFacts, block: int, arm: str, equals: Equals) -> bool:
    tested = callee.value_ifs.get(block)
    if tested is None or arm not in ("body", "else"):
        return False
    name, negated, values = tested[:3]
    found = [equals(name, value) for value in values]
    if True in found:
        held = True
    elif all(answer is False for answer in found):
        held = False
    else:
        return False
    body_runs = held != negated
    return (arm == "body") != body_runs
