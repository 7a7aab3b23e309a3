"""Errors that end a run with exit status 2 and a one-line message."""

from typing import Optional


class UsageError(Exception):
    """Bad command line, configuration or path: reported as one line on stderr, exit 2."""


class InternalErrorMessage(str):
    """The line an internal error (a bug in txlint or a rule) is reported with: a str, as
    `RunResult.internal_errors` holds, that also knows the file it happened in and the rule that
    failed (None when the failure is not one file's or not a rule's), for reports with locations."""

    path: Optional[str]
    rule: Optional[str]

    def __new__(cls, text: str, path: Optional[str] = None, rule: Optional[str] = None):
        message = super().__new__(cls, text)
        message.path, message.rule = path, rule
        return message


def internal_error(phase: str, error: BaseException, path: Optional[str] = None,
                   rule: Optional[str] = None, detail: str = "") -> InternalErrorMessage:
    """The one format of every internal error: "internal error while PHASE [PATH] [DETAIL]: Type:
    what; please report", e.g. "internal error while checking a.py with TXL101 multi-table-write
    (in a.f): RecursionError: maximum recursion depth exceeded; please report".
    The command line prefixes it with "txlint: " and escapes it (it may hold text from the tree)."""
    subject = "".join(f" {part}" for part in (path, detail) if part)
    what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return InternalErrorMessage(f"internal error while {phase}{subject}: {what}; please report", path, rule)
