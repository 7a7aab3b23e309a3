"""Which files a run lints: command-line paths filtered by include/exclude and .gitignore."""

import os
from pathlib import Path
from typing import Iterable, List, NamedTuple, Optional, Tuple

import pathspec

from txlint.config import DEFAULT_EXCLUDE, Config
from txlint.errors import UsageError


class NamedDirectory(NamedTuple):
    """A directory named on the command line: the exclusions that matched it do not apply below it."""

    path: Path
    default_excluded: bool  # by the always-on excludes (or outside the root: matched below it)
    git_depth: int  # .gitignore files above this depth matched it, so only deeper ones apply


class FileFilter:
    """Gitignore-style include/exclude matching, anchored at the configuration root."""

    def __init__(self, config: Config):
        self.root = Path(config.root)
        self.include = pathspec.GitIgnoreSpec.from_lines(config.include)
        self.always_excluded = pathspec.GitIgnoreSpec.from_lines(DEFAULT_EXCLUDE)
        self.configured_excluded = pathspec.GitIgnoreSpec.from_lines(config.exclude + config.extend_exclude)
        self._gitignores: dict = {}
        self._root = os.path.abspath(self.root)

    def relative(self, path: Path) -> Optional[str]:
        """The path relative to the root, "/"-separated; None outside the root."""
        relative = os.path.relpath(os.path.abspath(path), self._root)
        if relative == os.curdir:
            return ""
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return None
        return relative.replace(os.sep, "/")

    def _gitignore_for(self, directory: str):
        spec = self._gitignores.get(directory)
        if spec is None:
            gitignore = os.path.join(self._root, directory, ".gitignore")
            lines: List[str] = []
            if os.path.isfile(gitignore):
                try:
                    with open(gitignore, encoding="utf-8", errors="replace") as handle:
                        lines = handle.read().splitlines()
                except OSError:
                    lines = []
            spec = pathspec.GitIgnoreSpec.from_lines(lines)
            self._gitignores[directory] = spec
        return spec

    def _ignored_by_git(self, relative: str, is_dir: bool, from_depth: int = 0) -> bool:
        """A .gitignore in any directory between the root (or `from_depth` levels below it) and the
        path applies to it."""
        parts = relative.split("/")
        suffix = "/" if is_dir else ""
        for depth in range(from_depth, len(parts)):
            spec = self._gitignore_for("/".join(parts[:depth]))
            if spec.match_file("/".join(parts[depth:]) + suffix):
                return True
        return False

    def excluded(self, path: Path, is_dir: bool, configured: bool = True, below: Optional["NamedDirectory"] = None) -> bool:
        """Whether the default excludes, the configured ones or a .gitignore exclude the path.

        `below` is the directory named on the command line the path was found in: an exclusion
        that applies to that directory itself (or that cannot be anchored at the root because the
        directory is outside it) is matched below the directory instead, so naming it lints it.
        """
        inside = self.relative(path)
        relative = inside if inside is not None else path.as_posix().lstrip("/")
        default_relative = relative
        if below is not None and (below.default_excluded or inside is None):
            default_relative = os.path.relpath(path, below.path).replace(os.sep, "/")
            if inside is None:
                relative = default_relative
        suffix = "/" if is_dir else ""
        if self.always_excluded.match_file(default_relative + suffix):
            return True
        if configured and self.configured_excluded.match_file(relative + suffix):
            return True
        git_from = below.git_depth if below is not None else 0
        return inside is not None and inside != "" and self._ignored_by_git(inside, is_dir, git_from)

    def named_directory(self, path: Path) -> "NamedDirectory":
        """How the excludes apply below a directory named on the command line."""
        inside = self.relative(path)
        default_excluded = inside is None or self.always_excluded.match_file((inside or "") + "/")
        git_depth = 0
        if inside and self._ignored_by_git(inside, True):
            git_depth = len(inside.split("/"))
        return NamedDirectory(path, default_excluded, git_depth)

    def included(self, path: Path) -> bool:
        relative = self.relative(path) or path.name
        return self.include.match_file(relative)


def discover(paths: Iterable[str], config: Config, force_exclude: bool = False) -> List[Path]:
    """The files to lint, sorted, without duplicates. A missing path is a usage error."""
    file_filter = FileFilter(config)
    found: List[Path] = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise UsageError(f"no such file or directory: {name}")
        if path.is_file():
            # A file named on the command line is linted even if excluded, unless --force-exclude.
            if not (force_exclude and file_filter.excluded(path, is_dir=False)):
                found.append(path)
            continue
        # A directory named explicitly is linted even if excluded: the exclusions that match the
        # directory itself are lifted below it (the configured ones entirely), the others still
        # apply to what is inside (a virtual environment in it, its own .gitignore).
        # (Outside the root the patterns cannot be anchored: only what is below it is matched.)
        excluded = file_filter.relative(path) is not None and file_filter.excluded(path, is_dir=True)
        if force_exclude and excluded:
            continue
        configured = force_exclude or not excluded
        found.extend(_walk(path, file_filter, configured, file_filter.named_directory(path)))
    unique = {}
    for path in found:
        unique.setdefault(os.path.normpath(path), path)
    return sorted(unique.values(), key=lambda p: p.as_posix())


def _walk(top: Path, file_filter: FileFilter, configured: bool, named: NamedDirectory) -> List[Path]:
    files: List[Path] = []
    for directory, subdirectories, filenames in os.walk(top):
        base = Path(directory)
        subdirectories[:] = sorted(
            d for d in subdirectories
            if not file_filter.excluded(base / d, is_dir=True, configured=configured, below=named)
        )
        for filename in sorted(filenames):
            path = base / filename
            if file_filter.included(path) and not file_filter.excluded(path, is_dir=False, configured=configured,
                                                                       below=named):
                files.append(path)
    return files


def display_path(path: Path) -> str:
    """The path as reported: relative to the working directory when possible, "/"-separated.

    A symbolic link is reported by its own name, not its target's; the resolved path is only the
    fallback for a path that reaches the working directory through a link.
    """
    cwd = os.getcwd()
    for candidate, base in ((os.path.abspath(path), cwd), (os.path.realpath(path), os.path.realpath(cwd))):
        try:
            relative = os.path.relpath(candidate, base)
        except ValueError:  # another drive
            continue
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            return relative.replace(os.sep, "/")
    return path.as_posix()


def module_name(path: Path) -> Tuple[str, bool]:
    """The dotted module name of a file, by walking up through packages (directories with __init__.py).

    Returns the name and whether the file is a package's __init__.
    """
    path = path.resolve()
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory != directory.parent:
        parts.insert(0, directory.name)
        directory = directory.parent
    if not parts:
        parts = [path.parent.name]
    return ".".join(parts), is_package
