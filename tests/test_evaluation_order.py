"""What txlint finds in a function does not depend on which function or file it looked at first.

The project model memoises what it works out; a value worked out on the way to something else
(a helper's effects, deep in a caller's call chain) must be the value the helper has on its own.
Incremental runs rely on it: they check a changed module against a model that has seen nothing else.
"""

import itertools
import textwrap

import pytest

from txlint.engine import lint_sources
from txlint.project import _MAX_CALL_DEPTH

MODELS = """\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    number = models.IntegerField()
"""

# settle() writes Order itself and Invoice through bill(): two tables outside a transaction.
HELPERS = """\
from shop.models import Invoice, Order


def bill():
    Invoice.objects.create(number=1)


def settle():
    Order.objects.filter(total=0).delete()
    bill()
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
    from txlint.engine import Linter, read_file
    from txlint.rules import all_rules

    from helpers import REPOSITORY

    monkeypatch.chdir(REPOSITORY / "fixtures" / fixture)
    config = load_config(None, tuple(rule.code for rule in all_rules()))
    results = [read_file(path) for path in discover(["."], config)]
    linter = Linter(config, all_rules())
    forward = [finding.as_dict() for finding in linter.run(results).findings]
    assert forward  # each fixture has findings to compare
    assert [finding.as_dict() for finding in linter.run(results[::-1]).findings] == forward
