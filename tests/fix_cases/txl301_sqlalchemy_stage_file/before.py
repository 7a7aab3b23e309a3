from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


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
    session.add(report)
    session.commit()  # the row is durable here
    with open(path, "wb") as handle:
        handle.write(body)
    return report.id
