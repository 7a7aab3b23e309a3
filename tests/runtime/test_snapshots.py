"""guard_snapshots: a write to a snapshot outside a materializer raises before any SQL is sent."""

import pytest

import harnesses
from conftest import make_spec
from txlint.runtime import SnapshotWriteError, guard_snapshots, materializer


@pytest.fixture
def sqlalchemy_snapshot(tmp_path):
    from sqlalchemy import String, create_engine, event
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    class Base(DeclarativeBase):
        pass

    class ScriptVersion(Base):
        __tablename__ = "script_versions"
        id: Mapped[int] = mapped_column(primary_key=True)
        body: Mapped[str] = mapped_column(String)

    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(ScriptVersion(id=1, body="seed"))
        session.commit()
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    guard = guard_snapshots(Session, tables=["script_versions"])
    yield engine, ScriptVersion, statements
    guard.remove()
    engine.dispose()


def test_sqlalchemy_orm_writes_outside_a_materializer_raise_before_any_sql(sqlalchemy_snapshot):
    from sqlalchemy.orm import Session

    engine, ScriptVersion, statements = sqlalchemy_snapshot
    with Session(engine) as session:
        session.add(ScriptVersion(body="direct"))
        with pytest.raises(SnapshotWriteError, match="outside a materializer"):
            session.flush()
        session.rollback()
        seed = session.get(ScriptVersion, 1)
        seed.body = "edited"
        with pytest.raises(SnapshotWriteError):
            session.commit()
        session.rollback()
        session.delete(session.get(ScriptVersion, 1))
        with pytest.raises(SnapshotWriteError):
            session.flush()
    assert not [sql for sql in statements if sql.split()[0] in ("INSERT", "UPDATE", "DELETE")]


def test_sqlalchemy_statements_outside_a_materializer_raise_before_any_sql(sqlalchemy_snapshot):
    from sqlalchemy import delete, insert, update
    from sqlalchemy.orm import Session

    engine, ScriptVersion, statements = sqlalchemy_snapshot
    with Session(engine) as session:
        for statement in (insert(ScriptVersion).values(body="x"), update(ScriptVersion).values(body="y"),
                          delete(ScriptVersion), ScriptVersion.__table__.delete()):
            with pytest.raises(SnapshotWriteError):
                session.execute(statement)
    assert not [sql for sql in statements if sql.split()[0] in ("INSERT", "UPDATE", "DELETE")]


def test_sqlalchemy_materializers_write(sqlalchemy_snapshot):
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    engine, ScriptVersion, _ = sqlalchemy_snapshot
    with Session(engine) as session:
        @materializer
        def rebuild():
            session.add(ScriptVersion(body="built"))
            session.commit()

        rebuild()
        with materializer():
            session.add(ScriptVersion(body="built again"))
            session.execute(update(ScriptVersion).where(ScriptVersion.id == 1).values(body="reseeded"))
            session.commit()
        assert sorted(row.body for row in session.query(ScriptVersion)) == ["built", "built again", "reseeded"]
        session.add(ScriptVersion(body="after"))  # the mark ends with the block
        with pytest.raises(SnapshotWriteError):
            session.flush()


def test_django_writes_outside_a_materializer_raise(request, tmp_path):
    harness = harnesses.create(make_spec(request, "django-sqlite", str(tmp_path)))
    guard = guard_snapshots(None, models=[harness.model.__name__])
    try:
        with pytest.raises(SnapshotWriteError, match="outside a materializer"):
            harness.model.objects.create(value="direct")
        with materializer():
            harness.model.objects.create(value="built")
        with pytest.raises(SnapshotWriteError):
            harness.model.objects.get(value="built").delete()
    finally:
        guard.remove()
    assert harness.committed() == ["built"]
