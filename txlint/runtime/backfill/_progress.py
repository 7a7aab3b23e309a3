"""Progress while a run goes: one line rewritten in place on a terminal (items/s, ETA), plain
lines at most every few seconds otherwise (a log file or CI gets no carriage returns)."""

import time
from typing import Optional, TextIO


class Progress:
    def __init__(self, stream: TextIO, tty: Optional[bool] = None, interval: float = 5.0):
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval = interval if not self.tty else 0.1
        self.total: Optional[int] = None
        self.shown: Optional[float] = None  # when a line was last shown; the first batch always is
        self.began = time.monotonic()

    def start(self, report, total: Optional[int]) -> None:
        self.total = total
        self.began = time.monotonic()
        mode = "dry run" if report.dry_run else "executing"
        after = f", resuming after key {report.resumed_after!r}" if report.resumed else ""
        self.stream.write(f"backfill {report.name} run {report.run_id} ({mode}{after})\n")
        self.stream.flush()

    def line(self, report) -> str:
        read = report.totals["read"]
        seconds = max(time.monotonic() - self.began, 1e-9)
        rate = read / seconds
        parts = [f"{read}" + (f"/{self.total}" if self.total else "") + " items",
                 f"{report.totals['written']} {'to write' if report.dry_run else 'written'}",
                 f"{report.totals['duplicates']} present", f"{report.totals['invalid']} invalid",
                 f"{rate:,.0f} items/s"]
        if self.total and rate > 0 and read <= self.total:
            parts.append(f"ETA {_duration((self.total - read) / rate)}")
        if report.failed_batches:
            parts.append(f"{len(report.failed_batches)} failed batches")
        return "  " + ", ".join(parts)

    def update(self, report) -> None:
        now = time.monotonic()
        if self.shown is not None and now - self.shown < self.interval:
            return
        self.shown = now
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line(report))
        else:
            self.stream.write(self.line(report) + "\n")
        self.stream.flush()

    def finish(self, report) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(self.line(report) + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
