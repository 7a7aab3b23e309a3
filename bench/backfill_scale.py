"""The backfill runner at scale: N source rows copied on a SQLite file by the runner, and by a
plain loop of `executemany` over the same batches (keyset pages, one commit per batch), each in
a process of its own; prints rows per second and the peak resident memory of each.

    python bench/backfill_scale.py [--rows 1000000] [--batch-size 1000] [--directory DIR]

The runner's variants: `runner` (checkpoint per batch), `runner+dedupe+ledger` (a dedupe query
per batch, and a ledger row per inserted row). A timing, not a test: the figures depend on the
machine.
"""

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time

SOURCE = "CREATE TABLE source (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name TEXT NOT NULL, payload TEXT)"
TARGET = ("CREATE TABLE target (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name TEXT NOT NULL, payload TEXT, "
          "UNIQUE (user_id, name))")
INSERT = "INSERT INTO target (id, user_id, name, payload) VALUES (?, ?, ?, ?)"


def make_database(path: str, rows: int) -> None:
    database = sqlite3.connect(path)
    database.execute(SOURCE)
    chunk = 50_000
    for start in range(1, rows + 1, chunk):
        database.executemany("INSERT INTO source VALUES (?, ?, ?, ?)",
                             ((index, index % 1000, f"part-{index}", f"payload {index:>40}")
                              for index in range(start, min(start + chunk, rows + 1))))
    database.commit()
    database.close()


def fresh_target(path: str) -> None:
    database = sqlite3.connect(path)
    database.execute("DROP TABLE IF EXISTS target")
    for table in ("txlint_backfill_checkpoints", "txlint_backfill_runs", "txlint_backfill_ledger"):
        database.execute(f"DROP TABLE IF EXISTS {table}")
    database.execute(TARGET)
    database.commit()
    database.close()


def plain_loop(path: str, batch_size: int) -> int:
    """What one writes by hand: keyset pages, executemany, a commit per batch."""
    database = sqlite3.connect(path)
    last, copied = 0, 0
    while True:
        rows = database.execute("SELECT id, user_id, name, payload FROM source WHERE id > ? ORDER BY id LIMIT ?",
                                (last, batch_size)).fetchall()
        if not rows:
            break
        database.executemany(INSERT, rows)
        database.commit()
        last, copied = rows[-1][0], copied + len(rows)
    database.close()
    return copied


def runner(path: str, batch_size: int, careful: bool) -> int:
    from txlint.runtime.backfill import Backfill, batch_writer, keyset_source, present_in, run

    database = sqlite3.connect(path)

    @batch_writer
    def write(batch, rows):
        database.executemany(INSERT, [(row["id"], row["user_id"], row["name"], row["payload"]) for row in rows])
        if careful:
            for row in rows:
                batch.inserted("target", id=row["id"])

    options = dict(dedupe=lambda row: (row["user_id"], row["name"]), present=present_in("target", "user_id", "name"),
                   ledger=True) if careful else {}
    backfill = Backfill("scale", database, keyset_source("SELECT id, user_id, name, payload FROM source"),
                        write_batch=write, batch_size=batch_size, **options)
    report = run(backfill, execute=True)
    assert report.status == "finished" and report.parity()["ok"], report.summary()
    database.close()
    return report.totals["written"]


def measure(mode: str, path: str, batch_size: int) -> None:
    """In the child process: run one mode, print `rows seconds peak_kib`."""
    began = time.perf_counter()
    if mode == "executemany":
        copied = plain_loop(path, batch_size)
    else:
        copied = runner(path, batch_size, careful=mode == "runner+dedupe+ledger")
    seconds = time.perf_counter() - began
    print(copied, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--directory", default=None, help="where the SQLite file goes (default: a temporary one)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process's mode
    parser.add_argument("--database", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        measure(arguments.measure, arguments.database, arguments.batch_size)
        return 0
    with tempfile.TemporaryDirectory(dir=arguments.directory) as directory:
        path = os.path.join(directory, "scale.db")
        make_database(path, arguments.rows)
        print(f"{arguments.rows:,} source rows, batches of {arguments.batch_size}, SQLite {sqlite3.sqlite_version}, "
              f"Python {sys.version.split()[0]}")
        print(f"{'mode':<22} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak RSS MiB':>13}")
        for mode in ("executemany", "runner", "runner+dedupe+ledger"):
            fresh_target(path)
            result = subprocess.run([sys.executable, __file__, "--measure", mode, "--database", path,
                                     "--batch-size", str(arguments.batch_size)],
                                    capture_output=True, text=True, check=True)
            copied, seconds, peak = result.stdout.split()
            copied, seconds = int(copied), float(seconds)
            print(f"{mode:<22} {copied:>10,} {seconds:>8.1f} {copied / seconds:>10,.0f} {int(peak) / 1024:>13.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
