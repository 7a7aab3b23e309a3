"""The engine: read and parse each file once, extract its facts, resolve the project, run the rules."""

import ast
import codecs
import errno
import gc
import math
import os
import pickle
import re
import signal
import stat
import sys
import warnings
from array import array
from collections import deque
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Deque, Dict, List, Optional, Sequence, Set, Tuple

from txlint.cache import Cache, file_key, run_key
from txlint.config import Config
from txlint.discovery import display_path, module_name
from txlint.errors import InternalErrorMessage, internal_error
from txlint.facts import ModuleFacts, changed_names
from txlint.findings import Finding
from txlint.progress import Progress
from txlint.patterns import compile_patterns
from txlint.suppressions import ALL, NOQA_STYLE, TXLINT_STYLE, is_suppressed, parse_suppressions

if TYPE_CHECKING:  # the model and the rules are imported when a run needs them: a cached run never does
    from txlint.project import CallGraph, ModuleIndex, Project
    from txlint.rule import Rule

_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"[ \t\f]*(?:#|$)")
_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r\n?|\n")
_LINE_BREAK = re.compile(r"\r\n?|\n")


@dataclass
class FileResult:
    """What one file gave: its facts, or a TXL000 finding."""

    path: str
    facts: Optional[ModuleFacts] = None
    parse_error: Optional[Finding] = None
    internal_error: Optional[str] = None  # txlint itself failed on this file (a bug, reported, never cached)


@dataclass
class ModuleOutcome:
    """What checking one module gave (its TXL000 aside): reused as it is by the next run when the
    file is unchanged and nothing that checking it read has changed."""

    findings: List[Finding] = field(default_factory=list)
    suppressed: List[Finding] = field(default_factory=list)
    suppression_reasons: Dict[Tuple[str, int], str] = field(default_factory=dict)
    function_ranges: Dict[Tuple[str, str], Tuple[int, int]] = field(default_factory=dict)
    internal_errors: List[str] = field(default_factory=list)


@dataclass
class RunResult:
    findings: List[Finding] = field(default_factory=list)
    files: int = 0
    parse_errors: int = 0
    internal_errors: List[str] = field(default_factory=list)
    suppressed: List[Finding] = field(default_factory=list)
    suppression_reasons: Dict[Tuple[str, int], str] = field(default_factory=dict)  # (path, line) -> reason
    hints: List[str] = field(default_factory=list)
    # (path, function qualname) -> (first line, last line), (0, n) for module-level code: for --diff.
    function_ranges: Dict[Tuple[str, str], Tuple[int, int]] = field(default_factory=dict)
    # function qualname -> the project's functions it calls: for --diff, a hazard spans its helpers.
    calls: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    # What the next run over changed files starts from (tracked runs only; never in the run cache).
    state: Optional["ProjectState"] = None


@dataclass
class FileState:
    """One file as a tracked run left it."""

    key: str  # the cache key of its contents
    module: str = ""  # its module name, "" without facts
    index: Optional["ModuleIndex"] = None  # the names it defines, without facts
    parse_error: Optional[Finding] = None
    outcome: Optional[ModuleOutcome] = None  # None when it has no facts or its findings are not reported
    reads: bytes = b""  # the names checking it read (txlint.project.Project.note), packed by NameTable


@dataclass
class ProjectState:
    """A tracked run's files, by path in the run's order, with its call graph and project-wide values."""

    files: Dict[str, FileState]
    graph: "CallGraph"
    globals: Tuple[bool, bool, frozenset]  # txlint.project.Project.globals
    names: List[object] = field(default_factory=list)  # the NameTable the reads are packed with


class NameTable:
    """The names a run read, as numbers: a module's reads are kept as an array of them, which a
    state loads and stores many times faster than sets of strings (and smaller: no name is
    stored twice)."""

    def __init__(self, names: Sequence[object] = ()):
        self.names = list(names)
        self.numbers = {name: number for number, name in enumerate(self.names)}

    def pack(self, reads: Set[object]) -> bytes:
        numbers = self.numbers
        for name in reads:
            if name not in numbers:
                numbers[name] = len(self.names)
                self.names.append(name)
        return array("I", sorted(numbers[name] for name in reads)).tobytes()

    def numbers_of(self, names: Set[object]) -> Set[int]:
        return {self.numbers[name] for name in names if name in self.numbers}

    @staticmethod
    def reads_any(packed: bytes, numbers: Set[int]) -> bool:
        return bool(numbers) and not numbers.isdisjoint(array("I", packed))


class InternalError(RuntimeError):
    """txlint or one of its rules failed (a bug); raised by `lint_source`/`lint_sources`."""


def _engine_finding(code: str, name: str, path: str, line: int, message: str) -> Finding:
    return Finding(code, name, path, line, 1, line, 1, "", message)


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


def facts_from_source(text: str, path: str, module: str, is_package: bool = False) -> FileResult:
    from txlint.extract import extract

    if text.startswith("\ufeff"):
        text = text[1:]
    tree, problem = parse(text, path)
    if problem is not None:
        return FileResult(path, parse_error=problem)
    lines = split_lines(text)
    try:
        facts = extract(tree, text, lines, path, module, is_package)
    except Exception as error:  # a bug in txlint on one file must not end the run
        return FileResult(path, internal_error=internal_error("extracting facts from", error, path))
    facts.suppressions, facts.suppression_reasons, facts.suppression_styles = parse_suppressions(lines)
    return FileResult(path, facts=facts)


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


def facts_from_file(source: SourceFile) -> FileResult:
    if source.read_error is not None:
        return FileResult(source.shown, parse_error=source.read_error)
    text, problem = decode(source.data, source.shown)
    if problem is not None:
        return FileResult(source.shown, parse_error=problem)
    return facts_from_source(text, source.shown, source.module, source.is_package)


def read_file(path: Path) -> FileResult:
    return facts_from_file(load_source(path))


def _parse_all(sources: List[SourceFile], jobs: int, cache: Optional[Cache],
               progress: Optional[Progress] = None) -> List[FileResult]:
    """Facts for each source, in order, stored in the cache; in `jobs` processes, largest file
    first. A worker stores what it parsed itself and hands it over pickled once."""
    progress = progress or Progress()
    progress.start(len(sources))
    if jobs <= 1 or len(sources) < 2:
        results = []
        for source in sources:
            results.append(facts_from_file(source))
            if _cacheable(source, results[-1]) and cache is not None:
                cache.store("facts", source.key, results[-1])
            progress.parsed()
        return results
    order = sorted(range(len(sources)), key=lambda index: -len(sources[index].data or b""))
    return _ParseWorkers(sources, cache, min(jobs, len(sources)), progress).parse(order)


class _ParseWorkers:
    """Processes that parse sources, each given indexes on a pipe (forked, a worker has the sources
    already) and answering with each pickled result, in order. Unlike multiprocessing.Pool, which
    waits forever for a task whose worker was killed, a worker's death is seen at once: the file it
    was parsing fails with an internal error, its other task goes to a new worker, the run goes on."""

    TASKS_EACH = 2  # one being parsed, one waiting: a worker never idles while the parent unpickles

    def __init__(self, sources: List[SourceFile], cache: Optional[Cache], count: int, progress: Progress):
        import multiprocessing

        self.context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        self.sources, self.cache, self.count, self.progress = sources, cache, count, progress
        self.waiting: Deque[int] = deque()
        self.workers: Dict[object, Tuple[object, Deque[int]]] = {}  # pipe -> (process, indexes given)
        self.results: List[Optional[FileResult]] = [None] * len(sources)

    def parse(self, order: List[int]) -> List[FileResult]:
        from multiprocessing.connection import wait

        self.waiting.extend(order)
        try:
            while self.waiting and len(self.workers) < self.count and self._start():
                pass
            while True:
                busy = [pipe for pipe, (_, given) in self.workers.items() if given]
                if not busy:
                    break
                for pipe in wait(busy):
                    self._receive(pipe)
            while self.waiting:  # no worker could be started: parsed here, slower but whole
                index = self.waiting.popleft()
                self.results[index] = pickle.loads(_parse_pickled(self.sources[index], self.cache))
                self.progress.parsed()
        except BaseException:
            for process, _ in self.workers.values():
                process.terminate()
            raise
        finally:
            for pipe, (process, _) in self.workers.items():
                try:
                    pipe.send(None)  # (not a closed pipe: the workers forked later hold this end too)
                except OSError:
                    pass  # it is gone already
                pipe.close()
                process.join()
        return self.results

    def _start(self) -> bool:
        parent_end, worker_end = self.context.Pipe()
        process = self.context.Process(target=_parse_worker, args=(worker_end, self.sources, self.cache), daemon=True)
        try:
            process.start()
        except OSError:  # no process to be had (a limit on processes or memory)
            parent_end.close()
            return False
        finally:
            worker_end.close()  # the worker's copy is the only one left: its death closes the pipe
        self.workers[parent_end] = (process, deque())
        self._feed(parent_end)
        return True

    def _feed(self, pipe) -> None:
        given = self.workers[pipe][1]
        while self.waiting and len(given) < self.TASKS_EACH:
            index = self.waiting.popleft()
            given.append(index)
            try:
                pipe.send(index)
            except OSError:
                return  # the worker is dead: its pipe's end says so to `_receive`

    def _receive(self, pipe) -> None:
        process, given = self.workers[pipe]
        try:
            pickled = pipe.recv_bytes()
        except (EOFError, OSError):
            del self.workers[pipe]
            pipe.close()
            process.join()
            parsing = given.popleft()
            shown = self.sources[parsing].shown
            self.results[parsing] = FileResult(shown, internal_error=InternalErrorMessage(
                f"internal error while parsing {shown}: a parse worker died ({_exit_reason(process.exitcode)})",
                shown))
            self.progress.parsed()
            self.waiting.extendleft(reversed(given))
            if self.waiting:
                self._start()
                for other in list(self.workers):
                    self._feed(other)
            return
        self.results[given.popleft()] = pickle.loads(pickled)
        self.progress.parsed()
        self._feed(pipe)


def _exit_reason(exitcode: Optional[int]) -> str:
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        if number == getattr(signal, "SIGKILL", None):
            return f"killed by signal {number}, out of memory?"
        try:
            return f"killed by signal {number}, {signal.Signals(number).name}"
        except ValueError:
            return f"killed by signal {number}"
    return f"exit status {exitcode}"


def _parse_worker(pipe, sources: List[SourceFile], cache: Optional[Cache]) -> None:
    """A parse worker: an index in, that source's pickled result out, until None (or the parent's end)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which ends its workers
    while True:
        try:
            index = pipe.recv()
        except EOFError:
            return
        if index is None:
            return
        pipe.send_bytes(_parse_pickled(sources[index], cache))


def _parse_pickled(source: SourceFile, cache: Optional[Cache]) -> bytes:
    try:
        result = facts_from_file(source)
    except Exception as error:  # a bug in txlint on one file: reported, and the worker goes on
        result = FileResult(source.shown, internal_error=internal_error("parsing", error, source.shown))
    pickled = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    if cache is not None and _cacheable(source, result):
        cache.store_pickled("facts", source.key, pickled)
    return pickled


def _cacheable(source: SourceFile, result: FileResult) -> bool:
    return bool(source.key) and result.internal_error is None  # a bug is reported again, never cached


def check_files(files: Sequence[Path], linter: "Linter", jobs: int = 1, cache: Optional[Cache] = None,
                reported: Optional[Sequence[Path]] = None) -> RunResult:
    """Lint files as one project: facts from the cache or parsed in parallel, then the rules.
    `reported`: the files whose findings are reported (the rest of the project informs them), if
    not all.

    With the cache, a tree whose files all have the size and times (and inode) they had in an
    earlier run is answered with that run's result without reading a file, as ruff does."""
    root = linter.config.root
    names = [(display_path(path), *module_name(path, root)) for path in files]
    report_paths = _report_paths(files, names, reported)
    stat_key = _stat_key(files, names, linter, report_paths) if cache is not None else None
    if stat_key is not None:
        content_key = cache.load("stats", stat_key)
        cached = cache.load("runs", content_key) if isinstance(content_key, str) else None
        if isinstance(cached, RunResult):
            _remember(cache, _project_key(linter, [shown for shown, _, _ in names]), content_key)
            return cached
    sources = [load_source(path, described) for path, described in zip(files, names)]
    run = check_sources(sources, linter, jobs, cache, report_paths)
    if stat_key is not None and not run.internal_errors:
        cache.store("stats", stat_key, _run_key(sources, linter, report_paths))
    return run


def _report_paths(files: Sequence[Path], names: List[Tuple[str, str, bool]],
                  reported: Optional[Sequence[Path]]) -> Optional[Set[str]]:
    """The shown paths of the reported files; None when every file is reported."""
    if reported is None:
        return None
    wanted = {os.path.normpath(os.path.abspath(path)) for path in reported}
    shown = {described[0] for path, described in zip(files, names)
             if os.path.normpath(os.path.abspath(path)) in wanted}
    return None if len(shown) == len(files) else shown


def _stat_key(files: Sequence[Path], names: List[Tuple[str, str, bool]], linter: "Linter",
              report_paths: Optional[Set[str]]) -> Optional[str]:
    """A key of the files' names and stat data."""
    entries = []
    for path, (shown, name, _) in zip(files, names):
        try:
            stat = os.stat(path)
        except OSError:
            return None  # reported as unreadable by the full run
        entries.append((f"{shown}\0{name}", f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"))
    return _key(linter, entries, report_paths)


def _project_key(linter: "Linter", shown: Sequence[str]) -> str:
    """The project (configuration, rules and paths) whatever the files hold and whichever of them
    are reported: it names the run over it that a run over changed files starts from."""
    return _key(linter, [(path, "") for path in shown], None)


def _run_key(sources: List[SourceFile], linter: "Linter", report_paths: Optional[Set[str]]) -> str:
    return _key(linter, [(source.shown, source.key) for source in sources], report_paths)


def _key(linter: "Linter", files: List[Tuple[str, str]], report_paths: Optional[Set[str]]) -> str:
    """A run's key: the configuration seen from the working directory, the rules, each file (path,
    and what of it counts) and the files whose findings are reported, if not all."""
    configuration = f"{linter.config.fingerprint()}\0{_where(linter.config.root)}"
    reported = [] if report_paths is None else [("", "only these reported:"), *sorted((path, "") for path in report_paths)]
    return run_key(configuration, [rule.code for rule in linter.rules], files + reported)


def check_sources(sources: List[SourceFile], linter: "Linter", jobs: int = 1, cache: Optional[Cache] = None,
                  report_paths: Optional[Set[str]] = None) -> RunResult:
    """Lint sources already read (an editor's unsaved buffer among them) as one project; with
    `report_paths`, the whole project is analysed but only those files' findings are reported."""
    _name_clashing_modules_by_path(sources, linter.config.root)
    progress = Progress()
    try:
        with _no_cycle_collection():
            return _check_sources(sources, linter, jobs, cache, report_paths, progress)
    finally:
        progress.close()


def _name_clashing_modules_by_path(sources: List[SourceFile], root: str) -> None:
    """Two files that are the same module (`a/pkg/job.py` and `b/pkg/job.py`, both in a package
    `pkg`) would share one set of functions in the project model, one file's read with the
    other's lines: each is named after its path from the root instead (`a.pkg.job`), whatever the
    working directory, so an `import pkg.job` resolves to neither rather than to a guess."""
    by_module: Dict[str, List[SourceFile]] = {}
    for source in sources:
        by_module.setdefault(source.module, []).append(source)
    for clashing in by_module.values():
        if len(clashing) < 2:
            continue
        for source in clashing:
            parts = list(Path(os.path.relpath(os.path.abspath(source.shown), root)).with_suffix("").parts)
            if source.is_package:
                parts = parts[:-1]
            source.module = ".".join(part for part in parts if part not in ("", ".", "..")) or source.module
            if source.data is not None:
                source.key = file_key(source.shown, source.module, source.data)


@contextmanager
def _no_cycle_collection():
    """The cycle collector off while facts are built, loaded and resolved: they are millions of
    small acyclic objects, and the collector, triggered again and again by their allocation, would
    take three times as long as the work itself (measured loading a large project's facts)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_sources(sources: List[SourceFile], linter: "Linter", jobs: int, cache: Optional[Cache],
                   report_paths: Optional[Set[str]], progress: Progress) -> RunResult:
    contents = {source.shown: source.data for source in sources}
    if cache is None:
        return linter.run(_facts(sources, jobs, None, progress), report_paths, contents)
    key = _run_key(sources, linter, report_paths)
    project_key = _project_key(linter, [source.shown for source in sources])
    cached = cache.load("runs", key)
    if isinstance(cached, RunResult):
        _remember(cache, project_key, key)  # the run the next edit starts from
        return cached
    # The latest run over the same project, with other contents.
    latest = cache.load("latest", project_key)
    state = cache.load("states", latest[0]) if isinstance(latest, tuple) and latest else None
    run = (_check_changed(sources, state, linter, jobs, cache, report_paths, progress)
           if isinstance(state, ProjectState) else None)
    if run is None:
        run = linter.run(_facts(sources, jobs, cache, progress), report_paths, contents, tracking=True)
    if run.internal_errors:
        return run
    for source in sources:
        run.state.files[source.shown].key = source.key
    # An unchanged tree needs the findings alone; the state is for the next run over changed files.
    cache.store("runs", key, replace(run, state=None))
    cache.store("states", key, run.state)
    _remember(cache, project_key, key, latest)
    return run


_STATES_KEPT = 4  # per project: going back to one of the last few trees and editing it stays incremental


def _remember(cache: Cache, project_key: str, run_key: str, latest: object = None) -> None:
    """Make a run the one the next edit of the project starts from; the states of all but the
    last few runs are deleted (each is as large as the project's findings and call graph).
    `latest`: the project's recent runs, if already loaded."""
    if latest is None:
        latest = cache.load("latest", project_key)
    recent = (run_key, *(key for key in (latest if isinstance(latest, tuple) else ()) if key != run_key))
    for forgotten in recent[_STATES_KEPT:]:
        cache.delete("states", forgotten)
    cache.store("latest", project_key, recent[:_STATES_KEPT])


def _facts(sources: List[SourceFile], jobs: int, cache: Optional[Cache], progress: Progress) -> List[FileResult]:
    """Each source's facts, from the cache or parsed (in parallel), the files parsed shown on a
    terminal when they are many."""
    results: List[Optional[FileResult]] = [None] * len(sources)
    missing = []
    for index, source in enumerate(sources):
        hit = cache.load("facts", source.key) if cache is not None and source.key else None
        if isinstance(hit, FileResult):
            results[index] = hit
        else:
            missing.append(index)
    for index, result in zip(missing, _parse_all([sources[index] for index in missing], jobs, cache, progress)):
        results[index] = result
    progress.resolving()
    return results


def _check_changed(sources: List[SourceFile], state: ProjectState, linter: "Linter", jobs: int, cache: Cache,
                   report_paths: Optional[Set[str]], progress: Progress) -> Optional[RunResult]:
    """The run over files of which a few changed since the run that left `state`: only the changed
    files are parsed, and only the modules whose check read something that changed are checked
    again. None when a full run is needed (other files, too many changed, facts gone from the cache)."""
    from txlint.project import FactsUnavailable

    if list(state.files) != [source.shown for source in sources]:
        return None
    changed = [source for source in sources if state.files[source.shown].key != source.key]
    if len(changed) > max(8, len(sources) // 4):
        return None  # a checkout of another branch: a full run costs less than following every change
    before: Dict[str, Optional[ModuleFacts]] = {}
    for source in changed:
        previous = state.files[source.shown]
        old = cache.load("facts", previous.key) if previous.index is not None else None
        if previous.index is not None and not (isinstance(old, FileResult) and old.facts is not None):
            return None
        before[source.shown] = old.facts if old is not None else None
    files_by_module = {previous.module: previous.key for previous in state.files.values() if previous.index is not None}

    def load(module: str) -> Optional[ModuleFacts]:
        key = files_by_module.get(module)
        result = cache.load("facts", key) if key is not None else None
        return result.facts if isinstance(result, FileResult) else None

    fresh = dict(zip((source.shown for source in changed), _facts(changed, jobs, cache, progress)))
    try:
        return linter.run_changed(state, fresh, before, load, report_paths,
                                  {source.shown: source.data for source in sources})
    except FactsUnavailable:
        return None
    except Exception:  # a bug in txlint: the full run says so, as an internal error, never a traceback
        return None


def _where(root: str) -> str:
    """The working directory seen from the root: paths are shown relative to it and matched against
    patterns anchored at the root, so the same paths seen from another directory are other files."""
    try:
        return os.path.relpath(os.getcwd(), root)
    except ValueError:  # another drive
        return os.getcwd()


class Linter:
    """Configuration and the rule set, built once per run (or once per worker process)."""

    def __init__(self, config: Config, rules: Sequence["Rule"]):
        self.config = config
        self.rules = [rule for rule in rules if self._enabled(rule.code, rule.enabled_by_default)]
        self.checks = [rule for rule in self.rules if rule.check is not None]
        self.full_rule_set = all(rule in self.rules for rule in rules
                                 if rule.check is not None and rule.enabled_by_default)
        self.per_file_ignores = [
            (compile_patterns([pattern]), codes) for pattern, codes in config.per_file_ignores
        ]

    def _enabled(self, code: str, by_default: bool) -> bool:
        config = self.config
        selected = any(code.startswith(prefix) for prefix in config.select)
        if not selected or any(code.startswith(prefix) for prefix in config.ignore):
            return False
        # A rule that is off by default runs only when its own code is named in select.
        return by_default or any(code.startswith(prefix) and len(prefix) >= len(code) for prefix in config.select)

    def enabled(self, code: str) -> bool:
        return any(rule.code == code for rule in self.rules)

    def _ignored_for_path(self, code: str, path: str) -> bool:
        return any(spec.match_file(path) and any(code.startswith(c) for c in codes)
                   for spec, codes in self.per_file_ignores)

    def run(self, results: Sequence[FileResult], report_paths: Optional[Set[str]] = None,
            sources: Optional[Dict[str, object]] = None, tracking: bool = False) -> RunResult:
        """Check every module; with `report_paths`, report only those files' findings. `sources`:
        the files' contents (bytes or text) by path, for the source of the calls reported (else read
        from the paths). With `tracking`, the result carries the state the next run starts from."""
        from txlint.project import Project

        table = NameTable()
        try:
            project = Project([result.facts for result in results if result.facts is not None], self.config,
                              tracking=tracking, pack=table.pack if tracking else None)
            # The call graph before any rule: built inside a rule's question, it would see the values
            # that question is still working out as unknown, and what a rule finds would depend on
            # which function happened to be checked first (and differ between full and incremental runs).
            project.call_graph()
        except Exception as error:  # without the project model no rule can run; say so, never a traceback
            run = RunResult(files=len(results))
            self._add_file_errors(run, [(result.path, result.parse_error, result.internal_error) for result in results],
                                  report_paths)
            run.internal_errors.append(internal_error("resolving the project", error))
            run.findings.sort(key=Finding.sort_key)
            return run
        files = [(result.path, result.facts.module if result.facts is not None else "", result.parse_error,
                  result.internal_error) for result in results]
        return self._check(project, files, {}, report_paths, sources, table)

    def run_changed(self, previous: "ProjectState", fresh: Dict[str, FileResult],
                    before: Dict[str, Optional[ModuleFacts]], load: Callable[[str], Optional[ModuleFacts]],
                    report_paths: Optional[Set[str]], sources: Optional[Dict[str, object]]) -> RunResult:
        """The run after some files changed (`fresh`, by path, with their facts `before`): the other
        modules' facts are loaded only when asked for, and their outcomes kept unless what
        checking them read changed. Raises txlint.project.FactsUnavailable if a module's facts are gone."""
        from txlint.project import Project, index_of

        index, files = {}, []
        for path, previous_file in previous.files.items():
            result = fresh.get(path)
            if result is None:
                if previous_file.index is not None:
                    index[previous_file.module] = previous_file.index
                files.append((path, previous_file.module, previous_file.parse_error, None))
            else:
                if result.facts is not None:
                    index[result.facts.module] = index_of(result.facts)
                files.append((path, result.facts.module if result.facts is not None else "", result.parse_error,
                              result.internal_error))
        table = NameTable(previous.names)
        project = Project([result.facts for result in fresh.values() if result.facts is not None], self.config,
                          index=index, load=load, pack=table.pack)
        changed = set().union(*(changed_names(before[path], result.facts) for path, result in fresh.items()))
        numbers = table.numbers_of(changed)
        changed |= project.restore_call_graph(previous.graph, lambda reads: table.reads_any(reads, numbers))
        changed.update(name for name, old, new in zip((("orm",), ("atomic_requests",), ("snapshots",)),
                                                       previous.globals, project.globals()) if old != new)
        numbers = table.numbers_of(changed)
        reuse = {path: previous_file for path, previous_file in previous.files.items()
                 if path not in fresh and previous_file.outcome is not None
                 and not table.reads_any(previous_file.reads, numbers)}
        return self._check(project, files, reuse, report_paths, sources, table)

    def _add_file_errors(self, run: RunResult, files: List[Tuple[str, Optional[Finding], Optional[str]]],
                         report_paths: Optional[Set[str]]) -> None:
        for path, parse_error, internal_error in files:
            if parse_error is not None and (report_paths is None or path in report_paths):
                run.parse_errors += 1
                if self.enabled("TXL000") and not self._ignored_for_path("TXL000", path):
                    run.findings.append(parse_error)
            if internal_error is not None:
                run.internal_errors.append(internal_error)

    def _check(self, project: "Project", files: List[Tuple[str, str, Optional[Finding], Optional[str]]],
               reuse: Dict[str, "FileState"], report_paths: Optional[Set[str]],
               sources: Optional[Dict[str, object]], table: NameTable) -> RunResult:
        """Check each file's module (path, module name or "" without facts, TXL000, internal error),
        or take its outcome from `reuse`; what checking each read is packed with `table`."""
        run = RunResult(files=len(files) if report_paths is None else len(report_paths))
        self._add_file_errors(run, [(path, parse_error, error) for path, _, parse_error, error in files], report_paths)
        state = ProjectState({}, project.call_graph(), (False, False, frozenset()))
        for path, name, parse_error, _ in files:
            index = project.index_entry(name) if name and project.tracking else None
            state_file = FileState("", name, index, parse_error)
            state.files[path] = state_file
            if not name:
                continue
            reported = report_paths is None or path in report_paths
            if path in reuse:
                # Kept for a file not reported too: a later run that reports it starts from it.
                outcome, reads = reuse[path].outcome, reuse[path].reads
            elif not reported:
                continue
            else:
                reads = set()
                with project.track(reads) if project.tracking else nullcontext():
                    outcome = self._check_module(project, project.modules[name], (sources or {}).get(path))
                reads = table.pack(project.expand(reads)) if project.tracking else b""
            state_file.outcome, state_file.reads = outcome, reads
            if not reported:
                continue
            run.findings.extend(outcome.findings)
            run.suppressed.extend(outcome.suppressed)
            run.suppression_reasons.update(outcome.suppression_reasons)
            run.function_ranges.update(outcome.function_ranges)
            run.internal_errors.extend(outcome.internal_errors)
        run.calls = {caller: tuple(dict.fromkeys(callee for callee, _ in calls))
                     for caller, calls in state.graph.calls.items() if calls}
        if self.enabled("TXL201") and "TXL201" not in self.config.select and project.writes_only_raw_sql:
            run.hints.append("no ORM in this project: raw SQL is how it writes, so TXL201 raw-sql-write is off; "
                             "select it by name (--select TXL201) to check raw SQL writes too")
        if project.tracking:  # (the project packed its callers' reads with `table` as it resolved them)
            state.globals, state.names = project.globals(), table.names
            run.state = state
        run.findings.sort(key=Finding.sort_key)
        return run

    def _check_module(self, project: "Project", module: ModuleFacts, source: object = None) -> ModuleOutcome:
        """The findings in one module; `source`: its content (bytes or text), else read from its path."""
        from txlint.project import FactsUnavailable
        from txlint.rule import RuleContext

        run = ModuleOutcome()
        used: Dict[int, List[str]] = {}  # suppression line -> codes it suppressed
        lines: Optional[List[str]] = None
        for qualname, unit_facts in module.functions.items():
            unit = project.units[qualname]
            start, _, end, _ = unit_facts.extent if unit_facts.extent[0] else unit_facts.range
            run.function_ranges[(module.path, qualname)] = (
                (0, module.source_lines) if unit_facts.is_module else (start, end))
            context = RuleContext(project, unit, self.config)
            for rule in self.checks:
                if self._ignored_for_path(rule.code, module.path):
                    continue
                try:
                    reports = list(rule.check(context))
                except FactsUnavailable:
                    raise  # the run starts over in full
                except Exception as error:  # one rule failing on one file must not end the run
                    run.internal_errors.append(internal_error(
                        "checking", error, module.path, rule.code, f"with {rule.code} {rule.name} (in {qualname})"))
                    continue
                for report in reports:
                    line, column, end_line, end_column = report.range
                    if lines is None:
                        lines = _source_lines(module.path, source)
                    finding = Finding(rule.code, rule.name, module.path, line, column, end_line, end_column,
                                      qualname, report.message, call_source(lines, report.range))
                    if is_suppressed(rule.code, line, module.suppressions):
                        run.suppressed.append(finding)
                        used.setdefault(line, []).append(rule.code)
                        if line in module.suppression_reasons:
                            run.suppression_reasons[(module.path, line)] = module.suppression_reasons[line]
                    else:
                        run.findings.append(finding)
        run.findings.extend(self._audit_suppressions(module, used))
        return run

    def _audit_suppressions(self, module: ModuleFacts, used: Dict[int, List[str]]) -> List[Finding]:
        """TXL001 for suppressions that suppress nothing, TXL002 for ones without a reason."""
        findings = []
        checked = [rule.code for rule in self.checks if not self._ignored_for_path(rule.code, module.path)]
        # A bare `# txlint: ignore` is judged only when every rule it could be meant for ran here.
        all_ran = self.full_rule_set and len(checked) == len(self.checks)
        for line, codes in module.suppressions.items():
            style = module.suppression_styles.get(line, TXLINT_STYLE)
            ours = [code for code in codes if code.startswith("TXL")] if style == NOQA_STYLE else list(codes)
            if not ours:
                continue  # a `# noqa` for other tools, or a bare `# noqa`
            if self.enabled("TXL001") and not self._ignored_for_path("TXL001", module.path):
                for code in ours:
                    if (code == ALL and not all_ran) or (code != ALL and not any(c.startswith(code) for c in checked)):
                        continue  # the rule did not run, so whether it would fire is unknown
                    if not any(code == ALL or found.startswith(code) for found in used.get(line, ())):
                        shown = "" if code == ALL else f" of {code}"
                        findings.append(_engine_finding("TXL001", "unused-suppression", module.path, line, (
                            f"this suppression{shown} suppresses nothing: nothing is reported on this line any "
                            f"more; remove it")))
            if self.config.require_reason and self.enabled("TXL002") and line not in module.suppression_reasons:
                findings.append(_engine_finding("TXL002", "suppression-without-reason", module.path, line, (
                    "suppression without a reason: write it as `# txlint: ignore[CODE] -- why it is safe`")))
        return findings


def _source_lines(path: str, data: object) -> List[str]:
    if data is None:
        data, _ = read_source_bytes(Path(path))
        if data is None:
            return []
    text = data if isinstance(data, str) else decode(data, path)[0]
    return split_lines(text) if text is not None else []


def call_source(lines: List[str], where: Tuple[int, int, int, int]) -> str:
    """A call's own source text, whitespace-normalised (what a baseline entry is keyed on)."""
    line, column, end_line, end_column = where
    if not 0 < line <= end_line <= len(lines):
        return ""
    if line == end_line:
        text = lines[line - 1][column - 1:end_column - 1]
    else:
        text = " ".join([lines[line - 1][column - 1:], *lines[line:end_line - 1], lines[end_line - 1][:end_column - 1]])
    return " ".join(text.split())


def lint_source(source, path: str = "example.py", config: Optional[Config] = None,
                rules: Optional[Sequence["Rule"]] = None, module: Optional[str] = None) -> List[Finding]:
    """Lint one source (str or bytes) as a project of its own; the entry point every front end shares."""
    return lint_sources({path: source}, config, rules, modules={path: module} if module else None)


def lint_sources(sources: Dict[str, object], config: Optional[Config] = None,
                 rules: Optional[Sequence["Rule"]] = None, modules: Optional[Dict[str, str]] = None) -> List[Finding]:
    """Lint several sources as one project (paths are used as given).

    A rule or txlint itself failing is not a finding: it raises `InternalError` with the messages
    the command line would print, so that a crash can never pass for a clean result.
    """
    from txlint.rules import all_rules

    linter = Linter(config or Config(), rules if rules is not None else all_rules())
    results = []
    for path, source in sources.items():
        if isinstance(source, bytes):
            text, problem = decode(source, path)
            if problem is not None:
                results.append(FileResult(path, parse_error=problem))
                continue
        else:
            text = source
        name = (modules or {}).get(path) or _module_from_path(path)
        results.append(facts_from_source(text, path, name, path.endswith("__init__.py")))
    run = linter.run(results, sources=sources)
    if run.internal_errors:
        raise InternalError("\n".join(run.internal_errors))
    return run.findings


def _module_from_path(path: str) -> str:
    parts = Path(path).with_suffix("").parts
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "module"
