import os
from functools import partial

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from txlint.runtime import atomic as txatomic, on_commit


class Base(DeclarativeBase):
    pass


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200))


class Reports:
    def drop(self, session: Session, report_id):
        report = session.get(Report, report_id)
        # the file first: a failed delete of the row leaves it pointing nowhere
        with txatomic(session):
            on_commit(partial(os.remove, report.path))
            session.delete(report)
        return report_id
