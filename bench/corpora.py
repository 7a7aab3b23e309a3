"""The corpora: pinned releases from PyPI, downloaded once and unpacked into a cache folder."""

import fnmatch
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import List, NamedTuple, Optional

# name -> (pinned version, the package directory inside the release). Each was checked to exist
# with `pip index versions NAME` (2026-11-23: all three are the newest release).
PINNED = {
    "apache-airflow-core": ("3.3.2", "airflow"),
    "django": ("5.2.19", "django"),
    "mlflow": ("3.18.0", "mlflow"),
}

# Written at the top of every unpacked corpus: it makes the corpus a project of its own, so that
# txlint anchors its configuration there instead of in this repository, whose .gitignore ignores
# bench/.corpora/ (txlint would find no files). ruff, flake8 and Fixit find no settings in it.
PROJECT_MARKER = """\
# Written by bench/run.py: this corpus is a project of its own, so the txlint repository's
# .gitignore (which ignores bench/.corpora/) and settings do not apply to it.
[tool.txlint]
"""


class Corpus(NamedTuple):
    name: str
    version: str
    root: Path  # the working directory of every measured command
    package: str  # the directory inside root that every tool is pointed at
    files: int
    lines: int

    @property
    def source(self) -> Path:
        return self.root / self.package


def downloaded_archive(name: str, version: str, downloads: Path) -> Optional[Path]:
    """The wheel or sdist of name==version already in downloads, if any. File names are compared
    in lower case: some projects publish capitalised ones (FlaskBB-2.0.2-py2.py3-none-any.whl)."""
    stem = name.replace("-", "_").lower()
    patterns = (f"{stem}-{version}-*.whl", f"{stem}-{version}.tar.gz", f"{name.lower()}-{version}.tar.gz")
    files = sorted(downloads.iterdir()) if downloads.is_dir() else []
    for pattern in patterns:
        found = [path for path in files if fnmatch.fnmatchcase(path.name.lower(), pattern)]
        if found:
            return found[0]
    return None


def _download(name: str, version: str, downloads: Path) -> Path:
    """A wheel if there is one (it holds the .py sources too), else the sdist."""
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloaded_archive(name, version, downloads)
    for binary in (["--only-binary", ":all:"], ["--no-binary", ":all:"]):
        if archive is not None:
            break
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *binary,
                        "-d", str(downloads), f"{name}=={version}"])
        archive = downloaded_archive(name, version, downloads)
    if archive is None:
        raise RuntimeError(f"pip download {name}=={version} failed")
    return archive


def _unpack(archive: Path, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(partial)
    else:
        with tarfile.open(archive) as bundle:
            if hasattr(tarfile, "data_filter"):
                bundle.extractall(partial, filter="data")
            else:
                bundle.extractall(partial)
    partial.rename(target)


def _package_directory(top: Path, package: str) -> Optional[Path]:
    """The shallowest `package/__init__.py` under top: the Python source root of the release."""
    candidates = [Path(d) for d, _, names in os.walk(top) if Path(d).name == package and "__init__.py" in names]
    return min(candidates, key=lambda path: len(path.parts)) if candidates else None


def count_sources(top: Path) -> "tuple[int, int]":
    files = [Path(d) / f for d, _, names in os.walk(top) for f in names if f.endswith(".py")]
    return len(files), sum(path.read_bytes().count(b"\n") for path in files)


def prepare(name: str, cache: Path) -> Corpus:
    version, package = PINNED[name]
    target = cache / f"{name}-{version}"
    if not target.is_dir():
        print(f"downloading {name}=={version} into {cache}", file=sys.stderr)
        _unpack(_download(name, version, cache / "downloads"), target)
    source = _package_directory(target, package)
    if source is None:
        raise RuntimeError(f"no {package}/__init__.py in {target}")
    marker = source.parent / "pyproject.toml"
    if not marker.exists():
        marker.write_text(PROJECT_MARKER, encoding="utf-8")
    files, lines = count_sources(source)
    return Corpus(name, version, source.parent, package, files, lines)


def pick_file_to_edit(corpus: Corpus) -> Path:
    """A file of median size, chosen the same way every run."""
    files: List[Path] = sorted(corpus.source.rglob("*.py"))
    files.sort(key=lambda path: path.stat().st_size)
    return files[len(files) // 2]
