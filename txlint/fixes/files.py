"""Fixes applied to files (`txlint check --fix`) or shown as a unified diff (`--show-fixes`).

Each file is read as bytes, decoded as Python decodes it, fixed as text (txlint.fixes) and
encoded back the same way (its byte order mark and coding cookie kept); a file whose size or
modification time differs from when it was checked is not touched, and a file is replaced in one
rename, so an interrupted run never leaves it half written.
"""

import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from txlint.findings import Finding
from txlint.fixes import Fix, apply_fixes, fixes_for_text, lines_with_ends

FileStamp = Tuple[int, int]  # (size, modification time in ns)


@dataclass
class FixRun:
    applied: List[Fix] = field(default_factory=list)
    unsafe_left: int = 0  # unsafe fixes not applied (no --unsafe-fixes)
    diffs: List[str] = field(default_factory=list)  # unified diffs, for --show-fixes
    warnings: List[str] = field(default_factory=list)
    files: List[str] = field(default_factory=list)  # the files changed (or that would be)


def stamp(path: str) -> Optional[FileStamp]:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def stamps(paths: Iterable[str]) -> Dict[str, Optional[FileStamp]]:
    """Every file's stamp, taken before it is checked."""
    return {os.path.abspath(path): stamp(path) for path in paths}


def fix_files(findings: Iterable[Finding], checked: Dict[str, Optional[FileStamp]], unsafe: bool,
              write: bool, rules=None) -> FixRun:
    """Fix the findings' files (`write`), or make the diff of what fixing them would change."""
    from txlint.source import _source_encoding, decode

    run = FixRun()
    by_path: Dict[str, List[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.fix is not None:
            by_path[finding.path].append(finding)
    for path, found in sorted(by_path.items()):
        before = checked.get(os.path.abspath(path))
        if os.path.islink(path):  # replacing it would turn the link into a file; writing through it, leave the project
            run.warnings.append(f"{path} is a symbolic link; not fixed (fix the file it points to)")
            continue
        if before is None or stamp(path) != before:
            run.warnings.append(f"{path} changed since it was checked; not fixed (run txlint again)")
            continue
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            run.warnings.append(f"cannot read {path}: {error.strerror or error}; not fixed")
            continue
        text, problem = decode(data, path)
        if text is None or problem is not None:
            continue
        fixes = fixes_for_text(found, text, path, rules)
        chosen = [fix for fix in fixes if fix.safe or unsafe]
        run.unsafe_left += len(fixes) - len(chosen)
        new_text, applied = apply_fixes(text, chosen)
        if not applied:
            continue
        encoding, start, _, _ = _source_encoding(data)
        try:
            new_data = data[:start] + new_text.encode(encoding)
        except UnicodeError:
            run.warnings.append(f"cannot encode the fixed {path} as {encoding}; not fixed")
            continue
        if write:
            problem = _replace(path, new_data, before)
            if problem:
                run.warnings.append(problem)
                continue
        else:
            run.diffs.append(_diff(path, text, new_text))
        run.applied.extend(applied)
        run.files.append(path)
    return run


def _replace(path: str, data: bytes, before: FileStamp) -> Optional[str]:
    """Write `data` to `path` in one rename, keeping its permissions; None, or why not."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".txlint-fix-")
    except OSError as error:
        return f"cannot write {path}: {error.strerror or error}; not fixed"
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        if stamp(path) != before:
            os.unlink(temporary)
            return f"{path} changed while it was being fixed; not fixed (run txlint again)"
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        return f"cannot write {path}: {error.strerror or error}; not fixed"
    return None


def _diff(path: str, old: str, new: str) -> str:
    import difflib

    shown = path.replace(os.sep, "/")
    lines = difflib.unified_diff(lines_with_ends(old), lines_with_ends(new), f"a/{shown}", f"b/{shown}")
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                   for line in lines)
