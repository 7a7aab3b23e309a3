"""The engine: a project's files as one run, from the cache when it can, through the rules."""

import gc
import os
from array import array
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Set, Tuple

from txlint.cache import Cache, file_key, run_key
from txlint.check_workers import check_in_processes
from txlint.config import Config
from txlint.discovery import display_path, module_name
from txlint.errors import internal_error
from txlint.facts import ModuleFacts, changed_names
from txlint.findings import Finding, FixPlan
from txlint.parsing import FileResult, facts_from_source, parse_all
from txlint.patterns import compile_patterns
from txlint.progress import Progress
from txlint.source import SourceFile, decode, load_source, read_source_bytes, split_lines
from txlint.suppressions import ALL, NOQA_STYLE, TXLINT_STYLE, is_suppressed

if TYPE_CHECKING:  # the model and the rules are imported when a run needs them: a cached run never does
    from txlint.project import CallGraph, ModuleIndex, Project
    from txlint.rule import Rule



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


def _engine_finding(code: str, name: str, path: str, line: int, message: str,
                    fix: Optional[FixPlan] = None) -> Finding:
    return Finding(code, name, path, line, 1, line, 1, "", message, fix=fix)


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
        return linter.run(_facts(sources, jobs, None, progress), report_paths, contents, jobs=jobs)
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
        run = linter.run(_facts(sources, jobs, cache, progress), report_paths, contents, tracking=True, jobs=jobs)
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
    for index, result in zip(missing, parse_all([sources[index] for index in missing], jobs, cache, progress)):
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
            sources: Optional[Dict[str, object]] = None, tracking: bool = False, jobs: int = 1) -> RunResult:
        """Check every module, in `jobs` processes; with `report_paths`, report only those files'
        findings. `sources`: the files' contents (bytes or text) by path, for the source of the calls
        reported (else read from the paths). With `tracking`, the result carries the state the next
        run starts from."""
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
        return self._check(project, files, {}, report_paths, sources, table, jobs)

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
               sources: Optional[Dict[str, object]], table: NameTable, jobs: int = 1) -> RunResult:
        """Check each file's module (path, module name or "" without facts, TXL000, internal error),
        in `jobs` processes, or take its outcome from `reuse`; what checking each read is packed
        with `table`."""
        run = RunResult(files=len(files) if report_paths is None else len(report_paths))
        self._add_file_errors(run, [(path, parse_error, error) for path, _, parse_error, error in files], report_paths)
        state = ProjectState({}, project.call_graph(), (False, False, frozenset()))
        checking = [(path, name) for path, name, _, _ in files
                    if name and path not in reuse and (report_paths is None or path in report_paths)]
        checked = check_in_processes(
            lambda index: self._check_reading(project, checking[index][1], (sources or {}).get(checking[index][0])),
            len(checking), jobs)
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
