"""flake8 plugin: txlint's findings as flake8 diagnostics (for editors that run flake8).

txlint's analysis is whole-program (a helper in one file changes findings in another), while
flake8 hands a plugin one file at a time. So the plugin analyses a whole project once per
process and reports, for each file flake8 checks, the findings that fall in it:

- `flake8 PATH ...`: the projects those paths belong to, analysed once in flake8's main process
  when it reads its options, before it forks its workers (which inherit the result), with
  txlint's own parallel parsing and cache (txlint.session, as `txlint check PATH ...`). The
  findings are those `txlint check .` gives in each file, at the same positions.
- `flake8 --stdin-display-name FILE -` (how editors send an unsaved buffer): the project FILE
  belongs to, with FILE's text taken from the buffer; rules run only for FILE, the rest of the
  project informs them (helpers, callers). A FILE that the configuration excludes gets no
  diagnostics, as with `txlint check --force-exclude`.

The configuration is the same `[tool.txlint]`, found from the files; a configuration error is
reported as a diagnostic on line 1 rather than a traceback, and so is an internal error of
txlint's (on the file it names, or the first file reported), never dropped.
"""

import os
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from txlint import __version__

_Diagnostic = Tuple[int, int, str, type]


class _Analysis:
    """The findings of one txlint run, by resolved file path, and its internal errors by the
    reported file they name, or the error that stopped the run. An internal error about the
    project as a whole, or about a file not reported, is shown on the first reported file."""

    def __init__(self, result=None, reported: Sequence[str] = (), error: str = ""):
        self.by_file: Dict[str, list] = {}
        self.internal_errors: Dict[str, List[str]] = {}
        self.error = error
        resolved = sorted(os.path.realpath(path) for path in reported)
        self.first_file = resolved[0] if resolved else ""
        if result is None:
            return
        for finding in result.findings:
            self.by_file.setdefault(os.path.realpath(finding.path), []).append(finding)
        for message in result.internal_errors:
            named = os.path.realpath(message.path) if getattr(message, "path", None) else ""
            self.internal_errors.setdefault(named if named in resolved else self.first_file, []).append(message)

    def for_file(self, filename: str) -> list:
        return self.by_file.get(os.path.realpath(filename), [])

    def errors_for_file(self, filename: str) -> List[str]:
        return self.internal_errors.get(os.path.realpath(filename), [])


def analyse_paths(paths: Sequence[str], jobs: int) -> _Analysis:
    """What `txlint check PATH ...` reports, for flake8 given the same paths."""
    from txlint.errors import UsageError
    from txlint.session import Options, check_paths, plan_paths

    options = Options(jobs=jobs)
    try:
        projects = plan_paths(paths, options)
        result = check_paths(paths, options, projects=projects)
    except UsageError as error:
        return _Analysis(error=str(error))
    return _Analysis(result, [str(path) for project in projects for path in project.reported])


def analyse_buffer(filename: str, text: str) -> _Analysis:
    """The findings in `filename`, whose current text is `text`, analysed within its project."""
    from txlint.errors import UsageError
    from txlint.session import Options, check_buffer

    try:
        return _Analysis(check_buffer(filename, text, Options(jobs=1)), [filename])
    except UsageError as error:
        return _Analysis(error=str(error))


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
        from txlint.reporters.escape import visible

        if not self._selected:
            return
        if self._stdin:
            analysis = analyse_buffer(self.filename, "".join(self.lines))
        else:
            if Plugin._analysis is None:  # parse_options was not called (flake8's legacy API, tests)
                Plugin._analysis = analyse_paths(["."], 1)
            analysis = Plugin._analysis
        # Messages hold names and text from the analysed code: escaped, they stay one diagnostic each.
        if analysis.error:
            yield 1, 0, f"TXL000 txlint cannot run: {visible(analysis.error)}", type(self)
            return
        for message in analysis.errors_for_file(self.filename):
            yield 1, 0, f"TXL000 txlint failed: {visible(message)}", type(self)
        for finding in analysis.for_file(self.filename):
            yield finding.line, finding.column - 1, f"{finding.code} {visible(finding.message)}", type(self)
