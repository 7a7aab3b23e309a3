"""flake8 plugin: txlint's findings as flake8 diagnostics (for editors that run flake8).

txlint's analysis is whole-program (a helper in one file changes findings in another), while
flake8 hands a plugin one file at a time. So the plugin analyses a whole project once per
process and reports, for each file flake8 checks, the findings that fall in it:

- `flake8 PATH ...`: the files txlint would check for those paths, analysed once in flake8's
  main process when it reads its options, before it forks its workers (which inherit the
  result), with txlint's own parallel parsing and cache. The findings are those of
  `txlint check PATH ...`, at the same positions.
- `flake8 --stdin-display-name FILE -` (how editors send an unsaved buffer): the project
  around FILE (the files of its `[tool.txlint]` root), with FILE's text taken from the buffer;
  rules run only for FILE, the rest of the project informs them (helpers, callers). A FILE that
  the configuration excludes gets no diagnostics, as with `txlint check --force-exclude`.

The configuration is the same `[tool.txlint]`, read once per process; a configuration error is
reported as a diagnostic on line 1 rather than a traceback.
"""

import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from txlint import __version__

_Diagnostic = Tuple[int, int, str, type]


class _Analysis:
    """The findings of one txlint run, by resolved file path, or the error that stopped it."""

    def __init__(self, findings: Sequence = (), error: str = ""):
        self.by_file: Dict[str, list] = {}
        for finding in findings:
            self.by_file.setdefault(os.path.realpath(finding.path), []).append(finding)
        self.error = error

    def for_file(self, filename: str) -> list:
        return self.by_file.get(os.path.realpath(filename), [])


def _linter(config_start: Optional[Path] = None):
    from txlint.cache import Cache
    from txlint.config import load_config
    from txlint.engine import Linter
    from txlint.rules import all_rules

    rules = all_rules()
    config = load_config(None, tuple(rule.code for rule in rules), cwd=config_start)
    return Linter(config, rules), Cache(config.root)


def analyse_paths(paths: Sequence[str], jobs: int) -> _Analysis:
    """What `txlint check PATH ...` reports, for flake8 given the same paths."""
    from txlint.discovery import discover
    from txlint.engine import check_files
    from txlint.errors import UsageError

    try:
        linter, cache = _linter()
        result = check_files(discover(paths, linter.config), linter, jobs=jobs, cache=cache)
    except UsageError as error:
        return _Analysis(error=str(error))
    return _Analysis(result.findings)


def _project_start(path: Path) -> Path:
    """Where the buffer's project is found: the nearest pyproject.toml above the file; without
    one, the working directory (the editor's workspace) if the file is inside it."""
    from txlint.config import find_pyproject

    directory = path.resolve().parent
    if find_pyproject(directory) is None and Path.cwd().resolve() in (directory, *directory.parents):
        return Path.cwd()
    return directory


def analyse_buffer(filename: str, text: str) -> _Analysis:
    """The findings in `filename`, whose current text is `text`, analysed within its project."""
    from txlint.cache import file_key
    from txlint.discovery import FileFilter, discover, display_path, module_name
    from txlint.engine import SourceFile, check_sources, load_source
    from txlint.errors import UsageError

    path = Path(filename)
    try:
        linter, cache = _linter(_project_start(path))
        if FileFilter(linter.config).excluded(path, is_dir=False):
            return _Analysis()
        files = discover([linter.config.root], linter.config)
    except UsageError as error:
        return _Analysis(error=str(error))
    target = os.path.realpath(filename)
    sources: List[SourceFile] = [load_source(file) for file in files if os.path.realpath(file) != target]
    edited = load_source(path) if path.is_file() else SourceFile(display_path(path), *module_name(path))
    edited.data, edited.read_error = text.encode("utf-8", "surrogateescape"), None
    edited.key = file_key(edited.shown, edited.module, edited.data)
    sources.append(edited)
    result = check_sources(sources, linter, jobs=1, cache=cache, report_paths={edited.shown})
    return _Analysis(result.findings)


def _txlint_selected(options) -> bool:
    """Would flake8 report a TXL code at all? (No analysis for `flake8 --select E,F`.)"""
    try:
        from flake8.style_guide import Decision, DecisionEngine

        return DecisionEngine(options).decision_for("TXL101") is Decision.Selected
    except Exception:  # another flake8 version: analyse, to be safe
        return True


def _jobs(options) -> int:
    jobs = getattr(options, "jobs", None)
    if jobs is None or getattr(jobs, "is_auto", True):
        return os.cpu_count() or 1
    return max(getattr(jobs, "n_jobs", 1), 1)


class Plugin:
    name = "txlint"
    version = __version__

    _stdin = False
    _selected = True
    _analysis: Optional[_Analysis] = None  # once per process: the run over the paths flake8 was given

    def __init__(self, tree, filename: str, lines: List[str]):
        self.filename = filename
        self.lines = lines

    @classmethod
    def parse_options(cls, options) -> None:
        paths = list(getattr(options, "filenames", None) or ["."])
        cls._stdin = paths == ["-"]
        cls._selected = _txlint_selected(options)
        cls._analysis = None
        if cls._selected and not cls._stdin:
            cls._analysis = analyse_paths(paths, _jobs(options))

    def run(self) -> Iterator[_Diagnostic]:
        if not self._selected:
            return
        if self._stdin:
            analysis = analyse_buffer(self.filename, "".join(self.lines))
        else:
            if Plugin._analysis is None:  # parse_options was not called (flake8's legacy API, tests)
                Plugin._analysis = analyse_paths(["."], 1)
            analysis = Plugin._analysis
        if analysis.error:
            yield 1, 0, f"TXL000 txlint cannot run: {analysis.error}", type(self)
            return
        for finding in analysis.for_file(self.filename):
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
