"""The projects that named paths belong to: what a run analyses, and what it reports.

Whatever paths are named (by a user, pre-commit, flake8, an editor), txlint analyses the
project each belongs to and reports only the findings in the named paths, so that
`txlint check a.py` reports exactly what `txlint check .` reports in `a.py`: a helper in an
unnamed file, or the callers of a named function, still decide what is a hazard.

A path's project root is the nearest directory at or above it holding a pyproject.toml with a
[tool.txlint] table (with `--config FILE`, the file's directory), else the enclosing git work
tree, else the directory named (for a named file: the working directory when the file is below
it, else the file's directory). A project holds the files of its root, less those of nested
projects (directories below it with a [tool.txlint] of their own), filtered by its own
configuration. A root that is the home directory, the system's temporary directory or the
filesystem root is never walked as a whole: there the project is just the named files (an
editor buffer in /tmp would otherwise analyse all of /tmp).
"""

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from txlint.config import Config, config_of_project, find_pyproject, load_config, project_config_in, with_overrides
from txlint.discovery import FileFilter, discover
from txlint.errors import UsageError


@dataclass
class ProjectRun:
    """One project: its configuration, the files analysed and the files reported."""

    config: Config
    config_file: Optional[Path]  # the pyproject.toml (or --config file) used, None for the defaults
    files: List[Path]  # everything analysed: the root's files and the named ones
    reported: List[Path]  # the files of the named paths: only their findings are reported
    bounded: bool  # False when the root may not be walked as a whole: the project is the named files
    nested_roots: List[str] = field(default_factory=list)  # projects below the root that named paths reach


def plan(paths: Sequence[str], known_codes: Sequence[str], config_file: Optional[str] = None,
         select: Optional[List[str]] = None, ignore: Optional[List[str]] = None,
         force_exclude: bool = False) -> List[ProjectRun]:
    """The projects the named paths belong to, each with the files it analyses and reports, in
    the order their paths were first named. A missing path is a usage error."""
    project_config_in.cache_clear()  # a pyproject.toml may have changed since an earlier run in this process
    known_codes = tuple(known_codes)
    for name in paths:
        if not os.path.lexists(name):
            raise UsageError(f"no such file or directory: {name}")
    if config_file is not None:
        config = with_overrides(load_config(config_file, known_codes), select, ignore, known_codes)
        # One configuration for everything named: nested projects are not split off.
        return [_project(config, Path(config_file), list(paths), force_exclude, split_nested=False)]
    groups: Dict[str, Tuple[Optional[Path], List[str]]] = {}
    for name in paths:
        root, pyproject = project_root(Path(name))
        groups.setdefault(root, (pyproject, []))[1].append(name)
    runs: Dict[str, ProjectRun] = {}
    pending = list(groups)
    while pending:
        root = pending.pop(0)
        pyproject, names = groups[root]
        config = Config(root=root) if pyproject is None else config_of_project(pyproject, known_codes)
        config = with_overrides(config, select, ignore, known_codes)
        runs[root] = _project(config, pyproject, names, force_exclude, split_nested=True)
        # A named directory above a nested project names all of it: planned (again, if a file
        # in it was named on its own) with the whole nested root among its paths.
        for nested in runs[root].nested_roots:
            nested_names = groups.setdefault(nested, (project_config_in(nested), []))[1]
            if nested not in nested_names:
                nested_names.append(nested)
                if nested not in pending:
                    pending.append(nested)
    return [runs[root] for root in groups]


def _project(config: Config, config_file: Optional[Path], names: List[str], force_exclude: bool,
             split_nested: bool) -> ProjectRun:
    root = config.root
    bounded = is_bounded(root)
    walked = discover([_seen_from_cwd(root)], config) if bounded else []
    named = _named_files(names, config, force_exclude, walked)
    owners: Dict[str, str] = {}
    nested_roots: List[str] = []
    if split_nested:
        named, nested_roots = _own_files(named, root, owners)
        walked, _ = _own_files(walked, root, owners)
    files = _union(walked, named)
    return ProjectRun(config, config_file, files, named, bounded, nested_roots)


def _named_files(names: List[str], config: Config, force_exclude: bool, walked: List[Path]) -> List[Path]:
    """The files of the named paths. Below a named directory inside the root that the
    configuration does not exclude, discovery would find exactly the root's files below it, so
    they are taken from the walk of the root rather than walked again (the common case: `txlint
    check src/` in a project)."""
    file_filter = FileFilter(config)
    inside, others = [], []
    for name in names:
        path = Path(name)
        if (walked and path.is_dir() and not path.is_symlink() and file_filter.relative(path) is not None
                and not file_filter.excluded(path, is_dir=True)):
            inside.append(os.path.join(os.path.abspath(name), ""))
        else:
            others.append(name)
    found = discover(others, config, force_exclude=force_exclude) if others else []
    if inside:
        found += [path for path in walked
                  if any(os.path.abspath(path).startswith(directory) for directory in inside)]
    return _union(found)


def _seen_from_cwd(directory: str) -> str:
    """The directory as the working directory sees it (`../..`), so that its files are shown
    relative to it, as the files named are."""
    try:
        return os.path.relpath(directory)
    except ValueError:  # another drive
        return directory


def project_root(path: Path) -> Tuple[str, Optional[Path]]:
    """The root of the project a named path belongs to, and its pyproject.toml (None without one)."""
    absolute = os.path.abspath(path)
    start = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
    pyproject = find_pyproject(Path(start))
    if pyproject is not None:
        return str(pyproject.parent), pyproject
    work_tree = _git_work_tree(start)
    if work_tree is not None:
        return work_tree, None
    if not os.path.isdir(absolute):
        cwd = os.getcwd()
        if _is_below(absolute, cwd) and is_bounded(cwd):
            return cwd, None
    return start, None


def _git_work_tree(start: str) -> Optional[str]:
    """The nearest directory at or above `start` with a `.git` (a directory, or the file of a
    worktree or submodule); found without running git."""
    directory = start
    while True:
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def is_bounded(root: str) -> bool:
    """May the directory be walked as a project? Not the home directory, the system's temporary
    directory or the filesystem root: whatever lies there is not one project."""
    real = os.path.realpath(root)
    unbounded = {os.path.realpath(os.path.expanduser("~")), os.path.realpath(tempfile.gettempdir())}
    return real not in unbounded and os.path.dirname(real) != real


def _is_below(path: str, directory: str) -> bool:
    relative = os.path.relpath(path, directory)
    return relative != os.pardir and not relative.startswith(os.pardir + os.sep)


def _own_files(files: List[Path], root: str, owners: Dict[str, str]) -> Tuple[List[Path], List[str]]:
    """The files that belong to the project at `root`, and the roots of the nested projects the
    others belong to (a directory below the root with a [tool.txlint] of its own)."""
    root = os.path.abspath(root)
    own, nested = [], []
    for path in files:
        owner = _owner(os.path.dirname(os.path.abspath(path)), root, owners)
        if owner == root:
            own.append(path)
        elif owner not in nested:
            nested.append(owner)
    return own, nested


def _owner(directory: str, root: str, owners: Dict[str, str]) -> str:
    """The root of the project a directory belongs to, the nearest at or below `root`
    (worked out once per directory)."""
    climbed = []
    while directory not in owners:
        if directory == root or not _is_below(directory, root):
            owners[directory] = root
            break
        if project_config_in(directory) is not None:
            owners[directory] = directory
            break
        climbed.append(directory)
        directory = os.path.dirname(directory)
    owner = owners[directory]
    for below in climbed:
        owners[below] = owner
    return owner


def _union(*groups: List[Path]) -> List[Path]:
    """The files of all the groups (the root's and the named ones: a named file is analysed even
    when excluded), each once, in the form its first group has it, sorted by absolute path: the
    same order whichever paths were named."""
    unique: Dict[str, Path] = {}
    for path in (path for group in groups for path in group):
        unique.setdefault(os.path.normpath(os.path.abspath(path)), path)
    return [unique[key] for key in sorted(unique)]
