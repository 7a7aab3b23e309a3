from django.db import models
from django.db.transaction import atomic as in_one_transaction


class Customer(models.Model):
    points = models.IntegerField()


def backfill_points():
    for customer in Customer.objects.all():
        customer.points = 10
        customer.save()
