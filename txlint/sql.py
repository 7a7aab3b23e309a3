"""Classify SQL text: which statements write, and to which tables (frameworks.md, section 5).

A keyword classifier, not a parser: robust to dialects and to the partial SQL txlint rebuilds from
f-strings and `%`/`.format` templates, where each unknown part is replaced by PLACEHOLDER.

1. String literals are masked and comments removed in one left-to-right pass, so neither
   `SELECT 'insert into x'` nor `/* UPDATE t */ SELECT 1` looks like a write. Quoted identifiers
   are kept: they name tables.
2. The text is split on `;` into statements; each is classified by its leading keyword.
3. A write is only a write when its shape is right beyond the first word (`UPDATE t SET a =`,
   `DELETE FROM t WHERE`, `INSERT INTO t VALUES (`): log messages such as "update the record",
   "delete files from disk" or "Create user failed" are "unknown", never writes.

`classify_sql` gives one SqlStatement per statement, in order. A statement whose CTE bodies write
or lock (`WITH d AS (DELETE ... RETURNING *) SELECT ...`), or an `EXPLAIN ANALYZE` of a write, is
followed by one extra entry per such body; the main statement's keyword is the one after the CTEs.

Masking, splitting and the name patterns are txlint.sql_lexing; the handlers of the statements that
change data or schema are txlint.sql_write_statements; this module has the others (maintenance,
transaction control, opaque calls, reads, EXPLAIN, WITH), the dispatch on the leading keyword and the
public API.
"""

from functools import lru_cache
from typing import Dict, List, Tuple

from txlint.sql_lexing import (IDENT, KINDS, NAME, PH, PLACEHOLDER, UNKNOWN_TABLE, WRITE_KINDS, Handler,
                               Pattern, SqlStatement, classified, is_prose, rx, split_statements, unclassified)
from txlint.sql_write_statements import WRITE_HANDLERS

__all__ = ["KINDS", "PLACEHOLDER", "SqlStatement", "UNKNOWN_TABLE", "WRITE_KINDS", "classify_sql", "sql_writes",
           "written_tables"]

_NESTED_KINDS = WRITE_KINDS | {"lock"}  # what a CTE body or EXPLAIN ANALYZE adds to the result
_MAX_DEPTH = 6  # CTEs inside CTEs inside EXPLAIN: deep enough for real SQL, bounded for fuzz


# --- Maintenance, transaction control, opaque calls ---------------------------------------------

_NAME_WITH_COLUMNS = rf"{NAME}(?:\s*\([^)]*\))?"
_MAINTENANCE = {
    "VACUUM": rx(rf"""^VACUUM (?:\s*\([^)]*\))? (?:\s+(?:FULL|FREEZE|VERBOSE|ANALYZE|ANALYSE)\b)*
        (?:\s+{_NAME_WITH_COLUMNS}(?:\s*,\s*{_NAME_WITH_COLUMNS})*)? (?:\s+INTO\s+'')? \s*\Z"""),
    "ANALYZE": rx(rf"""^ANALY[SZ]E (?:\s*\([^)]*\))? (?:\s+VERBOSE\b)?
        (?:\s+(?:(?:NO_WRITE_TO_BINLOG|LOCAL)\s+)?TABLE\b)?
        (?:\s+{_NAME_WITH_COLUMNS}(?:\s*,\s*{_NAME_WITH_COLUMNS})*)? \s*\Z"""),
    "REINDEX": rx(rf"""^REINDEX (?:\s*\([^)]*\))? (?:\s+(?:INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\b(?:\s+CONCURRENTLY)?)?
        (?:\s+{NAME})? \s*\Z"""),
    "CLUSTER": rx(rf"^CLUSTER (?:\s+VERBOSE)? (?:\s+{NAME}(?:\s+(?:USING|ON)\s+{NAME})?)? \s*\Z"),
    "OPTIMIZE": rx(r"^OPTIMIZE\s+(?:(?:NO_WRITE_TO_BINLOG|LOCAL)\s+)?TABLE\b"),
    "REFRESH": rx(r"^REFRESH\s+MATERIALIZED\s+VIEW\b"),
}
_MAINTENANCE["ANALYSE"] = _MAINTENANCE["ANALYZE"]

# Words that may follow BEGIN/COMMIT/...: anything else ("begin processing", "commit changes") is prose.
_TX_WORD = (r"(?:TRANSACTION|TRAN|WORK|DEFERRED|IMMEDIATE|EXCLUSIVE|ISOLATION|LEVEL|SERIALIZABLE|REPEATABLE|READ"
            r"|COMMITTED|UNCOMMITTED|SNAPSHOT|WRITE|ONLY|NOT|DEFERRABLE|WITH|CONSISTENT|AND|NO|CHAIN|RELEASE)\b")
_TX_TAIL = rf"(?:(?:\s*,\s*|\s+){_TX_WORD})*\s*\Z"
_TRANSACTION_CONTROL = {
    "BEGIN": rx(rf"^BEGIN{_TX_TAIL}"),
    "START": rx(rf"^START\s+TRANSACTION\b{_TX_TAIL}"),
    "COMMIT": rx(rf"^COMMIT(?:{_TX_TAIL}|\s+PREPARED\s+''\s*\Z)"),
    "END": rx(rf"^END{_TX_TAIL}"),
    "ROLLBACK": rx(rf"""^ROLLBACK(?:{_TX_TAIL}|\s+PREPARED\s+''\s*\Z
        |(?:\s+(?:WORK|TRANSACTION|TRAN))?\s+TO\s+(?:SAVEPOINT\s+)?{NAME}\s*\Z)"""),
    "ABORT": rx(rf"^ABORT{_TX_TAIL}"),
    "SAVEPOINT": rx(rf"^SAVEPOINT\s+{NAME}\s*\Z"),
    "RELEASE": rx(rf"^RELEASE\s+(?:SAVEPOINT\s+)?{NAME}\s*\Z"),
}
_COMMITTING = {"COMMIT", "END"}
_SET_TRANSACTION = rx(r"""^SET\s+(?:(?:SESSION|GLOBAL|LOCAL)\s+)?
    (?:TRANSACTION\b|CHARACTERISTICS\s+AS\s+TRANSACTION\b|AUTOCOMMIT\s*(?:=|TO\b)|@@AUTOCOMMIT\b
      |IMPLICIT_TRANSACTIONS\b)""")
_OPAQUE = {
    "CALL": rx(rf"^CALL\s+{NAME}\s*(?:\(|\Z)"),
    "EXEC": rx(rf"""^EXEC(?:UTE)?\s*(?:\(|(?:@\w+\s*=\s*)?{NAME}\s*
        (?:\Z|\(|[@:$%?]|''|\d|USING\b|{NAME}\s*[=,]|{PH}))"""),  # EXEC proc @a = 1, EXECUTE stmt(1)
    "DO": rx(r"^DO\s+(?:''|LANGUAGE\b)"),  # DO $$ ... $$, its body masked
}
_OPAQUE["EXECUTE"] = _OPAQUE["EXEC"]
_PRAGMA = rx(rf"^PRAGMA\s+{NAME}\s*(?:(?P<assignment>=)|\(|\Z)")


def _maintenance(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    return classified("maintenance", keyword) if _MAINTENANCE[keyword].match(statement) else unclassified(keyword)


def _transaction_control(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    if not _TRANSACTION_CONTROL[keyword].match(statement):
        return unclassified(keyword)  # "begin processing", "commit changes to git"
    commits = keyword in _COMMITTING and "PREPARED" not in statement.upper()
    return classified("txctl", keyword, commits=commits)


def _set(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    return classified("txctl", keyword) if _SET_TRANSACTION.match(statement) else unclassified(keyword)


def _opaque(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    return classified("opaque", keyword) if _OPAQUE[keyword].match(statement) else unclassified(keyword)


def _pragma(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    """`PRAGMA x = v` changes state; `PRAGMA x` and `PRAGMA f(t)` read."""
    match = _PRAGMA.match(statement)
    if not match:
        return unclassified(keyword)
    return classified("opaque" if match.group("assignment") else "read", keyword)


# --- Reads: SELECT (and SELECT INTO, SELECT FOR UPDATE), EXPLAIN, WITH ----------------------------

# PG/MSSQL create-table-as; `INTO @var`, `INTO :var` and `INTO OUTFILE ''` do not match a table name.
_SELECT_INTO = rx(rf"\bINTO\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?(?:TABLE\s+)?(?P<table>{NAME})\s+FROM\b")
_NOT_A_TABLE = frozenset({"outfile", "dumpfile"})
_LOCKING = rx(r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(?:KEY\s+)?SHARE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b"
              r"|\b(?:UPDLOCK|XLOCK)\b")
_READS = {
    "VALUES": rx(r"^VALUES\s*\("),
    "TABLE": rx(rf"^TABLE\s+{NAME}\s*\Z"),
    "SHOW": rx(r"^SHOW\s+\w"),
    "DESCRIBE": rx(r"^DESCRIBE\s+\w"),
    "DESC": rx(rf"^DESC\s+{NAME}\s*\Z"),
}
_EXPLAIN = rx(r"""^EXPLAIN (?P<options> \s*\([^)]*\)
    | (?:\s+(?:ANALYZE|ANALYSE|VERBOSE|QUERY\s+PLAN|EXTENDED|PARTITIONS|FORMAT\s*=\s*\w+)\b)* ) \s* (?P<body>.*)""")
_EXECUTES = rx(r"\bANALY[SZ]E\b(?!\s+(?:FALSE|OFF|0)\b)")  # EXPLAIN ANALYZE runs its statement
_CTE = rf"{IDENT}\s*(?:\([^()]*\)\s*)?AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\("  # name (cols) AS NOT MATERIALIZED (
_FIRST_CTE = rx(rf"^WITH\s+(?:RECURSIVE\s+)?{_CTE}")
_NEXT_CTE = rx(rf"\s*,\s*{_CTE}")
_PAREN = Pattern(r"[()]")


def _select(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    into = _SELECT_INTO.search(statement)
    if into and into.group("table").lower() not in _NOT_A_TABLE and not is_prose(into.group("table")):
        return classified("write", keyword, [into.group("table")])
    return classified("lock" if _LOCKING.search(statement) else "read", keyword)


def _read(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    return classified("read", keyword) if _READS[keyword].match(statement) else unclassified(keyword)


def _explain(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _EXPLAIN.match(statement)
    nested: List[SqlStatement] = []
    if match and _EXECUTES.search(match.group("options")):
        nested = [found for found in _classify_statement(match.group("body"), depth + 1)
                  if found.kind in _NESTED_KINDS]
    return classified("read", keyword) + nested


def _with(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    """`WITH a AS (...), b AS (...) MAIN`: MAIN's classification, then each CTE body that writes or locks."""
    head = _FIRST_CTE.match(statement)
    if head is None:
        return unclassified(keyword)  # "with the new version"
    bodies = []
    while head is not None:
        close = _closing_paren(statement, head.end())
        bodies.append(statement[head.end():close])
        position = close + 1
        head = _NEXT_CTE.match(statement, position)
    main = statement[position:].strip()
    found = _classify_statement(main, depth + 1) if main else classified("read", keyword)
    for body in bodies:
        found.extend(nested for nested in _classify_statement(body, depth + 1) if nested.kind in _NESTED_KINDS)
    return found


def _closing_paren(text: str, start: int) -> int:
    """Index of the `)` closing the `(` just before `start` (literals are already masked); len(text) if none."""
    depth = 1
    for paren in _PAREN.finditer(text, start):
        depth += 1 if paren.group(0) == "(" else -1
        if depth == 0:
            return paren.start()
    return len(text)


# --- Dispatch and public API ---------------------------------------------------------------------

_FIRST_WORD = Pattern(r"[A-Za-z_]\w*")
_HANDLERS: Dict[str, Handler] = {
    **WRITE_HANDLERS,
    **{word: _maintenance for word in _MAINTENANCE},
    **{word: _transaction_control for word in _TRANSACTION_CONTROL},
    "SET": _set,
    **{word: _opaque for word in _OPAQUE},
    "PRAGMA": _pragma,
    "SELECT": _select, **{word: _read for word in _READS}, "EXPLAIN": _explain, "WITH": _with,
}


def _classify_statement(statement: str, depth: int) -> List[SqlStatement]:
    statement = statement.lstrip("( \t\r\n\f\v")
    if not statement:
        return []
    first = _FIRST_WORD.match(statement)
    if first is None:
        return unclassified("")
    keyword = first.group(0).upper()
    handler = _HANDLERS.get(keyword)
    if handler is None or depth > _MAX_DEPTH:
        return unclassified(keyword)
    return handler(statement, keyword, depth)


@lru_cache(maxsize=4096)
def _classify_text(text: str) -> Tuple[SqlStatement, ...]:
    found: List[SqlStatement] = []
    for statement in split_statements(text):
        found.extend(_classify_statement(statement, 0))
    return tuple(found)


def classify_sql(text: str) -> Tuple[SqlStatement, ...]:
    """One SqlStatement per statement of `text` (plus the CTE bodies that write); () for blank text."""
    if not isinstance(text, str) or not text.strip():
        return ()
    return _classify_text(text)


def sql_writes(text: str) -> bool:
    """Whether any statement of `text` writes: DML, DDL, a bulk load, a writing CTE or EXPLAIN ANALYZE."""
    return any(statement.kind in WRITE_KINDS for statement in classify_sql(text))


def written_tables(text: str) -> Tuple[str, ...]:
    """The tables `text` writes, in order, each once; "?" stands for a table named by an interpolation."""
    tables: Dict[str, None] = {}
    for statement in classify_sql(text):
        if statement.kind in WRITE_KINDS:
            tables.update(dict.fromkeys(statement.tables))
    return tuple(tables)
