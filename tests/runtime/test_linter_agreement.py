"""What txlint's findings tell people matches the runtime: TXL301 names the on_commit of the
library at hand (Django's own, else txlint.runtime's, which exists at module level)."""

import textwrap

import txlint.runtime
from txlint.config import Config
from txlint.linter import lint_sources

DJANGO = {
    "app/models.py": """
        from django.db import models


        class Report(models.Model):
            path = models.CharField(max_length=200)
        """,
    "app/services.py": """
        from app.models import Report


        def save_report(name, body):
            path = f"/srv/reports/{name}.txt"
            Report.objects.create(path=path)
            with open(path, "w") as handle:
                handle.write(body)
        """,
}
SQLALCHEMY = {
    "app/models.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Report(Base):
            __tablename__ = "reports"
            id: Mapped[int] = mapped_column(primary_key=True)
            path: Mapped[str] = mapped_column(String)
        """,
    "app/services.py": """
        from pathlib import Path

        from sqlalchemy.orm import Session

        from app.models import Report


        def save_report(session: Session, body):
            report = Report()
            session.add(report)
            session.commit()
            path = Path("/srv/reports") / f"{report.id}.txt"
            path.write_text(body)
            report.path = str(path)
            session.commit()
        """,
}


def _txl301_messages(project):
    sources = {path: textwrap.dedent(text) for path, text in project.items()}
    return [finding.message for finding in lint_sources(sources, Config()) if finding.code == "TXL301"]


def test_django_code_is_told_to_use_djangos_on_commit():
    (message,) = _txl301_messages(DJANGO)
    assert "`transaction.on_commit(partial(...))`" in message and "txlint.runtime.on_commit" not in message


def test_sqlalchemy_code_is_told_to_use_txlint_runtimes_on_commit_not_djangos():
    (message,) = _txl301_messages(SQLALCHEMY)
    assert "`txlint.runtime.on_commit(partial(...))` inside `txlint.runtime.atomic(...)`" in message
    assert "`transaction.on_commit(partial(...))`" not in message
    assert "txlint.runtime.stage_file(path, data)" in message
    assert callable(txlint.runtime.on_commit)  # the helper the message names exists
