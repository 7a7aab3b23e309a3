"""`.txlint_cache/`: per-file facts keyed by content, and whole-run results keyed by every input.

Facts depend only on a file's bytes, its path and module name, and txlint's version, so they
are reused across configurations. A run's findings depend on all files' facts together (a
helper in one file changes findings in another) and on the configuration, so the run cache is
keyed by all of them. Entries are written to a temporary file and renamed into place, so
concurrent runs never read a half-written entry.
"""

import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Optional, Tuple

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


class Cache:
    def __init__(self, root: str):
        self.directory = Path(root) / CACHE_DIRECTORY / _NAMESPACE

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / key[:2] / key

    def load(self, kind: str, key: str) -> Optional[object]:
        try:
            with open(self._path(kind, key), "rb") as handle:
                return pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None  # absent, or written by another version: recompute

    def store(self, kind: str, key: str, value: object) -> None:
        self.store_pickled(kind, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def store_pickled(self, kind: str, key: str, pickled: bytes) -> None:
        target = self._path(kind, key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._ignore_in_git()
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as stream:
                stream.write(pickled)
            os.replace(temporary, target)
        except OSError:
            return  # a read-only tree or a full disk: run without caching

    def delete(self, kind: str, key: str) -> None:
        try:
            self._path(kind, key).unlink()
        except OSError:
            return  # already gone (another run deleted it), or a read-only tree

    def _ignore_in_git(self) -> None:
        marker = self.directory.parent / ".gitignore"
        if not marker.exists():
            marker.write_text("# created by txlint\n*\n", encoding="utf-8")
