"""`--diff REV`: the lines changed since a git revision, and the findings in functions they touch."""

import re
import subprocess
from typing import Dict, List, Tuple

from txlint.errors import UsageError
from txlint.findings import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ALL_LINES = None  # an untracked file: every line is new


def _git(*args: str) -> str:
    try:
        completed = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("--diff needs git, which is not installed") from None
    if completed.returncode != 0:
        message = completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "git failed"
        raise UsageError(f"--diff: {message}")
    return completed.stdout


def changed_lines(revision: str) -> Dict[str, object]:
    """Path (relative to the working directory) -> set of changed line numbers, or None for a new file."""
    prefix = _git("rev-parse", "--show-prefix").strip()
    changes: Dict[str, object] = {}
    current = None
    for line in _git("diff", "--no-color", "--no-ext-diff", "-U0", revision, "--", ".").splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = None if name == "/dev/null" else _relative(name[2:] if name.startswith("b/") else name, prefix)
            if current is not None:
                changes.setdefault(current, set())
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            start, count = int(match.group(1)), int(match.group(2) or 1)
            lines = changes[current]
            lines.update(range(start, start + max(count, 1)))
    for name in _git("ls-files", "--others", "--exclude-standard", "--", ".").splitlines():
        changes[name] = _ALL_LINES
    return changes


def _relative(path_from_top: str, prefix: str) -> str:
    return path_from_top[len(prefix):] if prefix and path_from_top.startswith(prefix) else path_from_top


def in_changed_code(findings: List[Finding], changes: Dict[str, object],
                    function_ranges: Dict[Tuple[str, str], Tuple[int, int]]) -> List[Finding]:
    """Findings whose enclosing function has a changed line (module-level code: the line itself)."""
    kept = []
    for finding in findings:
        if finding.path not in changes:
            continue
        lines = changes[finding.path]
        if lines is _ALL_LINES:
            kept.append(finding)
            continue
        start, end = function_ranges.get((finding.path, finding.function), (0, 0))
        if start == 0:  # module-level code (or a finding of no function): its own lines
            start, end = finding.line, finding.end_line
        if any(start <= line <= end for line in lines):
            kept.append(finding)
    return kept

