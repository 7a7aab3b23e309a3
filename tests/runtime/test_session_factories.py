"""atomic over what Flask and many SQLAlchemy applications hold: a scoped_session (Flask-SQLAlchemy's
`db.session`), standing for its current session, and a sessionmaker, making a session for the
block that is committed and closed at its end. On SQLite and PostgreSQL."""

import asyncio
import os

import pytest

import harnesses
from conftest import make_spec
from txlint.runtime import AtomicError, atomic, stage_file


class Boom(Exception):
    pass


@pytest.fixture(params=["sqlalchemy-session-sqlite", pytest.param("sqlalchemy-session-pg", marks=pytest.mark.needs_db)])
def tables(request, tmp_path):
    made = harnesses.create(make_spec(request, request.param, str(tmp_path)))
    yield made
    made.close()


def test_a_scoped_session_is_its_current_session(tables, tmp_path):
    from sqlalchemy.orm import scoped_session, sessionmaker

    db_session = scoped_session(sessionmaker(tables.engine))
    with pytest.raises(Boom):
        with atomic(db_session) as transaction:
            assert transaction.session is db_session()
            db_session.execute(tables.items.insert().values(value="lost"))
            raise Boom()
    with atomic(db_session) as outer:
        db_session.execute(tables.items.insert().values(value="outer"))
        with pytest.raises(Boom):
            with atomic(db_session()) as inner:  # the same session: a savepoint, not a second transaction
                assert inner.parent is outer
                db_session.execute(tables.items.insert().values(value="inner"))
                raise Boom()
        stage_file(tmp_path / "outer.txt", b"1")
    assert tables.committed() == ["outer"] and (tmp_path / "outer.txt").exists()
    db_session.remove()


def test_a_decorator_on_a_scoped_session_resolves_it_per_call(tables):
    from sqlalchemy.orm import scoped_session, sessionmaker

    db_session = scoped_session(sessionmaker(tables.engine))

    @atomic(db_session)
    def write(value):
        db_session.execute(tables.items.insert().values(value=value))

    write("first")
    db_session.remove()  # a new request: a new session behind the same scoped_session
    write("second")
    assert tables.committed() == ["first", "second"]
    db_session.remove()


def test_a_sessionmaker_makes_a_session_for_the_block(tables):
    from sqlalchemy.orm import sessionmaker

    factory = sessionmaker(tables.engine)
    with atomic(factory) as transaction:
        session = transaction.session
        session.execute(tables.items.insert().values(value="a"))
        with atomic(factory) as inner:
            assert inner.session is session  # nested: a savepoint on the block's session
            session.execute(tables.items.insert().values(value="b"))
    assert tables.committed() == ["a", "b"]
    assert not session.in_transaction()  # closed at the end of the block
    with pytest.raises(Boom):
        with atomic(factory) as transaction:
            transaction.session.execute(tables.items.insert().values(value="lost"))
            raise Boom()
    assert tables.committed() == ["a", "b"]


def test_a_sessionmaker_whose_commit_fails_rolls_back_and_closes(tables, monkeypatch):
    from sqlalchemy.orm import Session, sessionmaker

    closed = []
    monkeypatch.setattr(Session, "commit", lambda self: (_ for _ in ()).throw(Boom("commit")))
    original_close = Session.close
    monkeypatch.setattr(Session, "close", lambda self: (closed.append(self), original_close(self)))
    with pytest.raises(Boom, match="commit"):
        with atomic(sessionmaker(tables.engine)) as transaction:
            transaction.session.execute(tables.items.insert().values(value="a"))
    monkeypatch.undo()
    assert tables.committed() == [] and len(closed) == 1


def test_an_autocommit_sessionmaker_is_refused(tmp_path):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}", isolation_level="AUTOCOMMIT")
    with pytest.raises(AtomicError, match="AUTOCOMMIT"):
        with atomic(sessionmaker(engine)):
            pass


def test_async_sessionmaker_and_async_scoped_session(tmp_path):
    pytest.importorskip("aiosqlite")
    from sqlalchemy import Column, MetaData, String, Table, text
    from sqlalchemy.ext.asyncio import async_scoped_session, async_sessionmaker, create_async_engine

    items = Table("items", MetaData(), Column("value", String))

    async def scenario():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(items.metadata.create_all)
        factory = async_sessionmaker(engine)
        async with atomic(factory) as transaction:
            await transaction.session.execute(items.insert().values(value="made"))
        scoped = async_scoped_session(factory, scopefunc=asyncio.current_task)
        with pytest.raises(Boom):
            async with atomic(scoped):
                await scoped.execute(items.insert().values(value="lost"))
                raise Boom()
        async with atomic(scoped):
            await scoped.execute(items.insert().values(value="scoped"))
        await scoped.remove()
        async with engine.connect() as connection:
            rows = sorted(row[0] for row in await connection.execute(text("SELECT value FROM items")))
        await engine.dispose()
        return rows

    assert asyncio.run(scenario()) == ["made", "scoped"]
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".txt")]
