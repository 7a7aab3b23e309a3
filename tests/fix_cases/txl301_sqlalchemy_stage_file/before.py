from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200), default="")


def save_report(session: Session, directory, body):
    report = Report()
    session.add(report)
    session.commit()  # the row gets its id
    path = f"{directory}/{report.id}.bin"
    with open(path, "wb") as handle:
        handle.write(body)
    report.path = path
    session.commit()
    return path
