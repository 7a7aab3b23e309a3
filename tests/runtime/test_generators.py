"""`@atomic(target)` on generator and async-generator functions: one transaction over the run.

Opened at the first next(), committed when the generator is exhausted, rolled back when its
body raises or it is closed early (issue 16: before, each row committed on its own).
"""

import asyncio
import gc

import pytest

from txlint.runtime import atomic, stage_file
from txlint.runtime._transaction import current_transaction


class Boom(Exception):
    pass


@pytest.fixture
def files(tmp_path):
    directory = tmp_path / "files"
    directory.mkdir()
    return directory


def _rows_generator(harness, files, fail_at=None):
    @atomic(harness.target())
    def write_rows(count):
        for number in range(1, count + 1):
            transaction = current_transaction()
            harness.write(transaction, f"row{number}")
            stage_file(files / f"row{number}.txt", str(number))
            if number == fail_at:
                raise Boom()
            yield number
        return "done"

    return write_rows


def test_an_exhausted_generator_commits_everything_at_the_end(harness, files):
    write_rows = _rows_generator(harness, files)
    rows = write_rows(3)
    assert harness.committed() == []  # nothing runs before the first next()
    assert next(rows) == 1
    assert next(rows) == 2
    assert harness.committed() == [] and sorted(p.name for p in files.iterdir()) == []
    assert next(rows) == 3
    with pytest.raises(StopIteration) as stop:
        next(rows)
    assert stop.value.value == "done"
    assert harness.committed() == ["row1", "row2", "row3"]
    assert sorted(p.name for p in files.iterdir()) == ["row1.txt", "row2.txt", "row3.txt"]


def test_a_generator_that_raises_rolls_back_every_row(harness, files):
    write_rows = _rows_generator(harness, files, fail_at=3)
    with pytest.raises(Boom):
        list(write_rows(5))
    assert harness.committed() == [] and list(files.iterdir()) == []


@pytest.mark.parametrize("how", ["close", "garbage collected", "exception thrown in"])
def test_a_generator_left_early_rolls_back(harness, files, how):
    write_rows = _rows_generator(harness, files)
    rows = write_rows(5)
    assert next(rows) == 1 and next(rows) == 2
    if how == "close":
        rows.close()
    elif how == "garbage collected":
        del rows
        gc.collect()
    else:
        with pytest.raises(Boom):
            rows.throw(Boom())
    assert harness.committed() == [] and list(files.iterdir()) == []
    with atomic(harness.target()) as transaction:  # the target is free again
        harness.write(transaction, "after")
    assert harness.committed() == ["after"]


def test_the_consumer_does_not_run_inside_the_generators_transaction(harness, files):
    write_rows = _rows_generator(harness, files)
    seen = []
    for _ in write_rows(2):
        seen.append(current_transaction())
    assert seen == [None, None]
    assert harness.committed() == ["row1", "row2"]


def test_a_generator_consumed_inside_a_block_is_a_savepoint_of_it(harness, files):
    write_rows = _rows_generator(harness, files, fail_at=2)
    with atomic(harness.target()) as outer:
        harness.write(outer, "outer")
        with pytest.raises(Boom):
            list(write_rows(3))  # its savepoint rolls back alone
    assert harness.committed() == ["outer"] and list(files.iterdir()) == []


def _async_rows(tmp_path, session, items, fail_at=None):
    @atomic(session)
    async def write_rows(count):
        for number in range(1, count + 1):
            await session.execute(items.insert().values(value=f"row{number}"))
            stage_file(tmp_path / f"row{number}.txt", str(number))
            if number == fail_at:
                raise Boom()
            yield number

    return write_rows


@pytest.mark.parametrize("ending", ["exhausted", "raises", "aclose"])
def test_async_generators(tmp_path, ending):
    pytest.importorskip("aiosqlite")
    from sqlalchemy import Column, MetaData, String, Table, text
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    items = Table("items", MetaData(), Column("value", String))
    files = tmp_path / "files"
    files.mkdir()

    async def scenario():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(items.metadata.create_all)
        async with AsyncSession(engine) as session:
            rows = _async_rows(files, session, items, fail_at=2 if ending == "raises" else None)(3)
            if ending == "exhausted":
                assert [number async for number in rows] == [1, 2, 3]
            elif ending == "raises":
                with pytest.raises(Boom):
                    [number async for number in rows]
            else:
                assert await rows.__anext__() == 1
                await rows.aclose()
        async with engine.connect() as connection:
            committed = sorted(row[0] for row in await connection.execute(text("SELECT value FROM items")))
        await engine.dispose()
        return committed

    committed = asyncio.run(scenario())
    if ending == "exhausted":
        assert committed == ["row1", "row2", "row3"]
        assert sorted(p.name for p in files.iterdir()) == ["row1.txt", "row2.txt", "row3.txt"]
    else:
        assert committed == [] and list(files.iterdir()) == []
