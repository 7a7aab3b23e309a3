"""A backfill run in a process of its own, for the tests that kill it or hold it part-way.

    python backfill_child.py SPEC_JSON POINT_JSON

POINT is {"phase": ..., "at": n}. Phases:
- "setup-before" / "setup-after": SIGKILL just before / after the n-th commit of any kind;
- "mid-write": SIGKILL between the two halves of the n-th batch's writes;
- "before-commit" / "after-commit": SIGKILL just before / after the commit of the n-th batch that
  wrote rows (its writes, ledger and checkpoint are all sent by then);
- "in-commit": print `blocked <the batch's last row as JSON>` before that commit, wait for a
  line on stdin, then commit: the test makes the commit wait on a lock and kills the process
  while it is inside the commit;
- "random": print `started` in the first batch and sleep 10 ms in each: the test kills the
  process at a moment of its choosing;
- "hold": print `holding` between the halves of the first batch and wait for a line on stdin;
- "none": run to the end.
Each kill prints the phase first, so the test knows the point was reached.
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backfill_jobs  # noqa: E402
from txlint.runtime import _backends  # noqa: E402
from txlint.runtime.backfill import run  # noqa: E402

spec, point = json.loads(sys.argv[1]), json.loads(sys.argv[2])
phase, at = point["phase"], point.get("at", 0)
state = {"commits": 0, "batch_commits": 0, "batches": 0, "wrote": False}


def die(where: str) -> None:
    print(where, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def halfway() -> None:
    state["batches"] += 1
    state["wrote"] = True
    if phase == "mid-write" and state["batches"] == at:
        die("mid-write")
    if phase == "random":
        if state["batches"] == 1:
            print("started", flush=True)
        time.sleep(0.01)
    if phase == "hold" and state["batches"] == 1:
        print("holding", flush=True)
        sys.stdin.readline()


def watch_commits(backend_class) -> None:
    original = backend_class.commit

    def commit(self):
        state["commits"] += 1
        carrying, state["wrote"] = state["wrote"], False
        state["batch_commits"] += carrying
        any_commit = state["commits"] == at
        this_batch = carrying and state["batch_commits"] == at
        if (phase == "setup-before" and any_commit) or (phase == "before-commit" and this_batch):
            die(phase)
        if phase == "in-commit" and this_batch:
            print("blocked", json.dumps(backfill_jobs.last_written), flush=True)
            sys.stdin.readline()
        original(self)
        if (phase == "setup-after" and any_commit) or (phase == "after-commit" and this_batch):
            die(phase)

    backend_class.commit = commit


for backend in (_backends.SqliteBackend, _backends.PsycopgBackend, _backends.SessionBackend,
                _backends.ContextManagerBackend):
    watch_commits(backend)
backfill_jobs.hooks["halfway"] = halfway
job = backfill_jobs.Job(spec)
report = run(job.backfill, execute=True, wait=True)
job.close()
print("finished", report.status, report.totals["written"], flush=True)
