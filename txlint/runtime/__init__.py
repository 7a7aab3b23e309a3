"""The sanctioned transactional helpers that txlint's findings point to.

Importing this package imports no database library and not the linter: each backend is loaded
from the type of the target it is given.
"""

from txlint.runtime._snapshots import SnapshotWriteError, guard_snapshots, materializer
from txlint.runtime._staging import stage_file
from txlint.runtime._transaction import AtomicError, Transaction, atomic

__all__ = [
    "AtomicError",
    "SnapshotWriteError",
    "Transaction",
    "atomic",
    "guard_snapshots",
    "materializer",
    "stage_file",
]
