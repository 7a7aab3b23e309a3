"""`[tool.txlint]` configuration: loading, validation and the resolved settings of a run."""

import difflib
import os
import reprlib
import sys
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from txlint.errors import UsageError
from txlint.input_files import read_regular_file
from txlint.patterns import pattern_error

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git/",
    ".hg/",
    ".svn/",
    ".tox/",
    ".nox/",
    ".venv/",
    "venv/",
    "env/",
    ".env/",
    "site-packages/",
    "build/",
    "dist/",
    "node_modules/",
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".txlint_cache/",
    ".eggs/",
    "*.egg-info/",
)
# Test setup writes many models outside transactions on purpose, and the test runner wraps each
# test in a transaction, so test code is excluded unless the user says otherwise.
DEFAULT_TEST_EXCLUDE = ("tests/", "test/", "test_*.py", "*_test.py", "tests.py", "test.py", "conftest.py",
                        "testing/", "testing.py", "test_utils/", "test_utils.py", "testutils/", "testutils.py",
                        "test_*/")


@dataclass(frozen=True)
class Config:
    include: Tuple[str, ...] = ("*.py",)
    exclude: Tuple[str, ...] = DEFAULT_TEST_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    select: Tuple[str, ...] = ("TXL",)
    ignore: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    raw_sql_allowed: Tuple[str, ...] = ()
    repositories: Tuple[str, ...] = ()
    snapshots: Tuple[str, ...] = ()
    materializers: Tuple[str, ...] = ()
    transaction_helpers: Tuple[str, ...] = ()
    atomic_requests: bool = False
    require_reason: bool = False
    # Where relative patterns are anchored: the directory of the pyproject.toml (or the cwd).
    root: str = field(default_factory=os.getcwd)
    # The codes the user named explicitly in `select` (a rule that is off by default can be forced on).
    explicit_select: bool = False

    def fingerprint(self) -> str:
        """A stable text that changes whenever a setting that affects findings changes."""
        return repr(tuple(getattr(self, f.name) for f in fields(self) if f.name != "root"))


_LIST_KEYS = (
    "include",
    "exclude",
    "extend-exclude",
    "select",
    "ignore",
    "raw-sql-allowed",
    "repositories",
    "snapshots",
    "materializers",
    "transaction-helpers",
)
# Gitignore-style patterns: each is compiled once here, so that no later matching meets one that
# pathspec cannot compile.
_PATTERN_KEYS = ("include", "exclude", "extend-exclude", "raw-sql-allowed", "repositories", "materializers")
_BOOLEAN_KEYS = ("atomic-requests", "require-reason")
_KEYS = _LIST_KEYS + ("per-file-ignores",) + _BOOLEAN_KEYS


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _string_list(key: str, value, source: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"{source}: `{key}` must be a list of strings, got {reprlib.repr(value)}")
    return tuple(value)


def _check_patterns(key: str, patterns, source: str) -> None:
    for pattern in patterns:
        reason = pattern_error(pattern)
        if reason is not None:
            raise UsageError(f"{source}: `{key}` has an invalid pattern {pattern!r}: {reason}")


def validate_codes(codes, known_codes, what: str) -> Tuple[str, ...]:
    """Every code must be a prefix of at least one known rule code ("TXL", "TXL1", "TXL101")."""
    result = []
    for code in codes:
        normalised = code.strip().upper()
        if not normalised or not any(known.startswith(normalised) for known in known_codes):
            raise UsageError(f"{what}: unknown rule code {code!r}{_suggest(normalised, known_codes)}")
        result.append(normalised)
    return tuple(result)


def _from_table(table: dict, source: str, root: str, known_codes) -> Config:
    if not isinstance(table, dict):
        raise UsageError(f"{source}: [tool.txlint] must be a table")
    values = {}
    for key, value in table.items():
        if key not in _KEYS:
            raise UsageError(f"{source}: unknown key `{key}` in [tool.txlint]{_suggest(key, _KEYS)}")
        attribute = key.replace("-", "_")
        if key in _LIST_KEYS:
            values[attribute] = _string_list(key, value, source)
            if key in _PATTERN_KEYS:
                _check_patterns(key, values[attribute], source)
        elif key in _BOOLEAN_KEYS:
            if not isinstance(value, bool):
                raise UsageError(f"{source}: `{key}` must be true or false, got {reprlib.repr(value)}")
            values[attribute] = value
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise UsageError(f"{source}: `per-file-ignores` must be a table of pattern = [codes]")
            _check_patterns(key, value, source)
            values[attribute] = tuple(
                (pattern, validate_codes(_string_list(f"per-file-ignores.{pattern}", codes, source), known_codes,
                                         f"{source}: per-file-ignores.{pattern}"))
                for pattern, codes in value.items()
            )
    for key in ("select", "ignore"):
        if key in values:
            values[key] = validate_codes(values[key], known_codes, f"{source}: `{key}`")
    if "select" in values:
        values["explicit_select"] = True
    return Config(root=root, **values)


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest pyproject.toml with a [tool.txlint] table at or above `start` (a directory),
    as ruff looks for [tool.ruff]: a pyproject.toml of another tool's does not end the search."""
    for directory in (start, *start.parents):
        candidate = project_config_in(str(directory))
        if candidate is not None:
            return candidate
    return None


@lru_cache(maxsize=None)
def project_config_in(directory: str) -> Optional[Path]:
    """The directory's pyproject.toml if it holds a [tool.txlint] table: the directory is then
    the root of a project of its own. Asked once per directory and run."""
    candidate = Path(directory) / "pyproject.toml"
    if not candidate.is_file():
        return None
    return candidate if txlint_table(_read_toml(candidate), str(candidate)) is not None else None


def txlint_table(document: dict, source: str) -> Optional[dict]:
    """The [tool.txlint] table of a pyproject document; None when it has none."""
    tool = document.get("tool")
    if not isinstance(tool, dict) or "txlint" not in tool:
        return None
    table = tool["txlint"]
    if not isinstance(table, dict):
        raise UsageError(f"{source}: [tool.txlint] must be a table")
    return table


def _read_toml(path: Path) -> dict:
    try:
        data = read_regular_file(path)
    except OSError as error:
        raise UsageError(f"cannot read configuration {path}: {error.strerror or error}") from None
    try:
        # A byte order mark, which some Windows editors write, is not part of the document.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: not UTF-8: {error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: invalid TOML: {error}") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise UsageError(f"{path}: invalid TOML: nested too deeply") from None
    except MemoryError:
        raise UsageError(f"{path}: too large to read") from None


def load_config(config_file: Optional[str], known_codes, cwd: Optional[Path] = None) -> Config:
    """The configuration of a run: `--config FILE` if given, else the nearest pyproject.toml upwards."""
    cwd = cwd or Path.cwd()
    if config_file is not None:
        path = Path(config_file)
        if not path.exists():
            raise UsageError(f"--config: no such file: {config_file}")
        document = _read_toml(path)
        # A dedicated file may hold the table at the top level or under [tool.txlint].
        table = txlint_table(document, str(path))
        return _from_table(document if table is None else table, str(path), str(path.resolve().parent), known_codes)
    path = find_pyproject(cwd.resolve())
    if path is None:
        return Config(root=str(cwd.resolve()))
    return config_of_project(path, known_codes)


def config_of_project(pyproject: Path, known_codes) -> Config:
    """The configuration in a project's pyproject.toml, anchored at its directory."""
    table = txlint_table(_read_toml(pyproject), str(pyproject))
    return _from_table(table or {}, str(pyproject), str(pyproject.parent), known_codes)


def with_overrides(config: Config, select: Optional[List[str]], ignore: Optional[List[str]], known_codes) -> Config:
    """Apply --select/--ignore from the command line (they replace/extend the configured ones)."""
    changes: Dict[str, object] = {}
    if select is not None:
        changes["select"] = validate_codes(select, known_codes, "--select")
        changes["explicit_select"] = True
    if ignore is not None:
        changes["ignore"] = config.ignore + validate_codes(ignore, known_codes, "--ignore")
    if not changes:
        return config
    return Config(**{**{f.name: getattr(config, f.name) for f in fields(config)}, **changes})
