from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine("sqlite://")


def backfill(users):
    session = Session(engine)
    for user in users:
        if user.email:
            user.email = user.email.lower()
        session.add(user)
        # keep the progress
        session.commit()  # per row
    session.close()
