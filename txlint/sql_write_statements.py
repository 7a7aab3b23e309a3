"""The statements that change data or schema, one handler per leading keyword: INSERT, UPDATE,
DELETE, MERGE (data), CREATE, ALTER, DROP, TRUNCATE, RENAME, COMMENT ON, GRANT, REVOKE (schema),
COPY, LOAD DATA, BULK INSERT (bulk loads). Each is a write only when its shape beyond the first word
is SQL's. Uses txlint.sql_lexing alone; txlint.sql dispatches to `WRITE_HANDLERS`."""

import re
from typing import Dict, List, Optional

from txlint.sql_lexing import (ALIAS, IDENT, MORE_NAMES, NAME, NAME_LIST_ITEM, PARAM, PH, PLACEHOLDER, Handler, Pattern,
                               SqlStatement, classified, is_prose, rx, sentence_case, unclassified)


# --- Data changes: INSERT, REPLACE, UPSERT, UPDATE, DELETE, MERGE ------------------------------

_INSERT = rx(rf"""
    ^(?:INSERT|REPLACE|UPSERT)\s+
    (?:(?:OR\s+(?:REPLACE|IGNORE|ABORT|FAIL|ROLLBACK)|IGNORE|LOW_PRIORITY|DELAYED|HIGH_PRIORITY)\s+)*
    (?:INTO\s+)? (?!INTO\b) (?P<table>{NAME}) \s* (?:AS\s+{IDENT}\s*)?
    (?:\((?:[^()]|\([^()]*\))*\)\s*)?                 # column list
    (?= VALUES\s*(?:\(|{PARAM}|{PH}) | VALUE\s*\( | SELECT\b | \(\s*SELECT\b | SET\s+{NAME}\s*=
      | DEFAULT\s+VALUES\b | OVERRIDING\s+(?:SYSTEM|USER)\s+VALUE\b | OUTPUT\s+INSERTED\.
      | WITH\s+(?:RECURSIVE\s+)?{IDENT}\s*(?:\([^()]*\)\s*)?AS\s*\( | {PH} )
""")
_UPDATE = rx(rf"""
    ^UPDATE\s+ (?:(?:ONLY|LOW_PRIORITY|IGNORE|OR\s+(?:REPLACE|IGNORE|ABORT|FAIL|ROLLBACK))\s+)*
    (?:TOP\s*\([^)]*\)\s*)?
    (?P<table>{NAME}) (?:\s*\*)? {ALIAS} \s*
    (?P<next> SET\b | , | (?:JOIN|INNER|LEFT|RIGHT|CROSS|FULL|NATURAL|STRAIGHT_JOIN)\b | WITH\s*\( | {PH})
""")
_ASSIGNMENT = rx(rf"\bSET (?: \s+(?:{NAME}\s*(?:\[[^\]]*\]\s*)?=|\(|{PH}) | \s*\Z)")  # SET a = / SET (a, b) =
_DELETE = rx(rf"""
    ^DELETE\s+ (?:(?:LOW_PRIORITY|QUICK|IGNORE)\s+)* (?:TOP\s*\([^)]*\)\s*)?
    (?: FROM\s+ (?:ONLY\s+)? (?P<table>{NAME}) (?:\s*\*)?
          (?: \s*\Z
            | {ALIAS}\s* (?=(?:WHERE|USING|RETURNING|ORDER|LIMIT|OUTPUT|PARTITION|FROM|JOIN|INNER|LEFT|RIGHT|CROSS
                              |WITH|OPTION)\b | , | {PH}) )
      | (?P<targets>{NAME}(?:\.\*)?(?:\s*,\s*{NAME}(?:\.\*)?)*) \s+FROM\s+ (?P<joined>.*) )
""")
# MySQL multi-table DELETE names its targets again in a FROM clause that joins or filters.
_JOINED_FROM = rx(rf"^{NAME}{ALIAS}\s*(?:,|(?:JOIN|INNER|LEFT|RIGHT|CROSS|STRAIGHT_JOIN|WHERE|USING)\b)")
_MERGE = rx(rf"""^MERGE\s+ (?:TOP\s*\([^)]*\)\s*)? (?:INTO\s+)? (?!INTO\b)
    (?P<table>{NAME}) {ALIAS} \s+ (?=USING\b|{PH})""")


def _insert_like(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _INSERT.match(statement)
    if not match or is_prose(match.group("table")):
        return unclassified(keyword)
    return classified("write", keyword, [match.group("table")])


def _update(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _UPDATE.match(statement)
    if not match or is_prose(match.group("table")):
        return unclassified(keyword)
    rest = statement[match.start("next"):]
    if not (rest.startswith(PLACEHOLDER) or _ASSIGNMENT.search(rest)):
        return unclassified(keyword)  # "update user set to active"
    return classified("write", keyword, [match.group("table")])


def _delete(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _DELETE.match(statement)
    if not match:
        return unclassified(keyword)
    if match.group("table") is not None:
        table = match.group("table")
        complete = statement[match.end():].strip() == ""  # `DELETE FROM t`, or a sentence ending there
        if is_prose(table) or (complete and sentence_case(statement)):
            return unclassified(keyword)
        return classified("write", keyword, [table])
    targets = [item.group("name") for item in NAME_LIST_ITEM.finditer(match.group("targets"))]
    joined = match.group("joined")
    if any(is_prose(target) for target in targets) or not _JOINED_FROM.match(joined):
        return unclassified(keyword)  # "delete files from disk"
    if not re.search(rf"(?<![\w$]){re.escape(targets[0].split('.')[-1])}(?![\w$])", joined):
        return unclassified(keyword)
    return classified("write", keyword, targets)


def _merge(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _MERGE.match(statement)
    if not match or is_prose(match.group("table")):
        return unclassified(keyword)
    return classified("write", keyword, [match.group("table")])


# --- Schema changes: CREATE, ALTER, DROP, TRUNCATE, RENAME, COMMENT ON, GRANT, REVOKE ---------

_SCHEMA_CHANGE = rx(rf"""
    ^(?P<verb>CREATE|ALTER|DROP)\s+ (?:OR\s+REPLACE\s+)?
    (?:(?:GLOBAL|LOCAL|TEMP|TEMPORARY|UNLOGGED|UNIQUE|MATERIALIZED|EXTERNAL|VIRTUAL|FOREIGN|RECURSIVE|FULLTEXT
         |SPATIAL|CLUSTERED|NONCLUSTERED|TRUSTED|PROCEDURAL|DEFINER\s*=\s*\S+|ALGORITHM\s*=\s*\w+
         |SQL\s+SECURITY\s+\w+)\s+)*
    (?P<object>TABLE|INDEX|VIEW|SEQUENCE|SCHEMA|DATABASE|TRIGGER|FUNCTION|PROCEDURE|PROC|TYPE|EXTENSION|ROLE|USER
      |DOMAIN|POLICY|RULE|AGGREGATE|COLLATION|TABLESPACE|EVENT|SERVER|PUBLICATION|SUBSCRIPTION|STATISTICS
      |OPERATOR|LANGUAGE|SYNONYM|PACKAGE)\b
    (?:\s+CONCURRENTLY)? (?:\s+IF\s+(?:NOT\s+)?EXISTS)? (?:\s+ONLY)?
    (?:\s*(?!ON\b)(?P<name>{NAME}))?
""")
# What must come after `CREATE <object> name` for it to be a statement and not a sentence.
_CREATE_BODY = {
    "TABLE": rx(rf"^(?:\(|AS\b|LIKE\b|PARTITION\s+OF\b|OF\b|CLONE\b|{PH})"),
    "INDEX": rx(rf"^(?:USING\s+\w+\s+)?ON\b|^{PH}"),
    "VIEW": rx(rf"^(?:\([^)]*\)\s*)?(?:WITH\b.*?)?AS\b|^{PH}"),
    "TRIGGER": rx(rf"\bON\b|^{PH}"),
    "POLICY": rx(rf"^ON\b|^{PH}"),
    "RULE": rx(rf"^AS\s+ON\b|^{PH}"),
    "STATISTICS": rx(rf"\bON\b|^{PH}"),
    "FUNCTION": rx(rf"^\(|^{PH}"),
    "PROCEDURE": rx(rf"^(?:\(|AS\b|@|BEGIN\b)|^{PH}"),
    "PROC": rx(rf"^(?:\(|AS\b|@|BEGIN\b)|^{PH}"),
    "AGGREGATE": rx(rf"^\(|^{PH}"),
    "OPERATOR": rx(rf"^\(|^{PH}"),
}
# What may follow `CREATE SCHEMA|USER|SEQUENCE|... name`.
_CREATE_OPTION = rx(rf"""^(?:WITH|AS|AUTHORIZATION|IDENTIFIED|OWNER|INCREMENT|START|MINVALUE|MAXVALUE|CACHE|CYCLE|NO
    |ENCODING|DEFAULT|CHARACTER|CHARSET|COLLATE|PASSWORD|LOGIN|NOLOGIN|SUPERUSER|CREATEDB|CREATEROLE|IN\s+SCHEMA
    |SCHEMA|VERSION|CASCADE|OPTIONS|FOR\s+(?:TABLE|ALL)|TEMPLATE|LOCATION|FOREIGN\s+DATA|HANDLER|LC_\w+)\b
    |^[(@]|^{PH}""")
_ALTER_ACTION = rx(rf"""^(?:ADD|DROP|ALTER|RENAME|SET|RESET|OWNER|ATTACH|DETACH|ENABLE|DISABLE|VALIDATE|MODIFY|CHANGE
    |ENGINE|AUTO_INCREMENT|CONVERT|INHERIT|NO|CLUSTER|REPLICA|FORCE|OF|NOT|WITH|REFRESH|REBUILD|RESTART|INCREMENT
    |START|CHARACTER|DEFAULT|COLLATE|COMMENT|PASSWORD|LOGIN|NOLOGIN|IDENTIFIED|CONNECTION|MAXVALUE|MINVALUE|CACHE
    |CYCLE|OWNED|AS|RECOMPILE|COMPILE|REORGANIZE|PARTITION|TRUNCATE|EXCHANGE|COALESCE|REMOVE|UPGRADE|DISCARD
    |IMPORT|ORDER|LOCK|ALGORITHM|ROW_FORMAT|UPDATE|VALID|VALUE|ACCOUNT|SUPERUSER|NOSUPERUSER|CREATEDB|ON|IN|TO
    |CONFIGURATION|DEPENDS)\b|^[(,]|^{PH}""")
_DROP_TAIL = rx(rf"^(?:,|\(|(?:CASCADE|RESTRICT|ON|PURGE|FORCE|FROM)\b|{PH})")
_TRUNCATE = rx(rf"""
    ^TRUNCATE\s+ (?P<table_keyword>TABLE\s+)?
    (?P<tables>(?:ONLY\s+)?{NAME}(?:\s*\*)?(?:\s*,\s*(?:ONLY\s+)?{NAME}(?:\s*\*)?)*) \s*
    (?= \Z | (?:CASCADE|RESTRICT|RESTART|CONTINUE|DROP|REUSE|IMMEDIATE)\b | {PH})
""")
_RENAME = rx(rf"^RENAME\s+(?:TABLE\s+(?P<table>{NAME})\s+TO\s+{NAME}|USER\s+\S+\s+TO\s+\S)")
_COMMENT_ON = rx(rf"^COMMENT\s+ON\s+\w+\b.*?\bIS\s+(?:''|NULL\b|{PH})")
_PRIVILEGE = (r"(?:ALL(?:\s+PRIVILEGES)?|SELECT|INSERT|UPDATE|DELETE|TRUNCATE|REFERENCES|TRIGGER|CREATE|CONNECT"
              r"|TEMPORARY|TEMP|EXECUTE|USAGE|ALTER|DROP|INDEX|MAINTAIN|EVENT|RELOAD|PROCESS|FILE|LOCK\s+TABLES"
              r"|SHOW\s+VIEW|GRANT\s+OPTION)(?:\s*\([^)]*\))?")
_GRANT_PRIVILEGES = rx(rf"^(?:GRANT|REVOKE(?:\s+GRANT\s+OPTION\s+FOR)?)\s+{_PRIVILEGE}(?:\s*,\s*{_PRIVILEGE})*\s+ON\b")
# `GRANT admin TO bob` reads like English ("grant access to users"): accepted in upper case only.
_GRANT_ROLE = Pattern(rf"^(?:GRANT\s+{NAME}(?:\s*,\s*{NAME})*\s+TO|REVOKE\s+{NAME}(?:\s*,\s*{NAME})*\s+FROM)"
                      rf"\s+{NAME}")


def _schema_change(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _SCHEMA_CHANGE.match(statement)
    if not match:
        return unclassified(keyword)  # "create a user", "drop me a line"
    kind, name = match.group("object").upper(), match.group("name")
    rest = statement[match.end():].strip()
    shape = _schema_change_shape(keyword, kind, name, rest)
    if shape is None or (name and is_prose(name)) or (shape == "weak" and sentence_case(statement)):
        return unclassified(keyword)
    tables = []
    if kind == "TABLE":
        tables.append(name)
        if keyword == "DROP":
            tables.extend(_more_names(rest))
    return classified("ddl", keyword, tables)


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
    more = MORE_NAMES.match(rest)
    while more:
        names.append(more.group("name"))
        more = MORE_NAMES.match(rest, more.end())
    return names


def _truncate(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _TRUNCATE.match(statement)
    if not match:
        return unclassified(keyword)
    tables = [item.group("name") for item in NAME_LIST_ITEM.finditer(match.group("tables"))]
    complete = not match.group("table_keyword") and statement[match.end():].strip() == ""
    if any(is_prose(table) for table in tables) or (complete and sentence_case(statement)):
        return unclassified(keyword)  # "truncate the log", "Truncate message"
    return classified("ddl", keyword, tables)


def _other_schema_change(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    if keyword == "RENAME":
        match = _RENAME.match(statement)
        return classified("ddl", keyword, [match.group("table")]) if match else unclassified(keyword)
    if keyword == "COMMENT":
        return classified("ddl", keyword) if _COMMENT_ON.match(statement) else unclassified(keyword)
    if _GRANT_PRIVILEGES.match(statement) or _GRANT_ROLE.match(statement):
        return classified("ddl", keyword)
    return unclassified(keyword)


# --- Bulk loads: COPY ... FROM, LOAD DATA, BULK INSERT -----------------------------------------

_COPY = rx(rf"""^COPY\s+ (?P<table>{NAME}) \s* (?:\([^)]*\)\s*)? (?P<direction>FROM|TO)
    \s+ (?:STDIN|STDOUT|PROGRAM\b|''|{PARAM}|{PH})""")
_COPY_QUERY = rx(r"^COPY\s*\(.*\)\s*TO\b")
_LOAD_DATA = rx(r"^LOAD\s+DATA\s+(?:(?:LOW_PRIORITY|CONCURRENT)\s+)?(?:LOCAL\s+)?INFILE\b")
_LOAD_TARGET = rx(rf"\bINTO\s+TABLE\s+(?P<table>{NAME})")
_BULK_INSERT = rx(rf"^BULK\s+INSERT\s+(?P<table>{NAME})\s+FROM\b")


def _copy(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    if _COPY_QUERY.match(statement):
        return classified("read", keyword)
    match = _COPY.match(statement)
    if not match or is_prose(match.group("table")):
        return unclassified(keyword)  # "copy the file to disk"
    if match.group("direction").upper() == "TO":
        return classified("read", keyword)
    return classified("bulk", keyword, [match.group("table")])


def _load_data(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    if not _LOAD_DATA.match(statement):
        return unclassified(keyword)
    target = _LOAD_TARGET.search(statement)
    return classified("bulk", keyword, [target.group("table")] if target else [])


def _bulk_insert(statement: str, keyword: str, depth: int) -> List[SqlStatement]:
    match = _BULK_INSERT.match(statement)
    return classified("bulk", keyword, [match.group("table")]) if match else unclassified(keyword)


WRITE_HANDLERS: Dict[str, Handler] = {
    "INSERT": _insert_like, "REPLACE": _insert_like, "UPSERT": _insert_like,
    "UPDATE": _update, "DELETE": _delete, "MERGE": _merge,
    "CREATE": _schema_change, "ALTER": _schema_change, "DROP": _schema_change, "TRUNCATE": _truncate,
    "RENAME": _other_schema_change, "COMMENT": _other_schema_change, "GRANT": _other_schema_change,
    "REVOKE": _other_schema_change,
    "COPY": _copy, "LOAD": _load_data, "BULK": _bulk_insert,
}
