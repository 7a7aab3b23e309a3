"""`--diff REV`: the lines changed since a git revision, and the findings in code they touch.

A finding is kept when the function it is reported in changed, or a function on its call chain
changed: a helper it calls (its writes are part of the hazard) or a caller (whether a
transaction encloses it is decided there). Module-level code counts by its own lines, and an
untracked file counts as changed everywhere.
"""

import subprocess
from collections import deque
from typing import Dict, Iterable, List, Optional, Set, Tuple

from txlint.errors import UsageError
from txlint.findings import Finding

_ALL_LINES = None  # an untracked file: every line is new
Changes = Dict[str, Optional[Set[int]]]


def _git(*args: str) -> str:
    try:
        completed = subprocess.run(["git", "-c", "core.quotePath=false", *args], capture_output=True,
                                   check=False)
    except FileNotFoundError:
        raise UsageError("--diff needs git, which is not installed") from None
    if completed.returncode != 0:
        error = completed.stderr.decode("utf-8", "replace").strip()
        raise UsageError(f"--diff: {error.splitlines()[-1] if error else 'git failed'}")
    return completed.stdout.decode("utf-8", "surrogateescape")


def changed_lines(revision: str) -> Changes:
    """Path (relative to the working directory) -> changed line numbers, or None for a new file."""
    prefix = _git("rev-parse", "--show-prefix").strip()
    changes: Changes = {}
    current = None
    diff = _git("diff", "--no-color", "--no-ext-diff", "--no-renames", "-U0", revision, "--", ".")
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = _unquote(line[4:].rstrip("\t"))
            current = None if name == "/dev/null" else _relative(name[2:] if name.startswith("b/") else name, prefix)
            if current is not None:
                changes.setdefault(current, set())
        elif line.startswith("@@ ") and current is not None:
            changes[current].update(_hunk_lines(line))
    for name in _git("ls-files", "-z", "--others", "--exclude-standard", "--", ".").split("\0"):
        if name:
            changes[name] = _ALL_LINES
    return changes


def _hunk_lines(header: str) -> range:
    """`@@ -a,b +c,d @@`: lines c .. c+d-1 of the new file; a pure deletion (d = 0) marks the lines
    on both sides of it, c and c+1 (a deleted decorator changes the function below it)."""
    new = header.split(" ")[2][1:]
    start, _, count = new.partition(",")
    if count == "0":
        return range(int(start), int(start) + 2)
    return range(int(start), int(start) + int(count or 1))


def _unquote(name: str) -> str:
    """git C-quotes names with unusual characters: "b/a\\"b.py"."""
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name
    text, result, index = name[1:-1], bytearray(), 0
    while index < len(text):
        char = text[index]
        if char != "\\" or index + 1 == len(text):
            result += char.encode("utf-8", "surrogateescape")
            index += 1
        elif text[index + 1:index + 4].isdigit():
            result.append(int(text[index + 1:index + 4], 8) & 0xFF)
            index += 4
        else:
            result += _ESCAPES.get(text[index + 1], text[index + 1]).encode("utf-8", "surrogateescape")
            index += 2
    return result.decode("utf-8", "surrogateescape")


_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r"}


def _relative(path_from_top: str, prefix: str) -> str:
    return path_from_top[len(prefix):] if prefix and path_from_top.startswith(prefix) else path_from_top


def changed_functions(changes: Changes, function_ranges: Dict[Tuple[str, str], Tuple[int, int]]) -> Set[str]:
    """Qualified names of the functions with a changed line (decorators included)."""
    changed = set()
    for (path, qualname), (start, end) in function_ranges.items():
        if start == 0 or path not in changes:
            continue  # module-level code is judged by line
        lines = changes[path]
        if lines is _ALL_LINES or any(start <= line <= end for line in lines):
            changed.add(qualname)
    return changed


def _reachable(start: str, graph: Dict[str, Iterable[str]]) -> Set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for neighbour in graph.get(queue.popleft(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return seen


def in_changed_code(findings: List[Finding], changes: Changes,
                    function_ranges: Dict[Tuple[str, str], Tuple[int, int]],
                    calls: Optional[Dict[str, Tuple[str, ...]]] = None) -> List[Finding]:
    """The findings in changed code: see the module's docstring."""
    calls = calls or {}
    callers: Dict[str, List[str]] = {}
    for caller, callees in calls.items():
        for callee in callees:
            callers.setdefault(callee, []).append(caller)
    changed = changed_functions(changes, function_ranges)
    related: Dict[str, bool] = {}
    kept = []
    for finding in findings:
        lines = changes.get(finding.path, set())
        if lines is _ALL_LINES:
            kept.append(finding)
            continue
        start, _ = function_ranges.get((finding.path, finding.function), (0, 0))
        if start == 0:  # module-level code, or an engine finding such as TXL001: its own lines
            if any(finding.line <= line <= finding.end_line for line in lines):
                kept.append(finding)
            continue
        if finding.function not in related:
            chain = _reachable(finding.function, calls) | _reachable(finding.function, callers)
            related[finding.function] = bool(chain & changed)
        if related[finding.function]:
            kept.append(finding)
    return kept
