"""`run(backfill)`: the batches, each one `atomic` transaction that also records the checkpoint
(and the ledger), so a run killed at any point resumes after the last batch that committed."""

import datetime
import secrets
import time
from typing import Any, Iterator, List, Optional

from txlint.runtime._transaction import atomic
from txlint.runtime.backfill._codec import KeyTypeError, encode_key
from txlint.runtime.backfill._declare import Backfill, Batch, positive
from txlint.runtime.backfill._lock import run_lock
from txlint.runtime.backfill._report import Report
from txlint.runtime.backfill._sql import BackfillError, sql_for
from txlint.runtime.backfill._store import Store


class SourceOrderError(BackfillError):
    """The source gave a key that is not above the one before it: a checkpoint could skip items."""


class _DryRun(Exception):
    """Raised at the end of a dry run's batch so that `atomic` rolls it back."""


def new_run_id() -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def run(backfill: Backfill, *, execute: bool = False, batch_size: Optional[int] = None, limit: Optional[int] = None,
        restart: bool = False, wait: bool = False, report_path: Optional[str] = None, progress=None) -> Report:
    """Run `backfill`: a dry run (every batch rolled back) unless `execute`. Returns the report;
    a failed batch is in it, not raised. Raises BackfillError when the run cannot start (another
    run holds the lock, a target the runner does not know), and re-raises an interruption
    (KeyboardInterrupt, SystemExit) after recording it. The report is written to `report_path`
    in every case once the run has an id."""
    if not isinstance(backfill, Backfill):
        raise BackfillError(f"run() needs a txlint.runtime.backfill.Backfill, not {type(backfill).__name__}")
    size = backfill.batch_size if batch_size is None else positive(batch_size, "batch_size")
    if limit is not None:
        limit = positive(limit, "limit")
    report = Report(backfill.name, new_run_id(), not execute, size)
    runner = _Runner(backfill, report, size, limit, progress)
    try:
        runner.start(restart, wait)
        runner.batches()
    except BaseException as error:
        interrupted = isinstance(error, (KeyboardInterrupt, SystemExit))
        report.end("interrupted" if interrupted else "failed", f"{type(error).__name__}: {error}".strip())
        raise
    finally:
        runner.close(report_path)
    return report


class _Runner:
    def __init__(self, backfill: Backfill, report: Report, batch_size: int, limit: Optional[int], progress):
        self.backfill = backfill
        self.report = report
        self.batch_size = batch_size
        self.limit = limit
        self.progress = progress
        self.store = Store(backfill.table_prefix)
        self.lock = None
        self.started = False
        self.after: Any = None  # the last key done: the checkpoint
        self.next_seq = 0  # the run's next ledger entry
        # A dry run rolls each batch back, so the target never shows what earlier batches would
        # have written: their dedupe keys are remembered here instead, to count the same duplicates.
        self.would_have_written: set = set()

    @property
    def dry_run(self) -> bool:
        return self.report.dry_run

    # -- start -------------------------------------------------------------------------------------
    def start(self, restart: bool, wait: bool) -> None:
        target = self.backfill.target
        with atomic(target) as transaction:
            dialect = sql_for(target, transaction).dialect
        if not self.dry_run:
            lock = run_lock(target, dialect, self.backfill.name)
            lock.acquire(wait)
            self.lock = lock  # released at the end, however the run ends
            with atomic(target) as transaction:
                self.store.create(sql_for(target, transaction))
        with atomic(target) as transaction:
            sql = sql_for(target, transaction)
            found, key = self.store.checkpoint(sql, self.backfill.name) if (
                not self.dry_run or self.store.exists(sql)) else (False, None)
            if restart:
                found, key = False, None
            if not self.dry_run:
                if restart:
                    self.store.set_checkpoint(sql, self.backfill.name, None, self.report.run_id)
                self.store.start_run(sql, self.report.run_id, self.backfill.name, key, self.backfill.ledger)
        self.started = True
        self.after = key
        self.report.resumed = found and key is not None
        self.report.resumed_after = key
        self._count("source", self.backfill.count_source)
        self._count("target_before", self.backfill.count_target)
        if self.progress is not None:
            total = self.limit or (None if self.report.resumed else _number(self.report.counts.get("source")))
            self.progress.start(self.report, total)

    def _count(self, what: str, counter) -> None:
        if counter is None:
            return
        try:
            with atomic(self.backfill.target) as transaction:
                batch = Batch(self.report.run_id, self.dry_run, transaction,
                              sql_for(self.backfill.target, transaction), False)
                self.report.counts[what] = counter(batch)
        except Exception as error:
            self.report.counts[f"{what}_error"] = f"{type(error).__name__}: {error}"

    # -- batches -----------------------------------------------------------------------------------
    def batches(self) -> None:
        pending = None if callable(self.backfill.source) else self._iterate(iter(self.backfill.source))
        remaining = self.limit
        while True:
            size = self.batch_size if remaining is None else min(self.batch_size, remaining)
            if size == 0:
                self.report.stopped_at_limit = True
                break
            try:
                items = None if pending is None else _take(pending, size)
            except SourceOrderError as error:  # an iterable source is read between batches
                self.report.end("failed", f"{type(error).__name__}: {error}")
                break
            if items == []:
                break
            done = self._batch(items, size)
            if done is None:
                break
            if remaining is not None:
                remaining -= done
            if self.progress is not None:
                self.progress.update(self.report)
        if self.report.status == "running":
            self.report.end("finished")

    def _iterate(self, items: Iterator) -> Iterator:
        """The items of an iterable source after the checkpoint the run started from (the ones up to
        it are done); the rest go to `_keys`, which refuses a key out of order."""
        start = self.after
        for item in items:
            if start is None or _after(self.backfill.key(item), start):
                yield item

    def _batch(self, items: Optional[List[Any]], size: int) -> Optional[int]:
        """One batch; the number of items it took, or None when the run ends here."""
        target, began = self.backfill.target, time.monotonic()
        fetched: List[Any] = items or []
        tally = _Tally()
        try:
            with atomic(target) as transaction:
                batch = Batch(self.report.run_id, self.dry_run, transaction, sql_for(target, transaction),
                              self.backfill.ledger)
                if items is None:
                    fetched = list(self.backfill.source(batch, self.after, size))
                    if not fetched:
                        return None
                keys = self._keys(fetched)
                self._apply(batch, fetched, keys, tally)
                if self.dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except Exception as error:
            return self._failed(fetched, error)
        tally.add_to(self.report)
        self.would_have_written.update(tally.dedupe_keys)
        self.next_seq += tally.ledger_entries
        self.after = self.report.last_key = keys[-1]
        self.report.batch_done(time.monotonic() - began)
        return len(fetched)

    def _keys(self, items: List[Any]) -> List[Any]:
        keys = [self.backfill.key(item) for item in items]
        previous = self.after
        for key in keys:
            if previous is not None and not _after(key, previous):
                raise SourceOrderError(
                    f"the source of backfill {self.backfill.name!r} gave key {key!r} after {previous!r}: a backfill "
                    "reads its source in ascending key order with no key twice, or a checkpoint could skip items")
            previous = key
        encode_key(keys[-1])  # a KeyTypeError now, rather than when the checkpoint is written
        return keys

    def _apply(self, batch: Batch, items: List[Any], keys: List[Any], tally: "_Tally") -> None:
        backfill = self.backfill
        candidates = []
        for item, key in zip(items, keys):
            group = backfill.group(item) if backfill.group else None
            tally.count("read", group)
            reason = backfill.validate(item) if backfill.validate else None
            if reason:
                tally.invalid.append((key, group, str(reason)))
            else:
                candidates.append((item, group))
        if backfill.dedupe is not None and candidates:
            candidates = self._new_only(batch, candidates, tally)
        if candidates:
            backfill.write(batch, [item for item, _ in candidates])
        for _, group in candidates:
            tally.count("written", group)
        if not self.dry_run:
            sql = batch._sql
            if batch.ledger:
                self.store.record(sql, self.report.run_id, self.next_seq, batch.ledger)
                tally.ledger_entries = len(batch.ledger)
            self.store.set_checkpoint(sql, backfill.name, keys[-1], self.report.run_id)
            self.store.progress(sql, self.report.run_id, keys[-1], len(candidates))

    def _new_only(self, batch: Batch, candidates: List[tuple], tally: "_Tally") -> List[tuple]:
        """The candidates whose dedupe key is neither in the target nor earlier in the batch."""
        dedupe_keys = [self.backfill.dedupe(item) for item, _ in candidates]
        present = set(self.backfill.present(batch, list(dict.fromkeys(dedupe_keys))))
        fresh = []
        for (item, group), dedupe_key in zip(candidates, dedupe_keys):
            if dedupe_key in present or dedupe_key in self.would_have_written:
                tally.count("duplicates", group)
            else:
                present.add(dedupe_key)
                fresh.append((item, group))
                if self.dry_run:
                    tally.dedupe_keys.append(dedupe_key)
        return fresh

    def _failed(self, items: List[Any], error: Exception) -> Optional[int]:
        """Record a failed batch (rolled back by `atomic`); go on past it when on_error='skip'."""
        report = self.report
        if not items or isinstance(error, (SourceOrderError, KeyTypeError)):  # no batch can go past it
            report.end("failed", f"{type(error).__name__}: {error}".strip())
            return None
        keys = [self.backfill.key(item) for item in items]
        groups = [self.backfill.group(item) if self.backfill.group else None for item in items]
        report.failed(keys, groups, error)
        report.totals["read"] += len(items)
        for group in groups:
            if group is not None:
                report.groups[str(group)]["read"] += 1
        if self.backfill.on_error == "stop":
            report.end("failed", f"batch {keys[0]!r}..{keys[-1]!r} failed: {type(error).__name__}: {error}")
            return None
        if not self.dry_run:  # skip past it: a --restart retries it (the dedupe key skips what is done)
            with atomic(self.backfill.target) as transaction:
                sql = sql_for(self.backfill.target, transaction)
                self.store.set_checkpoint(sql, self.backfill.name, keys[-1], report.run_id)
                self.store.progress(sql, report.run_id, keys[-1], 0)
        self.after = report.last_key = keys[-1]
        return len(items)

    # -- end -----------------------------------------------------------------------------------------
    def close(self, report_path: Optional[str]) -> None:
        try:
            if self.started and not self.dry_run:
                self._count("target_after", self.backfill.count_target)
                with atomic(self.backfill.target) as transaction:
                    status = self.report.status if self.report.status != "running" else "interrupted"
                    self.store.finish_run(sql_for(self.backfill.target, transaction), self.report.run_id, status)
        finally:
            if self.lock is not None:
                self.lock.release()
            if self.report.finished_at is None:
                self.report.end(self.report.status if self.report.status != "running" else "interrupted")
            if report_path is not None and self.started:
                self.report.write(report_path)
            if self.progress is not None and self.started:
                self.progress.finish(self.report)


class _Tally:
    """A batch's counts, added to the report only once the batch has committed."""

    def __init__(self):
        self.counts: List[tuple] = []
        self.invalid: List[tuple] = []
        self.ledger_entries = 0
        self.dedupe_keys: List[Any] = []  # a dry run's: what it would have written

    def count(self, what: str, group: Any) -> None:
        self.counts.append((what, group))

    def add_to(self, report: Report) -> None:
        for what, group in self.counts:
            report.count(what, group)
        for key, group, reason in self.invalid:
            report.invalid(key, group, reason)


def _after(key: Any, previous: Any) -> bool:
    try:
        return key > previous
    except TypeError:
        raise SourceOrderError(f"backfill keys {previous!r} and {key!r} cannot be compared: give every item a key "
                               "of the same type") from None


def _take(items: Iterator, size: int) -> List[Any]:
    taken = []
    for item in items:
        taken.append(item)
        if len(taken) == size:
            break
    return taken


def _number(count: Any) -> Optional[int]:
    if count is None:
        return None
    return sum(count.values()) if isinstance(count, dict) else int(count)
