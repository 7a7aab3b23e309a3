"""The cache can never run code or stand in for a result: `.txlint_cache/` may come with the tree
being linted, so an entry is trusted only when its HMAC, made with the user's key kept outside
the project, verifies. A planted, forged, moved or damaged entry is a miss: the output is the one
`--no-cache` gives, and nothing crashes. Every test keeps HOME and XDG_CACHE_HOME in tmp_path."""

import os
import pickle
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from examples import CLEAN, MULTI_TABLE
from helpers import run_txlint, write_tree

from txlint import cache as cache_module
from txlint.cache import CACHE_DIRECTORY, Cache, cache_directory
from txlint.run_state import RunResult

PROJECT = {
    "pyproject.toml": "[tool.txlint]\n",
    "shop/__init__.py": "",
    "shop/orders.py": MULTI_TABLE,
    "shop/refunds.py": MULTI_TABLE.replace("place_order", "refund_order"),
    "shop/clean.py": CLEAN,
}
KINDS = {"facts", "runs", "stats", "latest", "states"}


class _CreatesMarker:
    """A pickle that, when loaded, creates the file `marker`: code run from the cache."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _project(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "project", PROJECT)


def _environment(tmp_path: Path, **overrides: str) -> dict:
    return {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"), **overrides}


def _check(project: Path, env: dict, *args: str):
    code, out, err = run_txlint("check", "--format", "json", ".", *args, cwd=project, env=env)
    assert "Traceback" not in err, err
    return code, out, err


def _entries(folder: Path):
    """The cache entries under `folder`: every regular file but the .gitignore."""
    return sorted(path for path in folder.rglob("*")
                  if path.is_file() and not path.is_symlink() and path.name != ".gitignore")


def _kind(folder: Path, entry: Path) -> str:
    return entry.relative_to(folder).parts[1]  # <namespace>/<kind>/<key[:2]>/<key>


def _malicious_pickle(marker: Path) -> bytes:
    payload = pickle.dumps(_CreatesMarker(marker))
    probe = marker.with_name("probe")
    pickle.loads(pickle.dumps(_CreatesMarker(probe))).close()  # the payload is live: it runs when loaded
    assert probe.exists()
    probe.unlink()
    return payload


FORGED_RESULT = pickle.dumps(RunResult(findings=[], files=len(PROJECT) - 1))


@pytest.mark.parametrize("payload_name", ["code", "forged result"])
def test_a_planted_entry_at_every_path_changes_nothing(tmp_path, payload_name):
    project, env, marker = _project(tmp_path), _environment(tmp_path), tmp_path / "marker"
    payload = _malicious_pickle(marker) if payload_name == "code" else FORGED_RESULT
    reference = _check(project, env, "--no-cache")
    assert reference[0] == 1 and '"TXL101"' in reference[1]
    assert _check(project, env) == reference
    folder = project / CACHE_DIRECTORY
    entries = _entries(folder)
    assert {_kind(folder, entry) for entry in entries} == KINDS
    for entry in entries:
        entry.write_bytes(payload)
    assert _check(project, env) == reference
    assert _check(project, env) == reference  # and the entries written over the planted ones serve
    assert not marker.exists()


@pytest.mark.parametrize("payload_name", ["code", "forged result"])
def test_a_planted_cache_in_a_fresh_clone_changes_nothing(tmp_path, payload_name):
    """Someone who knows the layout commits entries at the paths a first run will read."""
    project, env, marker = _project(tmp_path), _environment(tmp_path), tmp_path / "marker"
    payload = _malicious_pickle(marker) if payload_name == "code" else FORGED_RESULT
    reference = _check(project, env, "--no-cache")
    _check(project, env)
    folder = project / CACHE_DIRECTORY
    predicted = [entry.relative_to(folder) for entry in _entries(folder)]
    shutil.rmtree(folder)
    shutil.rmtree(tmp_path / "xdg-cache", ignore_errors=True)  # a user who never ran txlint: a new key
    for relative in predicted:
        write_tree(folder, {str(relative): payload})
    assert _check(project, env) == reference
    assert not marker.exists()


def _flake8(project: Path, env: dict, *args: str, stdin=None):
    completed = subprocess.run([sys.executable, "-m", "flake8", "--select", "TXL", *args], cwd=project,
                               capture_output=True, text=True, input=stdin, env={**os.environ, **env})
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed.returncode, sorted(completed.stdout.splitlines())


def test_flake8_and_an_editor_buffer_ignore_planted_entries(tmp_path):
    project, env, marker = _project(tmp_path), _environment(tmp_path), tmp_path / "marker"
    buffer = "# Unsaved.\n" + MULTI_TABLE
    whole = _flake8(project, env, ".")
    edited = _flake8(project, env, "--stdin-display-name", "shop/orders.py", "-", stdin=buffer)
    assert whole[0] == 1 and len(whole[1]) == 2 and edited[0] == 1
    for payload in (_malicious_pickle(marker), FORGED_RESULT):
        for entry in _entries(project / CACHE_DIRECTORY):
            entry.write_bytes(payload)
        assert _flake8(project, env, ".") == whole
        assert _flake8(project, env, "--stdin-display-name", "shop/orders.py", "-", stdin=buffer) == edited
    assert not marker.exists()


def _damage(entry: Path, rng: random.Random) -> None:
    how = rng.choice(["truncate", "flip", "delete", "directory", "fifo", "dev-zero"])
    data = entry.read_bytes()
    if how == "truncate":
        entry.write_bytes(data[:rng.randrange(len(data))])
    elif how == "flip":
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] ^= rng.randint(1, 255)
        entry.write_bytes(bytes(damaged))
    else:
        entry.unlink()
        if how == "directory":
            entry.mkdir()
        elif how == "fifo":
            os.mkfifo(entry)
        elif how == "dev-zero":
            entry.symlink_to("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_damaged_entries_are_misses(tmp_path, seed):
    rng = random.Random(seed)
    project, env = _project(tmp_path), _environment(tmp_path)
    reference = _check(project, env, "--no-cache")
    assert _check(project, env) == reference
    for _ in range(3):
        entries = _entries(project / CACHE_DIRECTORY)
        for entry in rng.sample(entries, rng.randint(1, len(entries))):
            _damage(entry, rng)
        assert _check(project, env) == reference


def _use_keys_in(monkeypatch, folder: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.delenv("TXLINT_CACHE_DIR", raising=False)


def test_an_authentic_entry_that_fails_to_unpickle_is_a_miss(tmp_path, monkeypatch):
    _use_keys_in(monkeypatch, tmp_path / "xdg-cache")
    cache = Cache(str(tmp_path))
    cache.store("facts", "ab01", {"kept": True})
    assert cache.load("facts", "ab01") == {"kept": True}
    damaged_pickles = [
        pickle.dumps({"kept": True})[:-3],  # truncated
        b"\x8e" + b"\xff" * 8,  # bytes longer than memory can be: OverflowError
        b"\x95" + b"\xff" * 8,  # a frame as long
        b"cno_such_module\nValue\n.",  # a class that does not exist here
        b"(" * 100_000 + b".",  # marks left open
    ]
    for number, pickled in enumerate(damaged_pickles):
        cache.store_pickled("facts", f"cd{number:02}", pickled)
        assert cache.load("facts", f"cd{number:02}") is None


def test_an_entry_moved_to_another_key_or_kind_is_a_miss(tmp_path, monkeypatch):
    _use_keys_in(monkeypatch, tmp_path / "xdg-cache")
    cache = Cache(str(tmp_path))
    cache.store("runs", "ab01", "a run")
    for kind, key in (("runs", "ab02"), ("stats", "ab01")):
        moved = cache._path(kind, key)
        moved.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(cache._path("runs", "ab01"), moved)
        assert cache.load(kind, key) is None
    assert cache.load("runs", "ab01") == "a run"


def test_the_key_is_made_once_0600_outside_the_project(tmp_path):
    project = _project(tmp_path)
    env = _environment(tmp_path)
    _check(project, env)
    key = tmp_path / "xdg-cache" / "txlint" / "key"
    assert key.stat().st_mode & 0o777 == 0o600 and key.stat().st_size == 32
    secret = key.read_bytes()
    _check(project, env)
    assert key.read_bytes() == secret
    assert not [path for path in project.rglob("*") if path.name == "key"]
    _check(project, {**env, "XDG_CACHE_HOME": ""})  # no XDG cache directory: the one in HOME
    assert (tmp_path / "home" / ".cache" / "txlint" / "key").stat().st_mode & 0o777 == 0o600


def test_processes_making_the_key_at_once_share_one(tmp_path):
    path = tmp_path / "txlint" / "key"
    start = threading.Barrier(12)
    made = []

    def make():
        start.wait()
        made.append(cache_module._create_key(path))

    threads = [threading.Thread(target=make) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [path.read_bytes()] * 12
    assert os.listdir(path.parent) == ["key"]


def _untrusted_keys():
    def readable_by_others(key: Path):
        key.write_bytes(b"k" * 32)
        key.chmod(0o644)

    def symlink(key: Path):
        target = key.with_name("elsewhere")
        target.write_bytes(b"k" * 32)
        target.chmod(0o600)
        key.symlink_to(target)

    def wrong_size(key: Path):
        key.write_bytes(b"short")
        key.chmod(0o600)

    def owned_by_another_user(key: Path):
        key.write_bytes(b"k" * 32)
        key.chmod(0o600)
        os.chown(key, 65534, -1)

    def directory(key: Path):
        key.mkdir()

    def fifo(key: Path):
        os.mkfifo(key)

    cases = [readable_by_others, symlink, wrong_size, directory, fifo]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cases.append(owned_by_another_user)
    return cases


@pytest.mark.skipif(os.name != "posix", reason="permissions and owners are POSIX")
@pytest.mark.parametrize("plant", _untrusted_keys(), ids=lambda plant: plant.__name__)
def test_an_untrusted_key_file_means_no_cache(tmp_path, plant):
    project, env = _project(tmp_path), _environment(tmp_path)
    key = tmp_path / "xdg-cache" / "txlint" / "key"
    key.parent.mkdir(parents=True)
    plant(key)
    planted = os.lstat(key)
    reference = _check(project, env, "--no-cache")
    assert _check(project, env) == reference
    assert not (project / CACHE_DIRECTORY).exists()
    left = os.lstat(key)  # neither trusted nor replaced
    assert (left.st_ino, left.st_mode, left.st_size) == (planted.st_ino, planted.st_mode, planted.st_size)


@pytest.mark.parametrize("home", ["unset", "not a directory"])
def test_no_usable_home_runs_uncached(tmp_path, home):
    project = _project(tmp_path)
    (tmp_path / "a-file").write_text("")
    where = "" if home == "unset" else str(tmp_path / "a-file" / "home")
    env = _environment(tmp_path, HOME=where, XDG_CACHE_HOME="")
    reference = _check(project, env, "--no-cache")
    assert _check(project, env) == reference
    assert not (project / CACHE_DIRECTORY).exists()


def test_the_cache_folder_is_ignored_by_git(tmp_path):
    project, env = _project(tmp_path), _environment(tmp_path)
    _check(project, env)
    assert "*" in (project / CACHE_DIRECTORY / ".gitignore").read_text().splitlines()


def test_a_symlink_where_the_gitignore_goes_is_not_followed(tmp_path):
    project, env = _project(tmp_path), _environment(tmp_path)
    folder = project / CACHE_DIRECTORY
    folder.mkdir()
    target = tmp_path / "outside" / "written-through-the-link"
    (tmp_path / "outside").mkdir()
    (folder / ".gitignore").symlink_to(target)
    reference = _check(project, env, "--no-cache")
    assert _check(project, env) == reference
    assert not target.exists() and (folder / ".gitignore").is_symlink()
    assert _entries(folder)  # the cache itself is used


def test_a_symlinked_folder_in_the_tree_is_not_written_through(tmp_path):
    project, env = _project(tmp_path), _environment(tmp_path)
    folder, outside = project / CACHE_DIRECTORY, tmp_path / "outside"
    outside.mkdir()
    reference = _check(project, env, "--no-cache")
    _check(project, env)
    (namespace,) = [path.name for path in folder.iterdir() if path.is_dir()]
    shutil.rmtree(folder)
    folder.symlink_to(outside)
    assert _check(project, env) == reference
    assert not list(outside.iterdir())
    folder.unlink()
    (folder / namespace).mkdir(parents=True)
    (folder / namespace / "facts").symlink_to(outside)
    assert _check(project, env) == reference
    assert not list(outside.iterdir())
    assert {_kind(folder, entry) for entry in _entries(folder)} == KINDS - {"facts"}


def test_txlint_cache_dir_moves_the_cache(tmp_path):
    project = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    env = _environment(tmp_path, TXLINT_CACHE_DIR=str(elsewhere))
    reference = _check(project, env, "--no-cache")
    assert _check(project, env) == reference
    assert _check(project, env) == reference
    assert not (project / CACHE_DIRECTORY).exists()
    assert {_kind(elsewhere, entry) for entry in _entries(elsewhere)} == KINDS
    assert "*" in (elsewhere / ".gitignore").read_text().splitlines()
    chosen = tmp_path / "chosen"
    (tmp_path / "real").mkdir()
    chosen.symlink_to(tmp_path / "real")  # the user's own symlink is followed
    assert _check(project, env, "--cache-dir", str(chosen)) == reference
    assert {_kind(tmp_path / "real", entry) for entry in _entries(tmp_path / "real")} == KINDS
    assert not (project / CACHE_DIRECTORY).exists()


def test_where_the_cache_lives(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _use_keys_in(monkeypatch, tmp_path / "xdg-cache")
    assert cache_directory("/project") == Path("/project") / CACHE_DIRECTORY
    monkeypatch.setenv("TXLINT_CACHE_DIR", "from-environment")
    assert cache_directory("/project") == tmp_path / "from-environment"
    assert cache_directory("/project", "given") == tmp_path / "given"
    assert Cache("/project", "given").directory.parent == tmp_path / "given"
