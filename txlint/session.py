"""A run over named paths, the one way every front end checks code: the command line, the
pre-commit hook, the flake8 plugin and an editor's unsaved buffer.

The paths are planned into projects (txlint.projects); each project is analysed whole, from the
cache when it is warm, and only the findings in the named paths are reported. So every front end
gives, for a file, exactly the findings `txlint check .` gives in it.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from txlint.cache import Cache, chosen_cache_directory
from txlint.config import Config
from txlint.discovery import display_path
from txlint.engine import check_files, check_sources
from txlint.linter import Linter
from txlint.run_state import RunResult
from txlint.source import SourceFile, load_source
from txlint.projects import ProjectRun, plan


@dataclass
class Options:
    """How a run is made, whatever front end asked for it."""

    config_file: Optional[str] = None
    select: Optional[List[str]] = None
    ignore: Optional[List[str]] = None
    force_exclude: bool = False
    jobs: int = 1
    use_cache: bool = True
    cache_dir: Optional[str] = None


def _rules():
    from txlint.rules import all_rules

    return all_rules()


def plan_paths(paths: Sequence[str], options: Options, rules=None) -> List[ProjectRun]:
    rules = rules if rules is not None else _rules()
    return plan(paths, [rule.code for rule in rules], options.config_file, options.select, options.ignore,
                options.force_exclude)


def _cache(project: ProjectRun, options: Options) -> Optional[Cache]:
    """The project's cache; none for a root that is not walked as a whole (a buffer in /tmp
    writes nothing there), unless the user chose where the cache lives."""
    if not options.use_cache:
        return None
    if not project.bounded and chosen_cache_directory(options.cache_dir) is None:
        return None
    return Cache(project.config.root, options.cache_dir)


def check_paths(paths: Sequence[str], options: Options, rules=None,
                projects: Optional[List[ProjectRun]] = None) -> RunResult:
    """The findings in the named paths, each project analysed whole. `projects`: the plan, if made."""
    rules = rules if rules is not None else _rules()
    projects = projects if projects is not None else plan_paths(paths, options, rules)
    results = []
    for project in projects:
        if not project.reported:
            continue  # (pre-commit naming only excluded files)
        linter = Linter(project.config, rules)
        result = check_files(project.files, linter, jobs=options.jobs, cache=_cache(project, options),
                             reported=project.reported)
        if len(projects) > 1:  # say which project a hint is about
            result.hints = [f"in the project {display_path(Path(project.config.root))}/: {hint}"
                            for hint in result.hints]
        results.append(result)
    return merge(results)


def check_buffer(filename: str, text: str, options: Options, rules=None) -> RunResult:
    """The findings in `filename`, whose current (unsaved) text is `text`, analysed within its
    project; none when the configuration excludes it."""
    from txlint.cache import file_key
    from txlint.discovery import FileFilter, module_name

    rules = rules if rules is not None else _rules()
    path = Path(filename)
    project = _buffer_project(path, options, rules)
    root = project.config.root
    if FileFilter(project.config).excluded(path, is_dir=False):
        return RunResult()
    edited = SourceFile(display_path(path), *module_name(path, root))
    edited.data = text.encode("utf-8", "surrogateescape")
    edited.key = file_key(edited.shown, edited.module, edited.data)
    target = os.path.realpath(filename)
    sources: List[SourceFile] = [load_source(file, (display_path(file), *module_name(file, root)))
                                 for file in project.files if os.path.realpath(file) != target]
    sources.append(edited)
    sources.sort(key=lambda source: os.path.normpath(os.path.abspath(source.shown)))  # as the project's files are
    linter = Linter(project.config, rules)
    return check_sources(sources, linter, jobs=1, cache=_cache(project, options), report_paths={edited.shown})


def _buffer_project(path: Path, options: Options, rules) -> ProjectRun:
    """The project a buffer belongs to. A file not saved yet is planned through its project's
    root, or is a project of its own where the root may not be walked (the home or temporary
    directory) or does not exist yet."""
    from txlint.config import config_of_project, with_overrides
    from txlint.projects import is_bounded, project_root

    if os.path.lexists(path):
        return plan_paths([str(path)], options, rules)[0]
    root, pyproject = project_root(path)
    if is_bounded(root) and os.path.isdir(root):
        return next(project for project in plan_paths([root], options, rules) if project.config.root == root)
    codes = [rule.code for rule in rules]
    config = Config(root=root) if pyproject is None else config_of_project(pyproject, codes)
    return ProjectRun(with_overrides(config, options.select, options.ignore, codes), pyproject, [], [], False)


def merge(results: List[RunResult]) -> RunResult:
    """One result for several projects' runs."""
    if len(results) == 1:
        return results[0]
    merged = RunResult()
    for result in results:
        merged.findings.extend(result.findings)
        merged.files += result.files
        merged.parse_errors += result.parse_errors
        merged.internal_errors.extend(result.internal_errors)
        merged.suppressed.extend(result.suppressed)
        merged.suppression_reasons.update(result.suppression_reasons)
        merged.hints.extend(hint for hint in result.hints if hint not in merged.hints)
        merged.function_ranges.update(result.function_ranges)
        merged.calls.update(result.calls)
    merged.findings.sort(key=lambda finding: finding.sort_key())
    return merged
