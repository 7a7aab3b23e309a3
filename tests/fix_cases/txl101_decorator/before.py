"""Orders."""
from django.contrib.auth.decorators import login_required
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


# Place the order and bill it.
@login_required
def place_order(request, total):  # the view
    order = Order.objects.create(total=total)  # first
    # then the invoice
    Invoice.objects.create(order=order)
    return order
