"""stage_file on both of its paths (an unnamed O_TMPFILE file, and the named hidden file used
without O_TMPFILE or past the descriptor budget), on every backend: permissions, what data it
takes, where a relative path lands, many files under a low descriptor limit, and what a
callback may still register once the transaction has committed."""

import io
import os
import resource
import stat

import pytest

import txlint.runtime._staging as staging
from txlint.runtime import AtomicError, atomic, on_commit, stage_file, sweep_staged_files


@pytest.fixture(params=["unnamed", "named"])
def staging_path(request, monkeypatch):
    """Which way stage_file goes: O_TMPFILE where the machine has it, or the named fallback
    (forced here, as on macOS, NFS or FUSE)."""
    if request.param == "unnamed" and not staging._O_TMPFILE:
        pytest.skip("this machine has no O_TMPFILE")
    if request.param == "named":
        monkeypatch.setattr(staging, "_O_TMPFILE", 0)
    return request.param


@pytest.fixture
def files(tmp_path):
    directory = tmp_path / "files"
    directory.mkdir()
    return directory


@pytest.fixture
def umask():
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


def _staged_names(directory):
    return sorted(name for name in os.listdir(directory) if name.startswith(staging.STAGED_PREFIX))


def test_the_path_taken_is_the_one_asked_for(harness, files, staging_path):
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        stage_file(files / "a.txt", b"alpha")
        assert len(_staged_names(files)) == (1 if staging_path == "named" else 0)
    assert os.listdir(files) == ["a.txt"] and (files / "a.txt").read_bytes() == b"alpha"


@pytest.mark.parametrize("mask, expected", [(0o077, 0o600), (0o002, 0o664), (0o022, 0o644)])
def test_a_new_file_gets_the_umask(harness, files, staging_path, umask, mask, expected):
    umask(mask)
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        stage_file(files / "private.txt", b"secret")
    assert stat.S_IMODE(os.stat(files / "private.txt").st_mode) == expected


def test_a_replaced_file_keeps_its_permissions(harness, files, staging_path, umask):
    (files / "report.txt").write_text("old")
    os.chmod(files / "report.txt", 0o640)
    umask(0o077)
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        stage_file(files / "report.txt", "new")
    assert (files / "report.txt").read_text() == "new"
    assert stat.S_IMODE(os.stat(files / "report.txt").st_mode) == 0o640


@pytest.mark.parametrize("make_data, expected", [
    (lambda: b"bytes", b"bytes"), (lambda: bytearray(b"array"), b"array"), (lambda: memoryview(b"view"), b"view"),
    (lambda: "t\u00e9xt", "t\u00e9xt".encode()), (lambda: io.BytesIO(b"x" * (3 << 20)), b"x" * (3 << 20)),
    (lambda: io.StringIO("stream \u00e9"), "stream \u00e9".encode())], ids=[
    "bytes", "bytearray", "memoryview", "str", "binary file object", "text file object"])
def test_bytes_str_and_file_objects_are_written(harness, files, staging_path, make_data, expected):
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        stage_file(files / "out", make_data())
    assert (files / "out").read_bytes() == expected


@pytest.mark.parametrize("data", [5, None, 1.5, [b"a"]], ids=["int", "None", "float", "list"])
def test_other_data_is_refused_before_any_file_is_made(harness, files, staging_path, data):
    with pytest.raises(TypeError, match="bytes, str or a readable file object"):
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "a")
            try:
                stage_file(files / "out", data)
            finally:
                assert os.listdir(files) == []
    assert harness.committed() == [] and os.listdir(files) == []


def test_a_relative_path_is_resolved_when_staged(harness, files, staging_path, monkeypatch):
    elsewhere = files / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(files)
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        stage_file("relative.txt", b"here")
        os.chdir(elsewhere)  # before the commit
    assert (files / "relative.txt").read_bytes() == b"here" and os.listdir(elsewhere) == []


def test_more_staged_files_than_descriptors(harness, files, staging_path):
    """1,100 files in one transaction under a descriptor limit of what is open plus 40: the
    unnamed files stop at the budget and the rest are named files, closed once written."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 40, hard))
    try:
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "a")
            for number in range(1100):
                stage_file(files / f"{number}.txt", str(number))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert harness.committed() == ["a"]
    assert sorted(os.listdir(files)) == sorted(f"{number}.txt" for number in range(1100))
    assert (files / "1099.txt").read_text() == "1099"


def test_what_a_committed_transaction_can_no_longer_take(harness, files):
    attempts = []

    def register_more():
        for attempt in (lambda: transaction.on_commit(print), lambda: transaction.stage_file(files / "late", b"x"),
                        lambda: on_commit(print), lambda: stage_file(files / "late", b"x")):
            try:
                attempt()
            except AtomicError as error:
                attempts.append(str(error))

    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        transaction.on_commit(register_more)
    assert harness.committed() == ["a"] and os.listdir(files) == []
    assert len(attempts) == 4
    assert "already ended (committed)" in attempts[0] and "already ended (committed)" in attempts[1]
    assert "needs an active" in attempts[2] and "needs an active" in attempts[3]


def test_a_released_savepoint_refuses_registrations(harness, files):
    with atomic(harness.target()) as outer:
        with atomic(harness.target()) as inner:
            harness.write(inner, "a")
        with pytest.raises(AtomicError, match="released into the enclosing block"):
            inner.on_commit(print)
        with pytest.raises(AtomicError, match="released into the enclosing block"):
            inner.stage_file(files / "late", b"x")
        outer.stage_file(files / "outer", b"x")
    assert harness.committed() == ["a"] and os.listdir(files) == ["outer"]


def test_callbacks_must_be_callable(harness):
    with atomic(harness.target()) as transaction:
        with pytest.raises(TypeError, match="needs a callable"):
            on_commit("not a function")
        with pytest.raises(TypeError, match="needs a callable"):
            transaction.on_rollback(None)


def test_module_level_on_commit(harness, files):
    called = []
    with pytest.raises(ValueError):
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "lost")
            on_commit(lambda: called.append("lost"))
            raise ValueError
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "kept")
        on_commit(lambda: called.append("kept"))
        assert called == []
    assert called == ["kept"] and harness.committed() == ["kept"]
    with pytest.raises(AtomicError, match="needs an active"):
        on_commit(lambda: None)


def test_sweep_deletes_only_stale_staged_files(files):
    stale = files / (staging.STAGED_PREFIX + "0123456789abcdef0123456789abcdef")
    stale.write_bytes(b"left by a killed process")
    nested = files / "sub"
    nested.mkdir()
    nested_stale = nested / (staging.STAGED_PREFIX + "f" * 32)
    nested_stale.write_bytes(b"x")
    keep = ["report.txt", staging.STAGED_PREFIX + "notes", staging.STAGED_PREFIX + "0" * 31,
            staging.STAGED_PREFIX + "A" * 32]
    for name in keep:
        (files / name).write_bytes(b"not ours")
    os.symlink(files / "report.txt", files / (staging.STAGED_PREFIX + "1" * 32))
    assert sweep_staged_files(files, older_than=3600) == []  # young: possibly a live transaction's
    assert sweep_staged_files(files, older_than=0) == [str(stale)]
    assert sweep_staged_files(files, older_than=0, recursive=True) == [str(nested_stale)]
    assert sorted(os.listdir(files)) == sorted(keep + ["sub", staging.STAGED_PREFIX + "1" * 32])
    with pytest.raises(ValueError):
        sweep_staged_files(files, older_than=-1)
