"""The engine: a project's files as one run, from the cache when it can (a tree unchanged since an
earlier run, or one with a few files changed, re-checked incrementally), else parsed and checked in
full by the linter (txlint.linter). Uses the cache, the parser and the run state; the model only to
tell when a run over changed files must start over."""

import gc
import os
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

from txlint.cache import Cache, file_key, run_key
from txlint.discovery import display_path, module_name
from txlint.facts import ModuleFacts
from txlint.parsing import FileResult, parse_all
from txlint.progress import Progress
from txlint.run_state import ProjectState, RunResult
from txlint.source import SourceFile, load_source

if TYPE_CHECKING:
    from txlint.linter import Linter


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
    parsed = parse_all([sources[index] for index in missing], jobs, cache, progress, meanwhile=_import_model)
    for index, result in zip(missing, parsed):
        results[index] = result
    progress.resolving()
    return results


def _import_model() -> None:
    """The project model, which resolving the facts needs next, imported while they are parsed."""
    import txlint.project  # noqa: F401


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
