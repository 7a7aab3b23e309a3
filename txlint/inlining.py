"""A helper's return expression as one call of it sees it: its parameters replaced by what that
call passes (`database.get(PendingCertificate, id)` returns a PendingCertificate, though another
caller passes ApiKey), so that a generic helper given a model or a model object gives back what
its caller gave it, not what its first caller did.

The rewritten ref is evaluated in the helper; the arguments in it are `("at", caller, argument)`
parts, evaluated in the caller. The helper's own names stay as they are, so calls the model
knows by name (`getattr`, `setattr`) are still seen as such. Locals bound once are followed into
what they are bound to (`query = session_query(model)`, then `return query.filter(...).scalar()`),
a few steps deep.

May use function facts only.
"""

from typing import Dict, Iterable, Optional, Tuple

from txlint.facts import FunctionFacts, Ref
from txlint.flags import argument_for

_STEPS = 3  # locals followed into what they are bound to
_NOT_FOLLOWED = ("param", "self", "cls", "function", "iter", "enter", "unpack")


def inlined(ref: Ref, helper: FunctionFacts, passed: Dict[str, Ref]) -> Optional[Ref]:
    """`ref` (an expression of `helper`) with the parameters in `passed` replaced by their
    `("at", caller, argument)` refs; None when it does not use them."""
    rewritten, used = _inline(ref, helper, passed, _STEPS)
    return rewritten if used else None


def arguments_at(helper: FunctionFacts, call: Ref, caller: str, names: Iterable[str]) -> Dict[str, Ref]:
    """What `call`, made in the function `caller`, passes for these parameters of the helper, as the
    `("at", caller, argument)` refs `inlined` puts in their place; a parameter it passes nothing
    for is left out."""
    passed = {}
    for name in names:
        argument = argument_for(helper, call, name)
        if argument is not None:
            passed[name] = ("at", caller, argument)
    return passed


def parameters_returned(helper: FunctionFacts) -> Tuple[str, ...]:
    """The parameters of the helper (with no annotation or default, never bound again) that its
    return expressions are built from, locals followed as `inlined` follows them."""
    plain = {param.name for param in helper.params if param.annotation is None and param.default is None
             and len(helper.bindings.get(param.name, ())) <= 1}
    if not plain:
        return ()
    found: set = set()
    for returned in helper.bindings.get("<return>", ()):
        _inline(returned, helper, {name: ("param", name) for name in plain}, _STEPS, found)
    return tuple(sorted(found))


def _inline(ref: Ref, helper: FunctionFacts, passed: Dict[str, Ref], steps: int,
            used_names: Optional[set] = None) -> Tuple[Ref, bool]:
    kind = ref[0] if isinstance(ref, tuple) and ref else ""
    if kind == "name":
        name = ref[1]
        if name in passed:
            if used_names is not None:
                used_names.add(name)
            return passed[name], True
        bound = helper.bindings.get(name, ())
        if steps and len(bound) == 1 and bound[0][0] not in _NOT_FOLLOWED:
            rewritten, used = _inline(bound[0], helper, passed, steps - 1, used_names)
            if used:
                return rewritten, True
        return ref, False
    if kind == "attr":  # kept an attribute of its scoped base: a call of it is a method call
        base, used = _inline(ref[1], helper, passed, steps, used_names)
        return ("attr", base, ref[2]), used
    if kind == "call":
        func, used = _inline(ref[1], helper, passed, steps, used_names)
        args = []
        for argument in ref[2]:
            rewritten, used_here = _inline(argument, helper, passed, steps, used_names)
            args.append(rewritten)
            used = used or used_here
        kwargs = []
        for key, value in ref[3]:
            rewritten, used_here = _inline(value, helper, passed, steps, used_names)
            kwargs.append((key, rewritten))
            used = used or used_here
        return ("call", func, tuple(args), tuple(kwargs)), used
    return ref, False
