from django.db import models
from django.db import transaction as tx


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


@tx.atomic
def place_order(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
    return order
