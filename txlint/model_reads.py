"""Read tracking and memoisation: what a value worked out read (for incremental runs), and the
stack of values being worked out, with the cuts and heights that decide whether a value can be
kept (memoised) so that what is known never depends on the order things were asked in.

May use nothing else of the model; the other parts use it to note what they read and to keep what
they work out (`_memo`, `_work_out`; `evaluate` inlines the same steps on its hot path).
"""

from contextlib import contextmanager
from typing import Callable, Dict, Iterable, Optional, Tuple

# How many values may be worked out inside one another (the stack of `_in_progress`). Values
# that do not depend on the depth they are asked at (a class, whether a function runs in a
# transaction) start again from depth 0, so _MAX_DEPTH alone does not bound the stack: a class
# hierarchy 110 deep, or 500 helpers each called only by the next, would nest 110 or 500 deep.
# Each value takes at most a few Python frames, so this bound stays well inside Python's default
# recursion limit (1000) wherever the project is asked from. A value asked for past it is unknown
# and cuts below everything (nothing it is part of is kept); kept values carry their height so
# that one is never used where working it out would have gone past it (see `_fits`).
_MAX_NESTING = 80
_NO_CUT = 1 << 30
_CUT_ALL = -1


class ReadTracking:
    """Part of `Project` (txlint.project). Owns:

    - `_reads`: what the value being worked out has read so far (None: nothing is collecting);
    - `_memo_reads`: a memoised value -> what working it out read (see `expand`);
    - `_in_progress`, `_cut`, `_room`, `_reached`: the stack of values being worked out and what
      they depend on through it (see the comments in `_init_reads`);
    - `_heights`: (table, key) -> the height a kept value reaches, for `_memo` and effects.

    Reads `tracking` (set by `Project`)."""

    def _init_reads(self) -> None:
        self._reads: Optional[set] = None  # what the value being worked out has read so far
        # A memoised value -> what working it out read: the names it read itself and the memoised
        # values it used, expanded only by `expand` (a union kept per value took 0.4 GB on mlflow).
        # An evaluated value is known by its own key, (function, ref), and keeps just its function's
        # name when that is all it read; the others by (table, key).
        self._memo_reads: Dict[tuple, object] = {}
        self._in_progress: Dict[object, int] = {}  # the values being worked out -> their place in the stack
        # The lowest place in the stack of values being worked out that the current one depends
        # on through a cut: a value asked for again while it is worked out (x = f(x), helpers
        # calling each other) cuts at that value's place; the call graph still being built cuts
        # below everything (_CUT_ALL). A value is kept (memoised) only if no cut reaches below
        # its own place: otherwise what it is depends on what was asked first.
        self._cut = _NO_CUT
        # How much deeper the current value could have been asked for and still be worked out
        # the same: the least room left under a depth limit by what it asked, below it. A value
        # with room r asked at depth d holds at any depth up to d + r; one that hit a limit
        # (negative room) holds only at the depth it was asked at (see `evaluate`).
        self._room = _NO_CUT
        # The deepest place in that stack that the values being worked out have reached (asked
        # for a value there, or used a kept one reaching there); a value's height is how far
        # below its own place that is. Kept with its height, a value is used only where it would
        # not reach past _MAX_NESTING (see `_fits`), so what is known does not depend on the
        # order things were asked in.
        self._reached = 0
        self._heights: Dict[object, int] = {}  # (table, key) -> height, for `_memo` and effects

    def note(self, name: object) -> None:
        if self._reads is not None:
            self._reads.add(name)

    @contextmanager
    def track(self, reads: set):
        """Collect into `reads` what everything worked out inside reads."""
        outer, self._reads = self._reads, reads
        try:
            yield reads
        finally:
            self._reads = outer
            if outer is not None:
                outer.update(reads)

    @contextmanager
    def untracked(self):
        """Work out a project-wide value: the names it reads are not what the asker depends on
        (the value itself is, under a name of its own)."""
        outer, self._reads = self._reads, None
        try:
            yield
        finally:
            self._reads = outer

    def _memo_hit(self, table: str, key: object) -> None:
        if self._reads is not None:
            self._reads.add((table, key))

    def expand(self, reads: Iterable[object]) -> set:
        """The names in `reads`, with the memoised values it used replaced by what they read."""
        names, seen, pending, memo_reads = set(), set(), list(reads), self._memo_reads
        while pending:
            item = pending.pop()
            used = memo_reads.get(item)
            if used is None:
                names.add(item)
            elif isinstance(used, str):
                names.add(used)
            elif item not in seen:
                seen.add(item)
                pending.extend(used)
        return names

    def _begin(self) -> Optional[set]:
        """Start collecting the reads of a value to memoise (always, in a tracked project: a value
        worked out where nothing is tracked, `untracked`, may be asked for later where something
        is); returns the outer collection."""
        outer = self._reads
        if self.tracking:
            self._reads = set()
        return outer

    def _end(self, outer: Optional[set], table: str, key: object, keep: bool) -> None:
        if not self.tracking:
            return
        inner, self._reads = self._reads, outer
        if keep:
            self._memo_reads[(table, key)] = tuple(inner)
            if outer is not None:
                outer.add((table, key))
        elif outer is not None:
            outer.update(inner)

    def _fits(self, height: int) -> bool:
        """Can a value kept with this height be used here? Worked out here it would reach that much
        deeper into the stack of values being worked out; past _MAX_NESTING it would have been cut
        short, so it is worked out again (and comes out cut short, as it would in any order)."""
        reach = len(self._in_progress) + height
        if reach >= _MAX_NESTING:
            return False
        if reach > self._reached:
            self._reached = reach
        return True

    def _enter(self, key: object) -> Tuple[int, Tuple[int, int, int]]:
        """Start working out a value that does not depend on the depth it is asked at (what it
        evaluates starts from depth 0); returns its place in the stack, and the cut, room and
        deepest place reached so far."""
        position = len(self._in_progress)
        self._in_progress[key] = position
        saved = (self._cut, self._room, self._reached)
        self._cut = self._room = _NO_CUT
        self._reached = position
        return position, saved

    def _leave(self, key: object, position: int, saved: Tuple[int, int, int]) -> Tuple[bool, int]:
        """Done working out a value: can it be kept, and its height (see `_fits`)?"""
        del self._in_progress[key]
        cut = self._cut
        self._cut = min(saved[0], cut if cut < position else _NO_CUT)
        self._room = saved[1]
        height, self._reached = self._reached - position, max(saved[2], self._reached)
        return cut >= position, height

    def _cut_at(self, key: object) -> None:
        self._cut = min(self._cut, self._in_progress[key])

    def _memo(self, table: str, memo: dict, key: object, compute: Callable[[], object], in_progress: object):
        """`compute()`, kept in `memo` under `key` unless worked out from a cut (see `_cut`), with
        what it read (tracked runs). Asked for again while it is worked out, it is `in_progress`,
        and that is a cut."""
        if key in memo and self._fits(self._heights[(table, key)]):
            self._memo_hit(table, key)
            return memo[key]
        if (table, key) in self._in_progress:
            self._cut_at((table, key))
            return in_progress
        if len(self._in_progress) >= _MAX_NESTING:
            self._cut = _CUT_ALL  # too deep to work out (see `evaluate`)
            return in_progress
        value, kept, height = self._work_out(table, key, compute)
        if kept:
            memo[key] = value
            self._heights[(table, key)] = height
        return value

    def _work_out(self, table: str, key: object, compute: Callable[[], object]) -> Tuple[object, bool, int]:
        """`compute()` as a value of its own in the stack of values being worked out, with what it
        read collected (tracked runs); returns it, whether it can be kept (see `_cut`) and its
        height (see `_fits`)."""
        position, saved = self._enter((table, key))
        outer = self._begin()
        try:
            value = compute()
        finally:
            kept, height = self._leave((table, key), position, saved)
            self._end(outer, table, key, kept)
        return value, kept, height
