from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from txlint.runtime import atomic, stage_file


class Base(DeclarativeBase):
    pass


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200))


def save_report(session: Session, path, body):
    if session.scalars(select(Report).where(Report.path == path)).first():
        raise ValueError(path)
    report = Report(path=path)
    with atomic(session):
        session.add(report)
        stage_file(path, body)
    return report.id
