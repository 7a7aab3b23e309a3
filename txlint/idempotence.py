"""Which writes a re-run repeats harmlessly: it sets values again, finds the row it made the first
time (`get_or_create`), or deletes what is already gone; and which it does not: it adds rows again,
or changes a value from itself (`stock = F("stock") - 1`).

What it may use: the function's facts (its bindings) and the evidence's `constructed` (a new
instance made in the function) through the rule's context.
"""

import re
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from txlint.project import Effect
    from txlint.rule import RuleContext


def converges(context: "RuleContext", unit: Iterable["Effect"], writes: Iterable["Effect"]) -> bool:
    """A function that ensures rows (`get_or_create`, `update_or_create` among its `writes`) and
    whose unit of work otherwise only sets values or deletes: code written to be run again, which
    the next run completes after a failure part-way (a registry synced from code, derived rows
    recomputed, a webhook the sender retries). A helper's write counts only when it is itself
    such a call; any other may add rows."""
    writes = list(writes)
    # What a model's save() override writes along with an upsert of the row runs at the same call.
    ensured_sites = {id(effect.site) for effect in writes if effect.spec.idempotent and not effect.via}
    return any(effect.spec.idempotent for effect in writes) and all(
        effect.spec.idempotent or (effect.via and id(effect.site) in ensured_sites)
        or (not effect.via and not not_idempotent(context, effect)) for effect in unit)


def not_idempotent(context: "RuleContext", effect: "Effect") -> bool:
    """A write that a re-run does not simply repeat: it adds rows, or changes a value from itself."""
    return inserts(context, effect) or _changes_own_value(context, effect)


def _changes_own_value(context: "RuleContext", effect: "Effect") -> bool:
    """`SET price = price * 1.1`, `update(stock=F("stock") - 1)`, `part.name = part.name.strip()`
    then `part.save()`: a transformation of the row's own value (a data migration)."""
    if effect.spec.how == "raw":
        return bool(_SELF_ASSIGNMENT.search(effect.spec.sql))
    call = effect.site.ref
    func = call[1]
    if func[0] != "attr":
        return False
    if func[2] in ("save", "asave") and func[1][0] == "name":
        name = func[1][1]
        return any(key.startswith(name + ".") and _uses_attribute(ref, name, key.split(".", 1)[1])
                   for key, refs in context.unit.facts.bindings.items() for ref in refs)
    return any(_uses_field(value, key) for key, value in call[3])


_SELF_ASSIGNMENT = re.compile(r"\b(\w+)\s*=\s*\1\b(?!\s*=)", re.IGNORECASE)


def _uses_attribute(ref, name: str, attribute: str, depth: int = 0) -> bool:
    if not isinstance(ref, tuple) or not ref or depth > 20:
        return False
    if ref == ("attr", ("name", name), attribute):
        return True
    return any(_uses_attribute(part, name, attribute, depth + 1) for part in _parts(ref))


def _uses_field(ref, field: str, depth: int = 0) -> bool:
    """`F("stock") - 1` or `Post.views + 1` for the field `stock` / `views`."""
    if not isinstance(ref, tuple) or not ref or depth > 20:
        return False
    if ref[0] == "call" and ref[1] == ("name", "F") and ref[2] and ref[2][0] == ("str", field):
        return True
    if ref[0] == "attr" and ref[2] == field and ref[1][0] == "name" and ref[1][1][:1].isupper():
        return True
    return any(_uses_field(part, field, depth + 1) for part in _parts(ref))


def _parts(ref):
    """The parts of a ref (after its kind), or the refs of a tuple of them."""
    return [part for part in (ref[1:] if isinstance(ref[0], str) else ref) if isinstance(part, tuple)]


def inserts(context: "RuleContext", effect: "Effect") -> bool:
    """Does the write add rows (a re-run adds them again), as far as its call shows?"""
    if effect.spec.how == "raw":
        return effect.spec.sql.lstrip().upper().startswith(("INSERT", "COPY", "REPLACE"))
    func = effect.site.ref[1]
    if func[0] != "attr":
        return False
    if func[2] in _INSERTS:
        return True
    if func[2] in ("add", "add_all"):  # `session.add(Book(...))`, not `session.add(hero)` of a loaded row
        made = effect.site.ref[2][0] if effect.site.ref[2] else None
    elif func[2] in ("save", "asave"):
        made = func[1]
    else:
        return False
    return made is not None and (made[0] in ("call", "list") or
                                 made[0] == "name" and context.links().constructed(made[1]))


_INSERTS = {"create", "acreate", "bulk_create", "abulk_create", "insert", "insert_many", "create_user",
            "bulk_insert_mappings"}


