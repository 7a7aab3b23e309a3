"""Errors that end a run with exit status 2 and a one-line message."""


class UsageError(Exception):
    """Bad command line, configuration or path: reported as one line on stderr, exit 2."""
