"""Fixes for findings: the public API that `txlint check --fix` and the language server share.

Usage (an editor's code actions, or any other front end)::

    from txlint.fixes import fixes_for_text, apply_fixes

    result = check_buffer(filename, text, options)          # or check_paths(...): the project's findings
    fixes = fixes_for_text(result.findings, text, path)      # path: the findings' `path` of this file
    for fix in fixes:
        fix.code, fix.title, fix.safe                        # "TXL101", "decorate ... with @transaction.atomic", True
        fix.edits                                            # TextEdits against `text`
        fix.new_text                                         # `text` with this fix alone applied
    new_text, applied = apply_fixes(text, fixes)             # several at once (skips ones that overlap)

- `findings` are the findings of the whole project run (txlint.session.check_paths or
  check_buffer), so a fix is decided with the project around it (a helper's transaction where
  it is called); only those whose `path` equals `path` are used (all, when `path` is None).
  `text` must be the text those findings were computed from: a fix computed for other text is
  wrong, so re-run the check when the text changes.
- Each `Fix` is for one finding (`fix.finding`); a finding has at most one fix, and findings
  with no mechanical fix have none. `safe` is False for fixes that may change behaviour
  (`--unsafe-fixes` on the command line); each rule's *Fix* section says which are which.
- `TextEdit` positions: `start_line`/`end_line` are 1-based (as findings' lines are),
  `start_column`/`end_column` 0-based, counted in characters (Python `str` indices, not UTF-16
  code units: an LSP client converts), with the end exclusive. A fix's edits are sorted and do
  not overlap; lines end at "\\n", "\\r\\n" or "\\r".
- Every fix's `new_text` compiles (checked with `compile()`); a fix that would not is dropped.

libcst is imported only by `fixes_for_text` (through txlint.fixes.editing), never by importing
this module.
"""

import bisect
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from txlint.findings import Finding

__all__ = ["Fix", "TextEdit", "apply_fixes", "fixes_for_text"]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass(frozen=True)
class TextEdit:
    """Replace the text from (start_line, start_column) up to (end_line, end_column) with `new_text`."""

    start_line: int  # 1-based
    start_column: int  # 0-based, in characters
    end_line: int
    end_column: int
    new_text: str


@dataclass(frozen=True)
class Fix:
    finding: Finding
    code: str
    title: str
    safe: bool
    edits: Tuple[TextEdit, ...]
    new_text: str  # the whole text with this fix alone applied


def fixes_for_text(findings: Iterable[Finding], text: str, path: Optional[str] = None,
                   rules: Optional[Sequence] = None) -> List[Fix]:
    """The fixes available for `findings` in `text`, one per finding that has one, in finding order."""
    from txlint.fixes.editing import FunctionEdit, ParsedModule
    from txlint.rules import all_rules

    by_code = {rule.code: rule for rule in (rules if rules is not None else all_rules())}
    wanted = [finding for finding in findings
              if finding.fix is not None and (path is None or finding.path == path)
              and by_code.get(finding.code) is not None and by_code[finding.code].fix is not None]
    if not wanted:
        return []
    try:
        parsed = ParsedModule(text)
    except Exception:  # libcst cannot parse what ast could (a rare syntax): no fixes, never a crash
        return []
    fixes = []
    for finding in sorted(wanted, key=Finding.sort_key):
        edit = FunctionEdit(parsed, finding.fix, finding.function.rsplit(".", 1)[-1])
        try:
            if not edit.found or not by_code[finding.code].fix(edit):
                continue
            new_text = edit.result()
        except Exception:  # a fix that fails on code it did not foresee is not offered: the finding stays
            continue
        if new_text is None or not _compiles(new_text, finding.path):
            continue
        fixes.append(Fix(finding, finding.code, finding.fix.title, finding.fix.safe, _edits(text, new_text), new_text))
    return fixes


def apply_fixes(text: str, fixes: Iterable[Fix]) -> Tuple[str, List[Fix]]:
    """`text` with the fixes applied, and the ones applied: a fix whose edits overlap an applied
    one's is left out (fix again, after a new check, to apply it); an edit two fixes share (the
    same import added) is made once."""
    applied: List[Fix] = []
    taken: Dict[Tuple[int, int], str] = {}  # (start, end) offset -> new text
    starts = _line_starts(text)
    for fix in fixes:
        spans = [(_offset(starts, edit.start_line, edit.start_column), _offset(starts, edit.end_line, edit.end_column),
                  edit.new_text) for edit in fix.edits]
        new = [span for span in spans if taken.get(span[:2]) != span[2]]
        if not new:
            continue  # the same fix again: already made
        if any(_overlap(span, other) for span in new for other in taken):
            continue
        taken.update({span[:2]: span[2] for span in new})
        applied.append(fix)
    result = text
    for (start, end), new_text in sorted(taken.items(), reverse=True):
        result = result[:start] + new_text + result[end:]
    return result, applied


def _overlap(span: Tuple[int, int, str], other: Tuple[int, int]) -> bool:
    start, end = span[:2]
    if start == end == other[0] == other[1]:
        return True  # two insertions at one place: their order would be a guess
    return start < other[1] and other[0] < end or (start == end and other[0] < start < other[1]) or \
        (other[0] == other[1] and start < other[0] < end)


def _compiles(text: str, path: str) -> bool:
    try:
        compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def lines_with_ends(text: str) -> List[str]:
    """The text's lines, each with its line break (\\n, \\r\\n or \\r, as Python counts lines)."""
    return _LINE.findall(text)


def _line_starts(text: str) -> List[int]:
    starts, offset = [0], 0
    for line in lines_with_ends(text):
        offset += len(line)
        starts.append(offset)
    return starts


def _offset(starts: List[int], line: int, column: int) -> int:
    return starts[min(line, len(starts)) - 1] + column


def _position(text: str, starts: List[int], offset: int) -> Tuple[int, int]:
    index = bisect.bisect_right(starts, offset) - 1
    if index == len(starts) - 1 and index > 0 and not text.endswith(("\n", "\r")):
        index -= 1  # the end of a text whose last line has no line break: that line's end
    return index + 1, offset - starts[index]


def _edits(old: str, new: str) -> Tuple[TextEdit, ...]:
    """The changed lines of `new` against `old`, as edits of whole lines."""
    import difflib

    old_lines, new_lines = lines_with_ends(old), lines_with_ends(new)
    starts = _line_starts(old)
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, first, last, new_first, new_last in matcher.get_opcodes():
        if tag == "equal":
            continue
        start, end = starts[first], starts[last]
        edits.append(TextEdit(*_position(old, starts, start), *_position(old, starts, end),
                              "".join(new_lines[new_first:new_last])))
    return tuple(edits)
