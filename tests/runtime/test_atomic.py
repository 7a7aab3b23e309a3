"""atomic() on every backend, with failures injected at each step: all or nothing, in the
database and in the directory."""

import os
import sys

import pytest

import txlint.runtime._staging as staging
from harnesses import PeeweeHarness, Psycopg2Harness, Psycopg3Harness, SQLAlchemyHarness, SqliteHarness, sqlite_modes
from django_harness import DjangoHarness
from txlint.runtime import AtomicError, atomic, stage_file

LOCAL = [f"sqlite3-{index}" for index in range(len(sqlite_modes()))] + [
    "sqlalchemy-session-sqlite", "sqlalchemy-engine-sqlite", "peewee-sqlite", "django-sqlite"]
POSTGRES = ["psycopg2", "psycopg2-autocommit", "psycopg3", "psycopg3-autocommit", "sqlalchemy-session-pg",
            "sqlalchemy-connection-pg", "django-pg"]


def _make(name, tmp_path, request):
    if name.startswith("sqlite3-"):
        return SqliteHarness(str(tmp_path), **sqlite_modes()[int(name.split("-")[1])])
    if name == "sqlalchemy-session-sqlite":
        return SQLAlchemyHarness(f"sqlite:///{tmp_path / 'sa.db'}", "session")
    if name == "sqlalchemy-engine-sqlite":
        return SQLAlchemyHarness(f"sqlite:///{tmp_path / 'sa.db'}", "engine")
    if name == "peewee-sqlite":
        return PeeweeHarness(str(tmp_path))
    dsn = request.getfixturevalue("postgres_dsn") if name in POSTGRES else None
    if name == "django-sqlite":
        return DjangoHarness("default", _optional_dsn(request))
    if name == "django-pg":
        return DjangoHarness("pg", dsn)
    if name.startswith("psycopg2"):
        return Psycopg2Harness(dsn, autocommit=name.endswith("autocommit"))
    if name.startswith("psycopg3"):
        return Psycopg3Harness(dsn, autocommit=name.endswith("autocommit"))
    url = "postgresql+psycopg2://" + _sa_url(dsn)
    return SQLAlchemyHarness(url, name.split("-")[1], table=f"items_{abs(hash(request.node.name)) % 10**8}")


def _optional_dsn(request):
    try:
        return request.getfixturevalue("postgres_dsn")
    except pytest.skip.Exception:
        return None


def _sa_url(dsn):
    options = dict(part.split("=", 1) for part in dsn.split())
    return f"{options['user']}@{options['host']}:{options['port']}/{options['dbname']}"


def _backend_params():
    return [pytest.param(name, id=name) for name in LOCAL] + [
        pytest.param(name, id=name, marks=pytest.mark.needs_db) for name in POSTGRES]


@pytest.fixture(params=_backend_params())
def harness(request, tmp_path):
    made = _make(request.param, tmp_path, request)
    yield made
    made.close()


@pytest.fixture
def files(tmp_path):
    directory = tmp_path / "files"
    directory.mkdir()
    return directory


def _listing(directory):
    return sorted(os.listdir(directory))


class Boom(Exception):
    pass


def test_commits_everything_and_publishes_files(harness, files):
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        harness.write(transaction, "b")
        transaction.stage_file(files / "a.txt", b"alpha")
        stage_file(files / "b.txt", "beta")
        assert _listing(files) == []  # nothing visible before the commit
    assert harness.committed() == ["a", "b"]
    assert (files / "a.txt").read_bytes() == b"alpha" and (files / "b.txt").read_text() == "beta"
    assert _listing(files) == ["a.txt", "b.txt"]


def test_exception_between_two_writes_rolls_back_all(harness, files):
    rolled_back, committed = [], []
    with pytest.raises(Boom):
        with atomic(harness.target()) as transaction:
            transaction.on_commit(lambda: committed.append(1))
            transaction.on_rollback(lambda: rolled_back.append(1))
            harness.write(transaction, "a")
            transaction.stage_file(files / "a.txt", b"alpha")
            raise Boom()
    assert harness.committed() == []
    assert _listing(files) == []
    assert committed == [] and rolled_back == [1]


def test_base_exception_rolls_back_and_propagates(harness, files):
    with pytest.raises(KeyboardInterrupt):
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "a")
            transaction.stage_file(files / "a.txt", b"alpha")
            raise KeyboardInterrupt
    assert harness.committed() == [] and _listing(files) == []


def test_caught_failure_in_a_nested_block_rolls_back_only_that_block(harness, files):
    with atomic(harness.target()) as outer:
        harness.write(outer, "outer")
        outer.stage_file(files / "outer.txt", b"1")
        with pytest.raises(Boom):
            with atomic(harness.target()) as inner:
                harness.write(inner, "inner")
                inner.stage_file(files / "inner.txt", b"2")
                raise Boom()
        with atomic(harness.target()) as kept:
            harness.write(kept, "kept")
            kept.stage_file(files / "kept.txt", b"3")
    assert harness.committed() == ["kept", "outer"]
    assert _listing(files) == ["kept.txt", "outer.txt"]


def test_failure_inside_commit_rolls_back_and_runs_no_commit_callbacks(harness, files, monkeypatch):
    import txlint.runtime._transaction as transaction_module

    original = transaction_module.backend_for

    def failing_backend(target):
        backend = original(target)

        def commit():
            raise Boom("commit failed")

        monkeypatch.setattr(backend, "commit", commit)
        return backend

    monkeypatch.setattr(transaction_module, "backend_for", failing_backend)
    called = []
    with pytest.raises(Boom):
        with atomic(harness.target()) as transaction:
            transaction.on_commit(lambda: called.append("commit"))
            transaction.on_rollback(lambda: called.append("rollback"))
            harness.write(transaction, "a")
            transaction.stage_file(files / "a.txt", b"alpha")
    assert harness.committed() == []
    assert _listing(files) == [] and called == ["rollback"]


def test_failing_on_commit_callback_keeps_the_committed_data(harness, files):
    called = []

    def failing():
        raise Boom("callback")

    with pytest.raises(Boom):
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "a")
            transaction.stage_file(files / "a.txt", b"alpha")
            transaction.on_commit(lambda: called.append(1))
            transaction.on_commit(failing)
            transaction.on_commit(lambda: called.append(3))
    assert harness.committed() == ["a"]
    assert _listing(files) == ["a.txt"] and called == [1, 3]


def test_disk_full_while_staging_fails_inside_the_transaction(harness, files, monkeypatch):
    def full_disk(descriptor, data):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "a")
            monkeypatch.setattr(staging.os, "write", full_disk)
            transaction.stage_file(files / "a.txt", b"alpha" * 1000)
    monkeypatch.undo()
    assert harness.committed() == [] and _listing(files) == []


def test_existing_file_survives_a_rollback(harness, files):
    (files / "report.txt").write_text("old")
    with pytest.raises(Boom):
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "a")
            transaction.stage_file(files / "report.txt", "new")
            raise Boom()
    assert (files / "report.txt").read_text() == "old" and _listing(files) == ["report.txt"]


def test_decorator(harness):
    from txlint.runtime._transaction import current_transaction

    @atomic(harness.target())
    def write_two(fail):
        harness.write(current_transaction(), "x")
        if fail:
            raise Boom()
        harness.write(current_transaction(), "y")

    with pytest.raises(Boom):
        write_two(True)
    assert harness.committed() == []
    write_two(False)
    assert harness.committed() == ["x", "y"]


def test_stage_file_outside_a_transaction_is_refused(files):
    with pytest.raises(RuntimeError, match="needs an active"):
        stage_file(files / "a.txt", b"x")


def test_refuses_what_it_cannot_make_atomic(tmp_path):
    from sqlalchemy import create_engine

    with pytest.raises(AtomicError, match="AUTOCOMMIT"):
        with atomic(create_engine(f"sqlite:///{tmp_path / 'x.db'}", isolation_level="AUTOCOMMIT")):
            pass
    with pytest.raises(AtomicError, match="does not know how"):
        with atomic(object()):
            pass


def test_importing_the_runtime_loads_no_database_library():
    import subprocess

    code = ("import sys, txlint.runtime; "
            "loaded = [m for m in sys.modules if m.split('.')[0] in "
            "('libcst', 'sqlalchemy', 'django', 'psycopg2', 'psycopg', 'peewee', 'txlint.engine')]; "
            "print(loaded)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
