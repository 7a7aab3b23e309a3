"""Baselines: adopt txlint on a large codebase by recording today's findings and gating only new ones.

An entry is keyed on path, code, enclosing function and a hash of the normalised statement, with
a count: moved lines, code added elsewhere and reformatting keep matching, while a second
finding of the same kind in the same function is new.
"""

import json
from collections import Counter
from typing import List, Tuple

from txlint import __version__
from txlint.errors import UsageError
from txlint.findings import Finding
from txlint.fingerprint import fingerprint

_FORMAT = 1


def _key(finding: Finding) -> Tuple[str, str, str, str]:
    return finding.path, finding.code, finding.function, fingerprint(finding)


def write_baseline(path: str, findings: List[Finding]) -> int:
    counts = Counter(_key(finding) for finding in findings)
    entries = [{"path": p, "code": c, "function": f, "fingerprint": h, "count": n}
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
            counts[(entry["path"], entry["code"], entry["function"], entry["fingerprint"])] += int(entry["count"])
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"--baseline: {path} has a malformed entry") from None
    return counts


def apply_baseline(findings: List[Finding], baseline: Counter) -> Tuple[List[Finding], int]:
    """The findings not covered by the baseline, and how many baselined findings are gone (fixed)."""
    remaining = Counter(baseline)
    new = []
    for finding in findings:
        key = _key(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(finding)
    return new, sum(count for count in remaining.values() if count > 0)
