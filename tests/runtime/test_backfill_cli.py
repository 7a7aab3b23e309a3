"""python -m txlint.runtime.backfill: what a user types and reads. Bad input is one line and
exit status 2, a failed run exit 1 with its report, SIGTERM rolls back the batch in progress and
still writes the report, and progress is one line rewritten on a terminal, plain lines otherwise."""

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from txlint.runtime.backfill._progress import Progress
from txlint.runtime.backfill._report import Report

JOB = textwrap.dedent("""
    import os, sqlite3, time
    from txlint.runtime.backfill import Backfill, batch_writer

    database = sqlite3.connect(os.environ["JOB_DATABASE"])


    @batch_writer
    def write(batch, numbers):
        if os.environ.get("JOB_FAIL_AT") and int(os.environ["JOB_FAIL_AT"]) in numbers:
            raise RuntimeError("cannot copy " + os.environ["JOB_FAIL_AT"])
        if os.environ.get("JOB_STALL_AT") and int(os.environ["JOB_STALL_AT"]) in numbers:
            open(os.environ["JOB_DATABASE"] + ".stalled", "w").close()
            time.sleep(60)
        database.executemany("INSERT INTO copies VALUES (?)", [(number,) for number in numbers])


    numbers = Backfill("numbers", database, range(1, 101), key=lambda number: number, write_batch=write,
                       batch_size=10)
    not_a_backfill = 42


    def make():
        return numbers
""")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "job.py").write_text(JOB)
    (tmp_path / "broken.py").write_text("raise ValueError('no settings')\n")
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as setup:
        setup.execute("CREATE TABLE copies (number INTEGER PRIMARY KEY)")
    return tmp_path


def _cli(project, *arguments, **environment):
    return subprocess.run([sys.executable, "-m", "txlint.runtime.backfill", *arguments], cwd=project,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "JOB_DATABASE": str(project / "app.db"), **environment})


def _copies(project):
    with sqlite3.connect(project / "app.db") as reader:
        return [row[0] for row in reader.execute("SELECT number FROM copies ORDER BY number")]


@pytest.mark.parametrize("reference, message", [
    ("nowhere:numbers", "error: no module named 'nowhere' (run from the directory it is importable from)"),
    ("job", "error: expected MODULE:NAME, like jobs.backfills:parts, not 'job'"),
    ("job:missing", "error: job has no 'missing'"),
    ("job:not_a_backfill", "error: job:not_a_backfill is a int, not a txlint.runtime.backfill.Backfill"),
    ("broken:anything", "error: importing broken failed: ValueError: no settings"),
])
def test_bad_input_is_one_line_and_exit_status_2(project, reference, message):
    result = _cli(project, reference, "--execute")
    assert (result.returncode, result.stderr, result.stdout) == (2, message + "\n", "")


def test_a_report_path_in_no_directory_is_refused_before_the_run(project):
    result = _cli(project, "job:numbers", "--execute", "--report", str(project / "missing" / "report.json"))
    assert result.returncode == 2 and result.stderr == (
        f"error: --report {project / 'missing' / 'report.json'}: there is no directory {project / 'missing'}\n")
    assert _copies(project) == []


def test_a_dry_run_then_an_execution_and_a_function_returning_the_backfill(project):
    dry = _cli(project, "job:numbers")
    assert dry.returncode == 0 and "would write 100" in dry.stdout and _copies(project) == []
    executed = _cli(project, "job:make", "--execute", "--limit", "35", "--batch-size", "20")
    assert executed.returncode == 0, executed.stderr
    assert _copies(project) == list(range(1, 36))
    (path,) = re.findall(r"^report: (.*)$", executed.stdout, re.M)
    report = json.loads(open(path).read())
    assert (report["written"], report["batches"], report["stopped_at_limit"]) == (35, 2, True)
    resumed = _cli(project, "job:numbers", "--execute", "--resume")
    assert "resumed after key 35" in resumed.stdout and _copies(project) == list(range(1, 101))
    assert "error" not in resumed.stderr


def test_a_failed_batch_is_exit_status_1_with_its_report(project):
    result = _cli(project, "job:numbers", "--execute", "--report", str(project / "report.json"), JOB_FAIL_AT="25")
    assert result.returncode == 1
    assert "failed batch 21..30: RuntimeError: cannot copy 25" in result.stdout
    report = json.loads((project / "report.json").read_text())
    assert report["status"] == "failed" and report["last_key"] == 20
    assert _copies(project) == list(range(1, 21))


def test_a_second_run_is_refused_while_one_holds_the_lock(project):
    holder = subprocess.Popen([sys.executable, "-m", "txlint.runtime.backfill", "job:numbers", "--execute"],
                              cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "JOB_DATABASE": str(project / "app.db"), "JOB_STALL_AT": "15"})
    try:
        _wait_for(project / "app.db.stalled")
        result = _cli(project, "job:numbers", "--execute")
        assert result.returncode == 2
        assert result.stderr.startswith("error: another run of backfill 'numbers' is in progress (pid ")
        assert result.stderr.count("\n") == 1
    finally:
        holder.kill()
        holder.communicate()
    assert _copies(project) == list(range(1, 11))


def test_sigterm_rolls_back_the_batch_in_progress_and_writes_the_report(project):
    runner = subprocess.Popen([sys.executable, "-m", "txlint.runtime.backfill", "job:numbers", "--execute",
                               "--report", str(project / "report.json")],
                              cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "JOB_DATABASE": str(project / "app.db"), "JOB_STALL_AT": "35"})
    _wait_for(project / "app.db.stalled")
    runner.send_signal(signal.SIGTERM)
    output, errors = runner.communicate(timeout=60)
    assert runner.returncode == 130
    assert errors.splitlines()[-1] == "interrupted: the batch in progress was rolled back; run again to resume"
    report = json.loads((project / "report.json").read_text())
    assert report["status"] == "interrupted" and report["last_key"] == 30
    assert _copies(project) == list(range(1, 31))


def _wait_for(path):
    for _ in range(600):
        if os.path.exists(path):
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _report_after(read, total_written):
    report = Report("numbers", "run-1", dry_run=False, batch_size=10)
    report.totals.update(read=read, written=total_written)
    return report


def test_progress_on_a_terminal_is_one_line_rewritten_with_rate_and_eta():
    terminal = _Terminal()
    progress = Progress(terminal)
    progress.start(_report_after(0, 0), total=100)
    progress.update(_report_after(40, 40))
    progress.finish(_report_after(100, 100))
    shown = terminal.getvalue()
    assert shown.startswith("backfill numbers run run-1 (executing)\n")
    assert "\r\x1b[K  40/100 items, 40 written, 0 present, 0 invalid, " in shown and " items/s, ETA " in shown
    assert shown.endswith("\n") and shown.count("\n") == 2


def test_progress_elsewhere_is_plain_lines_at_most_every_few_seconds():
    log = io.StringIO()
    progress = Progress(log, interval=3600)
    progress.start(_report_after(0, 0), total=None)
    for read in (10, 20, 30):
        progress.update(_report_after(read, read))
    progress.finish(_report_after(30, 30))
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 3  # the start, the first update, the end
    assert lines[1].startswith("  10 items, 10 written") and "ETA" not in lines[1]
    assert lines[2].startswith("  30 items, 30 written")


def test_importing_the_runner_loads_no_database_library_and_not_the_linter():
    code = ("import sys, txlint.runtime.backfill, txlint.runtime.backfill.__main__; "
            "loaded = [m for m in sys.modules if m.split('.')[0] in "
            "('libcst', 'sqlalchemy', 'django', 'psycopg2', 'psycopg', 'peewee', 'ctypes') "
            "or m in ('sqlite3', 'txlint.engine', 'txlint.linter', 'txlint.cli', 'txlint.project', 'txlint.frameworks')]; "
            "print(loaded)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
