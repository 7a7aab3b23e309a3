"""Baselines: adopt txlint on a large codebase by recording today's findings and gating only new ones.

An entry is keyed on path, code, enclosing function and a hash of the normalised statement (the
reported call's source without whitespace), with a count: moved lines, code added elsewhere and
reformatting keep matching, while a second finding of the same kind in the same function is new.
Paths are stored relative to the baseline file, so the baseline matches from any directory.
"""

import json
import os
from collections import Counter
from typing import Iterable, List, Tuple

from txlint import __version__
from txlint.errors import UsageError
from txlint.findings import Finding
from txlint.fingerprint import statement_hash

_FORMAT = 1
Key = Tuple[str, str, str, str]


def _key(finding: Finding, base: str) -> Key:
    return _relative(finding.path, base), finding.code, finding.function, statement_hash(finding)


def _base(baseline_path: str) -> str:
    return os.path.dirname(os.path.abspath(baseline_path))


def _relative(path: str, base: str) -> str:
    return os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")


def write_baseline(path: str, findings: List[Finding], checked: Iterable[str] = ()) -> int:
    """Record the findings; entries of files this run did not check (but that still exist) are kept."""
    base = _base(path)
    counts = Counter(_key(finding, base) for finding in findings)
    if os.path.exists(path):
        checked_here = {_relative(name, base) for name in checked}
        for key, count in read_baseline(path).items():
            if key[0] not in checked_here and os.path.isfile(os.path.join(base, key[0])):
                counts[key] += count
    entries = [{"path": p, "code": c, "function": f, "statement": h, "count": n}
               for (p, c, f, h), n in sorted(counts.items())]
    document = {"txlint_baseline": _FORMAT, "version": __version__, "entries": entries}
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
    except OSError as error:
        raise UsageError(f"cannot write baseline {path}: {error.strerror or error}") from None
    return sum(counts.values())


def read_baseline(path: str) -> Counter:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise UsageError(f"--baseline: no such file: {path} (create it with --write-baseline)") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"--baseline: cannot read {path}: {error}") from None
    if not isinstance(document, dict) or document.get("txlint_baseline") != _FORMAT:
        raise UsageError(f"--baseline: {path} is not a txlint baseline file")
    counts: Counter = Counter()
    try:
        for entry in document["entries"]:
            counts[(entry["path"], entry["code"], entry["function"], entry["statement"])] += int(entry["count"])
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"--baseline: {path} has a malformed entry") from None
    return counts


def apply_baseline(findings: List[Finding], baseline: Counter, baseline_path: str,
                   checked: Iterable[str]) -> Tuple[List[Finding], int]:
    """The findings not covered by the baseline, and how many baselined findings in the checked
    files are gone (fixed)."""
    base = _base(baseline_path)
    checked_here = {_relative(name, base) for name in checked}
    remaining = Counter({key: count for key, count in baseline.items() if key[0] in checked_here})
    new = []
    for finding in findings:
        key = _key(finding, base)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(finding)
    return new, sum(count for count in remaining.values() if count > 0)
