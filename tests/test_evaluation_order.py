"""What txlint finds in a function does not depend on which function or file it looked at first.

The project model memoises what it works out; a value worked out on the way to something else
(a helper's effects, deep in a caller's call chain) must be the value the helper has on its own.
Incremental runs rely on it: they check a changed module against a model that has seen nothing else.
"""

import itertools
import textwrap

import pytest

from txlint.linter import lint_sources
from txlint.project import _MAX_CALL_DEPTH

MODELS = """\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    number = models.IntegerField()
    order = models.ForeignKey(Order, null=True, on_delete=models.SET_NULL)
"""

# settle() writes Order itself and Invoice for it through bill(): two tables outside a transaction.
HELPERS = """\
from shop.models import Invoice, Order


def bill(order):
    Invoice.objects.create(number=1, order=order)


def settle():
    order = Order.objects.create(total=1)
    bill(order)
"""


def _chain(length):
    """step0() -> step1() -> ... -> settle(): settle() is met `length` calls below step0()."""
    lines = ["from shop.helpers import settle", ""]
    for number in range(length):
        callee = f"step{number + 1}" if number + 1 < length else "settle"
        lines += ["", f"def step{number}():", f"    {callee}()", ""]
    return "\n".join(lines)


def _findings(order):
    sources = {
        "shop/models.py": MODELS,
        "shop/helpers.py": HELPERS,
        "shop/chain.py": _chain(_MAX_CALL_DEPTH),  # settle() sits at the depth where its helpers are cut off
    }
    return sorted((finding.code, finding.path, finding.function)
                  for finding in lint_sources({path: textwrap.dedent(sources[path]) for path in order}))


@pytest.mark.parametrize("order", list(itertools.permutations(["shop/models.py", "shop/helpers.py", "shop/chain.py"])))
def test_a_helper_met_at_the_depth_limit_first_keeps_its_own_findings(order):
    # The call chain is checked before the helper in half of the orders: the helper's effects seen
    # from the bottom of the chain leave bill() out, and must not stand for its own.
    findings = _findings(order)
    assert ("TXL101", "shop/helpers.py", "shop.helpers.settle") in findings
    assert findings == _findings(["shop/models.py", "shop/helpers.py", "shop/chain.py"])



@pytest.mark.parametrize("fixture", ["django_shop", "sqlalchemy_app", "peewee_app", "tortoise_app", "dbapi_scripts"])
def test_each_fixture_gives_the_same_findings_whatever_order_its_files_are_checked_in(fixture, monkeypatch):
    from txlint.config import load_config
    from txlint.discovery import discover
    from txlint.linter import Linter
    from txlint.parsing import read_file
    from txlint.rules import all_rules

    from helpers import REPOSITORY

    monkeypatch.chdir(REPOSITORY / "fixtures" / fixture)
    config = load_config(None, tuple(rule.code for rule in all_rules()))
    results = [read_file(path) for path in discover(["."], config)]
    linter = Linter(config, all_rules())
    forward = [finding.as_dict() for finding in linter.run(results).findings]
    assert forward  # each fixture has findings to compare
    assert [finding.as_dict() for finding in linter.run(results[::-1]).findings] == forward


def _project_findings(sources, order):
    return sorted((finding.code, finding.path, finding.line, finding.function)
                  for finding in lint_sources({path: textwrap.dedent(sources[path]) for path in order}))


# An Order passed down a chain of calls: f4 knows what `o` is only through f5's and f6's
# arguments, asked for from deeper in the chain (f1's `o`) first in one order.
PASSED_DOWN = {
    "shop/models.py": MODELS,
    "shop/m1.py": "from shop.models import Invoice\n\n\n"
                  "def f1(o):\n    o.save()\n    Invoice.objects.create(number=1, order=o)\n",
    "shop/m2.py": "from shop.m1 import f1\n\n\ndef f2(o):\n    f1(o)\n",
    "shop/m3.py": "from shop.m2 import f2\n\n\ndef f3(o):\n    f2(o)\n",
    "shop/m4.py": "from shop.m3 import f3\nfrom shop.models import Invoice\n\n\n"
                  "def f4(o):\n    o.save()\n    Invoice.objects.create(number=1, order=o)\n    f3(o)\n",
    "shop/m5.py": "from shop.m4 import f4\n\n\ndef f5(o):\n    f4(o)\n",
    "shop/m6.py": "from shop.m5 import f5\nfrom shop.models import Order\n\n\n"
                  "def f6():\n    o = Order.objects.get(pk=1)\n    f5(o)\n",
}


def test_a_value_cut_short_by_the_depth_limit_is_not_taken_for_its_value_nearer_the_top():
    forward = _project_findings(PASSED_DOWN, sorted(PASSED_DOWN))
    assert ("TXL101", "shop/m4.py", 7, "shop.m4.f4") in forward
    assert _project_findings(PASSED_DOWN, sorted(PASSED_DOWN, reverse=True)) == forward


# main() reaches z()'s write five calls down; k() reaches g() deeper first, through a() and b(),
# where g()'s helpers are cut off, and then f() through c().
CUT_SHORT_THEN_REUSED = {
    "shop/models.py": MODELS,
    "shop/chain.py": """\
        from shop.models import Invoice


        def f(order):
            g(order)


        def g(order):
            x(order)


        def x(order):
            y(order)


        def y(order):
            z(order)


        def z(order):
            Invoice.objects.create(number=1, order=order)
        """,
    "shop/a_k.py": """\
        from shop.chain import f, g


        def k(order):
            a(order)
            c(order)


        def a(order):
            b(order)


        def b(order):
            g(order)


        def c(order):
            f(order)
        """,
    "shop/z_main.py": """\
        from shop.chain import f
        from shop.models import Order


        def main():
            order = Order.objects.create(total=1)
            f(order)
        """,
}


def test_effects_worked_out_from_cut_short_effects_are_cut_short_too():
    forward = _project_findings(CUT_SHORT_THEN_REUSED, sorted(CUT_SHORT_THEN_REUSED))
    assert ("TXL101", "shop/z_main.py", 7, "shop.z_main.main") in forward
    assert _project_findings(CUT_SHORT_THEN_REUSED, sorted(CUT_SHORT_THEN_REUSED, reverse=True)) == forward
