"""TXL102 in application code: an object saved, then the rows that belong to it written one per
iteration, each committing on its own.

Outside batch jobs a loop's rows are usually each complete on their own (TXL102 leaves them be),
but not when the loop goes over the related rows of an object the function has just saved
(`user.save()`, then `for entry in user.entries.filter(...): entry.save()`): the object and its
rows are one change, and a failure part-way leaves the object changed with only some of its rows.
"""

from typing import TYPE_CHECKING, Iterable, List, Optional, Set

from txlint.evidence import is_delete
from txlint.facts import Ref
from txlint.rule import Report, RuleContext, is_autocommit_write, report_at

if TYPE_CHECKING:
    from txlint.project import Effect


def children_written_one_by_one(context: RuleContext, effects: List["Effect"],
                                handled_per_item) -> Iterable[Report]:
    """The first loop over an object's related rows that writes each of them, after the object
    itself was saved, with no transaction around either (one finding per function)."""
    links = context.links()
    for effect in effects:
        loops = effect.site.context.loops
        if not loops or not _row_write(context, effect) or is_delete(effect):
            continue
        loop = context.unit.facts.loops.get(loops[-1])
        if loop is None or loop.kind != "for" or not _writes_loop_row(context, effect, loop.iterable):
            continue
        owners = _owner_paths(loop.iterable)
        parent = _parent_saved_before(context, links, effects, owners, effect, loop.range)
        if parent is None or handled_per_item(context, effect):
            continue
        loop_line = loop.range[0]
        yield report_at(
            effect.site,
            f"saves {parent.spec.table} (line {parent.site.range[0]}), then writes its "
            f"{effect.spec.table or 'rows'} one per iteration of the loop at line {loop_line}, and each "
            f"write commits on its own, so a failure part-way leaves {parent.spec.table} changed with only "
            f"some of its rows: {context.fix_for(effect.spec.library, 'both')}",
            context.transaction_plan(effect.spec.library, (parent.site.range[0], loop_line), decorate=True,
                                     through=effect),
        )
        return


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


def _parent_saved_before(context: RuleContext, links, effects: List["Effect"], owners: Set[str],
                         row_write: "Effect", loop_range) -> Optional["Effect"]:
    """The function's own save of the object whose rows the loop writes, made before the loop,
    outside it, and committing alone."""
    if not owners:
        return None
    for effect in effects:
        if effect.site.range >= loop_range or effect.site.context.loops or not _row_write(context, effect):
            continue
        if effect.spec.table == row_write.spec.table:
            continue  # rows of the object's own table (a tree's nodes): the object's own kind of work
        if links.saved_by(effect) & owners and context.sequential(effect.site.context, row_write.site.context):
            return effect
    return None
