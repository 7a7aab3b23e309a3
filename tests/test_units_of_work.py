"""TXL101 and TXL103 report writes that commit apart only when they belong together (txlint/evidence.py)."""

import textwrap

import pytest

from txlint.linter import lint_sources

DJANGO_MODELS = """\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Line(models.Model):
    order = models.ForeignKey("shop.Order", on_delete=models.CASCADE)


class Setting(models.Model):
    value = models.CharField(max_length=20)


class Counter(models.Model):
    hits = models.IntegerField()
"""

SQLALCHEMY_MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)


class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))


class Visit(Base):
    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def _codes(models: str, source: str):
    found = lint_sources({"shop/models.py": models, "shop/services.py": textwrap.dedent(source)},
                         modules={"shop/models.py": "shop.models", "shop/services.py": "shop.services"})
    return [(finding.code, finding.line) for finding in found if finding.path == "shop/services.py"]


FLAGGED_DJANGO = {
    "the first write's object given to the second": """\
        from shop.models import Counter, Order

        def place(total):
            order = Order.objects.create(total=total)
            Counter.objects.create(hits=order.pk)
        """,
    "the object saved, then rows made on it": """\
        from shop.models import Line, Order

        def reopen(order: Order):
            order.save()
            order.line_set.create(x=2)
        """,
    "one instance's data in both writes": """\
        from shop.models import Counter, Setting

        def remember(value):
            Setting.objects.create(value=value)
            Counter.objects.filter(name=value).update(hits=1)
        """,
    "a write inside atomic() and a related one after it": """\
        from django.db import transaction
        from shop.models import Line, Order

        def place(total):
            with transaction.atomic():
                order = Order.objects.create(total=total)
            Line.objects.create(order=order)
        """,
    "two separate atomic() blocks": """\
        from django.db import transaction
        from shop.models import Line, Order

        def place(total):
            with transaction.atomic():
                order = Order.objects.create(total=total)
            with transaction.atomic():
                Line.objects.create(order=order)
        """,
    "one amount taken from one row and given to another": """\
        from django.db.models import F
        from shop.models import Counter, Line

        def move(source, target, amount):
            Counter.objects.filter(pk=source).update(hits=F("hits") - amount)
            Line.objects.filter(pk=target).update(x=F("x") + amount)
        """,
    "a replacement: one thing's rows deleted, then made again": """\
        from shop.models import Counter, Line

        def replace_lines(order_id, count):
            Line.objects.filter(order_id=order_id).delete()
            Counter.objects.create(hits=order_id)
        """,
    "an order and the rows that belong to it deleted": """\
        from shop.models import Line, Order

        def remove(order_id):
            Line.objects.filter(order_id=order_id).delete()
            Order.objects.filter(pk=order_id).delete()
        """,
    "a row ensured and set, then rows added for it (a re-run adds them again)": """\
        from shop.models import Line, Order

        def sync_order(total):
            order, _ = Order.objects.update_or_create(total=total)
            Line.objects.create(order=order)
        """,
    "a row ensured and set, then a value changed from itself": """\
        from django.db.models import F
        from shop.models import Line, Order

        def sync_order(total):
            order, _ = Order.objects.update_or_create(total=total)
            Line.objects.filter(order=order).update(x=F("x") + 1)
        """,
    "an element of an unpacked pair": """\
        from shop.models import Counter, Setting

        def remember(value):
            setting, created = Setting.objects.update_or_create(value=value)
            Counter.objects.create(hits=setting.pk)
        """,
    "a row ensured, then rows made for it only when it was new (a retry skips them)": """\
        from shop.models import Line, Order

        def open_order(total):
            order, created = Order.objects.get_or_create(total=total)
            if created:
                Line.objects.create(order=order)
        """,
}

CLEAN_DJANGO = {
    "a row ensured, then a row made for it on every run (a retry finds the first and makes the second)": """\
        from shop.models import Line, Order

        def add_line(total):
            order, _ = Order.objects.get_or_create(total=total)
            Line.objects.create(order=order)
        """,
    "a row looked up by a helper that writes on the way, then a write for it": """\
        from shop.models import Counter, Line, Order

        def get_order(pk):
            Counter.objects.create(hits=pk)
            return Order.objects.get(pk=pk)

        def close(pk):
            order = get_order(pk)
            Line.objects.create(order=order)
        """,
    "the mail about the work, written by a helper sending it": """\
        from shop.models import Counter, Order

        def send_receipt(order):
            Counter.objects.create(hits=order.pk)

        def place(total):
            order = Order.objects.create(total=total)
            send_receipt(order)
        """,
    "the mail about the work, queued inside a mail helper reached through another": """\
        from shop.models import Counter, Order

        def mail(recipient):
            Counter.objects.create(hits=recipient)

        def _order_placed_notice(order):
            mail(order.pk)

        def place(total):
            order = Order.objects.create(total=total)
            _order_placed_notice(order)
        """,
    "the record of a failed attempt, written in the handler of the block that made the row": """\
        from django.db import transaction
        from shop.models import Line, Order

        def scan(total):
            try:
                with transaction.atomic():
                    order = Order.objects.create(total=total)
                    order.full_clean()
            except ValueError:
                Line.objects.create(order=order, failed=True)
                raise
        """,
    "updates that share only a key (a counter kept in step)": """\
        from django.db.models import F
        from shop.models import Counter, Order

        def recount(order_id):
            Order.objects.filter(pk=order_id).update(total=0)
            Counter.objects.filter(pk=order_id).update(hits=F("hits") + 1)
        """,
    "the row the first write made, saved again by its own method": """\
        from shop.models import Order, Setting

        def place(total):
            order = Order.objects.create(total=total)
            order.finish()
        """,
    "two writes that share nothing": """\
        from shop.models import Counter, Setting

        def touch(value):
            Setting.objects.create(value=value)
            Counter.objects.filter(pk=1).update(hits=0)
        """,
    "cleanups that only delete": """\
        from shop.models import Counter, Setting

        def prune(cutoff):
            Setting.objects.filter(created__lt=cutoff).delete()
            Counter.objects.filter(created__lt=cutoff).delete()
        """,
    "the rows that belong to an order purged, the order itself kept": """\
        from shop.models import Counter, Line, Order

        def purge(order: Order):
            Line.objects.filter(order=order).delete()
            Counter.objects.filter(order_id=order.pk).delete()
        """,
    "rows ensured and values set: code written to be run again": """\
        from shop.models import Line, Order

        def sync_order(total):
            order, _ = Order.objects.get_or_create(total=total)
            Line.objects.filter(order=order).update(x=2)
            order.line_set.set([])
        """,
    "a row ensured, then saved and its lines set (set-up run again on every deploy)": """\
        from shop.models import Order

        def ensure_default_order():
            order, created = Order.objects.get_or_create(total=0)
            order.total = 1
            order.save()
            order.line_set.set([])
        """,
    "a row the later code ensures on demand (get_or_create), after the work": """\
        from shop.models import Counter, Order

        def place(total):
            order = Order.objects.create(total=total)
            Counter.objects.get_or_create(hits=order.pk)
        """,
    "models tied by a foreign key, no value shared (a line of some other order)": """\
        from shop.models import Line, Order

        def reset(order_id):
            Order.objects.filter(pk=order_id).update(total=0)
            Line.objects.create(x=2)
        """,
    "two updates of related models by keys of their own": """\
        from shop.models import Line, Order

        def reset(order_id, line_id):
            Order.objects.filter(pk=order_id).update(total=0)
            Line.objects.filter(pk=line_id).update(x=2)
        """,
    "both writes in one atomic() block": """\
        from django.db import transaction
        from shop.models import Line, Order

        def place(total):
            with transaction.atomic():
                order = Order.objects.create(total=total)
                Line.objects.create(order=order)
        """,
}


@pytest.mark.parametrize("source", FLAGGED_DJANGO.values(), ids=range(len(FLAGGED_DJANGO)))
def test_writes_that_belong_together_are_reported_once(source):
    found = _codes(DJANGO_MODELS, source)
    assert [code for code, _ in found] == ["TXL101"]


@pytest.mark.parametrize("source", CLEAN_DJANGO.values(), ids=range(len(CLEAN_DJANGO)))
def test_writes_that_do_not_belong_together_are_not_reported(source):
    assert _codes(DJANGO_MODELS, source) == []


def test_one_finding_names_every_table_of_the_unit_of_work():
    found = lint_sources({"shop/models.py": DJANGO_MODELS, "shop/services.py": textwrap.dedent("""\
        from shop.models import Counter, Line, Order

        def place(total):
            order = Order.objects.create(total=total)
            Line.objects.create(order=order)
            Line.objects.create(order=order)
            Counter.objects.create(hits=order.pk)
        """)}, modules={"shop/models.py": "shop.models", "shop/services.py": "shop.services"})
    reported = [finding for finding in found if finding.path == "shop/services.py"]
    assert [(finding.code, finding.line) for finding in reported] == [("TXL101", 5)]
    assert "writes to Order (line 4), Line (line 5) and Counter (line 7)" in reported[0].message


def test_a_method_inherited_from_a_base_model_writes_the_row_it_is_called_on():
    models = """\
        from django.db import models


        class BaseModel(models.Model):
            class Meta:
                abstract = True

            def validated_save(self):
                self.full_clean()
                self.save()


        class Order(BaseModel):
            total = models.IntegerField()


        class Line(BaseModel):
            order = models.ForeignKey(Order, on_delete=models.CASCADE)
        """
    source = """\
        from shop.models import Line, Order

        def place(total):
            order = Order.objects.create(total=total)
            order.validated_save()
            line = Line(order=order)
            line.validated_save()
        """
    found = lint_sources({"shop/models.py": textwrap.dedent(models), "shop/services.py": textwrap.dedent(source)},
                         modules={"shop/models.py": "shop.models", "shop/services.py": "shop.services"})
    (finding,) = [finding for finding in found if finding.path == "shop/services.py"]
    assert finding.line == 7 and "writes to Order (line 4) and Line (line 7, in validated_save())" in finding.message


def test_a_split_commit_between_a_new_row_and_one_pointing_at_it_is_reported():
    assert _codes(SQLALCHEMY_MODELS, """\
        from sqlalchemy.orm import Session
        from shop.models import Account, Entry

        def open_account(session: Session, account_id):
            account = Account(id=account_id)
            session.add(account)
            session.commit()
            session.add(Entry(account_id=account.id))
            session.commit()
        """) == [("TXL103", 7)]


def test_a_split_commit_between_writes_of_models_tied_only_by_a_foreign_key_is_not_reported():
    assert _codes(SQLALCHEMY_MODELS, """\
        from sqlalchemy.orm import Session
        from shop.models import Account, Entry

        def open_account(session: Session, account_id):
            session.add(Account(id=account_id))
            session.commit()
            session.add(Entry(account_id=1))
            session.commit()
        """) == []


def test_a_commit_inside_a_helper_that_never_returns_is_not_a_split():
    source = """\
        from typing import NoReturn
        from sqlalchemy.orm import Session
        from shop.models import Account, Entry

        class Job:
            def stop(self, session: Session) -> NoReturn:
                session.add(Entry(account_id=1))
                session.commit()
                raise SystemExit("stopped")

            def beat(self, session: Session, account_id, restarting):
                account = Account(id=account_id)
                session.add(account)
                if restarting:
                    self.stop(session)
                session.add(Entry(account_id=account.id))
                session.commit()
        """
    assert _codes(SQLALCHEMY_MODELS, source) == []
    # A body that ends in `raise` with no `return` does not come back either.
    assert _codes(SQLALCHEMY_MODELS, source.replace(" -> NoReturn", "")) == []
    # One that may return does, and its commit splits the caller's work.
    returning = source.replace(" -> NoReturn", "").replace(
        'raise SystemExit("stopped")', 'if restarting:\n                    return\n'
                                       '                raise SystemExit("stopped")')
    assert _codes(SQLALCHEMY_MODELS, returning) == [("TXL103", 17)]


def test_a_loop_that_calls_a_helper_committing_then_raising_does_not_commit_per_iteration():
    source = """\
        from sqlalchemy.orm import Session
        from shop.models import Entry

        def give_up(session: Session, account_id):
            session.add(Entry(account_id=account_id))
            session.commit()
            raise RuntimeError("needs a login first")

        def backfill_entries(session: Session, account_ids):
            for account_id in account_ids:
                if account_id < 0:
                    give_up(session, account_id)
                session.add(Entry(account_id=account_id))
            session.commit()
        """
    assert _codes(SQLALCHEMY_MODELS, source) == []
    # A helper that may come back commits once per iteration where it is called.
    returning = source.replace('raise RuntimeError("needs a login first")', "return None")
    assert [code for code, _ in _codes(SQLALCHEMY_MODELS, returning)] == ["TXL102"]


def test_a_commit_inside_a_helper_that_gets_or_makes_a_shared_row_is_not_a_split():
    assert _codes(SQLALCHEMY_MODELS, """\
        from sqlalchemy.orm import Session
        from shop.models import Account, Entry

        def get_account(session: Session, account_id):
            account = session.get(Account, account_id)
            if account is None:
                account = Account(id=account_id)
                session.add(account)
                session.commit()
            return account

        def add_entry(session: Session, account_id):
            account = Account(id=account_id)
            session.add(account)
            get_account(session, account_id)
            session.add(Entry(account_id=account.id))
            session.commit()
        """) == []


def test_a_session_on_the_connection_a_listener_was_given_does_not_commit_it():
    listener = """\
        from sqlalchemy.orm import Session
        from shop.models import Account, Entry

        def after_insert(mapper, connection, target):
            with Session(bind=connection) as session:
                account = Account(id=target.id)
                session.add(account)
                session.commit()
                session.add(Entry(account_id=account.id))
                session.commit()
        """
    assert _codes(SQLALCHEMY_MODELS, listener) == []
    # A session on a connection of its own commits for real.
    own = listener.replace("def after_insert(mapper, connection, target):",
                           "def after_insert(mapper, engine, target):\n            connection = engine.connect()")
    assert _codes(SQLALCHEMY_MODELS, own) == [("TXL103", 9)]


def test_a_commit_between_unrelated_writes_is_not_reported():
    assert _codes(SQLALCHEMY_MODELS, """\
        from sqlalchemy.orm import Session
        from shop.models import Account, Visit

        def open_account(session: Session):
            session.add(Account())
            session.commit()
            session.add(Visit())
            session.commit()
        """) == []


def test_a_commit_between_writes_linked_by_the_inserted_key_is_reported():
    assert _codes(SQLALCHEMY_MODELS, """\
        import sqlite3

        def add(path, url, tag):
            conn = sqlite3.connect(path)
            cursor = conn.execute("INSERT INTO bookmarks (url) VALUES (?)", (url,))
            conn.commit()
            conn.execute("INSERT INTO tags (bookmark_id, tag) VALUES (?, ?)", (cursor.lastrowid, tag))
            conn.commit()
        """) == [("TXL201", 5), ("TXL103", 6), ("TXL201", 7)]


def test_a_cleanup_loop_that_only_deletes_is_not_a_loop_write():
    assert _codes(DJANGO_MODELS, """\
        from shop.models import Setting

        def sync_prune(cutoff):
            for setting in Setting.objects.filter(created__lt=cutoff):
                setting.delete()
        """) == []


def test_a_job_looping_over_each_items_own_operation_is_not_a_loop_write():
    assert _codes(DJANGO_MODELS, """\
        from shop.models import Order

        def close(order):
            order.total = 0
            order.save()

        def sync_orders(orders):
            for order in orders:
                close(order)
        """) == []


COMMAND_LOOPS = {
    "a flag set per row": ("""\
        for setting in Setting.objects.all():
            setting.value = "locked"
            setting.save()
        """, []),
    "a row added per item": ("""\
        for value in values:
            Setting.objects.create(value=value)
        """, [("TXL102", 7)]),
    "a value changed from itself per row": ("""\
        for setting in Setting.objects.all():
            setting.value = setting.value.strip()
            setting.save()
        """, [("TXL102", 8)]),
    "a counter bumped per row": ("""\
        for value in values:
            Counter.objects.filter(pk=value).update(hits=F("hits") + 1)
        """, [("TXL102", 7)]),
}


@pytest.mark.parametrize("name", COMMAND_LOOPS)
def test_a_command_not_named_for_a_backfill_reports_loops_a_re_run_would_not_repeat(name):
    body, expected = COMMAND_LOOPS[name]
    source = "from django.db.models import F\nfrom shop.models import Counter, Setting\n\n\n" \
             "def handle(values):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    found = lint_sources({"shop/models.py": DJANGO_MODELS, "shop/management/commands/tidy.py": source},
                         modules={"shop/models.py": "shop.models",
                                  "shop/management/commands/tidy.py": "shop.management.commands.tidy"})
    assert [(finding.code, finding.line) for finding in found if finding.path.endswith("tidy.py")] == expected


def test_a_function_with_several_loop_writes_gets_one_finding():
    assert _codes(DJANGO_MODELS, """\
        from shop.models import Counter, Setting

        def import_all(settings, counters):
            for setting in settings:
                Setting.objects.create(value=setting)
            for counter in counters:
                Counter.objects.create(hits=counter)
        """) == [("TXL102", 5)]


@pytest.mark.parametrize("module", ["shop.management.commands.create_demo_data", "shop.seed"])
def test_demo_and_seed_data_is_throwaway(module):
    path = module.replace(".", "/") + ".py"
    source = textwrap.dedent("""\
        from shop.models import Line, Order

        def run(total):
            order = Order.objects.create(total=total)
            Line.objects.create(order=order)
        """)
    found = lint_sources({"shop/models.py": DJANGO_MODELS, path: source},
                         modules={"shop/models.py": "shop.models", path: module})
    assert [finding for finding in found if finding.path == path] == []


def test_a_function_that_populates_a_database_with_sample_rows_is_throwaway():
    source = textwrap.dedent("""\
        from shop.models import Line, Order

        def populate(total):
            order = Order.objects.create(total=total)
            Line.objects.create(order=order)
        """)
    modules = {"shop/models.py": "shop.models", "shop/cli.py": "shop.cli"}
    assert [finding for finding in lint_sources({"shop/models.py": DJANGO_MODELS, "shop/cli.py": source},
                                                modules=modules) if finding.path == "shop/cli.py"] == []
    renamed = source.replace("def populate(", "def place(")
    assert len([finding for finding in lint_sources({"shop/models.py": DJANGO_MODELS, "shop/cli.py": renamed},
                                                    modules=modules) if finding.path == "shop/cli.py"]) == 1


def test_a_loop_that_handles_each_items_errors_is_independent_by_design():
    handled = """\
        from shop.models import Counter

        def import_users(users):
            for user in users:
                try:
                    Counter.objects.create(hits=user)
                except Exception:
                    continue
        """
    assert _codes(DJANGO_MODELS, handled) == []
    # A try around the whole loop stops at the first failure: the rows before it stay committed.
    around = """\
        from shop.models import Counter

        def import_users(users):
            try:
                for user in users:
                    Counter.objects.create(hits=user)
            except Exception:
                pass
        """
    assert _codes(DJANGO_MODELS, around) == [("TXL102", 6)]


def test_an_override_reached_through_a_base_class_dispatch_inside_atomic_runs_in_it():
    source = """\
        from django.db import transaction
        from shop.models import Line, Order

        class Base:
            def dispatch(self, request):
                with {scope}:
                    return self.handle(request)

            def handle(self, request):
                pass

        class Create(Base):
            def handle(self, request):
                order = Order.objects.create(total=1)
                Line.objects.create(order=order)
        """
    assert _codes(DJANGO_MODELS, source.format(scope="transaction.atomic()")) == []
    assert _codes(DJANGO_MODELS, source.format(scope="open('log')")) == [("TXL101", 15)]


def test_an_audit_entry_is_no_half_of_the_work_it_records():
    models = DJANGO_MODELS + "\n\nclass AuditLog(models.Model):\n    order = models.ForeignKey(Order, on_delete=models.CASCADE)\n"
    assert _codes(models, """\
        from shop.models import AuditLog, Order

        def place(total):
            order = Order.objects.create(total=total)
            AuditLog.objects.create(order=order)
        """) == []


def test_a_service_loop_over_itertools_count_is_not_a_loop_over_rows():
    assert _codes(DJANGO_MODELS, """\
        import itertools
        from shop.models import Counter

        def sync_forever():
            for _ in itertools.count():
                Counter.objects.create(hits=1)
        """) == []


def test_a_loop_of_autocommit_writes_in_application_code_is_left_be():
    loop = """\
        from shop.models import Counter

        def {name}(users):
            for user in users:
                Counter.objects.create(hits=user)
        """
    assert _codes(DJANGO_MODELS, loop.format(name="save_form")) == []
    assert _codes(DJANGO_MODELS, loop.format(name="backfill_counters")) == [("TXL102", 5)]


def test_a_cached_file_row_and_its_file_are_temporary_together():
    models = DJANGO_MODELS + "\n\nclass CachedFile(models.Model):\n    path = models.CharField(max_length=200)\n"
    source = """\
        from shop.models import {model}

        def export(path, data):
            {model}.objects.create(path=path)
            with open(path, "w") as handle:
                handle.write(data)
        """
    assert _codes(models, source.format(model="CachedFile")) == []
    assert [code for code, _ in _codes(models, source.format(model="Setting"))] == ["TXL301"]


def test_a_repository_helper_writes_the_table_of_what_each_caller_passes():
    """`database.create(model)` adds whatever it is given: the first caller's model (here a
    Visit) must not name the rows every other caller writes through it."""
    database = textwrap.dedent("""\
        from sqlalchemy.orm import Session

        session = Session()

        def create(model):
            session.add(model)
            session.commit()
            return model
        """)
    services = textwrap.dedent("""\
        from shop import database
        from shop.models import Account, Entry, Visit

        def record_visit():
            database.create(Visit())

        def open_account(**kwargs):
            account = database.create(Account())
            kwargs["account_id"] = account.id
            database.create(Entry(**kwargs))
        """)
    found = lint_sources({"shop/models.py": SQLALCHEMY_MODELS, "shop/database.py": database,
                          "shop/services.py": services},
                         modules={"shop/models.py": "shop.models", "shop/database.py": "shop.database",
                                  "shop/services.py": "shop.services"})
    messages = [finding.message for finding in found if finding.path == "shop/services.py"]
    assert len(messages) == 1 and "Account at line 8" in messages[0] and "Entry at line 10" in messages[0], messages
