"""What a long run is doing, shown on a terminal: files parsed, then the project resolved.

Only a run that parses many files shows it (a first run over a large repository), only when
stderr is a terminal, and the line is erased when the run is done: CI logs, pre-commit and
editors see nothing of it.
"""

import sys
import time
from typing import Optional, TextIO

_SHOWN_FROM = 200  # files to parse: fewer take a second or two, nothing to watch
_EVERY = 0.1  # seconds between updates of the line


class Progress:
    def __init__(self, stream: Optional[TextIO] = None):
        self.stream = stream or sys.stderr
        self.total = self.done = 0
        self.enabled = self.shown = False
        self._last = 0.0

    def start(self, total: int) -> None:
        """`total` files are to be parsed."""
        self.total, self.done = total, 0
        try:
            self.enabled = total >= _SHOWN_FROM and self.stream.isatty()
        except (AttributeError, ValueError):  # a replaced or closed stderr
            self.enabled = False

    def parsed(self) -> None:
        """One more file parsed."""
        self.done += 1
        if self.enabled and (time.monotonic() - self._last >= _EVERY or self.done == self.total):
            self._show(f"txlint: parsed {self.done}/{self.total} files")

    def resolving(self) -> None:
        if self.enabled:
            self._show(f"txlint: parsed {self.total} files; resolving the project and checking it")

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False

    def _show(self, text: str) -> None:
        self._last = time.monotonic()
        self.stream.write(f"\r\033[K{text}")
        self.stream.flush()
        self.shown = True
