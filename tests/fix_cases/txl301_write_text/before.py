from pathlib import Path

from django.db import models


class Report(models.Model):
    path = models.CharField(max_length=200)


def save_report(name, body):
    path = Path("/srv/reports") / f"{name}.txt"
    report = Report.objects.create(path=str(path))
    path.write_text(body, encoding="utf-8")
    return report
