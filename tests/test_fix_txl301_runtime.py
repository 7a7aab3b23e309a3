"""TXL301's fix outside Django (txlint.runtime's atomic around a SQLAlchemy session or a sqlite3
connection): the fixed code of the fix cases run against SQLite does what the fix says, and
the shapes where atomic(target) would not be correct get no fix."""

import sqlite3
import textwrap
import types
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from txlint.linter import lint_source
from txlint.fixes import fixes_for_text

CASES = Path(__file__).parent / "fix_cases"


def _module(case: str) -> types.ModuleType:
    """The case's after.py (the fixed code, a file of this test suite) as a module."""
    module = types.ModuleType(case)
    exec(compile((CASES / case / "after.py").read_text(encoding="utf-8"), f"{case}/after.py", "exec"), module.__dict__)
    return module


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    yield engine
    engine.dispose()


def _rows(engine, model) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_staged_file_commits_with_its_row_in_a_session_that_has_begun(engine, tmp_path):
    fixed = _module("txl301_sqlalchemy_stage_file")
    fixed.Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.scalars(select(fixed.Report)).all()  # the session's transaction has begun: atomic joins it
        path = fixed.save_report(session, str(tmp_path), b"body")
    # The commit made a flush: the path is named by the new row's key, read inside the block.
    assert path == f"{tmp_path}/1.bin" and Path(path).read_bytes() == b"body"
    with Session(engine) as session:
        assert [report.path for report in session.scalars(select(fixed.Report))] == [path]


def test_a_file_that_cannot_be_staged_rolls_its_row_back(engine, tmp_path):
    fixed = _module("txl301_sqlalchemy_stage_file")
    fixed.Base.metadata.create_all(engine)
    with Session(engine) as session, pytest.raises(FileNotFoundError):
        fixed.save_report(session, str(tmp_path / "missing"), b"body")
    assert _rows(engine, fixed.Report) == 0  # before the fix the row was committed, pointing nowhere


def _stored_report(fixed, engine, path: Path) -> int:
    fixed.Base.metadata.create_all(engine)
    path.write_text("old")
    with Session(engine) as session:
        report = fixed.Report(path=str(path))
        session.add(report)
        session.commit()
        return report.id


def test_a_deferred_delete_runs_after_the_commit(engine, tmp_path):
    fixed = _module("txl301_sqlalchemy_delete")
    path = tmp_path / "old.txt"
    report_id = _stored_report(fixed, engine, path)
    with Session(engine) as session:
        assert fixed.Reports().drop(session, report_id) == report_id
    assert not path.exists() and _rows(engine, fixed.Report) == 0


def test_a_deferred_delete_keeps_the_file_when_the_commit_fails(engine, tmp_path):
    fixed = _module("txl301_sqlalchemy_delete")
    path = tmp_path / "old.txt"
    report_id = _stored_report(fixed, engine, path)
    with Session(engine) as session:
        event.listen(session, "before_commit", _fail)
        with pytest.raises(RuntimeError, match="commit refused"):
            fixed.Reports().drop(session, report_id)
    assert path.read_text() == "old" and _rows(engine, fixed.Report) == 1


def _fail(session):
    raise RuntimeError("commit refused")


def test_a_sqlite3_connection_stages_the_file_with_its_row(tmp_path):
    fixed = _module("txl301_sqlite3_stage_file")
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE uploads (path TEXT)")
    fixed.save_upload(database, tmp_path / "upload.bin", b"data")
    with pytest.raises(FileNotFoundError):
        fixed.save_upload(database, tmp_path / "missing" / "upload.bin", b"data")
    conn = sqlite3.connect(database)
    try:
        assert conn.execute("SELECT path FROM uploads").fetchall() == [(str(tmp_path / "upload.bin"),)]
    finally:
        conn.close()
    assert (tmp_path / "upload.bin").read_bytes() == b"data"



def test_an_autocommit_connection_deletes_the_file_only_once_the_row_is_gone(tmp_path):
    fixed = _module("txl301_sqlite3_autocommit_delete")
    database, path = tmp_path / "app.db", tmp_path / "upload.bin"
    path.write_bytes(b"data")
    with pytest.raises(sqlite3.OperationalError):  # no table yet: the DELETE fails, the file stays
        fixed.forget_upload(database, str(path))
    assert path.exists()
    conn = sqlite3.connect(database)
    with conn:
        conn.execute("CREATE TABLE uploads (path TEXT)")
        conn.execute("INSERT INTO uploads VALUES (?)", (str(path),))
    fixed.forget_upload(database, str(path))
    try:
        assert conn.execute("SELECT count(*) FROM uploads").fetchone() == (0,)
    finally:
        conn.close()
    assert not path.exists()

PRELUDE = """\
import os

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200))
"""
NO_FIX = {
    # The commit may not run: atomic's end would commit where the function might not.
    "a commit under an if": """
        def save(session: Session, path, body, now):
            session.add(Report(path=path))
            if now:
                session.commit()
            with open(path, "w") as handle:
                handle.write(body)
    """,
    # atomic(session) would begin the transaction, and session.begin() inside it then raises.
    "the write in session.begin()": """
        def save(session: Session, path, body):
            with session.begin():
                session.add(Report(path=path))
            with open(path, "w") as handle:
                handle.write(body)
    """,
    # No commit of the function's own: atomic would commit the caller's unit of work early.
    "a delete with no commit after it": """
        def drop(session: Session, report_id):
            report = session.get(Report, report_id)
            os.remove(report.path)
            session.delete(report)
    """,
    # Another session's commit in the span: the block on this one would not make it wait.
    "another session committed between": """
        def save(session: Session, audit: Session, path, body):
            session.add(Report(path=path))
            audit.commit()
            session.commit()
            with open(path, "w") as handle:
                handle.write(body)
    """,
}


@pytest.mark.parametrize("source", NO_FIX.values(), ids=NO_FIX.keys())
def test_no_fix_where_atomic_around_the_span_would_be_wrong(source):
    text = PRELUDE + textwrap.dedent(source)
    findings = lint_source(text, "app/example.py")
    assert [finding.code for finding in findings if finding.code == "TXL301"] == ["TXL301"]
    assert fixes_for_text(findings, text, "app/example.py") == []
