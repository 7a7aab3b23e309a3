"""atomic() on every backend, with failures injected at each step: all or nothing, in the
database and in the directory (no orphan file, no stray temporary file)."""

import os
import subprocess
import sys

import pytest

import harnesses
import txlint.runtime._staging as staging
import txlint.runtime._transaction as transaction_module
from conftest import make_spec
from txlint.runtime import AtomicError, atomic, stage_file
from txlint.runtime._transaction import current_transaction


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
        assert harness.committed() == []
    assert harness.committed() == ["a", "b"]
    assert (files / "a.txt").read_bytes() == b"alpha" and (files / "b.txt").read_text() == "beta"
    assert _listing(files) == ["a.txt", "b.txt"]


def test_exception_between_two_writes_rolls_back_all(harness, files):
    rolled_back, committed = [], []

    def second_write_fails():
        raise Boom()

    with pytest.raises(Boom):
        with atomic(harness.target()) as transaction:
            transaction.on_commit(lambda: committed.append(1))
            transaction.on_rollback(lambda: rolled_back.append(1))
            harness.write(transaction, "a")
            transaction.stage_file(files / "a.txt", b"alpha")
            second_write_fails()
            harness.write(transaction, "b")
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
    calls = []
    with atomic(harness.target()) as outer:
        harness.write(outer, "outer")
        outer.stage_file(files / "outer.txt", b"1")
        with pytest.raises(Boom):
            with atomic(harness.target()) as inner:
                inner.on_commit(lambda: calls.append("inner commit"))
                inner.on_rollback(lambda: calls.append("inner rollback"))
                harness.write(inner, "inner")
                inner.stage_file(files / "inner.txt", b"2")
                raise Boom()
        assert calls == ["inner rollback"]
        with atomic(harness.target()) as kept:
            harness.write(kept, "kept")
            kept.stage_file(files / "kept.txt", b"3")
            kept.on_commit(lambda: calls.append("kept commit"))
        assert _listing(files) == []  # the savepoint's release is not the commit
    assert harness.committed() == ["kept", "outer"]
    assert _listing(files) == ["kept.txt", "outer.txt"]
    assert calls == ["inner rollback", "kept commit"]


def test_uncaught_failure_in_a_nested_block_rolls_back_everything(harness, files):
    with pytest.raises(Boom):
        with atomic(harness.target()) as outer:
            harness.write(outer, "outer")
            outer.stage_file(files / "outer.txt", b"1")
            with atomic(harness.target()) as released:
                harness.write(released, "released")
                released.stage_file(files / "released.txt", b"2")
            with atomic(harness.target()) as inner:
                harness.write(inner, "inner")
                raise Boom()
    assert harness.committed() == [] and _listing(files) == []


def test_a_savepoint_as_the_first_statement_commits_nothing_early(harness, files):
    """SQLite drivers that delay BEGIN would turn the first SAVEPOINT into a transaction of its
    own, committed by its RELEASE: the inner block's row must stay uncommitted until the end."""
    with pytest.raises(Boom):
        with atomic(harness.target()):
            with atomic(harness.target()) as inner:
                harness.write(inner, "inner")
                inner.stage_file(files / "inner.txt", b"2")
            assert harness.committed() == [] and _listing(files) == []
            raise Boom()
    assert harness.committed() == [] and _listing(files) == []


def test_failure_inside_commit_rolls_back_and_runs_no_commit_callbacks(harness, files, monkeypatch):
    original = transaction_module.backend_for

    def backend_whose_commit_fails(target):
        backend = original(target)
        monkeypatch.setattr(backend, "commit", lambda: (_ for _ in ()).throw(Boom("commit failed")))
        return backend

    monkeypatch.setattr(transaction_module, "backend_for", backend_whose_commit_fails)
    called = []
    with pytest.raises(Boom):
        with atomic(harness.target()) as transaction:
            transaction.on_commit(lambda: called.append("commit"))
            transaction.on_rollback(lambda: called.append("rollback"))
            harness.write(transaction, "a")
            transaction.stage_file(files / "a.txt", b"alpha")
    assert harness.committed() == []
    assert _listing(files) == [] and called == ["rollback"]


@pytest.mark.parametrize("name", [name for name in harnesses.LOCAL if name.startswith("sqlite3")] + [
    pytest.param(name, marks=pytest.mark.needs_db) for name in harnesses.POSTGRES])
def test_commit_rejected_by_the_database(name, request, tmp_path, files):
    """A deferred constraint makes COMMIT itself fail: nothing committed, no file, no callback."""
    harness = harnesses.create(make_spec(request, name, str(tmp_path)))
    called = []
    try:
        with pytest.raises(Exception) as raised:
            with atomic(harness.target()) as transaction:
                transaction.on_commit(lambda: called.append("commit"))
                transaction.on_rollback(lambda: called.append("rollback"))
                harness.write(transaction, "a")
                transaction.stage_file(files / "a.txt", b"alpha")
                harness.write_rejected_at_commit(transaction)
        assert "constraint" in str(raised.value).lower() or "unique" in str(raised.value).lower()
        assert harness.committed() == [] and _listing(files) == [] and called == ["rollback"]
        with atomic(harness.target()) as transaction:  # the connection is usable afterwards
            harness.write(transaction, "b")
        assert harness.committed() == ["b"]
    finally:
        harness.close()


def test_failing_on_commit_callback_keeps_the_committed_data(harness, files):
    called = []

    def failing():
        raise Boom("callback")

    with pytest.raises(Boom, match="callback"):
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "a")
            transaction.stage_file(files / "a.txt", b"alpha")
            transaction.on_commit(lambda: called.append(1))
            transaction.on_commit(failing)
            transaction.on_commit(lambda: called.append(3))
            transaction.stage_file(files / "b.txt", b"beta")
    assert harness.committed() == ["a"]
    assert _listing(files) == ["a.txt", "b.txt"] and called == [1, 3]


def test_disk_full_while_staging_fails_inside_the_transaction(harness, files, monkeypatch):
    def full_disk(descriptor, data):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        with atomic(harness.target()) as transaction:
            harness.write(transaction, "a")
            transaction.stage_file(files / "first.txt", b"staged before the disk filled up")
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


def test_existing_file_is_replaced_on_commit(harness, files):
    (files / "report.txt").write_text("old")
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        transaction.stage_file(files / "report.txt", "new")
        assert (files / "report.txt").read_text() == "old"
    assert (files / "report.txt").read_text() == "new" and _listing(files) == ["report.txt"]


def test_decorator(harness):
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


def test_callbacks_run_in_registration_order_across_levels(tmp_path):
    harness = harnesses.create(harnesses.new_spec("sqlite3-legacy", str(tmp_path)))
    order = []
    with atomic(harness.target()) as outer:
        outer.on_commit(lambda: order.append(1))
        with atomic(harness.target()) as inner:
            inner.on_commit(lambda: order.append(2))
            outer.on_commit(lambda: order.append(3))
            inner.on_commit(lambda: order.append(4))
    assert order == [1, 2, 3, 4]
    harness.close()


def test_stage_file_outside_a_transaction_is_refused(files):
    with pytest.raises(RuntimeError, match="needs an active"):
        stage_file(files / "a.txt", b"x")
    assert _listing(files) == []


def test_refuses_what_it_cannot_make_atomic(tmp_path):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    autocommit_engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", isolation_level="AUTOCOMMIT")
    plain_engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    for target in (autocommit_engine, Session(autocommit_engine), autocommit_engine.connect(),
                   plain_engine.connect().execution_options(isolation_level="AUTOCOMMIT"),
                   Session(plain_engine.execution_options(isolation_level="AUTOCOMMIT"))):
        with pytest.raises(AtomicError, match="AUTOCOMMIT"):
            with atomic(target):
                pass
    with pytest.raises(AtomicError, match="does not know how"):
        with atomic(object()):
            pass


def test_refuses_a_peewee_transaction_opened_elsewhere(tmp_path):
    harness = harnesses.create(harnesses.new_spec("peewee-sqlite", str(tmp_path)))
    with harness.database.atomic():
        with pytest.raises(AtomicError, match="already inside a transaction"):
            with atomic(harness.database):
                pass
    harness.close()


@pytest.mark.needs_db
def test_refuses_a_psycopg3_connection_it_cannot_switch_out_of_autocommit(postgres_dsn):
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        with connection.transaction():  # psycopg forbids changing autocommit inside its own block
            with pytest.raises(AtomicError, match="autocommit"):
                with atomic(connection):
                    pass


def test_importing_the_runtime_loads_no_database_library():
    code = ("import sys, txlint.runtime; "
            "loaded = [m for m in sys.modules if m.split('.')[0] in "
            "('libcst', 'sqlalchemy', 'django', 'psycopg2', 'psycopg', 'peewee', 'ctypes') "
            "or m in ('txlint.engine', 'txlint.linter', 'txlint.cli', 'sqlite3')]; "
            "print(loaded)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_inside_a_django_atomic_block_files_and_callbacks_wait_for_djangos_commit(request, tmp_path, files):
    from django.db import transaction as django_transaction

    harness = harnesses.create(make_spec(request, "django-sqlite", str(tmp_path)))
    called = []
    with django_transaction.atomic():
        with atomic() as transaction:
            harness.write(transaction, "a")
            transaction.stage_file(files / "a.txt", b"alpha")
            transaction.on_commit(lambda: called.append("a"))
        assert _listing(files) == [] and called == [] and harness.committed() == []
    assert harness.committed() == ["a"] and _listing(files) == ["a.txt"] and called == ["a"]
    with pytest.raises(Boom):
        with django_transaction.atomic():
            with atomic() as transaction:
                harness.write(transaction, "b")
                transaction.stage_file(files / "b.txt", b"beta")
                transaction.on_commit(lambda: called.append("b"))
            raise Boom()
    assert harness.committed() == ["a"] and _listing(files) == ["a.txt"] and called == ["a"]
