"""SQLAlchemy repository helpers that commit inside, given the model or the object they work on:
what each call of a generic helper gives back, attribute changes of loaded objects as writes, and
which rule reports writes that such helpers commit one by one."""

import textwrap

from txlint.linter import lint_sources

MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str]


class Request(Base):
    __tablename__ = "requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[str]
"""

# Generic helpers of a repository module: each commits what it is given. `get` is called with
# Account first, so its one return value (for every caller) would be an Account.
REPOSITORY = """\
from sqlalchemy.orm import scoped_session, sessionmaker

session = scoped_session(sessionmaker())


def get(model, value):
    return session.query(model).filter_by(id=value).first()


def create(model):
    session.add(model)
    session.commit()
    return model


def update(model):
    session.commit()
    return model


def first_account():
    return get(Account, 1)
"""


def _findings(source: str):
    sources = {"app/models.py": MODELS,
               "app/repository.py": "from app.models import Account\n" + REPOSITORY,
               "app/services.py": textwrap.dedent(source)}
    modules = {path: path[:-3].replace("/", ".") for path in sources}
    found = lint_sources(sources, modules=modules)
    return [(finding.code, finding.line) for finding in found if finding.path == "app/services.py"]


def test_a_loaded_object_changed_by_setattr_and_committed_apart_from_the_row_it_points_at():
    # `get(Request, ...)` gives a Request at this call (not the Account of the first caller), and
    # `setattr` on it is an UPDATE of the request, committed after the account was.
    assert _findings("""\
        from app import repository
        from app.models import Account, Request

        def approve(request_id):
            account = repository.create(Account(state="new"))
            request = repository.get(Request, request_id)
            setattr(request, "account_id", account.id)
            repository.update(request)
        """) == [("TXL103", 5)]


def test_an_attribute_assignment_on_a_loaded_object_is_a_write():
    assert _findings("""\
        from app import repository
        from app.models import Account, Request

        def approve(request_id):
            account = repository.create(Account(state="new"))
            request = repository.get(Request, request_id)
            request.account_id = account.id
            repository.update(request)
        """) == [("TXL103", 5)]


def test_filling_in_a_new_object_is_no_write_of_its_own():
    assert _findings("""\
        from app import repository
        from app.models import Account, Request

        def open_request(account_id):
            request = Request(status="new")
            request.account_id = account_id
            repository.create(request)
        """) == []


def test_writes_committed_by_their_helpers_in_each_iteration_are_a_multi_table_write():
    assert _findings("""\
        from app import repository
        from app.models import Account, Request

        def approve_all(request_ids):
            for request_id in request_ids:
                account = repository.create(Account(state="new"))
                request = repository.get(Request, request_id)
                request.account_id = account.id
                repository.update(request)
        """) == [("TXL101", 8)]


def test_one_commit_per_iteration_after_both_writes_is_atomic():
    assert _findings("""\
        from app import repository
        from app.models import Account, Request

        def approve_all(request_ids):
            for request_id in request_ids:
                account = Account(state="new")
                repository.session.add(account)
                repository.session.flush()
                request = repository.get(Request, request_id)
                request.account_id = account.id
                repository.session.commit()
        """) == []


def test_a_status_kept_up_to_date_on_the_row_committed_first():
    # The request is committed as running on purpose (others see it), then its status changes.
    assert _findings("""\
        from app import repository
        from app.models import Request

        def run(account_id):
            request = repository.create(Request(account_id=account_id, status="running"))
            request.status = "done"
            repository.update(request)
        """) == []


def test_a_helper_that_commits_on_one_arm_and_writes_on_the_other():
    # `store` commits the new account alone, or links the request to it and commits both.
    assert _findings("""\
        from app import repository
        from app.models import Account, Request

        def open_account(request_id):
            account = Account(state="new")
            repository.session.add(account)
            store(request_id, account)

        def store(request_id, account):
            if request_id is None:
                repository.session.commit()
            else:
                request = repository.get(Request, request_id)
                request.account_id = account.id
                repository.session.commit()
        """) == []


def test_a_write_in_a_helpers_except_handler_is_error_handling():
    # The failure is recorded on the request made and committed first: no second half of it.
    assert _findings("""\
        from app import repository
        from app.models import Account, Request

        def submit(account_id):
            request = repository.create(Request(account_id=account_id, status="pending"))
            send(request)

        def send(request):
            try:
                deliver(request.id)
            except Exception:
                account = repository.get(Account, request.account_id)
                account.state = "failed"
                repository.session.commit()
                raise

        def deliver(request_id):
            pass
        """) == []


def test_a_row_a_lookup_keeps_on_its_way_is_no_half_of_the_work():
    # `get_connection` refreshes and commits the account's state to hand out a connection.
    assert _findings("""\
        from app import repository
        from app.models import Account, Request

        def run(account_id):
            request = repository.create(Request(account_id=account_id, status="running"))
            connection = get_connection(request)
            connection.run(request.id)

        def get_connection(request):
            account = repository.get(Account, request.account_id)
            account.state = "refreshed"
            repository.session.commit()
            return account
        """) == []
