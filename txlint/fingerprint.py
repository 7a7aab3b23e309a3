"""A finding's identity that survives moved lines and reformatting: path, code, function and the
normalised statement (no whitespace, no trailing commas)."""

import hashlib
import re
from collections import Counter
from typing import Iterable, List

from txlint.findings import Finding

_TRAILING_COMMA = re.compile(r",(?=[)\]}])")


def normalised_statement(finding: Finding) -> str:
    return _TRAILING_COMMA.sub("", "".join(finding.statement.split()))


def fingerprint(finding: Finding) -> str:
    key = "\0".join((finding.path, finding.code, finding.function, normalised_statement(finding)))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def statement_hash(finding: Finding) -> str:
    return hashlib.sha256(normalised_statement(finding).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def unique_fingerprints(findings: Iterable[Finding]) -> List[str]:
    """One fingerprint per finding, distinct within the run: the second identical hazard in a
    function gets its own (reports such as GitLab's merge findings with equal fingerprints)."""
    seen: Counter = Counter()
    result = []
    for finding in findings:
        base = fingerprint(finding)
        seen[base] += 1
        count = seen[base]
        result.append(base if count == 1 else hashlib.sha256(f"{base}:{count}".encode()).hexdigest()[:32])
    return result
