from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine("sqlite://")


def backfill(users):
    for user in users:
        session = Session(engine)
        session.add(user)
        session.commit()
