"""Classify SQL text: which statements write, and to which tables.

A keyword classifier rather than a parser: robust to dialects and to the partial SQL txlint
rebuilds from f-strings and templates (unknown parts become PLACEHOLDER). String literals and
comments are masked first, so `SELECT 'insert into x'` stays a read.
"""

import re
from dataclasses import dataclass
from typing import List, Tuple

PLACEHOLDER = "__txlint_expr__"


@dataclass(frozen=True)
class SqlStatement:
    kind: str  # write | ddl | bulk | maintenance | txctl | opaque | lock | read | unknown
    keyword: str
    tables: Tuple[str, ...] = ()
    commits: bool = False


WRITE_KINDS = frozenset({"write", "ddl", "bulk"})

_IDENT = r'(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)'
_NAME = rf"({_IDENT}(?:\s*\.\s*{_IDENT})*)"
_LITERAL = re.compile(r"'(?:[^']|'')*'?|\$(\w*)\$.*?(?:\$\1\$|$)", re.S)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)|^\s*#[^\n]*", re.S | re.M)
_WORD = re.compile(r"[A-Za-z_]+")

_TARGETS = {
    "INSERT": re.compile(rf"^INSERT\s+(?:OR\s+\w+\s+|IGNORE\s+|LOW_PRIORITY\s+|DELAYED\s+|HIGH_PRIORITY\s+)*(?:INTO\s+)?{_NAME}", re.I),
    "REPLACE": re.compile(rf"^REPLACE\s+(?:LOW_PRIORITY\s+|DELAYED\s+)*(?:INTO\s+)?{_NAME}", re.I),
    "UPSERT": re.compile(rf"^UPSERT\s+(?:INTO\s+)?{_NAME}", re.I),
    "UPDATE": re.compile(rf"^UPDATE\s+(?:ONLY\s+|LOW_PRIORITY\s+|IGNORE\s+|OR\s+\w+\s+)*{_NAME}\s*(?:\*\s*)?(?:(?:AS\s+)?{_IDENT}\s+)?(?:SET\b|,|JOIN\b|INNER\b|LEFT\b)", re.I),
    "DELETE": re.compile(rf"^DELETE\s+(?:LOW_PRIORITY\s+|QUICK\s+|IGNORE\s+)*(?:FROM\s+(?:ONLY\s+)?{_NAME}|{_NAME}(?:\s*,\s*{_IDENT})*\s+FROM\b)", re.I),
    "MERGE": re.compile(rf"^MERGE\s+(?:INTO\s+)?{_NAME}", re.I),
    "TRUNCATE": re.compile(rf"^TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?{_NAME}", re.I),
    "COPY": re.compile(rf"^COPY\s+{_NAME}\s*(?:\([^)]*\)\s*)?FROM\b", re.I),
}
_DDL_OBJECT = re.compile(
    rf"^(CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP\s+|TEMPORARY\s+|UNLOGGED\s+|UNIQUE\s+|"
    rf"MATERIALIZED\s+|EXTERNAL\s+|VIRTUAL\s+)*(TABLE|INDEX|VIEW|SEQUENCE|SCHEMA|DATABASE|TRIGGER|FUNCTION|PROCEDURE|TYPE|"
    rf"EXTENSION|ROLE|USER|COLUMN|CONSTRAINT|DOMAIN|POLICY|RULE|AGGREGATE|COLLATION|TABLESPACE)\b"
    rf"(?:\s+CONCURRENTLY)?(?:\s+IF\s+(?:NOT\s+)?EXISTS)?\s*{_NAME}?", re.I)
_SELECT_INTO = re.compile(rf"\bINTO\s+(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?(?:TABLE\s+)?{_NAME}\s+FROM\b", re.I)
_LOCK = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b", re.I)
_SHAPES = {
    # The second word that makes a leading keyword a statement and not an English sentence.
    "INSERT": re.compile(r"^INSERT\s+(?:INTO|OR|IGNORE|LOW_PRIORITY|DELAYED|HIGH_PRIORITY)\b|^INSERT\s+\S+\s*(?:\(|VALUES\b|SELECT\b|DEFAULT\b)", re.I),
    "REPLACE": re.compile(r"^REPLACE\s+(?:INTO\b|\S+\s*(?:\(|VALUES\b|SELECT\b))", re.I),
    "UPSERT": re.compile(r"^UPSERT\s+(?:INTO\b|\S+\s*(?:\(|VALUES\b))", re.I),
    "UPDATE": _TARGETS["UPDATE"],
    "DELETE": re.compile(r"^DELETE\s+(?:LOW_PRIORITY\s+|QUICK\s+|IGNORE\s+)*(?:FROM\b|\S+(?:\s*,\s*\S+)*\s+FROM\b)", re.I),
    "MERGE": re.compile(r"^MERGE\s+INTO\b", re.I),
    "TRUNCATE": re.compile(r"^TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?\S+\s*(?:$|,|CASCADE|RESTART|CONTINUE|RESTRICT)", re.I),
    "COPY": re.compile(r"^COPY\s+\S+", re.I),
    "RENAME": re.compile(r"^RENAME\s+(?:TABLE|USER)\b", re.I),
    "COMMENT": re.compile(r"^COMMENT\s+ON\b", re.I),
    "GRANT": re.compile(r"^GRANT\s+\S+.*\bON\b|^GRANT\s+\S+\s+TO\b", re.I | re.S),
    "REVOKE": re.compile(r"^REVOKE\s+\S+.*\b(?:ON|FROM)\b", re.I | re.S),
    "LOAD": re.compile(r"^LOAD\s+DATA\b", re.I),
    "BULK": re.compile(r"^BULK\s+INSERT\b", re.I),
    "SELECT": re.compile(r"^SELECT\b", re.I),
    "VALUES": re.compile(r"^VALUES\s*\(", re.I),
    "TABLE": re.compile(r"^TABLE\s+\S+\s*$", re.I),
    "WITH": re.compile(r"^WITH\s+(?:RECURSIVE\s+)?\S+\s*(?:\([^)]*\)\s*)?AS\b", re.I),
    "PRAGMA": re.compile(r"^PRAGMA\s+[\w.]+", re.I),
    "CALL": re.compile(r"^CALL\s+[\w.]+\s*\(", re.I),
    "EXEC": re.compile(r"^EXEC(?:UTE)?\s+[\w.@]+", re.I),
    "DO": re.compile(r"^DO\s+(?:\$|LANGUAGE\b|')", re.I),
}
_TXCTL = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"}
_COMMITS = {"COMMIT", "END"}
_MAINTENANCE = {"VACUUM", "REINDEX", "CLUSTER", "OPTIMIZE", "ANALYZE", "ANALYSE", "REFRESH"}
_READS = {"SELECT", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"}
_DML = {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT"}


def _mask(text: str) -> str:
    """Blank out string literals and comments, keeping quoted identifiers (they name tables)."""
    text = _COMMENT.sub(" ", _LITERAL.sub("''", text))
    return text


def _split(text: str) -> List[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _clean_name(name: str) -> str:
    parts = [part.strip().strip('"`[]') for part in name.split(".")]
    joined = ".".join(parts)
    return "?" if PLACEHOLDER in joined else joined


def _skip_ctes(statement: str) -> Tuple[str, List[str]]:
    """`WITH a AS (...), b AS (...) MAIN` -> ("MAIN...", [cte bodies])."""
    match = re.match(r"WITH\s+(?:RECURSIVE\s+)?", statement, re.I)
    position = match.end()
    bodies = []
    while True:
        head = re.match(r"\s*[^\s(,]+\s*(?:\([^)]*\)\s*)?AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(", statement[position:], re.I)
        if not head:
            break
        start = position + head.end()
        depth, index = 1, start
        while index < len(statement) and depth:
            depth += {"(": 1, ")": -1}.get(statement[index], 0)
            index += 1
        bodies.append(statement[start:index - 1])
        position = index
        comma = re.match(r"\s*,", statement[position:])
        if not comma:
            break
        position += comma.end()
    return statement[position:].strip(), bodies


def _classify_one(statement: str, depth: int = 0) -> List[SqlStatement]:
    statement = statement.lstrip("( \t\r\n")
    word_match = _WORD.match(statement)
    if not word_match:
        return [SqlStatement("unknown", "")]
    keyword = word_match.group(0).upper()
    shape = _SHAPES.get(keyword)
    if keyword == "WITH" and depth < 4 and shape.match(statement):
        main, bodies = _skip_ctes(statement)
        results = []
        for body in bodies:
            results.extend(s for s in _classify_one(body, depth + 1) if s.kind in WRITE_KINDS)
        inner = _classify_one(main, depth + 1) if main else []
        return (inner[:1] or [SqlStatement("read", "WITH")]) + results
    if keyword in _TXCTL:
        if keyword == "START" and not re.match(r"START\s+TRANSACTION\b", statement, re.I):
            return [SqlStatement("unknown", keyword)]
        if keyword == "END" and not re.match(r"END\s*(?:TRANSACTION|WORK)?\s*$", statement, re.I):
            return [SqlStatement("unknown", keyword)]
        if len(statement.split()) > 4 and keyword in ("BEGIN", "COMMIT", "ROLLBACK"):
            if not re.match(r"\w+\s+(?:TRANSACTION|WORK|ISOLATION|READ|DEFERRED|IMMEDIATE|EXCLUSIVE|TO\b)", statement, re.I):
                return [SqlStatement("unknown", keyword)]
        return [SqlStatement("txctl", keyword, commits=keyword in _COMMITS)]
    if keyword == "SET" and re.match(r"SET\s+(?:SESSION\s+)?(?:TRANSACTION|AUTOCOMMIT)\b", statement, re.I):
        return [SqlStatement("txctl", keyword)]
    if keyword in _MAINTENANCE:
        if keyword == "REFRESH" and not re.match(r"REFRESH\s+MATERIALIZED\s+VIEW\b", statement, re.I):
            return [SqlStatement("unknown", keyword)]
        return [SqlStatement("maintenance", keyword)]
    if keyword in ("CREATE", "ALTER", "DROP"):
        match = _DDL_OBJECT.match(statement)
        if not match:
            return [SqlStatement("unknown", keyword)]
        table = (_clean_name(match.group(3)),) if match.group(2).upper() == "TABLE" and match.group(3) else ()
        return [SqlStatement("ddl", keyword, table)]
    if shape is None or not shape.match(statement):
        if keyword in ("SHOW", "DESCRIBE", "DESC"):
            return [SqlStatement("read", keyword)]
        if keyword == "EXPLAIN":
            return _explain(statement, depth)
        return [SqlStatement("unknown", keyword)]
    if keyword in _DML or keyword in ("TRUNCATE",):
        target = _TARGETS[keyword].match(statement)
        names = [group for group in (target.groups() if target else ()) if group]
        return [SqlStatement("write", keyword, tuple(_clean_name(n) for n in names[:1]))]
    if keyword == "COPY":
        target = _TARGETS["COPY"].match(statement)
        if target:
            return [SqlStatement("bulk", keyword, (_clean_name(target.group(1)),))]
        return [SqlStatement("read", keyword)]
    if keyword in ("LOAD", "BULK"):
        table = re.search(rf"\b(?:INTO\s+TABLE|INSERT)\s+{_NAME}", statement, re.I)
        return [SqlStatement("bulk", keyword, (_clean_name(table.group(1)),) if table else ())]
    if keyword in ("RENAME", "COMMENT", "GRANT", "REVOKE"):
        return [SqlStatement("ddl", keyword)]
    if keyword in ("CALL", "EXEC", "DO"):
        return [SqlStatement("opaque", keyword)]
    if keyword == "PRAGMA":
        return [SqlStatement("opaque" if "=" in statement else "read", keyword)]
    if keyword == "SELECT":
        into = _SELECT_INTO.search(statement)
        if into and not into.group(1).startswith(("@", ":")) and into.group(1).upper() not in ("OUTFILE", "DUMPFILE"):
            return [SqlStatement("write", "SELECT", (_clean_name(into.group(1)),))]
        if _LOCK.search(statement):
            return [SqlStatement("lock", keyword)]
    return [SqlStatement("read", keyword)]


def _explain(statement: str, depth: int) -> List[SqlStatement]:
    analyzed = re.match(r"EXPLAIN\s+(?:\([^)]*\banalyze\b[^)]*\)|ANALYZE\b)\s*(?:VERBOSE\s+)?(.*)", statement, re.I | re.S)
    if analyzed and depth < 4:
        inner = [s for s in _classify_one(analyzed.group(1), depth + 1) if s.kind in WRITE_KINDS]
        return [SqlStatement("read", "EXPLAIN")] + inner
    return [SqlStatement("read", "EXPLAIN")]


def classify_sql(text: str) -> Tuple[SqlStatement, ...]:
    """One classification per statement (plus data-modifying CTE bodies and EXPLAIN ANALYZE targets)."""
    if not isinstance(text, str) or not text.strip():
        return ()
    try:
        statements = []
        for part in _split(_mask(text)):
            statements.extend(_classify_one(part))
        return tuple(statements)
    except RecursionError:
        return ()


def sql_writes(text: str) -> bool:
    return any(statement.kind in WRITE_KINDS for statement in classify_sql(text))


def written_tables(text: str) -> Tuple[str, ...]:
    tables = []
    for statement in classify_sql(text):
        if statement.kind in WRITE_KINDS:
            tables.extend(t for t in statement.tables if t not in tables)
    return tuple(tables)
