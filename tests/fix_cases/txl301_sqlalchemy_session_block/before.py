from pathlib import Path

from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine("sqlite:///app.db")


class Base(DeclarativeBase):
    pass


class Export(Base):
    __tablename__ = "exports"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200))


def export(path, text):
    with Session(engine) as session:
        session.add(Export(path=path))
        session.commit()

        Path(path).write_text(text)
