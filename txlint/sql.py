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
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Dict, List, Optional, Tuple

__all__ = ["KINDS", "PLACEHOLDER", "SqlStatement", "UNKNOWN_TABLE", "WRITE_KINDS", "classify_sql", "sql_writes",
           "written_tables"]

PLACEHOLDER = "__txlint_expr__"  # what the caller puts in place of each unknown interpolated part
UNKNOWN_TABLE = "?"  # a target table whose name is (partly) the placeholder

KINDS = ("write", "ddl", "bulk", "maintenance", "txctl", "opaque", "lock", "read", "unknown")
WRITE_KINDS = frozenset({"write", "ddl", "bulk"})
_NESTED_KINDS = WRITE_KINDS | {"lock"}  # what a CTE body or EXPLAIN ANALYZE adds to the result
_MAX_DEPTH = 6  # CTEs inside CTEs inside EXPLAIN: deep enough for real SQL, bounded for fuzz


@dataclass(frozen=True)
class SqlStatement:
    kind: str  # one of KINDS
    keyword: str  # leading keyword, upper case ("UPDATE"; the main statement's for WITH ... UPDATE)
    tables: Tuple[str, ...] = ()  # tables written, quotes stripped, schema kept; "?" when unknown
    commits: bool = False  # COMMIT / END


class _Pattern:
    """A regular expression compiled on first use: compiling the classifier's ~70 patterns takes
    about 50 ms, which a run answered from the cache never needs."""

    def __init__(self, pattern: str, flags: int = 0):
        self._source = (pattern, flags)

    def __getattr__(self, name: str):
        method = getattr(re.compile(*self._source), name)
        setattr(self, name, method)  # found directly from now on
        return method


def _rx(pattern: str) -> "re.Pattern[str]":
    return _Pattern(pattern, re.I | re.S | re.X)


# --- Masking and splitting ---------------------------------------------------------------------

_LEXEME = _Pattern(
    r"""(?P<ident>"(?:[^"]|"")*"|`(?:[^`]|``)*`)"""  # kept: quoted identifiers carry table names
    r"|(?P<literal>'(?:[^']|'')*(?:'|\Z)"  # 'text' with '' escapes; an unterminated one runs to the end
    r"|\$(?P<tag>(?:[^\W\d]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z))"  # PostgreSQL $$body$$ and $fn$body$fn$
    r"|(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z)"
    r"|(?:^|(?<=\n))[ \t]*\#(?=\s|\Z)[^\n]*)",  # MySQL `# note` only at a line start: # is an operator in PG
    re.S)
_STATEMENT = _Pattern(r'(?:"[^"]*"|`[^`]*`|[^;])+')  # `;` outside quoted identifiers ends a statement

# A trigger or procedure body (`CREATE TRIGGER ... BEGIN UPDATE ...; END`) holds `;` of its own.
_CREATE_WITH_BODY = _rx(r"^\s*CREATE\b.*\bBEGIN\b")
_BLOCK_OPENS = _rx(r"\b(?:BEGIN|CASE)\b")
_BLOCK_CLOSES = _rx(r"\bEND\b(?!\s+(?:IF|LOOP|WHILE|REPEAT|FOR)\b)")
_END_CASE = _rx(r"\bEND\s+CASE\b")  # closes a CASE, and its CASE must not also count as an opening


def _masked(match: "re.Match[str]") -> str:
    if match.group("ident") is not None:
        return match.group(0)
    return " " if match.group("comment") is not None else "''"


def _block_balance(text: str) -> int:
    """BEGIN/CASE blocks opened minus those closed by END (`END IF`, `END LOOP` close no block)."""
    opens = len(_BLOCK_OPENS.findall(text)) - len(_END_CASE.findall(text))
    return opens - len(_BLOCK_CLOSES.findall(text))


def _statements(text: str) -> List[str]:
    masked = _LEXEME.sub(_masked, text)
    statements: List[str] = []
    body: List[str] = []  # the parts of a CREATE ... BEGIN whose END has not come yet
    balance = 0
    for part in _STATEMENT.findall(masked):
        if body or _CREATE_WITH_BODY.match(part):
            body.append(part)
            balance += _block_balance(part)
            if balance > 0:
                continue
            part, body, balance = ";".join(body), [], 0
        statements.append(part.strip())
    statements.append(";".join(body).strip())
    return [statement for statement in statements if statement]


# --- Names -------------------------------------------------------------------------------------

_IDENT = r"""(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]\n]+\]|\#{0,2}[^\W\d][\w$]*)"""  # "q" `q` [q] name #tmp
_NAME = rf"(?:{_IDENT}(?:\s*\.\s*{_IDENT}){{0,3}})"  # schema.table, db.schema.table
_PH = re.escape(PLACEHOLDER)
_PARAM = r"(?:%s|%\(\w+\)s|\?|:\w+|\$\d+)"  # DB-API and driver parameter markers
_IDENT_PART = _Pattern(_IDENT)
_NAME_LIST_ITEM = _rx(rf"(?:ONLY\s+)?(?P<name>{_NAME})")
_MORE_NAMES = _rx(rf"\s*,\s*(?P<name>{_NAME})")

# Words that follow a target table in SQL, so they are never its alias.
_CLAUSE = (r"(?:SET|WHERE|USING|RETURNING|ORDER|LIMIT|OUTPUT|PARTITION|FROM|JOIN|INNER|LEFT|RIGHT|CROSS|FULL"
           r"|NATURAL|STRAIGHT_JOIN|WITH|OPTION|VALUES|SELECT|ON|TO)\b")
_ALIAS = rf"(?:\s+(?:AS\s+)?(?!{_CLAUSE}){_IDENT})?"

# "update the record", "delete from this list": an English determiner is not a table name.
_PROSE_WORDS = frozenset("the this that these those my your our their his her its it them an every each some any "
                         "me you us all".split())


def _clean_name(name: str) -> str:
    if PLACEHOLDER in name:
        return UNKNOWN_TABLE
    parts = []
    for part in _IDENT_PART.findall(name):
        if part[0] == '"':
            part = part[1:-1].replace('""', '"')
        elif part[0] == "`":
            part = part[1:-1].replace("``", "`")
        elif part[0] == "[":
            part = part[1:-1]
        parts.append(part)
    return ".".join(parts)


def _is_prose(name: str) -> bool:
    return name.strip().lower() in _PROSE_WORDS


def _sentence_case(statement: str) -> bool:
    """`Delete from cache`: SQL keywords are written all upper or all lower case, English sentences are not."""
    word = statement.split(None, 1)[0]
    return word[:1].isupper() and word[1:].islower()


def _found(kind: str, keyword: str, names=(), commits: bool = False) -> List[SqlStatement]:
    tables = tuple(dict.fromkeys(_clean_name(name) for name in names if name))
    return [SqlStatement(kind, keyword, tables, commits)]


def _unknown(keyword: str) -> List[SqlStatement]:
    return [SqlStatement("unknown", keyword)]


Handler = Callable[[str, str, int], List[SqlStatement]]


# --- Data changes: INSERT, REPLACE, UPSERT, UPDATE, DELETE, MERGE ------------------------------

_INSERT = _rx(rf"""
    ^(?:INSERT|REPLACE|UPSERT)\s+
    (?:(?:OR\s+(?:REPLACE|IGNORE|ABORT|FAIL|ROLLBACK)|IGNORE|LOW_PRIORITY|DELAYED|HIGH_PRIORITY)\s+)*
    (?:INTO\s+)? (?!INTO\b) (?P<table>{_NAME}) \s* (?:AS\s+{_IDENT}\s*)?
    (?:\((?:[^()]|\([^()]*\))*\)\s*)?                 # column list
    (?= VALUES\s*(?:\(|{_PARAM}|{_PH}) | VALUE\s*\( | SELECT\b | \(\s*SELECT\b | SET\s+{_NAME}\s*=
      | DEFAULT\s+VALUES\b | OVERRIDING\s+(?:SYSTEM|USER)\s+VALUE\b | OUTPUT\s+INSERTED\.
      | WITH\s+(?:RECURSIVE\s+)?{_IDENT}\s*(?:\([^()]*\)\s*)?AS\s*\( | {_PH} )
""")
_UPDATE = _rx(rf"""
    ^UPDATE\s+ (?:(?:ONLY|LOW_PRIORITY|IGNORE|OR\s+(?:REPLACE|IGNORE|ABORT|FAIL|ROLLBACK))\s+)*
    (?:TOP\s*\([^)]*\)\s*)?
    (?P<table>{_NAME}) (?:\s*\*)? {_ALIAS} \s*
    (?P<next> SET\b | , | (?:JOIN|INNER|LEFT|RIGHT|CROSS|FULL|NATURAL|STRAIGHT_JOIN)\b | WITH\s*\( | {_PH})
""")
_ASSIGNMENT = _rx(rf"\bSET (?: \s+(?:{_NAME}\s*(?:\[[^\]]*\]\s*)?=|\(|{_PH}) | \s*\Z)")  # SET a = / SET (a, b) =
_DELETE = _rx(rf"""
    ^DELETE\s+ (?:(?:LOW_PRIORITY|QUICK|IGNORE)\s+)* (?:TOP\s*\([^)]*\)\s*)?
    (?: FROM\s+ (?:ONLY\s+)? (?P<table>{_NAME}) (?:\s*\*)?
          (?: \s*\Z
            | {_ALIAS}\s* (?=(?:WHERE|USING|RETURNING|ORDER|LIMIT|OUTPUT|PARTITION|FROM|JOIN|INNER|LEFT|RIGHT|CROSS
                              |WITH|OPTION)\b | , | {_PH}) )
      | (?P<targets>{_NAME}(?:\.\*)?(?:\s*,\s*{_NAME}(?:\.\*)?)*) \s+FROM\s+ (?P<joined>.*) )
""")
# MySQL multi-table DELETE names its targets again in a FROM clause that joins or filters.
_JOINED_FROM = _rx(rf"^{_NAME}{_ALIAS}\s*(?:,|(?:JOIN|INNER|LEFT|RIGHT|CROSS|STRAIGHT_JOIN|WHERE|USING)\b)")
_MERGE = _rx(rf"""^MERGE\s+ (?:TOP\s*\([^)]*\)\s*)? (?:INTO\s+)? (?!INTO\b)
    (?P<table>{_NAME}) {_ALIAS} \s+ (?=USING\b|{_PH})""")


def _insert_like(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _INSERT.match(statement)
    if not match or _is_prose(match.group("table")):
        return _unknown(keyword)
    return _found("write", keyword, [match.group("table")])


def _update(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _UPDATE.match(statement)
    if not match or _is_prose(match.group("table")):
        return _unknown(keyword)
    rest = statement[match.start("next"):]
    if not (rest.startswith(PLACEHOLDER) or _ASSIGNMENT.search(rest)):
        return _unknown(keyword)  # "update user set to active"
    return _found("write", keyword, [match.group("table")])


def _delete(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _DELETE.match(statement)
    if not match:
        return _unknown(keyword)
    if match.group("table") is not None:
        table = match.group("table")
        complete = statement[match.end():].strip() == ""  # `DELETE FROM t`, or a sentence ending there
        if _is_prose(table) or (complete and _sentence_case(statement)):
            return _unknown(keyword)
        return _found("write", keyword, [table])
    targets = [item.group("name") for item in _NAME_LIST_ITEM.finditer(match.group("targets"))]
    joined = match.group("joined")
    if any(_is_prose(target) for target in targets) or not _JOINED_FROM.match(joined):
        return _unknown(keyword)  # "delete files from disk"
    if not re.search(rf"(?<![\w$]){re.escape(targets[0].split('.')[-1])}(?![\w$])", joined):
        return _unknown(keyword)
    return _found("write", keyword, targets)


def _merge(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _MERGE.match(statement)
    if not match or _is_prose(match.group("table")):
        return _unknown(keyword)
    return _found("write", keyword, [match.group("table")])


# --- Schema changes: CREATE, ALTER, DROP, TRUNCATE, RENAME, COMMENT ON, GRANT, REVOKE ---------

_SCHEMA_CHANGE = _rx(rf"""
    ^(?P<verb>CREATE|ALTER|DROP)\s+ (?:OR\s+REPLACE\s+)?
    (?:(?:GLOBAL|LOCAL|TEMP|TEMPORARY|UNLOGGED|UNIQUE|MATERIALIZED|EXTERNAL|VIRTUAL|FOREIGN|RECURSIVE|FULLTEXT
         |SPATIAL|CLUSTERED|NONCLUSTERED|TRUSTED|PROCEDURAL|DEFINER\s*=\s*\S+|ALGORITHM\s*=\s*\w+
         |SQL\s+SECURITY\s+\w+)\s+)*
    (?P<object>TABLE|INDEX|VIEW|SEQUENCE|SCHEMA|DATABASE|TRIGGER|FUNCTION|PROCEDURE|PROC|TYPE|EXTENSION|ROLE|USER
      |DOMAIN|POLICY|RULE|AGGREGATE|COLLATION|TABLESPACE|EVENT|SERVER|PUBLICATION|SUBSCRIPTION|STATISTICS
      |OPERATOR|LANGUAGE|SYNONYM|PACKAGE)\b
    (?:\s+CONCURRENTLY)? (?:\s+IF\s+(?:NOT\s+)?EXISTS)? (?:\s+ONLY)?
    (?:\s*(?!ON\b)(?P<name>{_NAME}))?
""")
# What must come after `CREATE <object> name` for it to be a statement and not a sentence.
_CREATE_BODY = {
    "TABLE": _rx(rf"^(?:\(|AS\b|LIKE\b|PARTITION\s+OF\b|OF\b|CLONE\b|{_PH})"),
    "INDEX": _rx(rf"^(?:USING\s+\w+\s+)?ON\b|^{_PH}"),
    "VIEW": _rx(rf"^(?:\([^)]*\)\s*)?(?:WITH\b.*?)?AS\b|^{_PH}"),
    "TRIGGER": _rx(rf"\bON\b|^{_PH}"),
    "POLICY": _rx(rf"^ON\b|^{_PH}"),
    "RULE": _rx(rf"^AS\s+ON\b|^{_PH}"),
    "STATISTICS": _rx(rf"\bON\b|^{_PH}"),
    "FUNCTION": _rx(rf"^\(|^{_PH}"),
    "PROCEDURE": _rx(rf"^(?:\(|AS\b|@|BEGIN\b)|^{_PH}"),
    "PROC": _rx(rf"^(?:\(|AS\b|@|BEGIN\b)|^{_PH}"),
    "AGGREGATE": _rx(rf"^\(|^{_PH}"),
    "OPERATOR": _rx(rf"^\(|^{_PH}"),
}
# What may follow `CREATE SCHEMA|USER|SEQUENCE|... name`.
_CREATE_OPTION = _rx(rf"""^(?:WITH|AS|AUTHORIZATION|IDENTIFIED|OWNER|INCREMENT|START|MINVALUE|MAXVALUE|CACHE|CYCLE|NO
    |ENCODING|DEFAULT|CHARACTER|CHARSET|COLLATE|PASSWORD|LOGIN|NOLOGIN|SUPERUSER|CREATEDB|CREATEROLE|IN\s+SCHEMA
    |SCHEMA|VERSION|CASCADE|OPTIONS|FOR\s+(?:TABLE|ALL)|TEMPLATE|LOCATION|FOREIGN\s+DATA|HANDLER|LC_\w+)\b
    |^[(@]|^{_PH}""")
_ALTER_ACTION = _rx(rf"""^(?:ADD|DROP|ALTER|RENAME|SET|RESET|OWNER|ATTACH|DETACH|ENABLE|DISABLE|VALIDATE|MODIFY|CHANGE
    |ENGINE|AUTO_INCREMENT|CONVERT|INHERIT|NO|CLUSTER|REPLICA|FORCE|OF|NOT|WITH|REFRESH|REBUILD|RESTART|INCREMENT
    |START|CHARACTER|DEFAULT|COLLATE|COMMENT|PASSWORD|LOGIN|NOLOGIN|IDENTIFIED|CONNECTION|MAXVALUE|MINVALUE|CACHE
    |CYCLE|OWNED|AS|RECOMPILE|COMPILE|REORGANIZE|PARTITION|TRUNCATE|EXCHANGE|COALESCE|REMOVE|UPGRADE|DISCARD
    |IMPORT|ORDER|LOCK|ALGORITHM|ROW_FORMAT|UPDATE|VALID|VALUE|ACCOUNT|SUPERUSER|NOSUPERUSER|CREATEDB|ON|IN|TO
    |CONFIGURATION|DEPENDS)\b|^[(,]|^{_PH}""")
_DROP_TAIL = _rx(rf"^(?:,|\(|(?:CASCADE|RESTRICT|ON|PURGE|FORCE|FROM)\b|{_PH})")
_TRUNCATE = _rx(rf"""
    ^TRUNCATE\s+ (?P<table_keyword>TABLE\s+)?
    (?P<tables>(?:ONLY\s+)?{_NAME}(?:\s*\*)?(?:\s*,\s*(?:ONLY\s+)?{_NAME}(?:\s*\*)?)*) \s*
    (?= \Z | (?:CASCADE|RESTRICT|RESTART|CONTINUE|DROP|REUSE|IMMEDIATE)\b | {_PH})
""")
_RENAME = _rx(rf"^RENAME\s+(?:TABLE\s+(?P<table>{_NAME})\s+TO\s+{_NAME}|USER\s+\S+\s+TO\s+\S)")
_COMMENT_ON = _rx(rf"^COMMENT\s+ON\s+\w+\b.*?\bIS\s+(?:''|NULL\b|{_PH})")
_PRIVILEGE = (r"(?:ALL(?:\s+PRIVILEGES)?|SELECT|INSERT|UPDATE|DELETE|TRUNCATE|REFERENCES|TRIGGER|CREATE|CONNECT"
              r"|TEMPORARY|TEMP|EXECUTE|USAGE|ALTER|DROP|INDEX|MAINTAIN|EVENT|RELOAD|PROCESS|FILE|LOCK\s+TABLES"
              r"|SHOW\s+VIEW|GRANT\s+OPTION)(?:\s*\([^)]*\))?")
_GRANT_PRIVILEGES = _rx(rf"^(?:GRANT|REVOKE(?:\s+GRANT\s+OPTION\s+FOR)?)\s+{_PRIVILEGE}(?:\s*,\s*{_PRIVILEGE})*\s+ON\b")
# `GRANT admin TO bob` reads like English ("grant access to users"): accepted in upper case only.
_GRANT_ROLE = _Pattern(rf"^(?:GRANT\s+{_NAME}(?:\s*,\s*{_NAME})*\s+TO|REVOKE\s+{_NAME}(?:\s*,\s*{_NAME})*\s+FROM)"
                         rf"\s+{_NAME}")


def _schema_change(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _SCHEMA_CHANGE.match(statement)
    if not match:
        return _unknown(keyword)  # "create a user", "drop me a line"
    kind, name = match.group("object").upper(), match.group("name")
    rest = statement[match.end():].strip()
    shape = _schema_change_shape(keyword, kind, name, rest)
    if shape is None or (name and _is_prose(name)) or (shape == "weak" and _sentence_case(statement)):
        return _unknown(keyword)
    tables = []
    if kind == "TABLE":
        tables.append(name)
        if keyword == "DROP":
            tables.extend(_more_names(rest))
    return _found("ddl", keyword, tables)


def _schema_change_shape(verb: str, kind: str, name: Optional[str], rest: str) -> Optional[str]:
    """"strong" (only SQL looks like this), "weak" (so might a sentence: `Create user failed`), or None."""
    body = _CREATE_BODY.get(kind) if verb == "CREATE" else None
    if name is None:
        return "strong" if kind == "INDEX" and body and body.search(rest) else None
    if verb == "ALTER":
        return "strong" if _ALTER_ACTION.match(rest) else None
    if verb == "DROP":
        return "weak" if not rest else "strong" if _DROP_TAIL.match(rest) else None
    if body is not None:
        return "strong" if body.search(rest) else None
    return "weak" if not rest or _CREATE_OPTION.match(rest) else None


def _more_names(rest: str) -> List[str]:
    """The other tables of `DROP TABLE a, b, c`: `rest` is what follows `a`."""
    names = []
    more = _MORE_NAMES.match(rest)
    while more:
        names.append(more.group("name"))
        more = _MORE_NAMES.match(rest, more.end())
    return names


def _truncate(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _TRUNCATE.match(statement)
    if not match:
        return _unknown(keyword)
    tables = [item.group("name") for item in _NAME_LIST_ITEM.finditer(match.group("tables"))]
    complete = not match.group("table_keyword") and statement[match.end():].strip() == ""
    if any(_is_prose(table) for table in tables) or (complete and _sentence_case(statement)):
        return _unknown(keyword)  # "truncate the log", "Truncate message"
    return _found("ddl", keyword, tables)


def _other_schema_change(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    if keyword == "RENAME":
        match = _RENAME.match(statement)
        return _found("ddl", keyword, [match.group("table")]) if match else _unknown(keyword)
    if keyword == "COMMENT":
        return _found("ddl", keyword) if _COMMENT_ON.match(statement) else _unknown(keyword)
    if _GRANT_PRIVILEGES.match(statement) or _GRANT_ROLE.match(statement):
        return _found("ddl", keyword)
    return _unknown(keyword)


# --- Bulk loads: COPY ... FROM, LOAD DATA, BULK INSERT -----------------------------------------

_COPY = _rx(rf"""^COPY\s+ (?P<table>{_NAME}) \s* (?:\([^)]*\)\s*)? (?P<direction>FROM|TO)
    \s+ (?:STDIN|STDOUT|PROGRAM\b|''|{_PARAM}|{_PH})""")
_COPY_QUERY = _rx(r"^COPY\s*\(.*\)\s*TO\b")
_LOAD_DATA = _rx(r"^LOAD\s+DATA\s+(?:(?:LOW_PRIORITY|CONCURRENT)\s+)?(?:LOCAL\s+)?INFILE\b")
_LOAD_TARGET = _rx(rf"\bINTO\s+TABLE\s+(?P<table>{_NAME})")
_BULK_INSERT = _rx(rf"^BULK\s+INSERT\s+(?P<table>{_NAME})\s+FROM\b")


def _copy(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    if _COPY_QUERY.match(statement):
        return _found("read", keyword)
    match = _COPY.match(statement)
    if not match or _is_prose(match.group("table")):
        return _unknown(keyword)  # "copy the file to disk"
    if match.group("direction").upper() == "TO":
        return _found("read", keyword)
    return _found("bulk", keyword, [match.group("table")])


def _load_data(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    if not _LOAD_DATA.match(statement):
        return _unknown(keyword)
    target = _LOAD_TARGET.search(statement)
    return _found("bulk", keyword, [target.group("table")] if target else [])


def _bulk_insert(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _BULK_INSERT.match(statement)
    return _found("bulk", keyword, [match.group("table")]) if match else _unknown(keyword)


# --- Maintenance, transaction control, opaque calls ---------------------------------------------

_NAME_WITH_COLUMNS = rf"{_NAME}(?:\s*\([^)]*\))?"
_MAINTENANCE = {
    "VACUUM": _rx(rf"""^VACUUM (?:\s*\([^)]*\))? (?:\s+(?:FULL|FREEZE|VERBOSE|ANALYZE|ANALYSE)\b)*
        (?:\s+{_NAME_WITH_COLUMNS}(?:\s*,\s*{_NAME_WITH_COLUMNS})*)? (?:\s+INTO\s+'')? \s*\Z"""),
    "ANALYZE": _rx(rf"""^ANALY[SZ]E (?:\s*\([^)]*\))? (?:\s+VERBOSE\b)?
        (?:\s+(?:(?:NO_WRITE_TO_BINLOG|LOCAL)\s+)?TABLE\b)?
        (?:\s+{_NAME_WITH_COLUMNS}(?:\s*,\s*{_NAME_WITH_COLUMNS})*)? \s*\Z"""),
    "REINDEX": _rx(rf"""^REINDEX (?:\s*\([^)]*\))? (?:\s+(?:INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\b(?:\s+CONCURRENTLY)?)?
        (?:\s+{_NAME})? \s*\Z"""),
    "CLUSTER": _rx(rf"^CLUSTER (?:\s+VERBOSE)? (?:\s+{_NAME}(?:\s+(?:USING|ON)\s+{_NAME})?)? \s*\Z"),
    "OPTIMIZE": _rx(r"^OPTIMIZE\s+(?:(?:NO_WRITE_TO_BINLOG|LOCAL)\s+)?TABLE\b"),
    "REFRESH": _rx(r"^REFRESH\s+MATERIALIZED\s+VIEW\b"),
}
_MAINTENANCE["ANALYSE"] = _MAINTENANCE["ANALYZE"]

# Words that may follow BEGIN/COMMIT/...: anything else ("begin processing", "commit changes") is prose.
_TX_WORD = (r"(?:TRANSACTION|TRAN|WORK|DEFERRED|IMMEDIATE|EXCLUSIVE|ISOLATION|LEVEL|SERIALIZABLE|REPEATABLE|READ"
            r"|COMMITTED|UNCOMMITTED|SNAPSHOT|WRITE|ONLY|NOT|DEFERRABLE|WITH|CONSISTENT|AND|NO|CHAIN|RELEASE)\b")
_TX_TAIL = rf"(?:(?:\s*,\s*|\s+){_TX_WORD})*\s*\Z"
_TRANSACTION_CONTROL = {
    "BEGIN": _rx(rf"^BEGIN{_TX_TAIL}"),
    "START": _rx(rf"^START\s+TRANSACTION\b{_TX_TAIL}"),
    "COMMIT": _rx(rf"^COMMIT(?:{_TX_TAIL}|\s+PREPARED\s+''\s*\Z)"),
    "END": _rx(rf"^END{_TX_TAIL}"),
    "ROLLBACK": _rx(rf"""^ROLLBACK(?:{_TX_TAIL}|\s+PREPARED\s+''\s*\Z
        |(?:\s+(?:WORK|TRANSACTION|TRAN))?\s+TO\s+(?:SAVEPOINT\s+)?{_NAME}\s*\Z)"""),
    "ABORT": _rx(rf"^ABORT{_TX_TAIL}"),
    "SAVEPOINT": _rx(rf"^SAVEPOINT\s+{_NAME}\s*\Z"),
    "RELEASE": _rx(rf"^RELEASE\s+(?:SAVEPOINT\s+)?{_NAME}\s*\Z"),
}
_COMMITTING = {"COMMIT", "END"}
_SET_TRANSACTION = _rx(r"""^SET\s+(?:(?:SESSION|GLOBAL|LOCAL)\s+)?
    (?:TRANSACTION\b|CHARACTERISTICS\s+AS\s+TRANSACTION\b|AUTOCOMMIT\s*(?:=|TO\b)|@@AUTOCOMMIT\b
      |IMPLICIT_TRANSACTIONS\b)""")
_OPAQUE = {
    "CALL": _rx(rf"^CALL\s+{_NAME}\s*(?:\(|\Z)"),
    "EXEC": _rx(rf"""^EXEC(?:UTE)?\s*(?:\(|(?:@\w+\s*=\s*)?{_NAME}\s*
        (?:\Z|\(|[@:$%?]|''|\d|USING\b|{_NAME}\s*[=,]|{_PH}))"""),  # EXEC proc @a = 1, EXECUTE stmt(1)
    "DO": _rx(r"^DO\s+(?:''|LANGUAGE\b)"),  # DO $$ ... $$, its body masked
}
_OPAQUE["EXECUTE"] = _OPAQUE["EXEC"]
_PRAGMA = _rx(rf"^PRAGMA\s+{_NAME}\s*(?:(?P<assignment>=)|\(|\Z)")


def _maintenance(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    return _found("maintenance", keyword) if _MAINTENANCE[keyword].match(statement) else _unknown(keyword)


def _transaction_control(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    if not _TRANSACTION_CONTROL[keyword].match(statement):
        return _unknown(keyword)  # "begin processing", "commit changes to git"
    commits = keyword in _COMMITTING and "PREPARED" not in statement.upper()
    return _found("txctl", keyword, commits=commits)


def _set(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    return _found("txctl", keyword) if _SET_TRANSACTION.match(statement) else _unknown(keyword)


def _opaque(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    return _found("opaque", keyword) if _OPAQUE[keyword].match(statement) else _unknown(keyword)


def _pragma(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    """`PRAGMA x = v` changes state; `PRAGMA x` and `PRAGMA f(t)` read."""
    match = _PRAGMA.match(statement)
    if not match:
        return _unknown(keyword)
    return _found("opaque" if match.group("assignment") else "read", keyword)


# --- Reads: SELECT (and SELECT INTO, SELECT FOR UPDATE), EXPLAIN, WITH ----------------------------

# PG/MSSQL create-table-as; `INTO @var`, `INTO :var` and `INTO OUTFILE ''` do not match a table name.
_SELECT_INTO = _rx(rf"\bINTO\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?(?:TABLE\s+)?(?P<table>{_NAME})\s+FROM\b")
_NOT_A_TABLE = frozenset({"outfile", "dumpfile"})
_LOCKING = _rx(r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(?:KEY\s+)?SHARE\b|\bLOCK\s+IN\s+SHARE\s+MODE\b"
               r"|\b(?:UPDLOCK|XLOCK)\b")
_READS = {
    "VALUES": _rx(r"^VALUES\s*\("),
    "TABLE": _rx(rf"^TABLE\s+{_NAME}\s*\Z"),
    "SHOW": _rx(r"^SHOW\s+\w"),
    "DESCRIBE": _rx(r"^DESCRIBE\s+\w"),
    "DESC": _rx(rf"^DESC\s+{_NAME}\s*\Z"),
}
_EXPLAIN = _rx(r"""^EXPLAIN (?P<options> \s*\([^)]*\)
    | (?:\s+(?:ANALYZE|ANALYSE|VERBOSE|QUERY\s+PLAN|EXTENDED|PARTITIONS|FORMAT\s*=\s*\w+)\b)* ) \s* (?P<body>.*)""")
_EXECUTES = _rx(r"\bANALY[SZ]E\b(?!\s+(?:FALSE|OFF|0)\b)")  # EXPLAIN ANALYZE runs its statement
_CTE = rf"{_IDENT}\s*(?:\([^()]*\)\s*)?AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\("  # name (cols) AS NOT MATERIALIZED (
_FIRST_CTE = _rx(rf"^WITH\s+(?:RECURSIVE\s+)?{_CTE}")
_NEXT_CTE = _rx(rf"\s*,\s*{_CTE}")
_PAREN = _Pattern(r"[()]")


def _select(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    into = _SELECT_INTO.search(statement)
    if into and into.group("table").lower() not in _NOT_A_TABLE and not _is_prose(into.group("table")):
        return _found("write", keyword, [into.group("table")])
    return _found("lock" if _LOCKING.search(statement) else "read", keyword)


def _read(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    return _found("read", keyword) if _READS[keyword].match(statement) else _unknown(keyword)


def _explain(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _EXPLAIN.match(statement)
    nested: List[SqlStatement] = []
    if match and _EXECUTES.search(match.group("options")):
        nested = [found for found in _classify_statement(match.group("body"), depth + 1)
                  if found.kind in _NESTED_KINDS]
    return _found("read", keyword) + nested


def _with(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    """`WITH a AS (...), b AS (...) MAIN`: MAIN's classification, then each CTE body that writes or locks."""
    head = _FIRST_CTE.match(statement)
    if head is None:
        return _unknown(keyword)  # "with the new version"
    bodies = []
    while head is not None:
        close = _closing_paren(statement, head.end())
        bodies.append(statement[head.end():close])
        position = close + 1
        head = _NEXT_CTE.match(statement, position)
    main = statement[position:].strip()
    found = _classify_statement(main, depth + 1) if main else _found("read", keyword)
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

_FIRST_WORD = _Pattern(r"[A-Za-z_]\w*")
_HANDLERS: Dict[str, Handler] = {
    "INSERT": _insert_like, "REPLACE": _insert_like, "UPSERT": _insert_like,
    "UPDATE": _update, "DELETE": _delete, "MERGE": _merge,
    "CREATE": _schema_change, "ALTER": _schema_change, "DROP": _schema_change, "TRUNCATE": _truncate,
    "RENAME": _other_schema_change, "COMMENT": _other_schema_change, "GRANT": _other_schema_change,
    "REVOKE": _other_schema_change,
    "COPY": _copy, "LOAD": _load_data, "BULK": _bulk_insert,
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
        return _unknown("")
    keyword = first.group(0).upper()
    handler = _HANDLERS.get(keyword)
    if handler is None or depth > _MAX_DEPTH:
        return _unknown(keyword)
    return handler(statement, keyword, depth)


@lru_cache(maxsize=4096)
def _classify_text(text: str) -> Tuple[SqlStatement, ...]:
    found: List[SqlStatement] = []
    for statement in _statements(text):
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
