"""A level belongs to the thread and asyncio task that opened it (issue 16).

A task created inside a block inherits the block's context variables. Before, its own later
`async with atomic(session)` was taken for a savepoint of the parent's finished transaction: never
committed, the row gone at session.close(), its files and callbacks never run. Counted here after
the session is closed, on a real SQLite file and on PostgreSQL.
"""

import asyncio
import contextvars
import threading

import pytest

from txlint.runtime import AtomicError, atomic, on_commit, stage_file
from txlint.runtime._transaction import current_transaction

pytest.importorskip("aiosqlite")


def _items():
    from sqlalchemy import Column, MetaData, String, Table

    return Table("items", MetaData(), Column("value", String))


def _async_url(request, tmp_path, backend):
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}"
    pytest.importorskip("psycopg")
    options = dict(part.split("=", 1) for part in request.getfixturevalue("postgres_dsn").split())
    return f"postgresql+psycopg://{options['user']}@{options['host']}:{options['port']}/{options['dbname']}"


async def _fresh_engine(url):
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: _items().metadata.drop_all(sync))
        await connection.run_sync(lambda sync: _items().metadata.create_all(sync))
    return engine


async def _committed(engine):
    from sqlalchemy import text

    async with engine.connect() as connection:
        return sorted(row[0] for row in await connection.execute(text("SELECT value FROM items")))


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.needs_db)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_task_that_outlives_the_block_commits_its_own_transaction(request, tmp_path, backend):
    from sqlalchemy.ext.asyncio import AsyncSession

    items = _items()
    url = _async_url(request, tmp_path, backend)
    files = tmp_path / "files"
    files.mkdir()
    called = []

    async def scenario():
        engine = await _fresh_engine(url)
        parent_done = asyncio.Event()

        async def later_task():
            await parent_done.wait()  # the block that created this task has committed
            async with AsyncSession(engine) as session:
                async with atomic(session) as transaction:
                    assert transaction.parent is None  # not a savepoint of the parent's block
                    await session.execute(items.insert().values(value="task"))
                    stage_file(files / "task.txt", b"task")
                    on_commit(lambda: called.append("task"))

        async with AsyncSession(engine) as session:
            async with atomic(session):
                await session.execute(items.insert().values(value="parent"))
                task = asyncio.ensure_future(later_task())
        parent_done.set()
        await task
        rows = await _committed(engine)  # every session is closed by now
        await engine.dispose()
        return rows

    assert asyncio.run(scenario()) == ["parent", "task"]
    assert sorted(path.name for path in files.iterdir()) == ["task.txt"]
    assert called == ["task"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_task_that_reuses_the_session_after_the_block_commits(request, tmp_path, backend):
    """The same session object, in a task created inside the block: a fresh transaction of its own."""
    from sqlalchemy.ext.asyncio import AsyncSession

    items = _items()
    url = _async_url(request, tmp_path, backend)

    async def scenario():
        engine = await _fresh_engine(url)
        parent_done = asyncio.Event()
        session = AsyncSession(engine)

        async def later_task():
            await parent_done.wait()
            async with atomic(session):
                await session.execute(items.insert().values(value="task"))

        async with atomic(session):
            await session.execute(items.insert().values(value="parent"))
            task = asyncio.ensure_future(later_task())
        parent_done.set()
        await task
        await session.close()
        rows = await _committed(engine)
        await engine.dispose()
        return rows

    assert asyncio.run(scenario()) == ["parent", "task"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_task_cannot_join_a_block_that_another_task_holds_open(request, tmp_path, backend):
    from sqlalchemy.ext.asyncio import AsyncSession

    items = _items()
    url = _async_url(request, tmp_path, backend)

    async def scenario():
        engine = await _fresh_engine(url)
        refusals = []

        async def child(session):
            with pytest.raises(AtomicError, match="another asyncio task"):
                async with atomic(session):
                    await session.execute(items.insert().values(value="child"))
            with pytest.raises(AtomicError, match="did not open the enclosing"):
                stage_file(tmp_path / "child.txt", b"x")
            with pytest.raises(AtomicError, match="did not open the enclosing"):
                on_commit(lambda: None)
            refusals.append(current_transaction())

        async with AsyncSession(engine) as session:
            async with atomic(session):
                await session.execute(items.insert().values(value="parent"))
                await asyncio.ensure_future(child(session))
        rows = await _committed(engine)
        await engine.dispose()
        return rows, refusals

    rows, refusals = asyncio.run(scenario())
    assert rows == ["parent"] and refusals == [None]
    assert not (tmp_path / "child.txt").exists()


def test_a_thread_given_the_blocks_context_is_refused_too(harness, tmp_path):
    """contextvars.copy_context().run in a thread (what asyncio.to_thread does) inherits the levels."""
    errors = []
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        context = contextvars.copy_context()

        def in_thread():
            try:
                with atomic(harness.target()):
                    pass
            except AtomicError as error:
                errors.append(error)

        worker = threading.Thread(target=context.run, args=(in_thread,))
        worker.start()
        worker.join()
    assert len(errors) == 1 and "another asyncio task or thread" in str(errors[0])
    assert harness.committed() == ["a"]
