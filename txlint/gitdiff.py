"""`--diff REV`: the lines changed since a git revision, and the findings in code they touch.

REV names one commit (a branch, a tag, `HEAD~3`, an id): the working tree, and the untracked files
that are not ignored, are compared with it. `A...B` compares the working tree with the merge base
of A and B, and B must be HEAD (`A...` says the same): in CI, `--diff origin/main...HEAD` gates only
what the branch changed, even after main moved on. `A..B` compares two commits, not the working
tree txlint checks, and is refused, as is anything that is not a commit: a tree, a blob, an empty
revision, or an option such as `--output=FILE`. In a shallow clone a revision or merge base that
is missing is reported as history to fetch.

The revision is resolved to a commit id before the diff is taken, so git never reads it as an
option, and the diff is read in one shape whatever the repository's attributes, the user's
configuration or the environment say: every file as text, no external diff or textconv command,
no colour, renames or context lines, and `a/` and `b/` prefixes.

A finding is kept when the function it is reported in changed, or a function on its call chain
changed: a helper it calls (its writes are part of the hazard) or a caller (whether a
transaction encloses it is decided there). Module-level code counts by its own lines, and an
untracked file counts as changed everywhere.
"""

import os
import re
import subprocess
from collections import deque
from typing import Dict, Iterable, List, Optional, Set, Tuple

from txlint.errors import UsageError
from txlint.findings import Finding

_ALL_LINES = None  # an untracked file: every line is new
Changes = Dict[str, Optional[Set[int]]]

_OLDEST_GIT = (2, 24)  # the first with --end-of-options
# Set for every git command: configuration that changes how names are written (diff.relative has
# no option before git 2.28; the prefixes are also given as options below). The user's other
# configuration still applies: safe.directory, for one, can be needed to run at all.
_PINNED_CONFIG = ("core.quotePath=false", "diff.relative=false", "diff.noprefix=false", "diff.mnemonicPrefix=false")
# The fixed shape of the diff: options win over any configuration or attribute (`-diff`, `binary`,
# `diff=driver`), and --no-pager and --no-color make pager and colour settings moot.
_DIFF_SHAPE = ("--no-color", "--no-ext-diff", "--no-textconv", "--text", "--no-renames", "--submodule=short",
               "--src-prefix=a/", "--dst-prefix=b/", "--inter-hunk-context=0", "--unified=0")
# GIT_DIFF_OPTS overrides even an explicit --unified; GIT_EXTERNAL_DIFF names a command to run.
_UNSET_ENVIRONMENT = ("GIT_DIFF_OPTS", "GIT_EXTERNAL_DIFF")
_FETCH_MORE = "a shallow clone: fetch more history, e.g. `fetch-depth: 0` in actions/checkout"


def changed_lines(revision: str) -> Changes:
    """Path (relative to the working directory) -> changed line numbers, or None for a new file."""
    _require_git()
    prefix = os.fsdecode(_git("rev-parse", "--show-prefix").rstrip(b"\n"))
    changes = _changes_in_patch(_git("diff", *_DIFF_SHAPE, _base_commit(revision), "--", "."), prefix)
    for name in _git("ls-files", "-z", "--others", "--exclude-standard", "--", ".").split(b"\0"):
        if name:
            changes[os.fsdecode(name)] = _ALL_LINES
    return changes


def _run_git(*args: str) -> "subprocess.CompletedProcess[bytes]":
    command = ["git", "--no-pager", "--no-optional-locks"]
    for setting in _PINNED_CONFIG:
        command += ["-c", setting]
    environment = {name: value for name, value in os.environ.items() if name not in _UNSET_ENVIRONMENT}
    try:
        return subprocess.run([*command, *args], stdin=subprocess.DEVNULL, capture_output=True, env=environment,
                              check=False)
    except FileNotFoundError:
        raise UsageError("--diff needs git, which is not installed") from None
    except OSError as error:
        raise UsageError(f"--diff: cannot run git: {error.strerror}") from None


def _git(*args: str) -> bytes:
    completed = _run_git(*args)
    if completed.returncode != 0:
        raise UsageError(f"--diff: {_git_error(completed.stderr)}")
    return completed.stdout


def _git_error(stderr: bytes) -> str:
    """git's own message: its "fatal:" or "error:" line, without the hints that follow it."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal: ", "error: ")):
            return line.split(": ", 1)[1]
    return lines[-1] if lines else "git failed"


def _require_git() -> None:
    version = _git("version").decode("utf-8", "replace").strip()
    release = re.search(r"(\d+)\.(\d+)", version)
    if release and (int(release[1]), int(release[2])) < _OLDEST_GIT:
        raise UsageError(f"--diff needs git {_OLDEST_GIT[0]}.{_OLDEST_GIT[1]} or later; this is {version}")


def _base_commit(revision: str) -> str:
    """The id of the commit the working tree is compared with: see the module's docstring."""
    if not revision:
        raise UsageError("--diff needs a revision, e.g. --diff origin/main")
    since, dots, until = revision.partition("...")
    if not dots:
        if ".." in revision and not revision.startswith("-"):
            since = revision.partition("..")[0] or "HEAD"
            raise UsageError(f"--diff: {_shown(revision)} is a range of two commits, but txlint checks the working "
                             f"tree: use --diff {since}...HEAD (changes since the merge base) or --diff {since}")
        return _commit(revision)
    since_id, head = _commit(since or "HEAD"), _commit("HEAD")
    if until and _commit(until) != head:
        raise UsageError(f"--diff: in {_shown(revision)}, {_shown(until)} must be HEAD: txlint checks the "
                         "working tree, which is at HEAD")
    merge_base = _run_git("merge-base", since_id, head)
    if merge_base.returncode == 0:
        return merge_base.stdout.decode("ascii").strip()
    if merge_base.returncode != 1:  # 1 is "none found"; anything else is git's own error
        raise UsageError(f"--diff: {_git_error(merge_base.stderr)}")
    where = f" in this clone ({_FETCH_MORE})" if _is_shallow() else ""
    raise UsageError(f"--diff: {_shown(since or 'HEAD')} and HEAD have no common ancestor{where}")


def _commit(name: str) -> str:
    """The id of the commit NAME names; a usage error says what NAME is instead."""
    if name.startswith("-"):
        raise UsageError(f"--diff: {_shown(name)} is not a revision (it starts with '-')")
    commit = _run_git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}")
    if commit.returncode == 0:
        return commit.stdout.decode("ascii").strip()
    other = _run_git("rev-parse", "--verify", "--quiet", "--end-of-options", name)
    if other.returncode == 0:
        kind = _git("cat-file", "-t", other.stdout.decode("ascii").strip()).decode("ascii").strip()
        raise UsageError(f"--diff: {_shown(name)} is a {kind}, not a commit")
    where = f"clone ({_FETCH_MORE})" if _is_shallow() else "repository"
    raise UsageError(f"--diff: {_shown(name)} is not a commit in this {where}")


def _is_shallow() -> bool:
    return _git("rev-parse", "--is-shallow-repository").strip() == b"true"


def _shown(name: str) -> str:
    """NAME as the message shows it: quoted if it would not print as one plain line."""
    return name if name.isprintable() else repr(name)


def _changes_in_patch(patch: bytes, prefix: str) -> Changes:
    """The new side's changed lines of each file in a `--unified=0` patch. A hunk's body is skipped
    by its count, so an added line that reads like a header ("+++ b/other.py") stays content."""
    changes: Changes = {}
    path: Optional[str] = None
    body_left = 0
    for line in patch.split(b"\n"):
        if body_left:
            if not line.startswith(b"\\"):  # "\ No newline at end of file" annotates the line before
                body_left -= 1
        elif line.startswith(b"+++ "):
            path = _new_path(line[4:], prefix)
            if path is not None:
                changes.setdefault(path, set())
        elif line.startswith(b"@@ "):
            lines, body_left = _hunk(line)
            if path is not None:
                changes[path].update(lines)
    return changes


def _hunk(header: bytes) -> Tuple[range, int]:
    """`@@ -a,b +c,d @@`: lines c .. c+d-1 of the new file, and the b + d lines of the hunk's body.
    A pure deletion (d = 0) marks the lines on both sides of it, c and c+1 (a deleted decorator
    changes the function below it)."""
    old, new = header.split(b" ")[1:3]
    start, count = _span(new)
    lines = range(start, start + 2) if count == 0 else range(start, start + count)
    return lines, _span(old)[1] + count


def _span(field: bytes) -> Tuple[int, int]:
    """`-a,b` or `+c` (a count of 1 goes unsaid) -> (start, count)."""
    start, _, count = field[1:].partition(b",")
    return int(start), (int(count) if count else 1)


def _new_path(field: bytes, prefix: str) -> Optional[str]:
    """The path after `+++ `, relative to the working directory; None for a deleted file."""
    if field.endswith(b"\t"):  # git ends a name that has a space with a tab
        field = field[:-1]
    name = _unquote(field)
    if name == b"/dev/null":
        return None
    if not name.startswith(b"b/"):
        raise UsageError(f"--diff: git's diff names a file without the b/ prefix asked for: {name!r}")
    path = os.fsdecode(name[2:])
    return path[len(prefix):] if prefix and path.startswith(prefix) else path


def _unquote(name: bytes) -> bytes:
    """git C-quotes names with unusual characters: "b/a\\"b.py", "b/tab\\there.py"."""
    if not (len(name) >= 2 and name.startswith(b'"') and name.endswith(b'"')):
        return name
    text, result, index = name[1:-1], bytearray(), 0
    while index < len(text):
        if text[index:index + 1] != b"\\" or index + 1 == len(text):
            result.append(text[index])
            index += 1
        elif text[index + 1:index + 4].isdigit():
            result.append(int(text[index + 1:index + 4], 8) & 0xFF)
            index += 4
        else:
            escaped = text[index + 1:index + 2]
            result += _ESCAPES.get(escaped, escaped)
            index += 2
    return bytes(result)


_ESCAPES = {b"a": b"\a", b"b": b"\b", b"t": b"\t", b"n": b"\n", b"v": b"\v", b"f": b"\f", b"r": b"\r"}


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
