"""The backfill runner on real SQLite files and a real PostgreSQL server, through DB-API drivers
(sqlite3, psycopg2, psycopg 3), SQLAlchemy, Django and peewee: a dry run writes nothing, a run
ends with parity, a re-run writes nothing, a failed batch stops or is skipped, a second run is
kept out, and a rollback leaves the target as it was."""

import json
import os
import subprocess
import sys

import pytest

import backfill_jobs
from backfill_jobs import EXISTING, expected_target, target_rows
from txlint.runtime.backfill import BackfillError, rollback, run

VALID = [row for row in backfill_jobs.legacy_rows() if row[2] is not None]
NEW_ROWS = len(expected_target()) - len(EXISTING)


def family_params(families=None):
    chosen = families or backfill_jobs.SQLITE + backfill_jobs.POSTGRES
    return [pytest.param(name, id=name, marks=[pytest.mark.needs_db] if name.endswith("-pg") else [])
            for name in chosen]


def make_spec(request, family: str, directory: str, rows: int = backfill_jobs.LEGACY_ROWS) -> dict:
    dsn = None
    if family.endswith("-pg"):
        dsn = request.getfixturevalue("postgres_dsn")
    elif family.startswith("django"):  # Django is configured once per process, with PostgreSQL when there is one
        try:
            dsn = request.getfixturevalue("postgres_dsn")
        except pytest.skip.Exception:
            dsn = None
    django_path = os.path.join(request.getfixturevalue("django_directory"), "django.db")
    spec = backfill_jobs.new_spec(family, directory, dsn, django_path, rows)
    backfill_jobs.create_tables(spec)
    return spec


@pytest.fixture
def job_for(request, tmp_path):
    """job_for(family, **options): a fresh job on its own tables, closed after the test."""
    made = []

    def make(family, **options):
        job = backfill_jobs.Job(make_spec(request, family, str(tmp_path)), **options)
        made.append(job)
        return job

    yield make
    for job in made:
        job.close()
    backfill_jobs.hooks["halfway"] = None


def _tables(spec):
    """The runner's tables that exist, read without the runner."""
    if backfill_jobs.on_postgres(spec):
        statement = f"SELECT tablename FROM pg_tables WHERE tablename LIKE '{spec['prefix']}%'"
    else:
        statement = f"SELECT name FROM sqlite_master WHERE name LIKE '{spec['prefix']}%'"
    return backfill_jobs._select(spec, statement)


@pytest.mark.parametrize("family", family_params())
def test_a_dry_run_writes_nothing_and_counts_what_a_run_writes(family, job_for):
    job = job_for(family)
    dry = run(job.backfill)
    assert target_rows(job.spec) == sorted(EXISTING)
    assert _tables(job.spec) == []  # not even the checkpoint table
    assert dry.dry_run and dry.status == "finished"
    executed = run(job.backfill, execute=True)
    for what in ("read", "written", "duplicates", "invalid"):
        assert dry.totals[what] == executed.totals[what], what
    assert dry.groups == executed.groups


@pytest.mark.parametrize("family", family_params())
def test_a_run_finishes_with_parity(family, job_for):
    job = job_for(family)
    report = run(job.backfill, execute=True)
    assert target_rows(job.spec) == expected_target()
    assert report.status == "finished" and report.parity() == {"ok": True, "checks": {
        "every item read is accounted for": True, "every source item was read": True,
        "the target grew by what was written": True}}
    assert report.totals == {"read": 300, "written": NEW_ROWS, "duplicates": len(VALID) - NEW_ROWS,
                             "invalid": 300 - len(VALID), "failed": 0}
    assert report.invalid_reasons == {"a part needs a name": 300 - len(VALID)}
    assert report.counts["source"] == {user: 75 for user in range(4)}
    assert report.counts["target_before"] == len(EXISTING)
    assert report.counts["target_after"] == len(expected_target())
    assert {group: counts["read"] for group, counts in report.groups.items()} == {str(user): 75 for user in range(4)}
    assert report.batches == 43 and report.last_key == 300  # 300 items in batches of 7


@pytest.mark.parametrize("family", family_params())
def test_a_rerun_after_success_writes_nothing(family, job_for):
    job = job_for(family)
    run(job.backfill, execute=True)
    resumed = run(job.backfill, execute=True)
    assert resumed.totals["read"] == 0 and resumed.totals["written"] == 0 and resumed.resumed_after == 300
    restarted = run(job.backfill, execute=True, restart=True)
    assert restarted.totals["read"] == 300 and restarted.totals["written"] == 0
    assert restarted.totals["duplicates"] == len(VALID)
    assert target_rows(job.spec) == expected_target()


@pytest.mark.parametrize("family", family_params())
def test_rollback_deletes_exactly_the_rows_of_a_run(family, job_for):
    job = job_for(family)
    first = run(job.backfill, execute=True, limit=100)
    second = run(job.backfill, execute=True)
    assert target_rows(job.spec) == expected_target()
    planned = rollback(job.backfill, second.run_id)
    assert planned["ledger_rows"] == second.totals["written"] and planned["deleted"] == 0
    assert target_rows(job.spec) == expected_target()  # a dry run of the rollback deletes nothing
    undone = rollback(job.backfill, second.run_id, execute=True)
    assert undone["deleted"] == second.totals["written"] and undone["already_gone"] == 0
    assert undone["checkpoint"].startswith("restored to 100")
    assert target_rows(job.spec) == expected_target(up_to=100)
    assert rollback(job.backfill, first.run_id, execute=True)["deleted"] == first.totals["written"]
    assert target_rows(job.spec) == sorted(EXISTING)  # as before any run
    assert backfill_jobs.checkpoint(job.spec) is None
    again = run(job.backfill, execute=True)  # the checkpoint went back with the rows
    assert again.totals["written"] == NEW_ROWS and target_rows(job.spec) == expected_target()


@pytest.mark.parametrize("family", family_params())
def test_a_failed_batch_stops_the_run_and_keeps_the_batches_before_it(family, job_for, tmp_path):
    job = job_for(family)
    calls = []

    def fail_in_the_third_batch():
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("the target refused a row")

    backfill_jobs.hooks["halfway"] = fail_in_the_third_batch
    report = run(job.backfill, execute=True, report_path=str(tmp_path))
    assert report.status == "failed" and "ValueError: the target refused a row" in report.error
    assert report.failed_batches == [{"first_key": 15, "last_key": 21, "items": 7,
                                      "error": "ValueError: the target refused a row"}]
    assert backfill_jobs.checkpoint(job.spec) == 14
    assert target_rows(job.spec) == expected_target(up_to=14)
    written = json.loads(open(report.path).read())  # the report is written for a failed run too
    assert written["status"] == "failed" and written["failed_batches"] == report.failed_batches
    assert written["parity"]["checks"]["every item read is accounted for"]
    backfill_jobs.hooks["halfway"] = None
    assert run(job.backfill, execute=True).status == "finished"
    assert target_rows(job.spec) == expected_target()


@pytest.mark.parametrize("family", family_params(["dbapi-sqlite", "sqlalchemy-sqlite", "django-sqlite", "dbapi-pg"]))
def test_a_failed_batch_is_skipped_when_asked(family, job_for):
    job = job_for(family, on_error="skip")
    calls = []

    def fail_in_the_third_batch():
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("the target refused a row")

    backfill_jobs.hooks["halfway"] = fail_in_the_third_batch
    report = run(job.backfill, execute=True)
    assert report.status == "finished" and len(report.failed_batches) == 1
    assert report.totals["failed"] == 7 and report.parity()["checks"]["every item read is accounted for"]
    assert target_rows(job.spec) == expected_target(excluding=range(15, 22))
    backfill_jobs.hooks["halfway"] = None
    restarted = run(job.backfill, execute=True, restart=True)  # a retry writes what is still missing
    assert restarted.totals["written"] == 6  # rows 15-21 but 17, a duplicate of row 13
    assert target_rows(job.spec) == expected_target()


@pytest.mark.parametrize("family", family_params(["dbapi-sqlite", "django-sqlite", "sqlalchemy-pg"]))
def test_an_interrupted_run_rolls_back_its_batch_and_writes_its_report(family, job_for, tmp_path):
    job = job_for(family)
    calls = []

    def interrupt_in_the_second_batch():
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    backfill_jobs.hooks["halfway"] = interrupt_in_the_second_batch
    path = str(tmp_path / "report.json")
    with pytest.raises(KeyboardInterrupt):
        run(job.backfill, execute=True, report_path=path)
    assert json.loads(open(path).read())["status"] == "interrupted"
    assert target_rows(job.spec) == expected_target(up_to=7)
    backfill_jobs.hooks["halfway"] = None
    assert run(job.backfill, execute=True).resumed_after == 7
    assert target_rows(job.spec) == expected_target()


def _hold_a_run(spec):
    """A run in another process, stopped inside its first batch (it holds the lock) until released."""
    child = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "backfill_child.py"),
                              json.dumps(spec), json.dumps({"phase": "hold"})],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "holding\n", child.stderr.read()
    return child


@pytest.mark.parametrize("family", family_params(["dbapi-sqlite", "sqlalchemy-sqlite", "django-sqlite",
                                                  "dbapi-pg", "sqlalchemy-pg", "django-pg"]))
def test_a_second_concurrent_run_is_refused_or_waits_and_applies_nothing_twice(family, job_for):
    job = job_for(family)
    holder = _hold_a_run(job.spec)
    try:
        with pytest.raises(BackfillError, match="another run of backfill .* is in progress"):
            run(job.backfill, execute=True)
        holder.stdin.write("go\n")
        holder.stdin.flush()
        second = run(job.backfill, execute=True, wait=True)  # queues behind the first run
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.stdout.read().startswith(f"finished finished {NEW_ROWS}")
    assert second.status == "finished" and second.totals["written"] == 0
    assert target_rows(job.spec) == expected_target()


def test_an_iterable_source_resumes_after_its_checkpoint_and_must_be_in_key_order(job_for):
    from txlint.runtime.backfill import Backfill

    job = job_for("dbapi-sqlite")
    connection = job.backfill.target
    written = []

    def items(keys):
        return ({"id": key} for key in keys)

    def write(batch, rows):
        written.extend(row["id"] for row in rows)
        connection.execute(f"INSERT INTO {job.spec['legacy']} (id, name) VALUES (?, 'copy')", (1000 + rows[0]["id"],))

    def make(keys):
        return Backfill("iterable-" + job.spec["suffix"], connection, items(keys), key=lambda row: row["id"],
                        write_batch=write, batch_size=3, table_prefix=job.spec["prefix"])

    assert run(make(range(1, 8)), execute=True, limit=4).last_key == 4
    assert run(make(range(1, 11)), execute=True).resumed_after == 4
    assert written == list(range(1, 11))
    report = run(make([11, 13, 12]), execute=True)
    assert report.status == "failed" and "gave key 12 after 13" in report.error
    assert written == list(range(1, 11))  # the batch with the key out of order was rolled back
    assert backfill_jobs.checkpoint({**job.spec, "name": "iterable-" + job.spec["suffix"]}) == 10
    report = run(make(["a"]), execute=True)
    assert report.status == "failed" and "cannot be compared" in report.error
    report = run(make([11, 12, 13, 13]), execute=True)  # the same key twice, in two batches
    assert report.status == "failed" and "gave key 13 after 13" in report.error and written[-3:] == [11, 12, 13]
    odd = Backfill("odd-keys-" + job.spec["suffix"], connection, [object()], key=lambda item: item,
                   write_batch=write, table_prefix=job.spec["prefix"])
    report = run(odd, execute=True)
    assert report.status == "failed" and "a backfill key must be a str, int" in report.error
