"""Which files a run lints: command-line paths filtered by include/exclude and .gitignore."""

import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import Iterable, List, NamedTuple, Optional, Tuple

import pathspec

from txlint.config import DEFAULT_EXCLUDE, Config
from txlint.errors import UsageError
from txlint.patterns import compile_as_git_does, compile_patterns


class NamedDirectory(NamedTuple):
    """A directory named on the command line: the exclusions that matched it do not apply below it."""

    path: Path
    default_excluded: bool  # by the always-on excludes (or outside the root: matched below it)
    git_depth: int  # .gitignore files above this depth matched it, so only deeper ones apply


class FileFilter:
    """Gitignore-style include/exclude matching, anchored at the configuration root."""

    def __init__(self, config: Config):
        self.root = Path(config.root)
        # The configured patterns were checked when the configuration was loaded.
        self.include = compile_patterns(config.include)
        self.always_excluded = compile_patterns(DEFAULT_EXCLUDE)
        self.configured_excluded = compile_patterns(config.exclude + config.extend_exclude)
        # Patterns that only name a file or directory (`tests/`, `*.py`) match a walked entry by
        # its name alone, so each name is matched once per run, not once per entry.
        self._include_by_name = all(map(_names_only, config.include))
        self._exclude_by_name = all(map(_names_only, config.exclude + config.extend_exclude))
        self._gitignores: dict = {}
        self._git_chains: dict = {}
        self._default_names: dict = {}
        self._configured_names: dict = {}
        self._included_names: dict = {}
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
        """The directory's .gitignore as a spec, or None when it has none (most directories)."""
        if directory in self._gitignores:
            return self._gitignores[directory]
        gitignore = os.path.join(self._root, directory, ".gitignore")
        spec = None
        if os.path.isfile(gitignore):
            try:
                with open(gitignore, encoding="utf-8", errors="replace") as handle:
                    spec = compile_as_git_does(handle.read().splitlines())
            except OSError:
                spec = None
        self._gitignores[directory] = spec
        return spec

    def _ignored_by_git(self, relative: str, is_dir: bool, from_depth: int = 0) -> bool:
        """A .gitignore in any directory between the root (or `from_depth` levels below it) and the
        path applies to it."""
        chain = self._git_chain(relative.rpartition("/")[0])
        if not chain:
            return False
        parts = relative.split("/")
        suffix = "/" if is_dir else ""
        return any(spec.match_file("/".join(parts[depth:]) + suffix) for depth, spec in chain if depth >= from_depth)

    def _git_chain(self, directory: str) -> List[Tuple[int, object]]:
        """The .gitignore files from the root down to a directory (relative to the root, "" for
        the root): (depth, spec) for each directory that has one."""
        chain = self._git_chains.get(directory)
        if chain is None:
            parent = self._git_chain(directory.rpartition("/")[0]) if directory else []
            spec = self._gitignore_for(directory)
            depth = len(directory.split("/")) if directory else 0
            chain = self._git_chains[directory] = parent + [(depth, spec)] if spec is not None else parent
        return chain

    def place(self, path: Path, below: Optional["NamedDirectory"] = None) -> "Place":
        """The names a path is matched by. `below` is the directory named on the command line the
        path was found in: an exclusion that applies to that directory itself (or that cannot be
        anchored at the root because the directory is outside it) is matched below the directory
        instead, so naming it lints it."""
        inside = self.relative(path)
        relative = inside if inside is not None else path.as_posix().lstrip("/")
        default_relative = relative
        if below is not None and (below.default_excluded or inside is None):
            default_relative = os.path.relpath(path, below.path).replace(os.sep, "/")
            if inside is None:
                relative = default_relative
        return Place(inside, relative, default_relative)

    def excluded(self, path: Path, is_dir: bool, configured: bool = True,
                 below: Optional["NamedDirectory"] = None) -> bool:
        """Whether the default excludes, the configured ones or a .gitignore exclude the path."""
        return self.place_excluded(self.place(path, below), is_dir, configured, below)

    def place_excluded(self, place: "Place", is_dir: bool, configured: bool, below: Optional["NamedDirectory"],
                       walked_name: Optional[str] = None) -> bool:
        """`walked_name`: the path was reached by walking down from a directory already checked."""
        suffix = "/" if is_dir else ""
        if walked_name is not None:
            # The default excludes name directories at any depth and the ones above were checked
            # (or lifted), so only the new name can match, and only if it is a directory.
            if is_dir and _matched_once(self._default_names, self.always_excluded, walked_name + "/"):
                return True
        elif self.always_excluded.match_file(place.default_relative + suffix):
            return True
        if configured:
            if walked_name is not None and self._exclude_by_name:
                excluded = _matched_once(self._configured_names, self.configured_excluded, walked_name + suffix)
            else:
                excluded = self.configured_excluded.match_file(place.relative + suffix)
            if excluded:
                return True
        git_from = below.git_depth if below is not None else 0
        return place.inside is not None and place.inside != "" and self._ignored_by_git(place.inside, is_dir, git_from)

    def named_directory(self, path: Path) -> "NamedDirectory":
        """How the excludes apply below a directory named on the command line."""
        inside = self.relative(path)
        default_excluded = inside is None or self.always_excluded.match_file((inside or "") + "/")
        git_depth = 0
        if inside and self._ignored_by_git(inside, True):
            git_depth = len(inside.split("/"))
        return NamedDirectory(path, default_excluded, git_depth)

    def included(self, place: "Place", name: str, directory_included: bool) -> bool:
        """Is a file found by the walk, named `name`, one the include patterns take?
        `directory_included`: its directory is one they take (see `directory_included`)."""
        if not self._include_by_name:
            return self.include.match_file(place.inside or name)
        return directory_included or _matched_once(self._included_names, self.include, name)

    def directory_included(self, place: "Place", name: Optional[str], parent_included: bool) -> bool:
        """Does an include pattern take a directory, and so every file below it (`bin/`)? Asked
        only with name-only patterns; `name` is None for a directory named on the command line."""
        if not self._include_by_name or parent_included:
            return parent_included
        if name is None:
            return bool(place.inside) and self.include.match_file(place.inside + "/")
        return _matched_once(self._included_names, self.include, name + "/")


class Place(NamedTuple):
    """A path's names for matching: relative to the root (None outside it), for the configured
    excludes, and for the default ones."""

    inside: Optional[str]
    relative: str
    default_relative: str

    def child(self, name: str) -> "Place":
        return Place(*(None if part is None else (f"{part}/{name}" if part not in ("", ".") else name)
                       for part in self))


def _matched_once(memo: dict, spec: pathspec.PathSpec, name: str) -> bool:
    """Does `spec` match a walked entry's name ("name/" for a directory)? Worked out once per name."""
    matched = memo.get(name)
    if matched is None:
        matched = memo[name] = spec.match_file(name)
    return matched


def _names_only(pattern: str) -> bool:
    """Does a gitignore pattern match by an entry's name alone, at any depth (no `/` but a last
    one, no `**`, no escapes)?"""
    body = pattern.strip().lstrip("!").rstrip("/")
    return "/" not in body and "**" not in body and "\\" not in body


def discover(paths: Iterable[str], config: Config, force_exclude: bool = False) -> List[Path]:
    """The files to lint, sorted, without duplicates. A missing path is a usage error."""
    file_filter = FileFilter(config)
    found: List[Path] = []
    for name in paths:
        path = Path(name)
        if _is_named_file(path, name):
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
    """Files below `top`, like os.walk without following links to directories, but with no extra
    system call per directory; each directory's names are worked out once and extended per entry."""
    files: List[Path] = []
    top_place = file_filter.place(top, named)
    pending = [(str(top), top_place, file_filter.directory_included(top_place, None, False))]
    while pending:
        directory, place, directory_included = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listed = [(entry.name, _is_directory(entry)) for entry in entries]
        except OSError as error:
            if directory == str(top):  # the directory named: linting nothing would pass for a clean result
                raise UsageError(f"cannot read directory {top}: {error.strerror or error}") from None
            continue  # unreadable below it: skipped, as os.walk does
        for name, is_directory in listed:
            child = place.child(name)
            if is_directory is None:
                continue  # a link to a directory, or a FIFO, socket or device
            if is_directory:
                if not file_filter.place_excluded(child, True, configured, named, name):
                    pending.append((os.path.join(directory, name), child,
                                    file_filter.directory_included(child, name, directory_included)))
            elif (file_filter.included(child, name, directory_included)
                  and not file_filter.place_excluded(child, False, configured, named, name)):
                files.append(Path(directory, name))
    return files


def _is_directory(entry: os.DirEntry) -> Optional[bool]:
    """True for a directory; False for a file to read: a regular file, or a link to anything but a
    directory (reading it reports what it points to: a dangling link, `/dev/zero`); None for what is
    skipped: a link to a directory (not followed), and a FIFO, socket or device, which git does not
    track either. From the directory listing alone, but for links."""
    try:
        if entry.is_dir():
            return None if entry.is_symlink() else True
        return False if entry.is_symlink() or entry.is_file(follow_symlinks=False) else None
    except OSError:
        return False


def _is_named_file(path: Path, name: str) -> bool:
    """Is a path named on the command line a file (a regular one, or a link to one), else a
    directory? Anything else is a usage error: linting nothing would pass for a clean result."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise UsageError(f"no such file or directory: {name}") from None
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
    except ValueError:  # a NUL in the name
        raise UsageError(f"not a valid path: {name!r}") from None
    if stat.S_ISREG(mode):
        return True
    if stat.S_ISDIR(mode):
        return False
    raise UsageError(f"not a regular file or directory: {name}")


def display_path(path: Path) -> str:
    """The path as reported: relative to the working directory when possible, "/"-separated.

    A symbolic link is reported by its own name, not its target's; the resolved path is only the
    fallback for a path that reaches the working directory through a link.
    """
    if not path.is_absolute():
        normal = os.path.normpath(path)
        if normal != os.pardir and not normal.startswith(os.pardir + os.sep):
            return normal.replace(os.sep, "/")  # what relpath(abspath(path), cwd) would give
    cwd = os.getcwd()
    for candidate, base in ((os.path.abspath(path), cwd), (os.path.realpath(path), os.path.realpath(cwd))):
        try:
            relative = os.path.relpath(candidate, base)
        except ValueError:  # another drive
            continue
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            return relative.replace(os.sep, "/")
    return path.as_posix()


def module_name(path: Path, root: Optional[str] = None) -> Tuple[str, bool]:
    """The dotted module name of a file, and whether it is a package's __init__.

    Inside a package (a directory with __init__.py) the name is the package's, walking up
    through its parents. Outside one (a namespace package, a `src/` layout, a folder of
    scripts) it is the path from the project `root`: `app/models.py` is `app.models` whether or
    not `app/__init__.py` exists, and a leading `src/` is not part of the name.
    """
    text = os.fspath(path)
    if os.path.islink(text):
        directory, filename = os.path.split(os.path.realpath(text))
    else:
        head, filename = os.path.split(text)
        directory = _resolved_directory(os.path.abspath(head or os.curdir))
    is_package = filename == "__init__.py"
    parts = list(_package_of(directory))
    if not parts and root is not None:
        parts = list(_namespace_of(directory, _resolved_directory(os.path.abspath(root))))
    if not is_package:
        parts.append(os.path.splitext(filename)[0])
    if not parts:
        parts = [os.path.basename(directory)]
    return ".".join(parts), is_package


@lru_cache(maxsize=4096)
def _namespace_of(directory: str, root: str) -> Tuple[str, ...]:
    """The dotted parts of a directory that is not a package, from the project root (empty at
    the root or outside it)."""
    relative = os.path.relpath(directory, root)
    if relative == os.curdir or relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return ()
    parts = tuple(relative.split(os.sep))
    return parts[1:] if parts[0] == "src" else parts


@lru_cache(maxsize=4096)
def _resolved_directory(directory: str) -> str:
    """An absolute directory with its links resolved: once per directory, not once per file."""
    return os.path.realpath(directory)


@lru_cache(maxsize=4096)
def _package_of(directory: str) -> Tuple[str, ...]:
    """The dotted parts of the package a directory is (empty when it is not one)."""
    parent = os.path.dirname(directory)
    if parent == directory or not os.path.isfile(os.path.join(directory, "__init__.py")):
        return ()
    return (*_package_of(parent), os.path.basename(directory))
