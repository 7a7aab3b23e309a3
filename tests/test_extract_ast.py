"""The `ast` extractor keeps what the libcst one recorded (see the port in txlint/extract.py)."""

from txlint.linter import lint_sources
from txlint.parsing import facts_from_source

MODELS = """\
from django.db import models


class Order(models.Model):
    x = models.IntegerField()


class Item(models.Model):
    x = models.IntegerField()
    order = models.ForeignKey(Order, null=True, on_delete=models.CASCADE)
"""


def _findings(source):
    found = lint_sources({"shop/models.py": MODELS, "shop/services.py": source},
                         modules={"shop/models.py": "shop.models", "shop/services.py": "shop.services"})
    return [(finding.code, finding.line, finding.column) for finding in found if finding.path == "shop/services.py"]


def test_a_starred_element_of_a_list_display_keeps_what_it_unpacks():
    source = (
        "from shop.models import Order\n"
        "\n"
        "\n"
        "def backfill_orders(extra):\n"
        "    for order in [*Order.objects.filter(x=1), *extra]:\n"
        "        order.save()\n"
    )
    assert ("TXL102", 6, 9) in _findings(source)
    facts = facts_from_source(source, "shop/services.py", "shop.services").facts
    assert facts.functions["shop.services.backfill_orders"].loops[1].iterable[1][0][0] == "call"


def test_a_dict_display_runs_each_key_before_its_value():
    source = (
        "from shop.models import Item, Order\n"
        "\n"
        "\n"
        "def index(order: Order):\n"
        "    return {order.save(): Item.objects.create(order=order), Item.objects.create(x=3): 1}\n"
    )
    facts = facts_from_source(source, "shop/services.py", "shop.services").facts
    columns = [event.range[1] for event in facts.functions["shop.services.index"].events]
    assert columns == [13, 27, 61]
    # The second write in the order Python runs them is `Item.objects.create(order=order)`, at column 27.
    assert ("TXL101", 5, 27) in _findings(source)


def test_a_parenthesised_tuple_subscript_keeps_its_key():
    # `paths[(order_id, "pdf")]` links the file to the row through order_id (libcst's one index);
    # `paths[order_id, "pdf"]` (several indexes) was unknown before the port and still is.
    source = (
        "from shop.models import Order\n"
        "\n"
        "\n"
        "def export(order_id, paths):\n"
        "    path = paths[(order_id, 'pdf')]\n"
        "    Order.objects.create(x=order_id)\n"
        "    with open(path, 'wb') as handle:\n"
        "        handle.write(b'x')\n"
    )
    assert ("TXL301", 7, 10) in _findings(source)
    bindings = facts_from_source(source, "shop/services.py", "shop.services").facts.functions[
        "shop.services.export"].bindings
    assert bindings["path"] == [("sub", ("name", "paths"), ("list", (("name", "order_id"), ("str", "pdf"))))]
    bare = source.replace("paths[(order_id, 'pdf')]", "paths[order_id, 'pdf']")
    assert facts_from_source(bare, "shop/services.py", "shop.services").facts.functions[
        "shop.services.export"].bindings["path"] == [("sub", ("name", "paths"), ("?",))]
