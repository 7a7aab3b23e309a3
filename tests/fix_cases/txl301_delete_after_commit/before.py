import os

from django.db import models


class Document(models.Model):
    path = models.CharField(max_length=200)


def replace_document(pk, new_path):
    document = Document.objects.get(pk=pk)
    os.remove(document.path)  # the old file
    document.path = new_path
    document.save()
    return document
