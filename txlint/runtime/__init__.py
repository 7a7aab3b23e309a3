"""The sanctioned transactional helpers that txlint's findings point to.

Importing this package imports no database library and not the linter: each backend is loaded
from the type of the target it is given.
"""

from txlint.runtime._snapshots import SnapshotWriteError, guard_snapshots, materializer
from txlint.runtime._staging import stage_file
from txlint.runtime._sweep import sweep_staged_files
from txlint.runtime._transaction import AtomicError, Transaction, atomic, on_commit

__all__ = [
    "AtomicError",
    "SnapshotWriteError",
    "Transaction",
    "atomic",
    "guard_snapshots",
    "materializer",
    "on_commit",
    "stage_file",
    "sweep_staged_files",
]
