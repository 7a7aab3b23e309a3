"""A backfill runner: dry-run by default, batches that each commit whole with their checkpoint,
resume after a crash, one run at a time, a parity report, and rollback of a run's rows.

    python -m txlint.runtime.backfill MODULE:NAME --execute

Like `txlint.runtime`, importing this imports no database library and not the linter.
"""

from txlint.runtime.backfill._declare import Backfill, Batch, batch_writer, keyset_source, present_in
from txlint.runtime.backfill._report import Report
from txlint.runtime.backfill._rollback import rollback
from txlint.runtime.backfill._runner import SourceOrderError, run
from txlint.runtime.backfill._sql import BackfillError

__all__ = ["Backfill", "BackfillError", "Batch", "Report", "SourceOrderError", "batch_writer", "keyset_source",
           "present_in", "rollback", "run"]
