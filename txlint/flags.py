"""Flags a caller passes: `form.save(commit=False)` switches off what `save` does under `if commit:`,
and `load(do_restore=True)` switches on what it does under `if do_restore:`.

What it may use: the callee's facts (its parameters, its `if name:` statements, its bindings) and
the call's ref; nothing of the project.
"""

from typing import Dict, Optional

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


def reached(callee: FunctionFacts, context: Context, call: Ref) -> bool:
    """Can code at `context` in the callee run for this call? Not when it sits in an arm of
    `if flag:` (or `if not flag:`) that the constant the call passes for `flag` rules out."""
    return all(truth(passed_for(callee, call, name)) in (None, value)
               for name, value in conditions(callee, context).items())
