"""Baselines: adopt txlint on a large codebase by recording today's findings and gating only new ones.

An entry is keyed on path, code, enclosing function (its name within the module) and a hash of
the normalised statement (the reported call's source without whitespace), with a count: moved lines, code added elsewhere and
reformatting keep matching, while a second finding of the same kind in the same function is new.
Paths are stored relative to the baseline file, so the baseline matches from any directory.
"""

import json
import os
import reprlib
from collections import Counter
from typing import Iterable, List, Optional, Tuple

from txlint import __version__
from txlint.errors import UsageError
from txlint.findings import Finding
from txlint.fingerprint import statement_hash
from txlint.input_files import read_regular_file

_FORMAT = 1
Key = Tuple[str, str, str, str]
_KEY_FIELDS = ("path", "code", "function", "statement")


def _key(finding: Finding, base: str) -> Key:
    path = _relative(finding.path, base)
    return path, finding.code, _in_module(finding.function, path), statement_hash(finding)


def _in_module(function: str, path: str) -> str:
    """A function's name within its module (`Checkout.place` for `shop.views.Checkout.place`, ""
    for module-level code): the path already names the module, and the module's dotted name
    depends on where the project root is (a directory named with no configuration or git work
    tree above it is a project of its own). A module's name is always the last parts of its path,
    so the longest such prefix is removed; entries written with module names match too."""
    parts = function.split(".")
    path_parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if path_parts[-1] == "__init__":
        path_parts.pop()
    for length in range(min(len(parts), len(path_parts)), 0, -1):
        if parts[:length] == path_parts[-length:]:
            return ".".join(parts[length:])
    return function


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
        for key, count in read_baseline(path, "--write-baseline").items():
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


def read_baseline(path: str, option: str = "--baseline") -> Counter:
    """The counts a baseline file records; `option` is the command-line option that named it."""
    try:
        document = json.loads(read_regular_file(path))
    except FileNotFoundError:
        raise UsageError(f"{option}: no such file: {path} (create it with --write-baseline)") from None
    except OSError as error:
        raise UsageError(f"{option}: cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:  # not JSON, not UTF-8, or an integer of more digits than Python converts
        raise UsageError(f"{option}: cannot read {path}: {error}") from None
    except RecursionError:  # json decodes nested arrays and objects recursively
        raise UsageError(f"{option}: cannot read {path}: nested too deeply") from None
    except MemoryError:
        raise UsageError(f"{option}: cannot read {path}: too large") from None
    format_number = document.get("txlint_baseline") if isinstance(document, dict) else None
    if not _is_integer(format_number) or format_number != _FORMAT:
        raise UsageError(f"{option}: {path} is not a txlint baseline file")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise UsageError(f"{option}: {path} is not a txlint baseline file: `entries` must be a list")
    counts: Counter = Counter()
    for number, entry in enumerate(entries, 1):
        problem = _entry_problem(entry)
        if problem is not None:
            raise UsageError(f"{option}: {path} has a malformed entry {number}: {problem}")
        counts[(entry["path"], entry["code"], _in_module(entry["function"], entry["path"]), entry["statement"])] \
            += entry["count"]
    return counts


def _entry_problem(entry) -> Optional[str]:
    """What is wrong with a baseline entry, or None when it is one `write_baseline` could write."""
    if not isinstance(entry, dict):
        return f"not an object, got {reprlib.repr(entry)}"
    for name in (*_KEY_FIELDS, "count"):
        if name not in entry:
            return f"no `{name}`"
    for name in _KEY_FIELDS:
        if not isinstance(entry[name], str):
            return f"`{name}` must be a string, got {reprlib.repr(entry[name])}"
    if not _is_integer(entry["count"]) or entry["count"] < 1:
        return f"`count` must be a positive integer, got {reprlib.repr(entry['count'])}"
    return None


def _is_integer(value) -> bool:
    # JSON's true and false are Python bools, which are ints: here they are not numbers.
    return isinstance(value, int) and not isinstance(value, bool)


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
