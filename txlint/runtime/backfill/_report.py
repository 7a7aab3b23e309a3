"""The parity report: what a run read, wrote and skipped, per group when asked, as JSON and as a
short summary. Written even when the run fails or is interrupted."""

import json
import os
import re
import tempfile
import time
from typing import Any, Dict, List, Optional

from txlint.runtime.backfill._codec import plain
from txlint.runtime.backfill._store import now

_EXAMPLES = 20  # invalid items listed by key; the rest are only counted


def _counters() -> Dict[str, int]:
    return {"read": 0, "written": 0, "duplicates": 0, "invalid": 0, "failed": 0}


class Report:
    def __init__(self, name: str, run_id: str, dry_run: bool, batch_size: int):
        self.name = name
        self.run_id = run_id
        self.dry_run = dry_run
        self.batch_size = batch_size
        self.status = "running"
        self.error: Optional[str] = None
        self.started_at = now()
        self.finished_at: Optional[str] = None
        self._clock = time.monotonic()
        self.seconds = 0.0
        self.resumed_after: Any = None
        self.resumed = False
        self.last_key: Any = None
        self.batches = 0
        self.totals = _counters()
        self.groups: Dict[str, Dict[str, int]] = {}
        self.invalid_reasons: Dict[str, int] = {}
        self.invalid_examples: List[dict] = []
        self.failed_batches: List[dict] = []
        self.counts: Dict[str, Any] = {}
        self.slowest_batch = 0.0
        self.stopped_at_limit = False
        self.path: Optional[str] = None  # where the JSON report was written

    # -- counting --------------------------------------------------------------------------------
    def count(self, what: str, group: Any, amount: int = 1) -> None:
        self.totals[what] += amount
        if group is not None:
            self.groups.setdefault(str(group), _counters())[what] += amount

    def invalid(self, key: Any, group: Any, reason: str) -> None:
        self.count("invalid", group)
        self.invalid_reasons[reason] = self.invalid_reasons.get(reason, 0) + 1
        if len(self.invalid_examples) < _EXAMPLES:
            self.invalid_examples.append({"key": plain(key), "reason": reason})

    def failed(self, keys: List[Any], groups: List[Any], error: BaseException) -> None:
        for group in groups:
            self.count("failed", group)
        self.failed_batches.append({"first_key": plain(keys[0]), "last_key": plain(keys[-1]), "items": len(keys),
                                    "error": f"{type(error).__name__}: {error}".strip()})

    def batch_done(self, seconds: float) -> None:
        self.batches += 1
        self.slowest_batch = max(self.slowest_batch, seconds)

    def end(self, status: str, error: Optional[str] = None) -> None:
        self.status = status
        self.error = error
        self.finished_at = now()
        self.seconds = self.elapsed()

    def elapsed(self) -> float:
        return time.monotonic() - self._clock

    # -- parity ------------------------------------------------------------------------------------
    def parity(self) -> dict:
        """Every item read is accounted for; with count_source/count_target, a run over the whole
        source (not resumed) read every source item, and the target grew by what it wrote."""
        totals = self.totals
        accounted = totals["written"] + totals["duplicates"] + totals["invalid"] + totals["failed"]
        checks = {"every item read is accounted for": totals["read"] == accounted}
        whole = not self.resumed and not self.stopped_at_limit and self.status == "finished"
        if whole and "source" in self.counts:
            checks["every source item was read"] = _total(self.counts["source"]) == totals["read"]
        if not self.dry_run and "target_before" in self.counts and "target_after" in self.counts:
            grew = _total(self.counts["target_after"]) - _total(self.counts["target_before"])
            checks["the target grew by what was written"] = grew == totals["written"]
        return {"ok": all(checks.values()), "checks": checks}

    def as_dict(self) -> dict:
        seconds = self.seconds or self.elapsed()
        return {
            "backfill": self.name,
            "run_id": self.run_id,
            "mode": "dry-run" if self.dry_run else "execute",
            "status": self.status,
            "error": self.error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "resumed_after": plain(self.resumed_after),
            "last_key": plain(self.last_key),
            "stopped_at_limit": self.stopped_at_limit,
            "batch_size": self.batch_size,
            "batches": self.batches,
            **{what: amount for what, amount in self.totals.items() if what != "invalid"},
            "invalid": {"count": self.totals["invalid"], "reasons": dict(sorted(self.invalid_reasons.items())),
                        "examples": self.invalid_examples},
            "failed_batches": self.failed_batches,
            "groups": dict(sorted(self.groups.items())),
            "counts": {what: _plain_counts(value) for what, value in self.counts.items()},
            "parity": self.parity(),
            "timings": {"seconds": round(seconds, 3),
                        "items_per_second": round(self.totals["read"] / seconds, 1) if seconds else None,
                        "slowest_batch_seconds": round(self.slowest_batch, 3)},
        }

    def write(self, path: str) -> str:
        """The JSON report at `path` (in a directory: `backfill-<name>-<run id>.json` there), written
        to a temporary file first so a reader never sees half of it. Returns the file's path."""
        if os.path.isdir(path):
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)
            path = os.path.join(path, f"backfill-{safe}-{self.run_id}.json")
        directory = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(prefix=".backfill-report-", dir=directory)
        try:
            with os.fdopen(handle, "w") as stream:
                json.dump(self.as_dict(), stream, indent=2)
                stream.write("\n")
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        self.path = os.path.abspath(path)
        return self.path

    def summary(self) -> str:
        totals = self.totals
        verb = "would write" if self.dry_run else "wrote"
        lines = [f"backfill {self.name} run {self.run_id} ({'dry run' if self.dry_run else 'executed'}): {self.status}"
                 + (f": {self.error}" if self.error else ""),
                 f"  read {totals['read']}, {verb} {totals['written']}, skipped {totals['duplicates']} already "
                 f"present, {totals['invalid']} invalid, {totals['failed']} in {len(self.failed_batches)} failed "
                 f"batch{'es' if len(self.failed_batches) != 1 else ''}"]
        if self.resumed:
            lines.append(f"  resumed after key {plain(self.resumed_after)!r}")
        for reason, number in sorted(self.invalid_reasons.items()):
            lines.append(f"  invalid ({number}): {reason}")
        for failure in self.failed_batches[:5]:
            lines.append(f"  failed batch {failure['first_key']!r}..{failure['last_key']!r}: {failure['error']}")
        if self.last_key is not None:
            lines.append(f"  last key: {plain(self.last_key)!r}" + (
                " (the limit: run again to resume after it)" if self.stopped_at_limit else ""))
        parity = self.parity()
        lines.append("  parity: ok" if parity["ok"] else "  parity: NOT ok: " + "; ".join(
            check for check, passed in parity["checks"].items() if not passed))
        if self.dry_run:
            lines.append("  nothing was written: run again with --execute (execute=True) to write")
        return "\n".join(lines)


def _total(count: Any) -> int:
    return sum(count.values()) if isinstance(count, dict) else int(count)


def _plain_counts(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(group): number for group, number in sorted(value.items(), key=lambda item: str(item[0]))}
    return value
