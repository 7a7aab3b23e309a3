"""Incremental runs: with `.txlint_cache/` a run over the same project after an edit re-checks the
edited files and the modules whose check read something the edit changed (a function, a class, a
module's imports, a function's callers), and reuses the rest of the previous run. Whatever the
edit, the output is the one a `--no-cache` run of the same tree gives, byte for byte."""

import contextlib
import io
import json
import os
import shutil
import textwrap
from dataclasses import fields

import pytest

from txlint import cli
from txlint.cache import Cache
from txlint.config import load_config
from txlint.engine import check_files
from txlint.linter import Linter
from txlint.run_state import RunResult
from txlint.discovery import discover
from txlint.rules import all_rules

MODELS = """\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


class Shipment(models.Model):
    action = models.CharField(max_length=20)
"""

# A: helpers called from services.py.
HELPERS = """\
from shop.models import Shipment, Invoice, Order


def record(action):
    Shipment.objects.create(action=action)


def settle(order_id):
    Order.objects.filter(pk=order_id).update(total=0)
    Invoice.objects.filter(order_id=order_id).delete()
"""

# B: one finding (place_order, line 9); archive writes one table itself and one through record();
# settle() is called only inside a transaction.
SERVICES = """\
from django.db import transaction

from shop.helpers import record, settle
from shop.models import Shipment, Invoice, Order


def place_order(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
    return order


def archive(action):
    Shipment.objects.filter(action=action).delete()
    record(action)


def checkout(order_id):
    with transaction.atomic():
        settle(order_id)
"""

# C: reads only.
REPORTS = """\
from shop.models import Order


def totals():
    return [order.total for order in Order.objects.all()]
"""

PROJECT = {
    "pyproject.toml": "[tool.txlint]\n",
    "shop/__init__.py": "",
    "shop/models.py": MODELS,
    "shop/helpers.py": HELPERS,
    "shop/services.py": SERVICES,
    "shop/reports.py": REPORTS,
}
EVERY_MODULE = sorted(path for path in PROJECT if path.endswith(".py"))
PLACE_ORDER = ("TXL101", "shop/services.py", 9, "shop.services.place_order")


@pytest.fixture
def project(tree, tmp_path, monkeypatch):
    """The project above in a fresh directory, which is the working directory of the runs."""
    tree(PROJECT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def rechecked(monkeypatch):
    """The paths of the modules the rules run on (`Linter._check_module`), in this process: a full
    run checks them all here, not in check workers (txlint.check_workers)."""
    monkeypatch.setattr("txlint.check_workers._MIN_MODULES", float("inf"))
    paths = []
    check_module = Linter._check_module

    def spy(self, project, module, *source):
        paths.append(module.path)
        return check_module(self, project, module, *source)

    monkeypatch.setattr(Linter, "_check_module", spy)
    return paths


def _check(*args):
    """`txlint check --format json ARGS` in the working directory, in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["check", "--format", "json", *args])
    return code, out.getvalue(), err.getvalue()


def _compare(rechecked, *args):
    """Run with the cache, then without: exit code, stdout and stderr must be identical. Returns the
    cached run's (exit code, stdout, stderr) and the modules it re-checked."""
    del rechecked[:]
    cached = _check(*args)
    seen = sorted(rechecked)
    uncached = _check("--no-cache", *args)
    assert cached[0] == uncached[0], (cached, uncached)
    assert cached[1] == uncached[1]
    assert cached[2] == uncached[2]
    assert "internal error" not in cached[2]
    return cached, seen


def _same_as_uncached(rechecked, *args):
    """`_compare` of JSON runs: the exit code, the findings as (code, path, line, function) and the
    modules the cached run re-checked."""
    (code, out, _), seen = _compare(rechecked, *args)
    return code, [(f["code"], f["path"], f["line"], f["function"]) for f in json.loads(out)["findings"]], seen


def _messages(*args):
    return [finding["message"] for finding in json.loads(_check(*args)[1])["findings"]]


def _edit(path, old, new):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert old in text, (path, old)
    _write(path, text.replace(old, new, 1))


def _write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(textwrap.dedent(text))


def _prime(rechecked, *args):
    code, findings, seen = _same_as_uncached(rechecked, *args)
    assert os.path.isdir(".txlint_cache")
    return code, findings, seen


# -- edits that keep every interface: the fast path ----------------------------------------------

def test_a_comment_at_the_top_shifts_the_findings_and_only_that_file_is_rechecked(project, rechecked):
    assert _prime(rechecked) == (1, [PLACE_ORDER], EVERY_MODULE)
    _edit("shop/services.py", "from django.db", "# Order placement.\nfrom django.db")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [("TXL101", "shop/services.py", 10, "shop.services.place_order")])
    assert seen == ["shop/services.py"]  # the fast path: the other modules' outcomes are reused
    message, = _messages()
    assert "writes to Order (line 9) and Invoice (line 10)" in message

    # A comment in a file without findings: the finding elsewhere keeps its new position.
    _edit("shop/helpers.py", "from shop", "# Helpers.\n\nfrom shop")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [("TXL101", "shop/services.py", 10, "shop.services.place_order")],
                                      ["shop/helpers.py"])


def test_blank_lines_between_two_writes_move_the_lines_the_message_names(project, rechecked):
    _prime(rechecked)
    _edit("shop/services.py", "    Invoice.objects.create(order=order)",
          "\n\n    Invoice.objects.create(order=order)")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [("TXL101", "shop/services.py", 11, "shop.services.place_order")],
                                      ["shop/services.py"])
    message, = _messages()
    assert "writes to Order (line 8) and Invoice (line 11)" in message
    # And back to one blank line: the numbers follow again.
    _edit("shop/services.py", "\n\n    Invoice.objects.create", "\n    Invoice.objects.create")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [("TXL101", "shop/services.py", 10, "shop.services.place_order")],
                                      ["shop/services.py"])
    assert "writes to Order (line 8) and Invoice (line 10)" in _messages()[0]


def test_a_suppression_added_then_removed(project, rechecked):
    _prime(rechecked)
    suppressed = "Invoice.objects.create(order=order)  # txlint: ignore[TXL101] -- the caller retries"
    _edit("shop/services.py", "Invoice.objects.create(order=order)", suppressed)
    assert _same_as_uncached(rechecked) == (0, [], ["shop/services.py"])
    # Another file edited: services.py's outcome is reused, with its suppressed finding and the
    # reason, which SARIF shows.
    _edit("shop/reports.py", "def totals", "# Read-only.\ndef totals")
    (code, sarif, _), seen = _compare(rechecked, "--format", "sarif")
    assert (code, seen) == (0, ["shop/reports.py"])
    assert '"justification": "the caller retries"' in sarif
    # A suppression of another code suppresses nothing: TXL001 on it, and the finding is back.
    _edit("shop/services.py", "ignore[TXL101]", "ignore[TXL102]")
    assert _same_as_uncached(rechecked) == (
        1, [("TXL001", "shop/services.py", 9, ""), PLACE_ORDER], ["shop/services.py"])
    _edit("shop/services.py", "  # txlint: ignore[TXL102] -- the caller retries", "")
    assert _same_as_uncached(rechecked) == (1, [PLACE_ORDER], ["shop/services.py"])


def test_an_unused_suppression_when_the_finding_goes_away_in_the_same_file(project, rechecked):
    _edit("shop/services.py", "Invoice.objects.create(order=order)",
          "Invoice.objects.create(order=order)  # txlint: ignore[TXL101] -- fine")
    assert _prime(rechecked)[:2] == (0, [])
    _edit("shop/services.py", "def place_order", "@transaction.atomic\ndef place_order")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [("TXL001", "shop/services.py", 10, "")])
    assert seen == ["shop/services.py"]  # place_order changed (a decorator), and no other module reads it


# -- edits that change what other modules read: those modules are re-checked ----------------------

RECORD_TOUCHES_ORDERS = ("    Shipment.objects.create(action=action)\n",
                         "    shipment = Shipment.objects.create(action=action)\n"
                         "    Order.objects.filter(pk=action).update(total=shipment.pk)\n")
ARCHIVE = ("TXL101", "shop/services.py", 15, "shop.services.archive")
RECORD = ("TXL101", "shop/helpers.py", 6, "shop.helpers.record")


def test_a_helper_gains_a_second_write_then_loses_it(project, rechecked):
    _prime(rechecked)
    _edit("shop/helpers.py", *RECORD_TOUCHES_ORDERS)
    code, findings, seen = _same_as_uncached(rechecked)
    # services.py reads record() (archive calls it); the models and reports do not.
    assert (code, findings, seen) == (1, [RECORD, PLACE_ORDER, ARCHIVE], ["shop/helpers.py", "shop/services.py"])
    assert "writes to Shipment (line 14) and Order (line 15, in record())" in _messages()[2]
    # A comment in the caller's file now: its finding (from the helper's writes) shifts.
    _edit("shop/services.py", "def archive", "# Archive.\ndef archive")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [RECORD, PLACE_ORDER, ARCHIVE[:2] + (16,) + ARCHIVE[3:]],
                                      ["shop/services.py"])
    # The helper loses the write again (with a new text, so no earlier run answers from the cache).
    _edit("shop/helpers.py", "    Order.objects.filter(pk=action).update(total=shipment.pk)\n", "    # Orders stay.\n")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [PLACE_ORDER], ["shop/helpers.py", "shop/services.py"])


def test_a_suppression_becomes_unused_when_a_helper_in_another_file_changes(project, rechecked):
    _edit("shop/helpers.py", *RECORD_TOUCHES_ORDERS)
    _edit("shop/services.py", "    record(action)", "    record(action)  # txlint: ignore[TXL101] -- audit only")
    assert _prime(rechecked)[:2] == (1, [RECORD, PLACE_ORDER])
    _edit("shop/helpers.py", "    Order.objects.filter(pk=action).update(total=shipment.pk)\n", "")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [PLACE_ORDER, ("TXL001", "shop/services.py", 15, "")])


SETTLE = ("TXL101", "shop/helpers.py", 10, "shop.helpers.settle")


def test_a_helper_called_only_inside_a_transaction_gets_a_caller_outside_one(project, rechecked):
    _prime(rechecked)
    _write("shop/reports.py", REPORTS + "\n\ndef quick_settle(order_id):\n    settle(order_id)\n")
    _edit("shop/reports.py", "from shop.models", "from shop.helpers import settle\nfrom shop.models")
    code, findings, seen = _same_as_uncached(rechecked)
    # settle() has a new caller: its own module is checked again (is it always called in a transaction?).
    assert (code, findings, seen) == (1, [SETTLE, PLACE_ORDER], ["shop/helpers.py", "shop/reports.py"])
    # The helper's own file gets a comment: its finding moves, nothing else is re-checked.
    _edit("shop/helpers.py", "def settle", "# Settle.\ndef settle")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [SETTLE[:2] + (11,) + SETTLE[3:], PLACE_ORDER], ["shop/helpers.py"])
    # The caller now opens a transaction: the finding in the helper's file goes away.
    _edit("shop/reports.py", "    settle(order_id)", "    with transaction.atomic():\n        settle(order_id)")
    _edit("shop/reports.py", "from shop.helpers", "from django.db import transaction\nfrom shop.helpers")
    assert _same_as_uncached(rechecked) == (1, [PLACE_ORDER], ["shop/helpers.py", "shop/reports.py"])


def test_a_new_file_calls_a_helper_outside_a_transaction_then_is_deleted(project, rechecked):
    _prime(rechecked)
    _write("shop/cron.py", """\
        from shop.helpers import settle


        def nightly(order_id):
            settle(order_id)
        """)
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [SETTLE, PLACE_ORDER], sorted(EVERY_MODULE + ["shop/cron.py"]))
    os.remove("shop/cron.py")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [PLACE_ORDER])
    # Back to the primed set of files, with a comment in one: the first run's state, a fast path.
    _edit("shop/reports.py", "def totals", "# Totals.\ndef totals")
    assert _same_as_uncached(rechecked) == (1, [PLACE_ORDER], ["shop/reports.py"])


COPIER = """\
from shop.models import Invoice, Order


class Copier:
    def copy_order_from(self, total):
        order = Order.objects.create(total=total)
        Invoice.objects.create(order=order)
"""

CLONING = """\
from django.db import transaction


def clone(factory, total):
    with transaction.atomic():
        copier = factory()
        copier.copy_order_from(total)
"""

COPY_ORDER_FROM = ("TXL101", "shop/copier.py", 7, "shop.copier.Copier.copy_order_from")


def test_a_method_reached_by_its_name_alone_gains_a_namesake_and_a_call_outside_a_transaction(project, rechecked):
    _write("shop/copier.py", COPIER)
    _write("shop/cloning.py", CLONING)
    assert _prime(rechecked)[:2] == (1, [PLACE_ORDER])
    # Another class defines a method of that name: the call may reach either, so it is no
    # longer taken to reach Copier's, which has no caller left.
    _write("shop/other.py", "class Other:\n    def copy_order_from(self, total):\n        return total\n")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [COPY_ORDER_FROM, PLACE_ORDER]) and "shop/copier.py" in seen
    os.remove("shop/other.py")
    assert _same_as_uncached(rechecked)[:2] == (1, [PLACE_ORDER])
    # A call by that name outside a transaction.
    _edit("shop/cloning.py", "def clone", "def clone_now(factory, total):\n    factory().copy_order_from(total)\n"
          "    copier = factory()\n    copier.copy_order_from(total)\n\n\ndef clone")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [COPY_ORDER_FROM, PLACE_ORDER]) and "shop/copier.py" in seen


def test_files_added_and_deleted(project, rechecked):
    _prime(rechecked)
    _write("shop/refunds.py", """\
        from shop.models import Shipment, Order


        def refund(order_id):
            Order.objects.filter(pk=order_id).delete()
            Shipment.objects.create(action=f"refund {order_id}")
        """)
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [("TXL101", "shop/refunds.py", 6, "shop.refunds.refund"), PLACE_ORDER])
    _edit("shop/refunds.py", "def refund", "# Refunds.\ndef refund")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [("TXL101", "shop/refunds.py", 7, "shop.refunds.refund"), PLACE_ORDER],
                                      ["shop/refunds.py"])
    # The helpers' file is deleted: what services.py calls is unknown now.
    os.remove("shop/helpers.py")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [("TXL101", "shop/refunds.py", 7, "shop.refunds.refund"), PLACE_ORDER])
    assert "shop/helpers.py" not in seen
    os.remove("shop/services.py")
    assert _same_as_uncached(rechecked)[:2] == (1, [("TXL101", "shop/refunds.py", 7, "shop.refunds.refund")])
    os.remove("shop/refunds.py")
    assert _same_as_uncached(rechecked)[:2] == (0, [])


def test_a_file_becomes_unparsable_then_parsable_again(project, rechecked):
    _prime(rechecked)
    _edit("shop/helpers.py", "def settle(order_id):", "def settle(order_id:")
    code, findings, seen = _same_as_uncached(rechecked)
    assert code == 1 and findings[0][:2] == ("TXL000", "shop/helpers.py")
    assert json.loads(_check()[1])["summary"]["parse_errors"] == 1
    # While it stays broken, a comment elsewhere takes the fast path; the TXL000 is still reported.
    _edit("shop/services.py", "from django.db", "# Services.\nfrom django.db")
    code, findings, seen = _same_as_uncached(rechecked)
    assert findings[0][:2] == ("TXL000", "shop/helpers.py") and seen == ["shop/services.py"]
    # Broken differently (another line): still a fast path, the TXL000 follows the new text.
    _edit("shop/helpers.py", "def settle(order_id:", "def settle(order_id):")
    _edit("shop/helpers.py", "def record(action):", "def record(action:")
    code, findings, seen = _same_as_uncached(rechecked)
    assert findings[0][:3] == ("TXL000", "shop/helpers.py", _syntax_error_line("shop/helpers.py")) and seen == []
    # Fixed, with a comment so that no earlier run's result answers.
    _edit("shop/helpers.py", "def record(action:", "# Fixed.\ndef record(action):")
    assert _same_as_uncached(rechecked) == (
        1, [("TXL101", "shop/services.py", 10, "shop.services.place_order")], ["shop/helpers.py", "shop/services.py"])


def _syntax_error_line(path):
    """Where the running Python places the syntax error (3.9's parser reports some later than 3.10+)."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    with pytest.raises(SyntaxError) as error:
        compile(source, path, "exec")
    return error.value.lineno


# Edits that change one part of what other modules read and nothing else, each changing another file's
# findings: (the edits made before the first run, the edit, the findings before, the findings after,
# the modules checked again).
CHECKOUT_BOTH_INSIDE = ("shop/services.py", "    with transaction.atomic():\n        settle(order_id)\n",
                        "    with transaction.atomic():\n        record(\"checkout\")\n        settle(order_id)\n")
QUICK_SETTLE = ("shop/reports.py", "def totals", "def quick_settle(order_id):\n    settle(order_id)\n\n\ndef totals")
SETTLE_IMPORTED = ("shop/reports.py", "from shop.models", "from shop.helpers import settle\nfrom shop.models")
LEGACY = ("shop/legacy.py", "", "def settle(order_id):\n    return order_id\n")
ONE_PART = {
    "the context of a call (moved out of a with block)": (
        [CHECKOUT_BOTH_INSIDE],
        ("shop/services.py", "        settle(order_id)\n", "    settle(order_id)\n"),
        [PLACE_ORDER], [SETTLE, PLACE_ORDER], ["helpers.py", "services.py"]),
    "a local assignment": (
        [("shop/helpers.py", "    Shipment.objects.create(action=action)",
          "    model = Shipment\n    model.objects.create(action=action)")],
        ("shop/helpers.py", "model = Shipment", "model = Order"),
        [PLACE_ORDER], [PLACE_ORDER, ARCHIVE], ["helpers.py", "services.py"]),
    "a decorator": (
        [QUICK_SETTLE, SETTLE_IMPORTED,
         ("shop/reports.py", "from shop.helpers", "from django.db import transaction\nfrom shop.helpers")],
        ("shop/reports.py", "def quick_settle", "@transaction.atomic\ndef quick_settle"),
        [SETTLE, PLACE_ORDER], [PLACE_ORDER], ["helpers.py", "reports.py"]),
    "an import": (
        [LEGACY, QUICK_SETTLE,
         ("shop/reports.py", "from shop.models", "from shop.legacy import settle\nfrom shop.models")],
        ("shop/reports.py", "from shop.legacy import settle", "from shop.helpers import settle"),
        # (legacy.settle writes nothing: no rule asked for its callers, so legacy.py is not checked again)
        [PLACE_ORDER], [SETTLE, PLACE_ORDER], ["helpers.py", "reports.py"]),
    "a class attribute (a model's table)": (
        [("pyproject.toml", "[tool.txlint]\n", '[tool.txlint]\nsnapshots = ["audit_log"]\n'),
         ("shop/models.py", "    action = models.CharField(max_length=20)\n",
          "    action = models.CharField(max_length=20)\n\n    class Meta:\n        db_table = \"audit_entries\"\n")],
        ("shop/models.py", "audit_entries", "audit_log"),
        [PLACE_ORDER], [("TXL401", "shop/helpers.py", 5, "shop.helpers.record"), PLACE_ORDER,
                        ("TXL401", "shop/services.py", 14, "shop.services.archive")],
        ["helpers.py", "models.py", "services.py"]),  # the ones that read Shipment
}


@pytest.mark.parametrize("case", list(ONE_PART), ids=list(ONE_PART))
def test_an_edit_of_one_part_rechecks_the_modules_that_read_it(project, rechecked, case):
    setup, edit, before, after, checked_again = ONE_PART[case]
    for path, old, new in setup:
        if old:
            _edit(path, old, new)
        else:
            _write(path, new)
    assert _prime(rechecked)[:2] == (1, before)
    _edit(*edit)
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, after)
    assert seen == ["shop/" + path for path in checked_again]


def test_a_parameter_resolved_from_a_callers_argument(project, rechecked):
    # mark() knows what `order` is only from what its caller passes (the caller's second call).
    _write("shop/billing.py", """\
        from shop.models import Invoice


        def mark(order):
            order.save()
            Invoice.objects.create(order=order)
        """)
    _write("shop/payments.py", """\
        from django.db import transaction

        from shop.billing import mark
        from shop.models import Order


        def pay(order_id):
            order = Order.objects.get(pk=order_id)
            mark(order)
        """)
    mark = ("TXL101", "shop/billing.py", 6, "shop.billing.mark")
    assert _prime(rechecked)[:2] == (1, [mark, PLACE_ORDER])
    _edit("shop/billing.py", "def mark", "# Marks.\ndef mark")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [mark[:2] + (7,) + mark[3:], PLACE_ORDER], ["shop/billing.py"])
    _edit("shop/payments.py", "    order = Order", "    # Paying.\n    order = Order")
    assert _same_as_uncached(rechecked) == (1, [mark[:2] + (7,) + mark[3:], PLACE_ORDER], ["shop/payments.py"])


def test_a_helper_called_from_a_materializer_block(project, rechecked):
    _write("pyproject.toml", '[tool.txlint]\nsnapshots = ["Invoice"]\n')
    _write("shop/snapshots.py", """\
        from shop.helpers import record
        from shop.models import Invoice
        from txlint.runtime import materializer


        def store(order):
            Invoice.objects.create(order=order)


        def rebuild(order):
            record("rebuild")
            with materializer():
                store(order)
        """)
    code, findings, _ = _prime(rechecked)
    # store() runs only inside the materializer block (the caller's second call): not reported.
    assert [(code, path) for code, path, _, _ in findings if code == "TXL401"] == [
        ("TXL401", "shop/helpers.py"), ("TXL401", "shop/services.py")]
    _edit("shop/snapshots.py", "def store", "# Stores.\ndef store")
    moved = [finding[:2] + (finding[2] + (finding[1] == "shop/snapshots.py"),) + finding[3:] for finding in findings]
    assert _same_as_uncached(rechecked) == (code, moved, ["shop/snapshots.py"])


# -- configuration ----------------------------------------------------------------------------------

def test_per_file_ignores_and_select_changed_between_runs(project, rechecked):
    _edit("shop/helpers.py", *RECORD_TOUCHES_ORDERS)
    assert _prime(rechecked)[:2] == (1, [RECORD, PLACE_ORDER, ARCHIVE])
    _write("pyproject.toml", '[tool.txlint]\nper-file-ignores = { "shop/services.py" = ["TXL101"] }\n')
    assert _same_as_uncached(rechecked) == (1, [RECORD], EVERY_MODULE)
    # With TXL101 ignored in services.py a suppression there is not judged (no TXL001).
    _edit("shop/services.py", "    record(action)", "    record(action)  # txlint: ignore[TXL101] -- audit")
    assert _same_as_uncached(rechecked) == (1, [RECORD], ["shop/services.py"])
    _write("pyproject.toml", '[tool.txlint]\nselect = ["TXL102", "TXL001"]\n')
    assert _same_as_uncached(rechecked) == (0, [], EVERY_MODULE)
    _write("pyproject.toml", '[tool.txlint]\nselect = ["TXL101", "TXL001"]\n')
    assert _same_as_uncached(rechecked)[:2] == (1, [RECORD, PLACE_ORDER])
    # Back to the first configuration: its state is the primed run's, from before the suppression.
    _write("pyproject.toml", PROJECT["pyproject.toml"])
    assert _same_as_uncached(rechecked) == (1, [RECORD, PLACE_ORDER], ["shop/services.py"])
    # The same through the command line.
    assert _same_as_uncached(rechecked, "--ignore", "TXL101") == (0, [], EVERY_MODULE)
    _edit("shop/services.py", "-- audit", "-- audit only")
    assert _same_as_uncached(rechecked, "--ignore", "TXL101") == (0, [], ["shop/services.py"])
    _edit("shop/services.py", "    record(action)  # txlint: ignore[TXL101] -- audit only", "    record(action)")
    assert _same_as_uncached(rechecked, "--select", "TXL1") == (1, [RECORD, PLACE_ORDER, ARCHIVE], EVERY_MODULE)
    assert _same_as_uncached(rechecked, "--ignore", "TXL101") == (0, [], ["shop/services.py"])


# -- processes, the real command line, what --diff and SARIF read ---------------------------------

def test_one_process_or_two(project, rechecked):
    _prime(rechecked, "--jobs", "2")
    _edit("shop/services.py", "from django.db", "# Services.\nfrom django.db")
    for jobs in ("1", "2"):
        _edit("shop/helpers.py", "from shop", f"# jobs {jobs}\nfrom shop")
        cached = _check("--jobs", jobs)
        assert cached == _check("--no-cache", "--jobs", "1") == _check("--no-cache", "--jobs", "2")
        assert json.loads(cached[1])["findings"][0]["line"] == 10
    _edit("shop/helpers.py", *RECORD_TOUCHES_ORDERS)
    assert _same_as_uncached(rechecked, "--jobs", "2")[2] == ["shop/helpers.py", "shop/services.py"]


def test_the_command_line_agrees_and_its_state_is_reused_by_another_process(project, txlint, rechecked):
    # Another process, with another string hash seed: interface digests must not depend on it.
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    code, out, err = txlint("check", "--format", "json", env={"PYTHONHASHSEED": seed})
    assert (code, out, err) == _check("--no-cache")
    _edit("shop/services.py", "from django.db", "# Services.\nfrom django.db")
    assert _same_as_uncached(rechecked) == (
        1, [("TXL101", "shop/services.py", 10, "shop.services.place_order")], ["shop/services.py"])
    _edit("shop/helpers.py", "from shop", "# Helpers.\nfrom shop")
    assert txlint("check", "--format", "json", "--jobs", "2", env={"PYTHONHASHSEED": seed}) == _check("--no-cache")


def test_an_editor_buffer(project, rechecked):
    from txlint.flake8_plugin import analyse_buffer

    def lint(text):
        found = analyse_buffer("shop/services.py", text).for_file("shop/services.py")
        return [(finding, finding.statement) for finding in found]

    first = lint(SERVICES)
    assert [(finding.line, statement) for finding, statement in first] == [(9, "Invoice.objects.create(order=order)")]
    for text in ("# Unsaved.\n" + SERVICES,
                 SERVICES.replace("(order=order)\n", "(order=order)  # txlint: ignore[TXL101] -- why\n"),
                 SERVICES.replace("def place_order", "@transaction.atomic\ndef place_order")):
        warm = lint(text)
        shutil.rmtree(".txlint_cache")
        assert warm == lint(text)


def _run(paths, cache):
    config = load_config(None, tuple(rule.code for rule in all_rules()))
    return check_files(discover(paths, config), Linter(config, all_rules()), jobs=1, cache=cache)


def _everything(run: RunResult):
    """Every field of a run that a front end reads (--diff, baselines, SARIF, hints)."""
    skip = {"state"}
    values = {f.name: getattr(run, f.name) for f in fields(run) if f.name not in skip}
    values["statements"] = [finding.statement for finding in run.findings + run.suppressed]
    return values


def test_the_run_result_is_the_same_in_every_field(project, rechecked):
    _edit("shop/services.py", "    record(action)", "    record(action)  # txlint: ignore[TXL101] -- audit")
    _edit("shop/helpers.py", *RECORD_TOUCHES_ORDERS)
    cache = Cache(str(project))
    _run(["."], cache)
    _edit("shop/helpers.py", "def record", "# Record.\n\ndef record")
    del rechecked[:]
    incremental = _run(["."], cache)
    assert rechecked == ["shop/helpers.py"]
    fresh = _run(["."], None)
    assert _everything(incremental) == _everything(fresh)
    assert incremental.suppressed and incremental.suppression_reasons and incremental.calls
    assert incremental.function_ranges[("shop/helpers.py", "shop.helpers.record")] == (6, 8)


# -- what other files' findings depend on besides interfaces --------------------------------------

def test_a_view_wrapped_by_a_transaction_in_urls_stays_wrapped(tree, tmp_path, monkeypatch, rechecked):
    tree({
        "pyproject.toml": "[tool.txlint]\n",
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/views.py": """\
            from shop.models import Invoice, Order


            def create_order(request):
                order = Order.objects.create(total=1)
                Invoice.objects.create(order=order)
            """,
        "shop/urls.py": """\
            from django.db import transaction
            from django.urls import path

            from shop import views

            urlpatterns = [path("orders/", transaction.atomic(views.create_order))]
            """,
    })
    monkeypatch.chdir(tmp_path)
    assert _prime(rechecked)[:2] == (0, [])
    _edit("shop/views.py", "def create_order", "# Views.\ndef create_order")
    assert _same_as_uncached(rechecked) == (0, [], ["shop/views.py"])


def test_the_raw_sql_hint_is_kept(tree, tmp_path, monkeypatch, rechecked):
    tree({
        "pyproject.toml": "[tool.txlint]\n",
        "jobs.py": """\
            import sqlite3


            def run(path):
                conn = sqlite3.connect(path)
                conn.execute("UPDATE accounts SET balance = 0")
                conn.commit()
                conn.execute("INSERT INTO audit VALUES (1)")
                conn.commit()
            """,
        "other.py": "X = 1\n",
    })
    monkeypatch.chdir(tmp_path)
    code, findings, _ = _prime(rechecked)
    assert "hint: no ORM" in _check()[2]
    _edit("other.py", "X = 1", "# other\nX = 1")
    assert _same_as_uncached(rechecked) == (code, findings, ["other.py"])
    assert "hint: no ORM" in _check()[2]


def test_modules_with_the_same_name_in_two_directories(tree, tmp_path, monkeypatch, rechecked):
    # Directories without __init__.py: both files are the module `job`, so the project has one unit
    # `job.main` (b's), which a/job.py's functions are checked as: a/job.py's findings depend on
    # b/job.py's positions, and its outcome must not be reused when only b/job.py changed.
    job = """\
        from shop.models import Invoice, Order


        def main(total):
            order = Order.objects.create(total=total)
            Invoice.objects.create(order=order)
        """
    tree({"pyproject.toml": "[tool.txlint]\n", "shop/__init__.py": "", "shop/models.py": MODELS,
          "a/job.py": job, "b/job.py": job})
    monkeypatch.chdir(tmp_path)
    _prime(rechecked)
    _write("b/job.py", "# A comment.\n\n" + textwrap.dedent(job))
    code, findings, _ = _same_as_uncached(rechecked)
    assert code == 1 and [finding[1] for finding in findings] == ["a/job.py", "b/job.py"]
    _write("a/job.py", "# Another.\n" + textwrap.dedent(job))
    code, findings, _ = _same_as_uncached(rechecked)
    assert code == 1 and [finding[1] for finding in findings] == ["a/job.py", "b/job.py"]


def test_the_same_paths_seen_from_two_directories(tree, tmp_path, monkeypatch, rechecked):
    # Paths are shown relative to the working directory, but configured patterns are anchored at the
    # root: x.py is allowed its raw SQL in a/ only. Run in a/, then in b/ (the same shown paths).
    wipe = """\
        from django.db import connection, models


        class Order(models.Model):
            total = models.IntegerField()


        def wipe():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM orders")
        """
    tree({"pyproject.toml": '[tool.txlint]\nraw-sql-allowed = ["a/**"]\n',
          "a/x.py": wipe, "a/y.py": "Y = 1\n", "b/x.py": wipe, "b/y.py": "Y = 1\n"})
    monkeypatch.chdir(tmp_path / "a")
    assert _same_as_uncached(rechecked)[:2] == (0, [])
    assert (tmp_path / ".txlint_cache").is_dir()
    monkeypatch.chdir(tmp_path / "b")
    raw_sql = [("TXL201", "x.py", 10, "b.x.wipe")]
    assert _same_as_uncached(rechecked)[:2] == (1, raw_sql)  # the same files: the whole run's result
    _edit("y.py", "Y = 1", "# b\nY = 1")
    monkeypatch.chdir(tmp_path / "a")
    _edit("y.py", "Y = 1", "# a\nY = 1")
    assert _same_as_uncached(rechecked)[:2] == (0, [])
    monkeypatch.chdir(tmp_path / "b")
    assert _same_as_uncached(rechecked)[:2] == (1, raw_sql)  # x.py's outcome in a/ is not b/'s


# -- an unchanged tree: answered from the files' sizes and times --------------------------------

def test_an_unchanged_tree_is_answered_without_reading_a_file(project, rechecked, monkeypatch):
    import txlint.engine

    _prime(rechecked)
    reads = []
    real_load_source = txlint.engine.load_source
    monkeypatch.setattr(txlint.engine, "load_source",
                        lambda path, *names: reads.append(path) or real_load_source(path, *names))
    assert _check()[0] == 1 and reads == []
    # The same size, another content: the file's times changed, so it is read and checked again.
    _edit("shop/services.py", "Order.objects.create(total=total)", "Order.objects.create(total=99999)")
    stat = os.stat("shop/services.py")
    os.utime("shop/services.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    reads.clear()
    _, seen = _compare(rechecked)
    assert reads and seen  # read again, and the same output as --no-cache (`_compare`)


def test_an_edit_starts_from_the_latest_run_even_when_that_run_was_answered_from_the_cache(project, rechecked):
    with open("shop/services.py", encoding="utf-8") as handle:
        original = handle.read()
    _prime(rechecked)
    _write("shop/services.py", original + "\n\ndef added():\n    return print('added')\n")
    assert _same_as_uncached(rechecked)[2] == ["shop/services.py"]  # a function no other module reads
    _write("shop/services.py", original)
    _same_as_uncached(rechecked)  # the original tree again: answered from the cache
    _write("shop/services.py", original + "\n# a comment\n")
    assert _same_as_uncached(rechecked)[2] == ["shop/services.py"]  # compared with the original, not `added`



def _forget_facts(path, module):
    from txlint.cache import file_key

    with open(path, "rb") as handle:
        Cache(".")._path("facts", file_key(path, module, handle.read())).unlink()


def test_facts_gone_from_the_cache_start_the_run_over_in_full(project, rechecked):
    _prime(rechecked)
    # The edited file's previous facts are gone: what changed in it cannot be told.
    _forget_facts("shop/helpers.py", "shop.helpers")
    _edit("shop/helpers.py", *RECORD_TOUCHES_ORDERS)
    assert _same_as_uncached(rechecked) == (1, [RECORD, PLACE_ORDER, ARCHIVE], EVERY_MODULE)
    # An unchanged file's facts are gone: found out only when services.py, checked again, asks for
    # record() in helpers.py; the run starts over in full.
    _forget_facts("shop/helpers.py", "shop.helpers")
    _edit("shop/services.py", "    record(action)", "    record(action)\n    record(action)")
    assert _same_as_uncached(rechecked) == (1, [RECORD, PLACE_ORDER, ARCHIVE], EVERY_MODULE)


def test_only_the_last_few_states_are_kept(project, rechecked):
    import glob

    from txlint.engine import _STATES_KEPT

    _prime(rechecked)
    for number in range(_STATES_KEPT + 3):
        _edit("shop/reports.py", "def totals", f"# edit {number}\ndef totals")
        assert _same_as_uncached(rechecked)[2] == ["shop/reports.py"]
        assert len(glob.glob(".txlint_cache/*/states/*/*")) == min(number + 2, _STATES_KEPT)


# -- what the reviewers found: each an edit after which a cached run differed from --no-cache ----

def _start(tree, tmp_path, monkeypatch, rechecked, files):
    tree({"pyproject.toml": "[tool.txlint]\n", "shop/__init__.py": "", "shop/models.py": MODELS, **files})
    monkeypatch.chdir(tmp_path)
    return _prime(rechecked)


def test_a_migration_made_atomic(tree, tmp_path, monkeypatch, rechecked):
    migration = """\
        from django.db import migrations

        from shop.helpers import settle


        def forwards(apps, schema_editor):
            settle(1)


        class Migration(migrations.Migration):
            atomic = False
            operations = [migrations.RunPython(forwards)]
        """
    assert _start(tree, tmp_path, monkeypatch, rechecked,
                  {"shop/helpers.py": HELPERS, "shop/migrations/__init__.py": "",
                   "shop/migrations/0002_settle.py": migration})[:2] == (1, [SETTLE])
    # The helper is now called only in a transaction: the class's attribute is what changed.
    _edit("shop/migrations/0002_settle.py", "atomic = False", "atomic = True")
    assert _same_as_uncached(rechecked)[:2] == (0, [])


def test_two_callers_swapped(tree, tmp_path, monkeypatch, rechecked):
    # h() knows what `o` is from its first caller whose argument resolves: an Order (two tables
    # written, TXL101) or an Invoice (one).
    views = """\
        from shop.helper import h
        from shop.models import Invoice, Order


        def with_invoice():
            h(Invoice.objects.get(pk=1))


        def with_order():
            h(Order.objects.get(pk=1))
        """
    helper = "from shop.models import Invoice\n\n\ndef h(o):\n    o.save()\n    Invoice.objects.create(order=o)\n"
    files = {"shop/helper.py": helper, "shop/views.py": views}
    assert _start(tree, tmp_path, monkeypatch, rechecked, files)[:2] == (0, [])
    swapped = textwrap.dedent(views).split("\n\n\n")
    _write("shop/views.py", "\n\n\n".join([swapped[0], swapped[2].rstrip("\n"), swapped[1]]) + "\n")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings, seen) == (1, [("TXL101", "shop/helper.py", 6, "shop.helper.h")],
                                      ["shop/helper.py", "shop/views.py"])


def test_a_snapshot_model_loses_its_model_base_after_another_edit(tree, tmp_path, monkeypatch, rechecked):
    # The snapshot tables are worked out once per run, for every module: what that read must count
    # for the modules checked after it (views.py, a materializer, never asks for them itself).
    files = {
        "pyproject.toml": '[tool.txlint]\nsnapshots = ["Ledger"]\nmaterializers = ["shop/views.py"]\n',
        "shop/base.py": "from django.db import models\n\n\nclass Base(models.Model):\n    pass\n",
        "shop/ledger.py": "from shop.base import Base\n\n\nclass Ledger(Base):\n    pass\n",
        "shop/views.py": "from shop.ledger import Ledger\nfrom shop.models import Order\n\n\n"
                         "def place(total):\n    Ledger.objects.create(total=total)\n    Order.objects.create(total=total)\n",
        "shop/zcaller.py": "def go():\n    pass\n",
    }
    code, findings, _ = _start(tree, tmp_path, monkeypatch, rechecked, files)
    assert ("TXL101", "shop/views.py", 7, "shop.views.place") in findings
    _write("shop/zcaller.py", "from shop.views import place\n\n\ndef go():\n    place()\n")
    _same_as_uncached(rechecked)
    _write("shop/base.py", "class Base:\n    pass\n")
    assert _same_as_uncached(rechecked)[:2] == (0, [])


SIGNALS = """\
from django.dispatch import Signal

order_placed = Signal()
"""

SENDER = """\
from shop.models import Order
from shop.signals import order_placed


def place_and_announce(total):
    order = Order.objects.create(total=total)
    order_placed.send(sender=order)
    return order
"""

RECEIVERS = """\
import logging

from django.dispatch import receiver

from shop.models import Invoice
from shop.signals import order_placed


@receiver(order_placed)
def announce(sender, **kwargs):
    logging.info("placed %s", sender.pk)
"""
ANNOUNCE = ("TXL101", "shop/announce.py", 7, "shop.announce.place_and_announce")


def test_a_receiver_in_another_file_gains_a_write_loses_its_decorator_and_is_connected_again(project, rechecked):
    _write("shop/signals.py", SIGNALS)
    _write("shop/announce.py", SENDER)
    _write("shop/receivers.py", RECEIVERS)
    assert _prime(rechecked)[:2] == (1, [PLACE_ORDER])
    # The receiver writes a row of the order sent: the send makes the second write of a unit of work.
    _edit("shop/receivers.py", '    logging.info("placed %s", sender.pk)', "    Invoice.objects.create(order=sender)")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [ANNOUNCE, PLACE_ORDER]) and "shop/announce.py" in seen
    # No longer connected.
    _edit("shop/receivers.py", "@receiver(order_placed)\n", "")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [PLACE_ORDER]) and "shop/announce.py" in seen
    # Connected again, by a call in a new file.
    _write("shop/apps.py", "from shop.receivers import announce\nfrom shop.signals import order_placed\n\n\n"
                           "def ready():\n    order_placed.connect(announce)\n")
    code, findings, seen = _same_as_uncached(rechecked)
    assert (code, findings) == (1, [ANNOUNCE, PLACE_ORDER]) and "shop/announce.py" in seen
    os.remove("shop/apps.py")
    assert _same_as_uncached(rechecked)[:2] == (1, [PLACE_ORDER])
