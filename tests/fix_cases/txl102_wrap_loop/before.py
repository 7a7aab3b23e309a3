from django.db import models


class Customer(models.Model):
    points = models.IntegerField()


def backfill_points():
    print("starting")
    # every customer gets ten points
    for customer in Customer.objects.all():
        customer.points = 10
        customer.save()  # one row
    print("done")
