"""`rollback(backfill, run_id)`: delete exactly the rows a run recorded in its ledger, newest first
(so a child row goes before its parent), each batch of deletions in one transaction with the
removal of its ledger entries, so a rollback that is killed can be run again to finish."""

from typing import Any, Dict, Optional

from txlint.runtime._transaction import atomic
from txlint.runtime.backfill._codec import plain
from txlint.runtime.backfill._declare import Backfill, positive
from txlint.runtime.backfill._lock import run_lock
from txlint.runtime.backfill._sql import BackfillError, identifier, sql_for
from txlint.runtime.backfill._store import Store


def rollback(backfill: Backfill, run_id: str, *, execute: bool = False, batch_size: int = 1000,
             wait: bool = False) -> Dict[str, Any]:
    """Delete the rows run `run_id` inserted (a dry run, which only counts them, unless `execute`).
    When no later run built on it, the checkpoint goes back to where that run started. Returns
    what was (or would be) done."""
    if not isinstance(backfill, Backfill):
        raise BackfillError(f"rollback() needs a txlint.runtime.backfill.Backfill, not {type(backfill).__name__}")
    positive(batch_size, "batch_size")
    target, store = backfill.target, Store(backfill.table_prefix)
    with atomic(target) as transaction:
        sql = sql_for(target, transaction)
        run = store.run(sql, run_id) if store.exists(sql) else None
        _check(backfill, run_id, run)
        entries = store.count_entries(sql, run_id)
    outcome = {"backfill": backfill.name, "run_id": run_id, "mode": "execute" if execute else "dry-run",
               "ledger_rows": entries, "deleted": 0, "already_gone": 0, "checkpoint": None}
    if not execute:
        return outcome
    lock = run_lock(target, sql.dialect, backfill.name)
    lock.acquire(wait)
    try:
        while _delete_some(target, store, run_id, batch_size, outcome):
            pass
        with atomic(target) as transaction:
            outcome["checkpoint"] = _restore_checkpoint(sql_for(target, transaction), store, backfill.name, run)
    finally:
        lock.release()
    return outcome


def _check(backfill: Backfill, run_id: str, run: Optional[dict]) -> None:
    if run is None or run["name"] != backfill.name:
        raise BackfillError(f"backfill {backfill.name!r} has no run {run_id!r} (run ids are in the reports and "
                            f"in the {backfill.table_prefix}_runs table)")
    if not run["ledger"]:
        raise BackfillError(f"run {run_id!r} of backfill {backfill.name!r} kept no ledger of its rows (declare the "
                            "backfill with ledger=True for runs that can be rolled back)")


def _delete_some(target: Any, store: Store, run_id: str, batch_size: int, outcome: dict) -> bool:
    with atomic(target) as transaction:
        sql = sql_for(target, transaction)
        entries = store.latest_entries(sql, run_id, batch_size)
        for _, table, key in entries:
            identifier(table, "a table in the ledger")  # names from the database, checked again before use
            for column in key:
                identifier(column, "a key column in the ledger")
            match = " AND ".join(f"{column} = ?" for column in key)
            deleted = sql.execute(f"DELETE FROM {table} WHERE {match}", list(key.values()))
            outcome["deleted" if deleted != 0 else "already_gone"] += 1
        store.forget(sql, run_id, [seq for seq, _, _ in entries])
    return bool(entries)


def _restore_checkpoint(sql, store: Store, name: str, run: dict) -> str:
    later = store.later_runs(sql, name, run["started_at"])
    if later:
        kept = "kept: later runs started from it (" + ", ".join(later) + "); --restart applies the rows again"
    else:
        store.set_checkpoint(sql, name, run["start_key"], run["run_id"])
        kept = f"restored to {plain(run['start_key'])!r}, where the run started"
    store.finish_run(sql, run["run_id"], "rolled back")
    return kept
