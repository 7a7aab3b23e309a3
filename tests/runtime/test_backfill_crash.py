"""A backfill killed with SIGKILL, again and again, resumes to exactly the table an uninterrupted
run makes. Each kill point is reached in a run of its own that resumes where the previous killed
one left off: during setup, between the two halves of a batch's writes, between a batch's writes
(and its checkpoint) and its COMMIT, inside the COMMIT, just after it, and at random moments.
After every kill the target holds exactly the rows up to the checkpoint; at the end every run's
ledger still rolls back exactly its rows.

Inside the COMMIT: on SQLite the test holds a read lock, so the COMMIT waits for it (its journal
already written) when the process dies; on PostgreSQL the test inserts a row that the batch's
deferred unique constraint conflicts with, so the COMMIT waits on the test's transaction, then
the test rolls back and the server finishes the commit of a client that is gone.
"""

import json
import os
import random
import sqlite3
import subprocess
import sys
import time

import pytest

import backfill_jobs
from backfill_jobs import EXISTING, checkpoint, expected_target, target_rows
from test_backfill import family_params, make_spec
from txlint.runtime.backfill import rollback, run

CHILD = os.path.join(os.path.dirname(__file__), "backfill_child.py")
FAMILIES = ["dbapi-sqlite", "sqlalchemy-sqlite", "django-sqlite", "dbapi-pg", "sqlalchemy-pg", "django-pg"]

# 23 kill points, in the order the runs reach them (batches are counted from each run's start).
KILL_POINTS = (
    [{"phase": "setup-before", "at": 1}, {"phase": "setup-after", "at": 2}, {"phase": "setup-before", "at": 3},
     {"phase": "setup-after", "at": 3}]
    + [{"phase": phase, "at": batch} for batch in (1, 2, 4) for phase in
       ("mid-write", "before-commit", "in-commit", "after-commit")]
    + [{"phase": "in-commit", "at": 1}, {"phase": "after-commit", "at": 1}, {"phase": "mid-write", "at": 3},
       {"phase": "before-commit", "at": 3}, {"phase": "in-commit", "at": 3}]
    + [{"phase": "random"}, {"phase": "random"}]
)


class _CommitBlocker:
    """Something that makes the COMMIT of the child's `batch`-th batch wait until `release()`."""

    def __init__(self, spec: dict, batch: int):
        self.spec = spec
        self.connection = None
        if backfill_jobs.on_postgres(spec):
            # A row the batch will write, inserted first (and left uncommitted): the batch's own
            # insert then queues a recheck of its deferred unique constraint, which waits at COMMIT
            # for this transaction to end.
            import psycopg2

            done = checkpoint(spec) or 0
            keys = range(done + 7 * (batch - 1) + 1, done + 7 * batch + 1)
            _, user, name, _ = self.row = next(row for row in expected_target() if row[0] in keys)
            self.connection = psycopg2.connect(spec["dsn"])
            self.connection.cursor().execute(f"INSERT INTO {spec['target']} VALUES (%s, %s, %s, 'blocker')",
                                             (-100 - self.row[0], user, name))

    def child_waits_to_commit(self, last_written: dict) -> None:
        """The child has written the batch and waits to be told to commit."""
        if self.connection is not None:
            assert abs(last_written["id"] - self.row[0]) < 7, (last_written, self.row)  # the batch expected
            return
        # SQLite: a read transaction; COMMIT waits for every reader to end.
        self.connection = sqlite3.connect(self.spec["path"], isolation_level=None)
        self.connection.execute("BEGIN")
        self.connection.execute(f"SELECT COUNT(*) FROM {self.spec['legacy']}").fetchall()

    def release(self) -> None:
        if self.connection is not None:
            self.connection.rollback()
            self.connection.close()
            self.connection = None


def _wait_for_orphaned_commits(spec: dict) -> None:
    """On PostgreSQL a killed client's COMMIT may still be finishing on the server."""
    if not backfill_jobs.on_postgres(spec):
        return
    import psycopg2

    watcher = psycopg2.connect(spec["dsn"])
    watcher.autocommit = True
    try:
        for _ in range(200):
            cursor = watcher.cursor()
            cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                           "backend_type = 'client backend' AND state IN ('active', 'idle in transaction')")
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)
        raise AssertionError("a killed run's server session did not end")
    finally:
        watcher.close()


def _kill_at(spec: dict, point: dict) -> str:
    """Run the backfill in a child process and kill it at `point`; what it printed."""
    blocker = _CommitBlocker(spec, point["at"]) if point["phase"] == "in-commit" else None
    child = subprocess.Popen([sys.executable, CHILD, json.dumps(spec), json.dumps(point)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if point["phase"] == "random":
            assert child.stdout.readline() == "started\n", child.stderr.read()
            time.sleep(random.uniform(0, 0.1))
            child.kill()
        elif point["phase"] == "in-commit":
            line = child.stdout.readline()
            assert line.startswith("blocked "), child.stderr.read()
            blocker.child_waits_to_commit(json.loads(line.split(" ", 1)[1]))
            child.stdin.write("go\n")
            child.stdin.flush()
            time.sleep(0.3)  # the child is waiting inside COMMIT now
            child.kill()
            child.wait(timeout=60)
            blocker.release()
            return "in-commit"
        output, errors = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=60)
        if blocker is not None:
            blocker.release()
    if point["phase"] == "random":
        return "random"
    assert child.returncode == -9, (point, output, errors)
    return output.strip()


@pytest.mark.parametrize("family", family_params(FAMILIES))
def test_sigkill_at_23_points_then_resume_gives_the_table_of_an_uninterrupted_run(family, request, tmp_path):
    spec = make_spec(request, family, str(tmp_path))
    random.seed(family)
    for point in KILL_POINTS:
        if point["phase"] == "random":
            assert (checkpoint(spec) or 0) < backfill_jobs.LEGACY_ROWS  # the kills so far left work to do
        done = checkpoint(spec) or 0
        reached = _kill_at(spec, point)
        assert reached == point["phase"], f"{point}: {reached}"
        _wait_for_orphaned_commits(spec)
        if point["phase"] == "in-commit":
            # PostgreSQL finished the COMMIT its client died in; SQLite rolled back its hot journal.
            batches = point["at"] if backfill_jobs.on_postgres(spec) else point["at"] - 1
            assert checkpoint(spec) == (done + 7 * batches or None), point
        # Exactly the batches up to the checkpoint are in the target: none half applied, none twice.
        assert target_rows(spec) == expected_target(up_to=checkpoint(spec) or 0), point
    job = backfill_jobs.Job(spec)
    try:
        resumed = run(job.backfill, execute=True, wait=True)
        assert resumed.status == "finished" and resumed.parity()["ok"]
        assert target_rows(spec) == expected_target()
        uninterrupted_spec = make_spec(request, family, str(tmp_path))
        uninterrupted = backfill_jobs.Job(uninterrupted_spec)
        try:
            run(uninterrupted.backfill, execute=True)
        finally:
            uninterrupted.close()
        assert target_rows(spec) == target_rows(uninterrupted_spec)
        # Every run's ledger holds exactly the rows it committed, killed runs included.
        runs = backfill_jobs._select(spec, f"SELECT started_at, run_id FROM {spec['prefix']}_runs")
        for _, run_id in reversed(runs):
            rollback(job.backfill, run_id, execute=True)
        assert target_rows(spec) == sorted(EXISTING)
    finally:
        job.close()
