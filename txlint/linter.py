"""The linter: configuration and the rule set built once, the rules run over a project's facts (in
the `--jobs` processes), each finding matched against the file's suppressions, and the suppressions
that suppress nothing or give no reason reported. `lint_source`/`lint_sources` lint sources given as
strings, the entry point every front end shares. Uses the project model and the rules, imported
when a run needs them; knows nothing of the cache (txlint.engine)."""

import gc
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Set, Tuple

from txlint.check_workers import SharedWork, check_in_processes
from txlint.config import Config
from txlint.errors import internal_error
from txlint.facts import ModuleFacts, changed_names
from txlint.findings import Finding, FixPlan
from txlint.parsing import FileResult, facts_from_source
from txlint.patterns import compile_patterns
from txlint.run_state import FileState, ModuleOutcome, NameTable, ProjectState, RunResult
from txlint.source import decode, read_source_bytes, split_lines
from txlint.suppressions import ALL, NOQA_STYLE, TXLINT_STYLE, is_suppressed

if TYPE_CHECKING:  # the model and the rules are imported when a run needs them: a cached run never does
    from txlint.project import Project
    from txlint.rule import Rule


# The model and facts of the last run, when the process ends as soon as its report is written (see
# `keep_last_run_to_exit`); None: each run's are freed when it returns.
_last_run_kept: Optional[List[object]] = None


def keep_last_run_to_exit() -> None:
    """This process ends (os._exit) once its report is written: the last run's model and facts are
    kept to the end rather than freed object by object when the run returns (millions of small
    objects: 0.07 s of a cold run on airflow-core). An earlier run's (a --fix pass) are freed when
    the next one is done, so no more is held than one run needs."""
    global _last_run_kept
    _last_run_kept = []


class InternalError(RuntimeError):
    """txlint or one of its rules failed (a bug); raised by `lint_source`/`lint_sources`."""


class _GraphFailed(Exception):
    """Building the call graph raised (a bug): the run says so as an internal error."""

    def __init__(self, error: Exception):
        super().__init__(error)
        self.error = error


def _engine_finding(code: str, name: str, path: str, line: int, message: str,
                    fix: Optional[FixPlan] = None) -> Finding:
    return Finding(code, name, path, line, 1, line, 1, "", message, fix=fix)


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
            sources: Optional[Dict[str, object]] = None, tracking: bool = False, jobs: int = 1) -> RunResult:
        """Check every module, in `jobs` processes; with `report_paths`, report only those files'
        findings. `sources`: the files' contents (bytes or text) by path, for the source of the calls
        reported (else read from the paths). With `tracking`, the result carries the state the next
        run starts from."""
        from txlint.project import Project

        table = NameTable()
        # The call graph before any rule: built inside a rule's question, it would see the values
        # that question is still working out as unknown, and what a rule finds would depend on
        # which function happened to be checked first (and differ between full and incremental runs).
        # An untracked run builds it in the `jobs` processes, each a part (see `call_graph_part`).
        graph_in_parts = not tracking and jobs > 1
        try:
            project = Project([result.facts for result in results if result.facts is not None], self.config,
                              tracking=tracking, pack=table.pack if tracking else None)
            if not graph_in_parts:
                project.call_graph()
        except Exception as error:  # without the project model no rule can run; say so, never a traceback
            return self._failed_run(results, report_paths, error)
        files = [(result.path, result.facts.module if result.facts is not None else "", result.parse_error,
                  result.internal_error) for result in results]
        shared = SharedWork(_reporting_failure(project.call_graph_part), _reporting_failure(project.join_call_graph))
        try:
            return self._check(project, files, {}, report_paths, sources, table, jobs,
                               shared if graph_in_parts else None)
        except _GraphFailed as failure:
            return self._failed_run(results, report_paths, failure.error)
        finally:
            if _last_run_kept is not None:
                _last_run_kept[:] = [project, results]
                # Nor need the cycle collector look at them again: turned back on once the run is
                # done (txlint.engine), it would go over every one of them (0.2 s) at once.
                gc.freeze()

    def _failed_run(self, results: Sequence[FileResult], report_paths: Optional[Set[str]],
                    error: Exception) -> RunResult:
        run = RunResult(files=len(results))
        self._add_file_errors(run, [(result.path, result.parse_error, result.internal_error) for result in results],
                              report_paths)
        run.internal_errors.append(internal_error("resolving the project", error))
        run.findings.sort(key=Finding.sort_key)
        return run

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
        for path, parse_error, failure in files:
            if parse_error is not None and (report_paths is None or path in report_paths):
                run.parse_errors += 1
                if self.enabled("TXL000") and not self._ignored_for_path("TXL000", path):
                    run.findings.append(parse_error)
            if failure is not None:
                run.internal_errors.append(failure)

    def _check(self, project: "Project", files: List[Tuple[str, str, Optional[Finding], Optional[str]]],
               reuse: Dict[str, "FileState"], report_paths: Optional[Set[str]],
               sources: Optional[Dict[str, object]], table: NameTable, jobs: int = 1,
               graph: Optional[SharedWork] = None) -> RunResult:
        """Check each file's module (path, module name or "" without facts, TXL000, internal error),
        in `jobs` processes, or take its outcome from `reuse`; what checking each read is packed
        with `table`. `graph`: the call graph's parts, built in those processes first, if not built."""
        run = RunResult(files=len(files) if report_paths is None else len(report_paths))
        self._add_file_errors(run, [(path, parse_error, error) for path, _, parse_error, error in files], report_paths)
        checking = [(path, name) for path, name, _, _ in files
                    if name and path not in reuse and (report_paths is None or path in report_paths)]
        checked = check_in_processes(
            lambda index: self._check_reading(project, checking[index][1], (sources or {}).get(checking[index][0])),
            len(checking), jobs, graph)
        state = ProjectState({}, project.call_graph(), (False, False, frozenset()))
        outcomes = {checking[index][0]: outcome for index, outcome in checked.items()}
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
                outcome, reads = outcomes[path]
                reads = table.pack(reads) if project.tracking else b""
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

    def _check_reading(self, project: "Project", name: str, source: object) -> Tuple[ModuleOutcome, Set[object]]:
        """A module's outcome, and the names checking it read (tracked projects; else none)."""
        reads: Set[object] = set()
        with project.track(reads) if project.tracking else nullcontext():
            outcome = self._check_module(project, project.modules[name], source)
        return outcome, project.expand(reads) if project.tracking else reads

    def _check_module(self, project: "Project", module: ModuleFacts, source: object = None) -> ModuleOutcome:
        """The findings in one module; `source`: its content (bytes or text), else read from its path."""
        from txlint.project import FactsUnavailable
        from txlint.rule import RuleContext

        run = ModuleOutcome()
        used: Dict[int, List[str]] = {}  # suppression line -> codes it suppressed
        lines: Optional[List[str]] = None
        module_answers: Dict[str, bool] = {}
        for qualname, unit_facts in module.functions.items():
            unit = project.units[qualname]
            start, _, end, _ = unit_facts.extent if unit_facts.extent[0] else unit_facts.range
            run.function_ranges[(module.path, qualname)] = (
                (0, module.source_lines) if unit_facts.is_module else (start, end))
            context = RuleContext(project, unit, self.config, module_answers)
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
                                      qualname, report.message, call_source(lines, report.range), report.fix)
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
                            f"more; remove it"), FixPlan(safe=True, title=f"remove the unused suppression{shown}",
                                                         action="remove-suppression", lines=(line,),
                                                         details=(("code", code),))))
            if self.config.require_reason and self.enabled("TXL002") and line not in module.suppression_reasons:
                findings.append(_engine_finding("TXL002", "suppression-without-reason", module.path, line, (
                    "suppression without a reason: write it as `# txlint: ignore[CODE] -- why it is safe`")))
        return findings


def _reporting_failure(step: Callable) -> Callable:
    """`step`, raising _GraphFailed for any exception it raises."""
    def reporting(*arguments):
        try:
            return step(*arguments)
        except Exception as error:
            raise _GraphFailed(error) from error
    return reporting


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
