"""A source file's bytes, decoded and parsed exactly as Python would: only regular files are
read, up to a size limit; the encoding comes from the byte order mark and the coding comment as
Python's tokenizer finds them; a file Python rejects is a TXL000 finding with Python's reason
(and, for syntax of a newer Python than the one running, which Python it needs)."""

import ast
import codecs
import errno
import math
import os
import re
import stat
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

from txlint.cache import file_key
from txlint.discovery import display_path, module_name
from txlint.findings import Finding

_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"[ \t\f]*(?:#|$)")
_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r\n?|\n")
_LINE_BREAK = re.compile(r"\r\n?|\n")


def _parse_error(path: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding("TXL000", "parse-error", path, line, column, line, column, "", message)


def decode(data: bytes, path: str) -> Tuple[Optional[str], Optional[Finding]]:
    """The source's text as Python reads it (the byte order mark and coding cookie rules of its
    tokenizer, as `compile` applies them to a module's bytes), or a TXL000 finding."""
    if b"\x00" in data:
        offset = data.index(b"\x00")
        line = data.count(b"\n", 0, offset) + 1
        return None, _parse_error(path, "cannot parse: the file contains NUL bytes", line)
    encoding, start, cookie_line, problem = _source_encoding(data)
    if problem is not None:
        return None, _parse_error(path, f"cannot decode: {problem}", cookie_line)
    try:
        codecs.lookup(encoding)
    except LookupError:
        return None, _parse_error(path, f"cannot decode: unknown encoding {encoding!r} in the coding cookie",
                                  cookie_line)
    try:
        return data[start:].decode(encoding), None
    except UnicodeDecodeError as error:
        if encoding == "utf-8":
            return _decode_utf8_as_python(data, start, path, error)
        return None, _undecodable(data, start + error.start, encoding, error.reason, path)
    except (LookupError, UnicodeError) as error:  # not a text encoding (rot13), or one that never decodes (undefined)
        return None, _parse_error(path, f"cannot decode as {encoding}: {error}", cookie_line)


def _source_encoding(data: bytes) -> Tuple[str, int, int, Optional[str]]:
    """What Python's tokenizer decodes a source with: (encoding, bytes of byte order mark before the
    text, the coding cookie's line, the problem Python reports). A cookie is read from the first
    line, or from the second when the first is blank or a comment (PEP 263); "utf-8" and "latin-1"
    are normalised as the tokenizer does, and a byte order mark allows only a UTF-8 cookie."""
    start = len(_BOM) if data.startswith(_BOM) else 0
    position = start
    for number in (1, 2):
        end = _LINE_END.search(data, position)
        line = data[position:end.start() if end else len(data)]
        match = _CODING.match(line)
        if match:
            encoding = _normal_encoding_name(match.group(1).decode("ascii"))
            if start and encoding != "utf-8":
                return encoding, start, number, f"encoding problem: {encoding} with BOM"
            return encoding, start, number, None
        if end is None or not _BLANK_OR_COMMENT.match(line):
            break
        position = end.end()
    return "utf-8", start, 1, None


def _normal_encoding_name(name: str) -> str:
    """The tokenizer's own spelling of UTF-8 and Latin-1 (the first 12 characters, lower case, `_`
    as `-`); any other name is kept as written."""
    normal = name[:12].lower().replace("_", "-")
    if normal == "utf-8" or normal.startswith("utf-8-"):
        return "utf-8"
    if normal in ("latin-1", "iso-8859-1", "iso-latin-1") or normal.startswith(
            ("latin-1-", "iso-8859-1-", "iso-latin-1-")):
        return "iso-8859-1"
    return name


def _decode_utf8_as_python(data: bytes, start: int, path: str,
                           error: UnicodeDecodeError) -> Tuple[Optional[str], Optional[Finding]]:
    """Python checks UTF-8 only where it makes a string or a name of the bytes, so undecodable
    bytes in a comment are no error to it: Python itself is asked (on this rare path only), and
    when it accepts the bytes, the text for lines and positions has U+FFFD in their place."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as python_error:
        if python_error.msg.startswith("(unicode error)"):
            offset, reason = _first_undecodable(data, start, python_error.lineno, error)
            return None, _undecodable(data, offset, "utf-8", reason, path)
    except UnicodeDecodeError:  # (Python 3.13.0 raises it for some f-strings instead of a SyntaxError)
        return None, _undecodable(data, start + error.start, "utf-8", error.reason, path)
    except (ValueError, RecursionError, MemoryError):
        pass  # reported by the parse of the text, as for any other file
    return data[start:].decode("utf-8", "replace"), None


def _first_undecodable(data: bytes, start: int, line: Optional[int],
                       error: UnicodeDecodeError) -> Tuple[int, str]:
    """The offset of the first undecodable byte on or after the line Python reports (earlier ones
    are in comments), else of the first in the file, and why it does not decode."""
    if line:
        position = start
        for _ in range(line - 1):
            end = _LINE_END.search(data, position)
            if end is None:
                break
            position = end.end()
        try:
            data[position:].decode("utf-8")
        except UnicodeDecodeError as later:
            return position + later.start, later.reason
    return start + error.start, error.reason


def _undecodable(data: bytes, offset: int, encoding: str, reason: str, path: str) -> Finding:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return _parse_error(path, f"cannot decode as {encoding}: {reason} (byte 0x{data[offset]:02x})", line, column)


def parse(text: str, path: str) -> Tuple[Optional[ast.Module], Optional[Finding]]:
    """The module's syntax tree, or a TXL000 finding with Python's own message and position."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like: another linter's business
            return ast.parse(text, path), None
    except SyntaxError as error:
        line = error.lineno or 1
        column = max(error.offset or 1, 1) if error.lineno else 1
        newer = _newer_syntax(error, text)
        if newer is not None:
            (major, minor), feature = newer
            running = f"{sys.version_info[0]}.{sys.version_info[1]}"
            return None, _parse_error(path, (
                f"cannot parse with Python {running}: this looks like Python {major}.{minor} syntax ({feature}); "
                f"run txlint with Python {major}.{minor} or newer"), line, column)
        return None, _parse_error(path, f"cannot parse: {error.msg}", line, column)
    except (RecursionError, MemoryError, ValueError) as error:
        return None, _parse_error(path, f"cannot parse: {type(error).__name__}: {error}")


# Syntax that a newer Python added, recognised on the line of the error, and only when the error
# is inside the construct (where Python 3.9 to 3.13 stop): (version, what it is, a pattern whose
# group `at` starts the part the error must be in).
_NEWER_SYNTAX = (
    ((3, 10), "match statements", re.compile(r"^[ \t]*match[ \t]+(?P<at>\S.*:)[ \t]*(#.*)?$")),
    ((3, 11), "except* for exception groups", re.compile(r"^[ \t]*except[ \t]*(?P<at>\*)")),
    ((3, 12), "type aliases", re.compile(r"^[ \t]*type[ \t]+(?P<at>[A-Za-z_]\w*[ \t]*[=\[])")),
    ((3, 13), "type parameter defaults",
     re.compile(r"^[ \t]*(async[ \t]+)?(def|class)[ \t]+[A-Za-z_]\w*[ \t]*(?P<at>\[)[^\]]*=")),
    ((3, 12), "type parameter lists",
     re.compile(r"^[ \t]*(async[ \t]+)?(def|class)[ \t]+[A-Za-z_]\w*[ \t]*(?P<at>\[)")),
    ((3, 14), "except with several exceptions without parentheses", re.compile(
        r"^[ \t]*except[ \t]*(\*[ \t]*)?(?P<at>[A-Za-z_][\w.]*([ \t]*,[ \t]*([A-Za-z_]\w*\.)*[A-Z]\w*)+)[ \t]*:")),
    ((3, 14), "template strings", re.compile(r"(?<![\w'\"])(?:[tT][rR]?|[rR][tT])(?P<at>['\"])")),
)
# Python 3.12 (PEP 701) lifted these f-string limits; older parsers name them in their messages.
_PEP_701_MESSAGES = ("f-string expression part cannot include a backslash",
                     "f-string expression part cannot include '#'")
_F_STRING_LINES_BACK = 10
_F_STRING_START = re.compile(r"(?<![\w'\"])(?:[fF][rR]?|[rR][fF])(?P<quote>['\"])")


def _newer_syntax(error: SyntaxError, text: str) -> Optional[Tuple[Tuple[int, int], str]]:
    """The newer Python and the feature a syntax error looks like, when sure; else None."""
    running = sys.version_info[:2]
    lines = split_lines(text)
    line = lines[error.lineno - 1] if error.lineno and 0 < error.lineno <= len(lines) else None
    # Older parsers report an error in implicitly concatenated f-strings at the last one, so the
    # lines just before count too (a nested quote there would have been an error of its own).
    statement = lines[max(error.lineno - _F_STRING_LINES_BACK, 0):error.lineno] if line is not None else []
    if running < (3, 12) and (error.msg in _PEP_701_MESSAGES or (
            error.msg.startswith("f-string") and any(map(_nested_quote_in_f_string, statement)))):
        return (3, 12), "f-strings with nested quotes, backslashes or comments"
    if line is None or not error.offset:
        return None
    for version, feature, pattern in _NEWER_SYNTAX:
        if running >= version:
            continue
        for match in pattern.finditer(line):
            if match.start("at") <= error.offset - 1 < match.end("at") and (
                    version != (3, 10) or _case_follows(lines, error.lineno)):
                return version, feature
    return None


def _case_follows(lines: List[str], line_number: int) -> bool:
    """Is the next line with code after a `match ...:` line a `case`?"""
    for line in lines[line_number:]:
        code = line.strip()
        if code and not code.startswith("#"):
            return re.match(r"case\b", code) is not None
    return False


def _nested_quote_in_f_string(line: str) -> bool:
    """Does the line hold a complete f-string whose replacement field holds a string in the
    f-string's own quote (`f"{row["id"]}"`), which only Python 3.12 and newer parse?"""
    for start in _F_STRING_START.finditer(line):
        quote = start.group("quote")
        if not line.startswith(quote * 3, start.start("quote")) and _closes_with_own_quote_inside(
                line, start.end(), quote):
            return True
    return False


def _closes_with_own_quote_inside(line: str, position: int, quote: str) -> bool:
    """Read as Python 3.12 reads an f-string (strings in a replacement field may use any quote),
    does the f-string from `position` end on this line, and did a field hold a string in `quote`?"""
    depth, own_quote_inside = 0, False
    while position < len(line):
        character = line[position]
        if depth == 0 and (character == "\\" or line.startswith(("{{", "}}"), position)):
            position += 2  # an escaped character or brace of the literal part
        elif depth > 0 and character in "'\"":
            end = line.find(character, position + 1)
            if end < 0:
                return False
            own_quote_inside = own_quote_inside or character == quote
            position = end + 1
        elif character == quote:
            return own_quote_inside
        else:
            depth += 1 if character == "{" else -1 if character == "}" and depth else 0
            position += 1
    return False


def split_lines(text: str) -> List[str]:
    """The source's lines as Python numbers them (str.splitlines also breaks at form feeds)."""
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


@dataclass
class SourceFile:
    """A file's bytes and names, read once; `key` identifies its facts in the cache."""

    shown: str
    module: str
    is_package: bool
    data: Optional[bytes] = None
    read_error: Optional[Finding] = None
    key: str = ""


def load_source(path: Path, names: Optional[Tuple[str, str, bool]] = None) -> SourceFile:
    """The file's bytes and key; `names`: its path as shown, module name and package flag, if known."""
    shown, name, is_package = names or (display_path(path), *module_name(path))
    data, problem = read_source_bytes(path)
    if problem is not None:
        return SourceFile(shown, name, is_package, read_error=_parse_error(shown, problem))
    return SourceFile(shown, name, is_package, data, key=file_key(shown, name, data))


MAX_SOURCE_BYTES = 10 * 1024 * 1024  # far above any hand-written module; keeps a run's memory bounded
_MIB = 1024 * 1024
# Opening never waits (a FIFO without a writer) nor makes a terminal the controlling one.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def read_source_bytes(path: Path) -> Tuple[Optional[bytes], Optional[str]]:
    """A regular file's bytes (a link to one is followed), at most MAX_SOURCE_BYTES of them, or why
    not. Anything else (a FIFO, a device, a link to `/dev/zero` or `/proc/self/fd/0`) is never
    opened; the open descriptor is checked again, so a file swapped for one after that check is not
    read either."""
    try:
        problem = _not_a_source(os.stat(path))
        if problem is not None:
            return None, problem
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        return None, f"cannot read: {error.strerror or error}"
    with open(descriptor, "rb") as handle:
        try:
            status = os.fstat(descriptor)
            problem = _not_a_source(status)
            if problem is not None:
                return None, problem
            data = _read_at_most(handle, status.st_size + 1)  # one byte more shows a file that grew since
            if len(data) > status.st_size:  # or one whose size the system does not know (/proc)
                data += _read_at_most(handle, MAX_SOURCE_BYTES + 1 - len(data))
        except OSError as error:
            return None, f"cannot read: {error.strerror or error}"
    return (None, _too_large(len(data))) if len(data) > MAX_SOURCE_BYTES else (data, None)


def _not_a_source(status: os.stat_result) -> Optional[str]:
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(status.st_mode)), "a special file")
        return f"cannot read: not a regular file ({kind})"
    return _too_large(status.st_size) if status.st_size > MAX_SOURCE_BYTES else None


def _too_large(size: int) -> str:
    shown = math.ceil(size * 10 / _MIB) / 10
    return f"file too large to analyse ({shown:.1f} MiB > {MAX_SOURCE_BYTES // _MIB} MiB)"


def _read_at_most(handle, size: int) -> bytes:
    data = handle.read(size)
    if data is None:  # the descriptor does not block: a file only the kernel fills, with nothing in it yet
        raise BlockingIOError(errno.EAGAIN, "nothing to read without waiting")
    return data
