"""Which lookups a write waits on: a write that links a row to one a lookup found, made only when
the lookup finds it, the code carrying on without the write when it finds nothing:

    user = User.objects.filter(email__iexact=address).first()
    if user:
        mail.to_users.add(user)

    try:
        unit = screenshot.translation.unit_set.get(pk=pk)
    except Unit.DoesNotExist:
        return False
    screenshot.units.add(unit)

txlint.evidence reads them: whenever the lookup finds nothing, the code leaves the rows written
before without that link and finishes normally, so a row without it is a state the code itself
accepts (a best-effort follow-up), not half of a unit of work.

Only a row looked up and *given* to the write counts, not one the write changes (`stock =
...first()`, then `if stock: stock.save()`): a counter kept in step with another row is no
optional link. A failed lookup that raises (`except DoesNotExist: raise Http404`) gives up on
the whole operation, so it guards nothing.

What it may use: a function's facts (its events, bindings, `if` tests and `try` blocks).
"""

from typing import TYPE_CHECKING, List, Tuple

from txlint.dataflow import LOOKUP_PREFIXES, is_lookup_call, names_passed_whole

if TYPE_CHECKING:
    from txlint.facts import Event
    from txlint.model_effects import Effect
    from txlint.model_units import Unit

# Calls that find a row or come back empty (None, or the DoesNotExist a `try` catches).
_FINDS = (*LOOKUP_PREFIXES, "last", "one_or_none", "scalar_one_or_none")

# A guard: (the positions of the calls from the function checked down to the helper holding it,
# "if" or "try", the block's id in that helper, the position of the lookup in it).
Guard = tuple
_NOWHERE = (0, 0, 0, 0)


def found_guards(event: "Event", unit: "Unit") -> Tuple[Guard, ...]:
    """The guards under which the call waits on a lookup of a row it is given."""
    facts = unit.facts
    guards: List[Guard] = []
    for name in sorted(names_passed_whole(event.ref)):
        lookups = [ref for ref in facts.bindings.get(name, ()) if is_lookup_call(ref, _FINDS)]
        if not lookups:
            continue
        for block, arm in event.context.branches:
            if arm == "body" and facts.flag_ifs.get(block) == (name, False):
                guards.append(((), "if", block, _NOWHERE))  # `if user:` after `user = ...first()`
        for lookup in facts.events:
            if lookup.range >= event.range or lookup.ref not in lookups:
                continue
            for block, part in lookup.context.trys:
                skipping = part == "body" and any(facts.trys[block].handlers_skip)
                if skipping and (block, "except") not in event.context.trys:
                    guards.append(((), "try", block, lookup.range))  # `except DoesNotExist: return False`
    return tuple(dict.fromkeys(guards))


def guards_through(call: "Event", inner: Tuple[Guard, ...]) -> Tuple[Guard, ...]:
    """A helper's guards as its caller sees them, at the call that reached the helper."""
    return tuple(((call.range, *path), kind, block, lookup) for path, kind, block, lookup in inner)


def waits_alone(later: "Effect", earlier: "Effect") -> bool:
    """Does the later write wait on a lookup that the earlier one does not (made before the
    lookup, or outside the `if` that tests what it found)?"""
    return any(not _under(guard, earlier) for guard in later.found_guards)


def _under(guard: Guard, effect: "Effect") -> bool:
    path, kind, block, lookup = guard
    site = effect.site
    chain = [(site.range, site.context.branches, site.context.trys), *effect.within]
    if len(chain) <= len(path) or tuple(position for position, _, _ in chain[:len(path)]) != path:
        return False  # it is not made inside the helper call holding the guard
    position, branches, trys = chain[len(path)]
    if kind == "if":
        return (block, "body") in branches
    return position > lookup and (block, "except") not in trys
