"""How a backfill is declared: `Backfill(...)`, the `Batch` its writer is given, and the helpers
for the common source and deduplication queries."""

import contextvars
import functools
from typing import Any, Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Set

from txlint.runtime.backfill._codec import KeyTypeError, encode_key
from txlint.runtime.backfill._sql import BackfillError, Sql, identifier

_current_batch: contextvars.ContextVar = contextvars.ContextVar("txlint_backfill_batch", default=None)

_PARAMETERS_PER_QUERY = 900  # under SQLite's old limit of 999 bound parameters


class Batch:
    """One batch of a run, open as one `atomic` transaction while the writer runs."""

    def __init__(self, run_id: str, dry_run: bool, transaction, sql: Sql, ledger: bool):
        self.run_id = run_id
        self.dry_run = dry_run
        self.transaction = transaction
        # What to write through: the session of a Session or sessionmaker target, the connection
        # of an Engine target (None for the other targets: write through them directly).
        self.session = transaction.session
        self.connection = transaction.connection
        self._sql = sql
        self._keeps_ledger = ledger
        self.ledger: List[tuple] = []  # (table, {column: value}) of each inserted row, in order

    def query(self, statement: str, params: Sequence = ()) -> List[tuple]:
        """Rows of a SELECT on the batch's connection; `?` marks each parameter, whatever the driver."""
        return self._sql.query(statement, params)[1]

    def execute(self, statement: str, params: Sequence = ()) -> int:
        """A statement on the batch's connection (`?` for parameters); the rows it changed."""
        return self._sql.execute(statement, params)

    def inserted(self, table: str, **key: Any) -> None:
        """Record that this batch inserted the row of `table` whose primary key is `key`, so that
        `rollback(run_id)` can delete exactly it. Recorded only when the backfill keeps a ledger."""
        if not key:
            raise BackfillError(f"Batch.inserted({table!r}) needs the inserted row's key columns, "
                                "for example inserted('parts_v2', id=new_id)")
        identifier(table, "the table given to Batch.inserted")
        for column, value in key.items():
            identifier(column, "a key column given to Batch.inserted")
            try:
                encode_key(value)
            except KeyTypeError as error:
                raise BackfillError(f"Batch.inserted({table!r}, {column}=...): {error}") from None
        if self._keeps_ledger:
            self.ledger.append((table, dict(key)))


def batch_writer(function: Callable) -> Callable:
    """Mark a function as a backfill's writer: it runs only inside a batch's transaction (the
    runner's), which txlint's linter knows, and calling it anywhere else raises BackfillError."""

    @functools.wraps(function)
    def write(batch, *args, **kwargs):
        if _current_batch.get() is not batch:
            raise BackfillError(
                f"{function.__qualname__} is a backfill batch writer: it runs inside the batch transaction the "
                "runner opens (txlint.runtime.backfill.run), not on its own")
        return function(batch, *args, **kwargs)

    return write


class Backfill:
    """A backfill as code. `source` is an iterable of items in ascending key order, or a callable
    `source(batch, after, limit)` that returns up to `limit` items with keys above `after` (None at
    the start) in key order, called inside each batch's transaction: see `keyset_source`."""

    def __init__(self, name: str, target: Any, source: Any, *, key: Optional[Callable[[Any], Any]] = None,
                 write_batch: Optional[Callable[[Batch, List[Any]], Any]] = None,
                 write_item: Optional[Callable[[Batch, Any], Any]] = None,
                 dedupe: Optional[Callable[[Any], Hashable]] = None,
                 present: Optional[Callable[[Batch, List[Hashable]], Iterable[Hashable]]] = None,
                 validate: Optional[Callable[[Any], Optional[str]]] = None,
                 group: Optional[Callable[[Any], Any]] = None,
                 count_source: Optional[Callable[[Batch], Any]] = None,
                 count_target: Optional[Callable[[Batch], Any]] = None,
                 batch_size: int = 1000, on_error: str = "stop", ledger: bool = False,
                 table_prefix: str = "txlint_backfill"):
        if not isinstance(name, str) or not name or len(name) > 200:
            raise BackfillError("a backfill needs a name (1 to 200 characters): it keys its checkpoint and lock")
        if (write_batch is None) == (write_item is None):
            raise BackfillError(f"backfill {name!r}: give exactly one of write_batch= and write_item=")
        key = key or getattr(source, "key", None)
        if key is None:
            raise BackfillError(f"backfill {name!r}: give key=, the function that returns an item's key")
        if (dedupe is None) != (present is None):
            raise BackfillError(f"backfill {name!r}: dedupe= (an item's dedupe key) and present= (which of "
                                "those keys the target already has) go together")
        if on_error not in ("stop", "skip"):
            raise BackfillError(f"backfill {name!r}: on_error is 'stop' or 'skip', not {on_error!r}")
        self.name = name
        self.target = target
        self.source = source
        self.key = key
        self.write_batch = write_batch
        self.write_item = write_item
        self.dedupe = dedupe
        self.present = present
        self.validate = validate
        self.group = group
        self.count_source = count_source
        self.count_target = count_target
        self.batch_size = positive(batch_size, "batch_size")
        self.on_error = on_error
        self.ledger = bool(ledger)
        self.table_prefix = identifier(table_prefix, "table_prefix")

    def write(self, batch: Batch, items: List[Any]) -> None:
        token = _current_batch.set(batch)
        try:
            if self.write_batch is not None:
                self.write_batch(batch, items)
            else:
                for item in items:
                    self.write_item(batch, item)
        finally:
            _current_batch.reset(token)


def positive(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BackfillError(f"{what} must be a positive whole number, not {value!r}")
    return value


class keyset_source:  # noqa: N801 - used like a function: source=keyset_source(...)
    """Rows of `query` (a SELECT, without ORDER BY) as dicts, read in pages in `key` column order
    on the batch's own connection: `SELECT * FROM (query) WHERE key > ? ORDER BY key LIMIT n`."""

    def __init__(self, query: str, key: str = "id"):
        self.query = query.strip().rstrip(";")
        self.column = identifier(key, "keyset_source's key column")

    def key(self, row: Dict[str, Any]) -> Any:
        return row[self.column]

    def __call__(self, batch: Batch, after: Any, limit: int) -> List[Dict[str, Any]]:
        where = "" if after is None else f" WHERE txlint_page.{self.column} > ?"
        statement = (f"SELECT * FROM ({self.query}) txlint_page{where} "
                     f"ORDER BY txlint_page.{self.column} LIMIT {int(limit)}")
        columns, rows = batch._sql.query(statement, () if after is None else (after,))
        return [dict(zip(columns, row)) for row in rows]


def present_in(table: str, *columns: str) -> Callable[[Batch, List[Hashable]], Set[Hashable]]:
    """A `present=` for dedupe keys that are the values of `columns` in `table` (one column: the
    value itself; several: a tuple)."""
    identifier(table, "present_in's table")
    if not columns:
        raise BackfillError("present_in needs the columns that hold the dedupe key")
    for column in columns:
        identifier(column, "a column given to present_in")
    per_query = max(1, _PARAMETERS_PER_QUERY // len(columns))

    def present(batch: Batch, keys: List[Hashable]) -> Set[Hashable]:
        found: Set[Hashable] = set()
        for start in range(0, len(keys), per_query):
            chunk = keys[start:start + per_query]
            match = " AND ".join(f"{column} = ?" for column in columns)
            statement = f"SELECT {', '.join(columns)} FROM {table} WHERE " + " OR ".join(f"({match})" for _ in chunk)
            params = [part for key in chunk for part in (key if len(columns) > 1 else (key,))]
            for row in batch.query(statement, params):
                found.add(tuple(row) if len(columns) > 1 else row[0])
        return found

    return present
