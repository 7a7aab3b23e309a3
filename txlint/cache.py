"""`.txlint_cache/`: per-file facts keyed by content, and whole-run results keyed by every input.

Facts depend only on a file's bytes, its path and module name, and txlint's version, so they
are reused across configurations. A run's findings depend on all files' facts together (a
helper in one file changes findings in another) and on the configuration, so the run cache is
keyed by all of them. Entries are written to a temporary file and renamed into place, so
concurrent runs never read a half-written entry; a tree txlint cannot write to runs uncached.

Where it lives: the directory given to `Cache` (`--cache-dir`), else `$TXLINT_CACHE_DIR`, else
`.txlint_cache/` at the project root; a relative one is taken from the working directory. The
folder holds a `.gitignore` of `*`, so it is never committed by accident; whatever is already
at that name (a file, a symlink) is left alone, never followed.

Nothing read from the cache can run code or stand in for a result, though the folder may come
with the tree being linted (a clone, a pull request) and every path in it is predictable. Each
entry is an HMAC-SHA256 tag, then a pickle; the tag covers txlint's namespace, the entry's kind
and key and the pickle, made with a secret key of the user's kept outside any project
(`$XDG_CACHE_HOME/txlint/key`, else `%LOCALAPPDATA%\\txlint\\key` on Windows, else
`$HOME/.cache/txlint/key`; created once, 0600), and only a pickle whose tag verifies is
unpickled. A key file that is not a regular file of the user's, or that others may read, is not
trusted; with no usable key (no home directory, a read-only one) txlint runs uncached. An entry
that is missing, damaged, foreign, not a regular file (a directory, a FIFO, a symlink) or that
fails to unpickle is a miss, never an error. Nothing is written through a symlink that came
with a clone: the default folder and the directories inside any folder must be real ones (a
folder the user named may be a symlink of theirs), or the run is uncached.
"""

import hashlib
import hmac
import importlib.util
import os
import pickle
import secrets
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional, Set, Tuple, Union

from txlint import __version__

CACHE_DIRECTORY = ".txlint_cache"


def _code_digest() -> str:
    """A digest of txlint's own code: a changed extractor or rule never reads entries made by another."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    sources = {source for source in package.rglob("*.py") if "runtime" not in source.relative_to(package).parts}
    rules = importlib.util.find_spec("txlint.rules")  # `rules/` in a source checkout, inside txlint in a wheel
    for location in (rules.submodule_search_locations or []) if rules else []:
        sources.update(Path(location).glob("*.py"))
    for source in sorted(sources):
        try:
            digest.update(source.read_bytes())
        except OSError:
            continue
    return digest.hexdigest()[:12]


_NAMESPACE = f"{__version__}-py{sys.version_info[0]}.{sys.version_info[1]}-{_code_digest()}"


def file_key(path: str, module: str, data: bytes) -> str:
    digest = hashlib.sha256()
    for part in (_NAMESPACE, path, module):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(data)
    return digest.hexdigest()


def run_key(configuration: str, rule_codes: Iterable[str], file_keys: Iterable[Tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{_NAMESPACE}\0{configuration}\0{','.join(rule_codes)}\0".encode())
    for path, key in file_keys:
        digest.update(f"{path}\0{key}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


# Opening flags for anything read from the cache or the key: a symlink is not followed (the open
# fails) and a FIFO never blocks the run; the caller checks with fstat that it is a regular file.
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
_KEY_BYTES = 32
_TAG_BYTES = hashlib.sha256().digest_size


def _read_regular_file(path: str, trusted: Callable[[os.stat_result], bool] = lambda info: True) -> Optional[bytes]:
    """The bytes of `path` if it is a regular file that `trusted` accepts, else None; raises
    OSError when it cannot be opened (absent, a symlink) or read."""
    descriptor = os.open(path, _READ_FLAGS)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or not trusted(info):
            return None
        chunks = []
        remaining = info.st_size
        while remaining > 0:
            chunk = os.read(descriptor, remaining)
            if not chunk:
                break  # shorter than it was a moment ago: the tag will not verify
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _key_file() -> Optional[Path]:
    """Where the user's cache key is kept: in their own cache directory, never in a project.
    None without a home directory: the cache is then not used."""
    xdg_cache = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg_cache):  # the XDG specification has relative values ignored
        return Path(xdg_cache) / "txlint" / "key"
    local_data = os.environ.get("LOCALAPPDATA", "") if os.name == "nt" else ""
    if os.path.isabs(local_data):
        return Path(local_data) / "txlint" / "key"
    home = os.environ.get("HOME", "")
    return Path(home) / ".cache" / "txlint" / "key" if os.path.isabs(home) else None


def _private(info: os.stat_result) -> bool:
    """A key file that only this user can read or replace (on Windows the folder's ACL decides)."""
    if os.name == "posix" and (info.st_uid != os.getuid() or info.st_mode & 0o077):
        return False
    return info.st_size == _KEY_BYTES


def _read_key(path: Path) -> Optional[bytes]:
    try:
        return _read_regular_file(str(path), _private)
    except OSError:
        return None


def _create_key(path: Path) -> Optional[bytes]:
    """A new random key at `path`, whole before it appears there: it is written to a file of its
    own (created O_EXCL, 0600) and linked into place, which fails if another process got there
    first, whose key both then use."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(secrets.token_bytes(_KEY_BYTES))
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    except OSError:
        return None  # a read-only or missing home directory: run uncached
    return _read_key(path)


_KEYS: Dict[Path, Optional[bytes]] = {}  # each key file is read once per process


def _user_key() -> Optional[bytes]:
    path = _key_file()
    if path is None:
        return None
    if path not in _KEYS:
        _KEYS[path] = _read_key(path) if os.path.lexists(path) else _create_key(path)
    return _KEYS[path]


def chosen_cache_directory(override: Optional[str] = None) -> Optional[str]:
    """Where the user chose the cache to live: `override` (`--cache-dir`), else
    `$TXLINT_CACHE_DIR` (empty counts as unset); None when they did not."""
    return override or os.environ.get("TXLINT_CACHE_DIR") or None


def cache_directory(root: str, override: Optional[str] = None) -> Path:
    """The cache folder of the project at `root`: the one chosen, else `<root>/.txlint_cache`."""
    chosen = chosen_cache_directory(override)
    if chosen:
        return Path(os.path.abspath(os.path.expanduser(chosen)))
    return Path(root) / CACHE_DIRECTORY


class Cache:
    def __init__(self, root: str, directory: Optional[str] = None):
        self.base = cache_directory(root, directory)
        self.directory = self.base / _NAMESPACE
        # The default folder is in the linted tree, where a symlink may have come with a clone;
        # one the user named may be their own symlink.
        self._follow_base = self.base != Path(root) / CACHE_DIRECTORY
        self._key = _user_key()
        self._made: Set[Path] = set()  # directories known to be real ones, made by this process

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_made": set()}  # a worker process checks directories itself

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / key[:2] / key

    def _tag(self, kind: str, key: str, pickled: Union[bytes, memoryview]) -> bytes:
        """The entry's HMAC: over where it belongs as well, so it cannot be moved to another key."""
        mac = hmac.new(self._key, f"{_NAMESPACE}\0{kind}\0{key}\0".encode(), hashlib.sha256)
        mac.update(pickled)
        return mac.digest()

    def load(self, kind: str, key: str) -> Optional[object]:
        if self._key is None:
            return None
        try:
            entry = _read_regular_file(str(self._path(kind, key)))
        except (OSError, MemoryError, OverflowError):
            return None  # absent, a symlink, or unreadable
        if entry is None or len(entry) < _TAG_BYTES:
            return None
        pickled = memoryview(entry)[_TAG_BYTES:]
        if not hmac.compare_digest(entry[:_TAG_BYTES], self._tag(kind, key, pickled)):
            return None  # damaged, or not written by this user's txlint: never unpickled
        try:
            return pickle.loads(pickled)
        except Exception:  # written by this user's txlint, yet unreadable (a disk fault): recompute
            return None

    def store(self, kind: str, key: str, value: object) -> None:
        self.store_pickled(kind, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def store_pickled(self, kind: str, key: str, pickled: bytes) -> None:
        target = self._path(kind, key)
        if self._key is None or not self._made_directory(target.parent):
            return
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        except OSError:
            return  # a read-only tree or a full disk: run without caching
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(self._tag(kind, key, pickled))
                stream.write(pickled)
            os.replace(temporary, target)
        except OSError:
            _remove(temporary)  # a full disk, or a directory where the entry goes

    def delete(self, kind: str, key: str) -> None:
        _remove(str(self._path(kind, key)))

    def _made_directory(self, directory: Path) -> bool:
        """Whether `directory`, in the cache folder, is a real directory, made if need be."""
        if directory in self._made:
            return True
        if directory == self.base:
            made = self._made_base()
        else:
            made = self._made_directory(directory.parent) and _real_directory(directory)
        if made:
            self._made.add(directory)
        return made

    def _made_base(self) -> bool:
        try:
            os.makedirs(self.base, exist_ok=True)
            info = os.stat(self.base) if self._follow_base else os.lstat(self.base)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            return False
        self._ignore_in_git()
        return True

    def _ignore_in_git(self) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            descriptor = os.open(self.base / ".gitignore", flags, 0o644)
        except OSError:
            return  # already there (a file or a symlink, left as it is), or a read-only folder
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write("# created by txlint\n*\n")
        except OSError:
            return  # a full disk: git may list the folder, nothing worse


def _real_directory(path: Path) -> bool:
    """Make `path` unless it exists; whether it is a directory and not a symlink to one."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        return  # already gone (another run removed it), a directory, or a read-only tree
