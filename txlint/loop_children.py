"""TXL102 in application code: an object saved with the rows that belong to it, or a set of rows
replaced, written one row per iteration, each committing on its own.

Outside batch jobs a loop's rows are usually each complete on their own (TXL102 leaves them be),
but not when the loop goes over the related rows of an object the function has just saved
(`user.save()`, then `for entry in user.entries.filter(...): entry.save()`): the object and its
rows are one change, and a failure part-way leaves the object changed with only some of its rows.
So it is when the loop adds the rows that replace a set the function deleted just before (a user's
recovery codes deleted, then new ones created one by one): a failure part-way leaves the old rows
gone and only some of the new ones.
"""

from typing import TYPE_CHECKING, Iterable, List, Optional, Set

from txlint.write_calls import is_delete
from txlint.idempotence import inserts
from txlint.facts import Ref
from txlint.rule import Report, RuleContext, is_autocommit_write, report_at

if TYPE_CHECKING:
    from txlint.project import Effect


def children_written_one_by_one(context: RuleContext, effects: List["Effect"],
                                handled_per_item) -> Iterable[Report]:
    """The first loop that writes, one row per iteration, the related rows of an object saved
    before or after it, or the rows that replace a set deleted before it, with no transaction
    around either (one finding per function)."""
    links = context.links()
    for effect in effects:
        loops = effect.site.context.loops
        if not loops or not _row_write(context, effect) or is_delete(effect):
            continue
        loop = context.unit.facts.loops.get(loops[-1])
        if loop is None or loop.kind != "for":
            continue
        earlier = [other for other in effects if other.site.range < loop.range and not other.site.context.loops
                   and _row_write(context, other) and context.sequential(other.site.context, effect.site.context)]
        later = [other for other in effects if other.site.range > loop.range and not other.site.context.loops
                 and _row_write(context, other) and context.sequential(effect.site.context, other.site.context)]
        message = _after_parent(links, earlier + later, effect, loop.iterable, context) or \
            _replacing(links, earlier, effect, context)
        if message is None or handled_per_item(context, effect):
            continue
        other_line, what, left = message
        loop_line = loop.range[0]
        yield report_at(
            effect.site,
            f"{what} one per iteration of the loop at line {loop_line}, and each write commits on its own, so a "
            f"failure part-way leaves {left}: {context.fix_for(effect.spec.library, 'both')}",
            context.transaction_plan(effect.spec.library, tuple(sorted((other_line, loop_line))), decorate=True,
                                     through=effect),
        )
        return


def _after_parent(links, earlier: List["Effect"], effect: "Effect", iterable: Ref, context: RuleContext):
    """`user.save()`, then `for entry in user.entries.filter(...): entry.save()` (or the object
    saved after its rows)."""
    if not _writes_loop_row(context, effect, iterable):
        return None
    owners = _owner_paths(iterable)
    for parent in earlier:
        if parent.spec.table != effect.spec.table and links.saved_by(parent) & owners:
            # (rows of the object's own table, a tree's nodes, are the object's own kind of work)
            line = parent.site.range[0]
            return line, f"writes the {effect.spec.table} rows of the {parent.spec.table} it saves (line {line})", \
                f"{parent.spec.table} changed with only some of its rows"
    return None


def _replacing(links, earlier: List["Effect"], effect: "Effect", context: RuleContext):
    """`codes.filter(user=user).delete()`, then `for _ in range(10): Code.objects.create(user=user)`."""
    if not inserts(context, effect):
        return None
    for index, deleted in enumerate(earlier):
        if not is_delete(deleted) or not links.related(deleted, effect):
            continue
        if any(other.spec.table != effect.spec.table and not other.found_or_made
               for other in earlier[index + 1:]):
            return None  # an owner made anew in between, then its rows: several tables, TXL101's unit
        line = deleted.site.range[0]
        return line, (f"deletes {deleted.spec.table} rows (line {line}), then adds the {effect.spec.table} "
                      f"rows that replace them"), "the old rows gone and only some of the new ones"
    return None


def _row_write(context: RuleContext, effect: "Effect") -> bool:
    """A write of this function's own that commits alone: not a helper's, a batch or an upsert."""
    return is_autocommit_write(effect) and not effect.via and not effect.in_scope and not effect.spec.bulk \
        and not effect.spec.idempotent and not context.site_in_scope(effect.site) \
        and not context.in_handler(effect.site.context)


def _writes_loop_row(context: RuleContext, effect: "Effect", iterable: Ref) -> bool:
    """Is the write a save of the row the loop is at (`entry.save()` in `for entry in ...`)?"""
    receiver = effect.receiver
    if not receiver or "." in receiver:
        return False
    return ("iter", iterable) in context.unit.facts.bindings.get(receiver, ())


def _owner_paths(iterable: Ref) -> Set[str]:
    """The object whose relation the loop goes over: `self.user` in `self.user.entries.filter(...)`
    and in `self.user.entries()` (never the relation itself, an object it leads to, nor a bare
    `self`)."""
    ref = iterable
    while ref[0] == "call" and ref[1][0] == "attr" and ref[1][2] in _NARROWING:
        ref = ref[1][1]  # `.filter(...)`, `.all()`, `.exclude(...)` of the relation
    if ref[0] == "call":
        ref = ref[1]  # the relation as a method (`user.entries()`)
    if ref[0] != "attr":
        return set()  # a query of a model, a list: not an object's related rows
    path = _dotted(ref[1])
    return {path} if path and path != "self" else set()


# Query methods that narrow or order a relation's rows, and still yield them.
_NARROWING = {"all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "distinct",
              "only", "defer", "iterator", "select_for_update", "using", "annotate", "reverse", "where"}


def _dotted(ref: Ref) -> Optional[str]:
    if ref[0] == "name":
        return ref[1]
    if ref[0] == "attr":
        base = _dotted(ref[1])
        return f"{base}.{ref[2]}" if base else None
    return None
