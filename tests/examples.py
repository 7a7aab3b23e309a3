"""Small sources shared by the tests: one that each rule flags, one that is clean."""

MULTI_TABLE = '''\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


def place_order(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
    return order
'''

CLEAN = '''\
from django.db import models, transaction


class Order(models.Model):
    total = models.IntegerField()


@transaction.atomic
def place_order(total):
    return Order.objects.create(total=total)
'''

# Two models in one module, and a view in another that writes both outside a transaction: a
# hazard only the project as a whole shows.
MODELS = '''\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
'''

VIEW = '''\
from app.models import Invoice, Order


def place_order(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
'''
