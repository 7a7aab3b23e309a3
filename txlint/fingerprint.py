"""A finding's identity that survives moved lines and reformatting: path, code, function and the
normalised statement (no whitespace, no trailing commas)."""

import hashlib
import re

from txlint.findings import Finding

_TRAILING_COMMA = re.compile(r",(?=[)\]}])")


def normalised_statement(finding: Finding) -> str:
    return _TRAILING_COMMA.sub("", "".join(finding.statement.split()))


def fingerprint(finding: Finding) -> str:
    key = "\0".join((finding.path, finding.code, finding.function, normalised_statement(finding)))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
