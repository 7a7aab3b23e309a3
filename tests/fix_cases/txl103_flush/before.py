from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine("sqlite://")


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)


class Membership(Base):
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


class Accounts:
    def __init__(self):
        self.session = Session(engine)

    def open(self):
        account = Account()
        self.session.add(account)
        self.session.commit()  # the account exists now
        self.session.add(Membership(account_id=account.id))
        self.session.commit()
