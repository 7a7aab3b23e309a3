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


@pytest.fixture
def sqlalchemy_inheritance(tmp_path):
    """A snapshot model with a joined-table child, a single-table child and a plain Python
    subclass, guarded by model (not table) name so that only the class hierarchy can tell."""
    from sqlalchemy import ForeignKey, String, create_engine, event
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    class Base(DeclarativeBase):
        pass

    class Snapshot(Base):
        __tablename__ = "snapshots"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str] = mapped_column(String, default="base")
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "base"}

    class JoinedChild(Snapshot):
        __tablename__ = "joined_children"
        id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"), primary_key=True)
        __mapper_args__ = {"polymorphic_identity": "joined"}

    class SingleChild(Snapshot):
        __mapper_args__ = {"polymorphic_identity": "single"}

    engine = create_engine(f"sqlite:///{tmp_path / 'i.db'}")
    Base.metadata.create_all(engine)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    guard = guard_snapshots(Session, models=["Snapshot"])
    yield engine, {"joined": JoinedChild, "single": SingleChild, "base": Snapshot}, statements
    guard.remove()
    engine.dispose()


def _writes(statements):
    return [sql for sql in statements if sql.split()[0] in ("INSERT", "UPDATE", "DELETE")]


@pytest.mark.parametrize("kind", ["joined", "single"])
def test_sqlalchemy_subclasses_of_a_snapshot_are_guarded(sqlalchemy_inheritance, kind):
    from sqlalchemy.orm import Session

    engine, classes, statements = sqlalchemy_inheritance
    with Session(engine) as session:
        session.add(classes[kind]())
        with pytest.raises(SnapshotWriteError, match=classes[kind].__name__):
            session.flush()
    assert _writes(statements) == []


@pytest.mark.parametrize("method", ["bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings"])
@pytest.mark.parametrize("guarded_by", ["model", "table", "subclass"])
def test_sqlalchemy_bulk_methods_are_guarded(sqlalchemy_inheritance, method, guarded_by):
    from sqlalchemy.orm import Session

    engine, classes, statements = sqlalchemy_inheritance
    model = classes["joined" if guarded_by == "subclass" else "base"]
    extra = guard_snapshots(Session, tables=["snapshots"]) if guarded_by == "table" else None
    try:
        with Session(engine) as session:
            call = {"bulk_save_objects": lambda: session.bulk_save_objects([model(id=7)]),
                    "bulk_insert_mappings": lambda: session.bulk_insert_mappings(model, [{"id": 7}]),
                    "bulk_update_mappings": lambda: session.bulk_update_mappings(model, [{"id": 7, "kind": "x"}])}
            with pytest.raises(SnapshotWriteError):
                call[method]()
            session.rollback()
            with materializer():
                session.bulk_insert_mappings(model, [{"id": 8}])
                session.commit()
    finally:
        if extra is not None:
            extra.remove()
    assert [sql.split()[0] for sql in _writes(statements)] in (["INSERT"], ["INSERT", "INSERT"])


def test_removing_the_guard_unhooks_the_connections_it_hooked(tmp_path):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

    class Base(DeclarativeBase):
        pass

    class Version(Base):
        __tablename__ = "versions"
        id: Mapped[int] = mapped_column(primary_key=True)

    engine = create_engine(f"sqlite:///{tmp_path / 'r.db'}")
    Base.metadata.create_all(engine)
    connection = engine.connect()  # one connection, kept across the sessions below
    factory = sessionmaker(bind=connection)
    guard = guard_snapshots(factory, models=[Version])
    with factory() as session:
        with pytest.raises(SnapshotWriteError):
            session.bulk_insert_mappings(Version, [{"id": 1}])
    guard.remove()
    with factory() as session:
        session.bulk_insert_mappings(Version, [{"id": 2}])
        session.commit()
    connection.close()
    engine.dispose()


@pytest.mark.parametrize("kind", ["proxy", "multi-table child", "abstract-based child"])
def test_django_proxy_and_child_models_are_guarded(request, tmp_path, kind):
    import uuid

    from django.db import connection, models

    harness = harnesses.create(make_spec(request, "django-sqlite", str(tmp_path)))
    suffix = uuid.uuid4().hex[:8]
    meta = {"app_label": "contenttypes"}
    if kind == "proxy":
        child = type(f"Proxy_{suffix}", (harness.model,), {
            "__module__": __name__, "Meta": type("Meta", (), {**meta, "proxy": True})})
    else:
        child = type(f"Child_{suffix}", (harness.model,), {
            "__module__": __name__, "extra": models.IntegerField(default=0),
            "Meta": type("Meta", (), {**meta, "db_table": f"child_{suffix}"})})
        with connection.schema_editor() as editor:
            editor.create_model(child)
    guard = guard_snapshots(None, models=[harness.model] if kind != "abstract-based child" else [],
                            tables=[harness.table] if kind == "abstract-based child" else [])
    try:
        with pytest.raises(SnapshotWriteError):
            child.objects.create(value="direct")
        with materializer():
            child.objects.create(value="built")
        with pytest.raises(SnapshotWriteError):
            child.objects.get(value="built").delete()
    finally:
        guard.remove()
    assert harness.committed() == ["built"]
