"""python -m txlint.runtime.backfill MODULE:NAME [--execute] [--batch-size N] [--limit N]
[--resume | --restart] [--wait] [--report PATH] [--rollback RUN_ID]

Imports MODULE (your own backfill module: this is you running your code, not the linter reading
it) and runs the Backfill named NAME (or calls NAME to get one)."""

import argparse
import importlib
import json
import os
import signal
import sys
from typing import List, Optional

from txlint.runtime.backfill._declare import Backfill
from txlint.runtime.backfill._progress import Progress
from txlint.runtime.backfill._rollback import rollback
from txlint.runtime.backfill._runner import run
from txlint.runtime.backfill._sql import BackfillError

EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130


class _Usage(Exception):
    """Bad input: reported in one line, exit status 2."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m txlint.runtime.backfill",
                                     description="Run a txlint.runtime.backfill.Backfill: a dry run unless --execute.")
    parser.add_argument("backfill", metavar="MODULE:NAME", help="the module to import and the Backfill in it")
    parser.add_argument("--execute", action="store_true", help="write (without it, every batch is rolled back)")
    parser.add_argument("--batch-size", type=_positive, help="items per batch (one transaction each)")
    parser.add_argument("--limit", type=_positive, help="stop after this many source items")
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--resume", action="store_true", help="continue after the last committed batch (the default)")
    order.add_argument("--restart", action="store_true", help="start from the first item (the dedupe key skips "
                                                              "what is already there)")
    parser.add_argument("--wait", action="store_true", help="wait for another run of the backfill to end, "
                                                            "instead of refusing")
    parser.add_argument("--report", default=".", metavar="PATH",
                        help="the JSON report's file, or a directory for backfill-NAME-RUNID.json (default: .)")
    parser.add_argument("--rollback", metavar="RUN_ID", help="delete the rows run RUN_ID inserted (with "
                                                             "--execute; the backfill needs ledger=True)")
    return parser


def load(reference: str) -> Backfill:
    """The Backfill named by MODULE:NAME (NAME may be dotted, or a function returning one)."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise _Usage(f"expected MODULE:NAME, like jobs.backfills:parts, not {reference!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise _Usage(f"no module named {module_name!r} (run from the directory it is importable from)") from None
        raise _Usage(f"importing {module_name} failed: {type(error).__name__}: {error}") from None
    except Exception as error:
        raise _Usage(f"importing {module_name} failed: {type(error).__name__}: {error}") from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise _Usage(f"{module_name} has no {attribute!r}")
        found = getattr(found, part)
    if not isinstance(found, Backfill) and callable(found):
        try:
            found = found()
        except Exception as error:
            raise _Usage(f"{reference}() failed: {type(error).__name__}: {error}") from None
    if not isinstance(found, Backfill):
        raise _Usage(f"{reference} is a {type(found).__name__}, not a txlint.runtime.backfill.Backfill")
    return found


def _interrupt_on_sigterm() -> None:
    """SIGTERM (a deploy stopping the job) ends the run like Ctrl-C: the batch rolls back and the
    report is written. SIGKILL cannot be caught; the checkpoint covers it."""
    def stop(signum, frame):
        raise SystemExit(EXIT_INTERRUPTED)

    signal.signal(signal.SIGTERM, stop)


def main(argv: Optional[List[str]] = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        report_directory = arguments.report if os.path.isdir(arguments.report) else os.path.dirname(
            os.path.abspath(arguments.report))
        if not os.path.isdir(report_directory):  # found out before the run, not after it has written
            raise _Usage(f"--report {arguments.report}: there is no directory {report_directory}")
        backfill = load(arguments.backfill)
        if arguments.rollback:
            outcome = rollback(backfill, arguments.rollback, execute=arguments.execute, wait=arguments.wait,
                               **({"batch_size": arguments.batch_size} if arguments.batch_size else {}))
            print(json.dumps(outcome, indent=2))
            if not arguments.execute:
                print(f"would delete {outcome['ledger_rows']} rows: run again with --execute to delete them")
            return 0
        _interrupt_on_sigterm()
        report = run(backfill, execute=arguments.execute, batch_size=arguments.batch_size, limit=arguments.limit,
                     restart=arguments.restart, wait=arguments.wait, report_path=arguments.report,
                     progress=Progress(sys.stderr))
    except (_Usage, BackfillError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, SystemExit):
        print("interrupted: the batch in progress was rolled back; run again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the database or the backfill's own code, before any batch ran
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(report.summary())
    print(f"report: {report.path}")
    return 0 if report.status == "finished" and report.parity()["ok"] else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
