"""A process killed mid-transaction, asyncio sessions, snapshot guards, and a property test of
random programs against a model of what must be committed."""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from txlint.runtime import SnapshotWriteError, atomic, guard_snapshots, materializer

KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from txlint.runtime import atomic
    kind, location, directory = sys.argv[1:4]
    if kind == "sqlite3":
        import sqlite3
        target = sqlite3.connect(location)
        write = lambda value: target.execute("INSERT INTO items VALUES (?)", (value,))
    else:
        import psycopg2
        target = psycopg2.connect(location)
        write = lambda value: target.cursor().execute("INSERT INTO " + sys.argv[4] + " VALUES (%s)", (value,))
    with atomic(target) as transaction:
        write("a")
        transaction.stage_file(os.path.join(directory, "a.txt"), b"alpha" * 1000)
        write("b")
        os.kill(os.getpid(), signal.SIGKILL)
""")


def _kill_mid_transaction(*arguments):
    result = subprocess.run([sys.executable, "-c", KILL_SCRIPT, *arguments], capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr


def test_sigkill_mid_transaction_sqlite(tmp_path):
    database = tmp_path / "db.sqlite3"
    setup = sqlite3.connect(database)
    setup.execute("CREATE TABLE items (value TEXT)")
    setup.commit()
    files = tmp_path / "files"
    files.mkdir()
    _kill_mid_transaction("sqlite3", str(database), str(files))
    assert setup.execute("SELECT count(*) FROM items").fetchone() == (0,)
    assert os.listdir(files) == []


@pytest.mark.needs_db
def test_sigkill_mid_transaction_postgres(tmp_path, postgres_dsn):
    import psycopg2

    setup = psycopg2.connect(postgres_dsn)
    setup.autocommit = True
    setup.cursor().execute("CREATE TABLE killed_items (value TEXT)")
    files = tmp_path / "files"
    files.mkdir()
    _kill_mid_transaction("psycopg2", postgres_dsn, str(files), "killed_items")
    cursor = setup.cursor()
    cursor.execute("SELECT count(*) FROM killed_items")
    assert cursor.fetchone() == (0,) and os.listdir(files) == []


def test_async_session(tmp_path):
    from sqlalchemy import Column, MetaData, String, Table, select
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    table = Table("items", MetaData(), Column("value", String))

    async def scenario():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.create_all)
        async with AsyncSession(engine) as session:
            async with atomic(session) as transaction:
                await session.execute(table.insert().values(value="kept"))
                transaction.stage_file(tmp_path / "kept.txt", b"1")
                with pytest.raises(ValueError):
                    async with atomic(session):
                        await session.execute(table.insert().values(value="inner"))
                        raise ValueError
            with pytest.raises(ValueError):
                async with atomic(session):
                    await session.execute(table.insert().values(value="lost"))
                    raise ValueError
        async with engine.connect() as connection:
            rows = sorted(row[0] for row in await connection.execute(select(table.c.value)))
        await engine.dispose()
        return rows

    assert asyncio.run(scenario()) == ["kept"]
    assert (tmp_path / "kept.txt").read_bytes() == b"1"


def test_async_target_refuses_a_plain_with(tmp_path):
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from txlint.runtime import AtomicError

    session = AsyncSession(create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    with pytest.raises(AtomicError, match="async with"):
        with atomic(session):
            pass


def test_guard_snapshots_sqlalchemy(tmp_path):
    from sqlalchemy import String, create_engine
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    class Base(DeclarativeBase):
        pass

    class ScriptVersion(Base):
        __tablename__ = "script_versions"
        id: Mapped[int] = mapped_column(primary_key=True)
        body: Mapped[str] = mapped_column(String)

    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    Base.metadata.create_all(engine)
    guard = guard_snapshots(Session, tables=["script_versions"])
    try:
        with Session(engine) as session:
            session.add(ScriptVersion(body="direct"))
            with pytest.raises(SnapshotWriteError):
                session.flush()
            session.rollback()

            @materializer
            def rebuild():
                session.add(ScriptVersion(body="built"))
                session.commit()

            rebuild()
            with materializer():
                session.add(ScriptVersion(body="built again"))
                session.commit()
            bodies = sorted(row.body for row in session.query(ScriptVersion))
    finally:
        guard.remove()
    assert bodies == ["built", "built again"]


# -- property test ---------------------------------------------------------------------------
operation = st.recursive(
    st.one_of(st.tuples(st.just("write")), st.tuples(st.just("stage")), st.tuples(st.just("fail"))),
    lambda inner: st.tuples(st.just("block"), st.lists(inner, max_size=4), st.booleans()),
    max_leaves=12,
)


class _Fail(Exception):
    pass


def _run(program, connection, directory, counter, expected_rows, expected_files):
    """Run a block's operations; mirror what must survive into the expected sets."""
    pending_rows, pending_files = [], []
    for step in program:
        if step[0] == "write":
            counter[0] += 1
            connection.execute("INSERT INTO items VALUES (?)", (counter[0],))
            pending_rows.append(counter[0])
        elif step[0] == "stage":
            counter[0] += 1
            name = f"f{counter[0]}.txt"
            from txlint.runtime import stage_file

            stage_file(directory / name, str(counter[0]))
            pending_files.append(name)
        elif step[0] == "fail":
            raise _Fail()
        else:
            _, body, catch = step
            inner_rows, inner_files = [], []
            try:
                with atomic(connection):
                    _run(body, connection, directory, counter, inner_rows, inner_files)
            except _Fail:
                if not catch:
                    raise
                continue  # the inner block rolled back alone
            pending_rows += inner_rows
            pending_files += inner_files
    expected_rows += pending_rows
    expected_files += pending_files


@settings(max_examples=60, deadline=None)
@given(program=st.lists(operation, max_size=6))
def test_random_programs_commit_exactly_what_the_model_says(tmp_path_factory, program):
    directory = tmp_path_factory.mktemp("property")
    connection = sqlite3.connect(directory / "db.sqlite3")
    connection.execute("CREATE TABLE items (value INTEGER)")
    connection.commit()
    files = directory / "files"
    files.mkdir()
    rows, staged = [], []
    try:
        with atomic(connection):
            _run(program, connection, files, [0], rows, staged)
    except _Fail:
        rows, staged = [], []
    reader = sqlite3.connect(directory / "db.sqlite3")
    assert sorted(r[0] for r in reader.execute("SELECT value FROM items")) == sorted(rows)
    assert sorted(os.listdir(files)) == sorted(staged)
    connection.close()
    reader.close()


def test_guard_snapshots_django():
    from django_harness import DjangoHarness

    harness = DjangoHarness("default")
    guard = guard_snapshots(None, models=[harness.model.__name__])
    try:
        with pytest.raises(SnapshotWriteError, match="outside a materializer"):
            harness.model.objects.create(value="direct")
        with materializer():
            harness.model.objects.create(value="built")
    finally:
        guard.remove()
    assert harness.committed() == ["built"]
