"""The linter knows the backfill runner: a writer decorated with `@batch_writer` runs inside the
batch's transaction (its loop of writes is not TXL102), and TXL102's message in a management
command or a script points to the runner."""

import textwrap

from txlint.config import Config
from txlint.linter import lint_sources

MODELS = """
    from django.db import models


    class Part(models.Model):
        name = models.CharField(max_length=100)
    """

ROW_BY_ROW = """
    from django.core.management.base import BaseCommand

    from app.models import Part


    class Command(BaseCommand):
        def handle(self, *args, **options):
            for part in Part.objects.all():
                part.name = part.name.strip()
                part.save(update_fields=["name"])
    """

IN_A_BATCH_WRITER = """
    from txlint.runtime.backfill import Backfill, batch_writer

    from app.models import Part

    LEGACY_ROWS = [{"id": 1, "name": " critic "}]


    @batch_writer
    def write_parts(batch, rows):
        for row in rows:
            Part.objects.create(name=row["name"].strip())


    parts = Backfill("copy-names", None, LEGACY_ROWS, key=lambda row: row["id"], write_batch=write_parts)
    """

SQLITE_SCRIPT = """
    import sqlite3

    from txlint.runtime.backfill import batch_writer

    connection = sqlite3.connect("app.db", isolation_level=None)


    def copy_prices(rows):
        for row in rows:
            connection.execute("UPDATE products SET price = price * ? WHERE sku = ?", (row["price"], row["sku"]))


    @batch_writer
    def write_prices(batch, rows):
        for row in rows:
            connection.execute("UPDATE products SET price = price * ? WHERE sku = ?", (row["price"], row["sku"]))
    """


def _txl102(files):
    sources = {path: textwrap.dedent(text) for path, text in files.items()}
    findings = lint_sources(sources, Config())
    assert not [finding for finding in findings if finding.code == "TXL000"]
    return [finding for finding in findings if finding.code == "TXL102"]


def test_a_management_command_writing_row_by_row_is_pointed_to_the_runner():
    (finding,) = _txl102({"app/models.py": MODELS, "app/management/commands/strip_names.py": ROW_BY_ROW})
    assert "`txlint.runtime.backfill` commits it in batches that resume after a crash" in finding.message


def test_a_job_function_outside_commands_and_scripts_gets_no_runner_hint():
    job = """
        from app.models import Part


        def backfill_names():
            for part in Part.objects.all():
                part.name = part.name.strip()
                part.save(update_fields=["name"])
        """
    (finding,) = _txl102({"app/models.py": MODELS, "app/maintenance.py": job})
    assert "txlint.runtime.backfill" not in finding.message


def test_writes_in_a_batch_writer_are_inside_the_batch_transaction():
    assert _txl102({"app/models.py": MODELS, "app/management/commands/copy_names.py": IN_A_BATCH_WRITER}) == []
    undecorated = IN_A_BATCH_WRITER.replace("    @batch_writer\n", "")
    assert len(_txl102({"app/models.py": MODELS, "app/management/commands/copy_names.py": undecorated})) == 1


def test_only_the_decorated_writer_of_a_script_is_clean():
    (finding,) = _txl102({"scripts/copy_prices.py": SQLITE_SCRIPT})
    assert finding.line == 11  # copy_prices; write_prices is run by the runner, in a transaction
    assert "txlint.runtime.backfill" in finding.message
