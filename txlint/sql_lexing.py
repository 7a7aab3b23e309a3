"""SQL text as the statement classifier (txlint.sql) reads it: string literals masked and comments
removed, the text split into statements, and the pieces every statement's pattern is built from
(identifiers, table names, parameter markers, the placeholder of an interpolation), with the
SqlStatement a classification gives. Uses only `re`."""

import re
from dataclasses import dataclass
from typing import Callable, List, Tuple

PLACEHOLDER = "__txlint_expr__"  # what the caller puts in place of each unknown interpolated part
UNKNOWN_TABLE = "?"  # a target table whose name is (partly) the placeholder

KINDS = ("write", "ddl", "bulk", "maintenance", "txctl", "opaque", "lock", "read", "unknown")
WRITE_KINDS = frozenset({"write", "ddl", "bulk"})


@dataclass(frozen=True)
class SqlStatement:
    kind: str  # one of KINDS
    keyword: str  # leading keyword, upper case ("UPDATE"; the main statement's for WITH ... UPDATE)
    tables: Tuple[str, ...] = ()  # tables written, quotes stripped, schema kept; "?" when unknown
    commits: bool = False  # COMMIT / END


class Pattern:
    """A regular expression compiled on first use: compiling the classifier's ~70 patterns takes
    about 50 ms, which a run answered from the cache never needs."""

    def __init__(self, pattern: str, flags: int = 0):
        self._source = (pattern, flags)

    def __getattr__(self, name: str):
        method = getattr(re.compile(*self._source), name)
        setattr(self, name, method)  # found directly from now on
        return method


def rx(pattern: str) -> "re.Pattern[str]":
    return Pattern(pattern, re.I | re.S | re.X)


# --- Masking and splitting ---------------------------------------------------------------------

_LEXEME = Pattern(
    r"""(?P<ident>"(?:[^"]|"")*"|`(?:[^`]|``)*`)"""  # kept: quoted identifiers carry table names
    r"|(?P<literal>'(?:[^']|'')*(?:'|\Z)"  # 'text' with '' escapes; an unterminated one runs to the end
    r"|\$(?P<tag>(?:[^\W\d]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z))"  # PostgreSQL $$body$$ and $fn$body$fn$
    r"|(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z)"
    r"|(?:^|(?<=\n))[ \t]*\#(?=\s|\Z)[^\n]*)",  # MySQL `# note` only at a line start: # is an operator in PG
    re.S)
_STATEMENT = Pattern(r'(?:"[^"]*"|`[^`]*`|[^;])+')  # `;` outside quoted identifiers ends a statement

# A trigger or procedure body (`CREATE TRIGGER ... BEGIN UPDATE ...; END`) holds `;` of its own.
_CREATE_WITH_BODY = rx(r"^\s*CREATE\b.*\bBEGIN\b")
_BLOCK_OPENS = rx(r"\b(?:BEGIN|CASE)\b")
_BLOCK_CLOSES = rx(r"\bEND\b(?!\s+(?:IF|LOOP|WHILE|REPEAT|FOR)\b)")
_END_CASE = rx(r"\bEND\s+CASE\b")  # closes a CASE, and its CASE must not also count as an opening


def _masked(match: "re.Match[str]") -> str:
    if match.group("ident") is not None:
        return match.group(0)
    return " " if match.group("comment") is not None else "''"


def _block_balance(text: str) -> int:
    """BEGIN/CASE blocks opened minus those closed by END (`END IF`, `END LOOP` close no block)."""
    opens = len(_BLOCK_OPENS.findall(text)) - len(_END_CASE.findall(text))
    return opens - len(_BLOCK_CLOSES.findall(text))


def split_statements(text: str) -> List[str]:
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

IDENT = r"""(?:"(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]\n]+\]|\#{0,2}[^\W\d][\w$]*)"""  # "q" `q` [q] name #tmp
NAME = rf"(?:{IDENT}(?:\s*\.\s*{IDENT}){{0,3}})"  # schema.table, db.schema.table
PH = re.escape(PLACEHOLDER)
PARAM = r"(?:%s|%\(\w+\)s|\?|:\w+|\$\d+)"  # DB-API and driver parameter markers
_IDENT_PART = Pattern(IDENT)
NAME_LIST_ITEM = rx(rf"(?:ONLY\s+)?(?P<name>{NAME})")
MORE_NAMES = rx(rf"\s*,\s*(?P<name>{NAME})")

# Words that follow a target table in SQL, so they are never its alias.
_CLAUSE = (r"(?:SET|WHERE|USING|RETURNING|ORDER|LIMIT|OUTPUT|PARTITION|FROM|JOIN|INNER|LEFT|RIGHT|CROSS|FULL"
           r"|NATURAL|STRAIGHT_JOIN|WITH|OPTION|VALUES|SELECT|ON|TO)\b")
ALIAS = rf"(?:\s+(?:AS\s+)?(?!{_CLAUSE}){IDENT})?"

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


def is_prose(name: str) -> bool:
    return name.strip().lower() in _PROSE_WORDS


def sentence_case(statement: str) -> bool:
    """`Delete from cache`: SQL keywords are written all upper or all lower case, English sentences are not."""
    word = statement.split(None, 1)[0]
    return word[:1].isupper() and word[1:].islower()


def classified(kind: str, keyword: str, names=(), commits: bool = False) -> List[SqlStatement]:
    tables = tuple(dict.fromkeys(_clean_name(name) for name in names if name))
    return [SqlStatement(kind, keyword, tables, commits)]


def unclassified(keyword: str) -> List[SqlStatement]:
    return [SqlStatement("unknown", keyword)]


Handler = Callable[[str, str, int], List[SqlStatement]]
