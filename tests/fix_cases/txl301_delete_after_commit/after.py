import os

from django.db import models, transaction
from functools import partial


class Document(models.Model):
    path = models.CharField(max_length=200)


def replace_document(pk, new_path):
    document = Document.objects.get(pk=pk)
    with transaction.atomic():
        transaction.on_commit(partial(os.remove, document.path))  # the old file
        document.path = new_path
        document.save()
    return document
