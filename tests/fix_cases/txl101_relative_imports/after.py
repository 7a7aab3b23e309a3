from django.db.models import CASCADE, ForeignKey, IntegerField, Model
from django.db import transaction

from .pricing import total_of


class Order(Model):
    total = IntegerField()


class Invoice(Model):
    order = ForeignKey(Order, on_delete=CASCADE)


@transaction.atomic
def place_order(items):
    order = Order.objects.create(total=total_of(items))
    Invoice.objects.create(order=order)
    return order
