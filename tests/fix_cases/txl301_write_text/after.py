from pathlib import Path

from django.db import models
from txlint.runtime import atomic, stage_file


class Report(models.Model):
    path = models.CharField(max_length=200)


def save_report(name, body):
    path = Path("/srv/reports") / f"{name}.txt"
    with atomic():
        report = Report.objects.create(path=str(path))
        stage_file(path, body)
    return report
