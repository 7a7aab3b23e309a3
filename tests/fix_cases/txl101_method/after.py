from django.db import models, transaction


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


class Checkout:
    @staticmethod
    @transaction.atomic
    def place(total):
        order = Order.objects.create(total=total)
        Invoice.objects.create(order=order)
        return order
