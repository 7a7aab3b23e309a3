"""atomic with `async with`: SQLAlchemy AsyncSession and AsyncConnection on SQLite (aiosqlite),
and open levels kept apart between asyncio tasks."""

import asyncio

import pytest

from txlint.runtime import AtomicError, atomic, stage_file

pytest.importorskip("aiosqlite")


def _items():
    from sqlalchemy import Column, MetaData, String, Table

    return Table("items", MetaData(), Column("value", String))


async def _engine_with_items(path):
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(_items().metadata.create_all)
    return engine


async def _committed(engine):
    from sqlalchemy import text

    async with engine.connect() as connection:
        return sorted(row[0] for row in await connection.execute(text("SELECT value FROM items")))


@pytest.mark.parametrize("kind", ["session", "connection"])
def test_nested_savepoints_and_rollback(tmp_path, kind):
    from sqlalchemy.ext.asyncio import AsyncSession

    items = _items()

    async def scenario():
        engine = await _engine_with_items(tmp_path / "a.db")
        handle = AsyncSession(engine) if kind == "session" else engine.connect()
        async with handle as target:
            async with atomic(target) as transaction:
                await target.execute(items.insert().values(value="kept"))
                transaction.stage_file(tmp_path / "kept.txt", b"1")
                with pytest.raises(ValueError):
                    async with atomic(target) as inner:
                        await target.execute(items.insert().values(value="inner"))
                        inner.stage_file(tmp_path / "inner.txt", b"2")
                        raise ValueError
            with pytest.raises(ValueError):
                async with atomic(target) as transaction:
                    await target.execute(items.insert().values(value="lost"))
                    transaction.stage_file(tmp_path / "lost.txt", b"3")
                    raise ValueError
        rows = await _committed(engine)
        await engine.dispose()
        return rows

    assert asyncio.run(scenario()) == ["kept"]
    assert sorted(path.name for path in tmp_path.iterdir() if path.suffix == ".txt") == ["kept.txt"]


def test_decorated_coroutine(tmp_path):
    from sqlalchemy.ext.asyncio import AsyncSession

    items = _items()

    async def scenario():
        engine = await _engine_with_items(tmp_path / "a.db")
        async with AsyncSession(engine) as session:
            @atomic(session)
            async def write(fail):
                await session.execute(items.insert().values(value="x"))
                if fail:
                    raise ValueError

            with pytest.raises(ValueError):
                await write(True)
            await write(False)
        rows = await _committed(engine)
        await engine.dispose()
        return rows

    assert asyncio.run(scenario()) == ["x"]


def test_concurrent_tasks_stage_into_their_own_transactions(tmp_path):
    from sqlalchemy.ext.asyncio import AsyncSession

    items = _items()

    async def scenario():
        engines = [await _engine_with_items(tmp_path / f"{name}.db") for name in ("good", "bad")]
        both_open = asyncio.Barrier(2) if hasattr(asyncio, "Barrier") else None

        async def task(engine, name, fail):
            async with AsyncSession(engine) as session:
                async with atomic(session):
                    await session.execute(items.insert().values(value=name))
                    if both_open is not None:
                        await both_open.wait()
                    else:
                        await asyncio.sleep(0.05)
                    stage_file(tmp_path / f"{name}.txt", name)  # the module-level one: this task's block
                    await asyncio.sleep(0)
                    if fail:
                        raise ValueError

        results = await asyncio.gather(task(engines[0], "good", False), task(engines[1], "bad", True),
                                       return_exceptions=True)
        rows = [await _committed(engine) for engine in engines]
        for engine in engines:
            await engine.dispose()
        return results, rows

    results, rows = asyncio.run(scenario())
    assert results[0] is None and isinstance(results[1], ValueError)
    assert rows == [["good"], []]
    assert sorted(path.name for path in tmp_path.iterdir() if path.suffix == ".txt") == ["good.txt"]


def test_async_target_refuses_a_plain_with(tmp_path):
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    session = AsyncSession(create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    with pytest.raises(AtomicError, match="async with"):
        with atomic(session):
            pass
