"""Django signals: a `send()` of a project signal runs the receivers connected to it (txlint.model_signals)."""

import textwrap

import pytest

from txlint.linter import lint_sources

MODELS = """\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
"""

SIGNALS = """\
from django.dispatch import Signal

order_placed = Signal()
"""


def _findings(receivers: str, sender: str):
    sources = {"shop/models.py": MODELS, "shop/signals.py": SIGNALS,
               "shop/receivers.py": textwrap.dedent(receivers), "shop/services.py": textwrap.dedent(sender)}
    found = lint_sources(sources, modules={path: path[:-3].replace("/", ".") for path in sources})
    return sorted((finding.path, finding.line, finding.code) for finding in found)


PLACE = """\
    from shop.models import Order
    from shop.signals import order_placed


    def place(total):
        order = Order.objects.create(total=total)
        order_placed.send(sender=order)
    """

FLAGGED = {
    "a receiver connected by its decorator": """\
        from django.dispatch import receiver
        from shop.models import Invoice
        from shop.signals import order_placed


        @receiver(order_placed)
        def bill(sender, **kwargs):
            Invoice.objects.create(order=sender)
        """,
    "an aliased signal in a list, the decorator imported from django.dispatch.dispatcher": """\
        from django.dispatch.dispatcher import receiver as connected_to
        from shop.models import Invoice
        from shop import signals


        @connected_to([signals.order_placed])
        def bill(sender, **kwargs):
            Invoice.objects.create(order=sender)
        """,
    "connected by a call, with receiver=": """\
        from shop.models import Invoice
        from shop.signals import order_placed as placed


        def bill(sender, **kwargs):
            Invoice.objects.create(order=sender)


        def ready():
            placed.connect(receiver=bill, sender=None)
        """,
    "connected for the sender's model": """\
        from django.dispatch import receiver
        from shop.models import Invoice, Order
        from shop.signals import order_placed


        @receiver(order_placed, sender=Order)
        def bill(sender, **kwargs):
            Invoice.objects.create(order=sender)
        """,
}

CLEAN = {
    "a receiver connected for another sender": """\
        from django.dispatch import receiver
        from shop.models import Invoice, Refund
        from shop.signals import order_placed


        @receiver(order_placed, sender=Refund)
        def bill(sender, **kwargs):
            Invoice.objects.create(order=sender)
        """,
    "a receiver of another signal of that name": """\
        from django.dispatch import Signal, receiver
        from shop.models import Invoice

        order_placed = Signal()


        @receiver(order_placed)
        def bill(sender, **kwargs):
            Invoice.objects.create(order=sender)
        """,
    "a function given to another object's connect()": """\
        from shop.models import Invoice


        def bill(sender, **kwargs):
            Invoice.objects.create(order=sender)


        def ready(pool):
            pool.connect(bill)
        """,
}


@pytest.mark.parametrize("receivers", FLAGGED.values(), ids=FLAGGED.keys())
def test_the_receivers_writes_happen_at_the_send(receivers):
    assert _findings(receivers, PLACE) == [("shop/services.py", 7, "TXL101")]


@pytest.mark.parametrize("receivers", CLEAN.values(), ids=CLEAN.keys())
def test_a_function_not_connected_to_the_signal_sent_is_not_run(receivers):
    assert _findings(receivers, PLACE) == []


def test_a_receiver_sent_only_inside_a_transaction_is_not_a_finding_of_its_own():
    receivers = """\
        from django.dispatch import receiver
        from shop.models import Invoice, Refund
        from shop.signals import order_placed


        @receiver(order_placed)
        def bill(sender, **kwargs):
            invoice = Invoice.objects.create(order=sender)
            Refund.objects.create(order=invoice.order)
        """
    atomic = """\
        from django.db import transaction
        from shop.models import Order
        from shop.signals import order_placed


        @transaction.atomic
        def place(total):
            order = Order.objects.create(total=total)
            order_placed.send(sender=order)
        """
    assert _findings(receivers, atomic) == []
    assert _findings(receivers, textwrap.dedent(atomic).replace("@transaction.atomic\n", "")) == [
        ("shop/receivers.py", 9, "TXL101"), ("shop/services.py", 8, "TXL101")]


def test_a_model_signal_receiver_is_not_followed_into_every_save():
    receivers = """\
        from django.db.models.signals import post_save
        from django.dispatch import receiver
        from shop.models import Invoice, Order


        @receiver(post_save, sender=Order)
        def bill(sender, instance, created, **kwargs):
            Invoice.objects.create(order=instance)
        """
    sender = """\
        from shop.models import Order


        def place(total):
            order = Order.objects.create(total=total)
            order.total = total + 1
            order.save()
        """
    assert _findings(receivers, sender) == []
