"""Output formats. A reporter turns a run's result into text; the registry maps --format names to them."""

import sys
from importlib import import_module
from typing import Callable, Optional, TextIO

from txlint.run_state import RunResult
from txlint.reporters.escape import visible

Reporter = Callable[[RunResult, "ReportOptions"], str]


class ReportOptions:
    def __init__(self, color: bool = False, rules=()):
        self.color = color
        self.rules = {rule.code: rule for rule in rules}


# --format name -> the module that renders it (imported when chosen: junit alone pulls in an XML library)
_MODULES = {"text": "text", "json": "json_format", "github": "github", "sarif": "sarif", "junit": "junit",
            "gitlab": "gitlab"}
FORMATS = tuple(_MODULES)


def render(name: str, result: RunResult, options: ReportOptions) -> str:
    module = import_module(f"{__name__}.{_MODULES[name]}")
    return module.render(result, options)


def write_output(stream: TextIO, text: str) -> None:
    """Write `text` to `stream`; what the stream's encoding cannot represent (a strict ASCII
    stdout, `LC_ALL=C`) is written as a backslash escape, never an error and never a lost report."""
    encoding = getattr(stream, "encoding", None)
    if encoding:
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    stream.write(text)


def stderr_line(text: str, stream: Optional[TextIO] = None) -> None:
    """Print `text` (which may hold paths, names or exception messages from the analysed tree) as
    exactly one line on stderr: its control characters shown as escapes."""
    write_output(stream or sys.stderr, visible(text) + "\n")
