import logging

from django.db import models, transaction


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


@transaction.atomic
def place_order(total):
    order = Order.objects.create(total=total)
    try:
        Invoice.objects.create(order=order)
    except Exception:
        logging.exception("no invoice")
    return order
