"""TXL301 file-db-without-cleanup: files and rows that can orphan each other, and the idioms that cannot.

Each case is a small project; the TXL301 findings must be exactly the lines marked `# error: TXL301`.
"""

import textwrap

import pytest

from txlint.config import Config
from txlint.linter import lint_sources

CODE = "TXL301"
MODELS = """
from django.db import models


class Scenario(models.Model):
    context_path = models.CharField(max_length=200)
    upload = models.FileField()


class AuditEntry(models.Model):
    message = models.TextField()
"""
SA_MODELS = """
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Document(Base):
    __tablename__ = "documents"
"""
PRELUDE = """
import os
import shutil
from pathlib import Path

import boto3
from django.core.files.storage import default_storage
from django.db import transaction

from app.models import AuditEntry, Scenario
from txlint.runtime import atomic, stage_file

ROOT = Path("/srv/scenarios")
s3 = boto3.client("s3")
"""


def findings_in(body, **settings):
    sources = {"app/models.py": textwrap.dedent(MODELS), "app/sa_models.py": textwrap.dedent(SA_MODELS),
               "app/services.py": textwrap.dedent(PRELUDE) + textwrap.dedent(body)}
    config = Config(**{key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()})
    source = sources["app/services.py"]
    expected = sorted(number for number, line in enumerate(source.splitlines(), start=1) if f"# error: {CODE}" in line)
    found = [finding for finding in lint_sources(sources, config) if finding.code == CODE]
    assert sorted(finding.line for finding in found) == expected
    return found


POSITIVES = {
    "seed 001: create row, write file, update row": """
        def create_scenario(name, context):
            scenario = Scenario.objects.create(context_path="")
            path = ROOT / f"{scenario.pk}.json"
            path.write_text(context)  # error: TXL301
            scenario.context_path = str(path)
            scenario.save()
        """,
    "file deleted inside a transaction that can roll back": """
        def remove(pk):
            scenario = Scenario.objects.get(pk=pk)
            with transaction.atomic():
                os.remove(scenario.context_path)  # error: TXL301
                scenario.delete()
        """,
    "file deleted before the row that points at it": """
        def discard(pk):
            scenario = Scenario.objects.get(pk=pk)
            scenario.upload.delete(save=False)  # error: TXL301
            scenario.delete()
        """,
    "a row inserted, then its field file saved without it (the row is left without its file)": """
        def attach(name, content):
            scenario = Scenario.objects.create(context_path=name)
            scenario.upload.save(f"{scenario.pk}.bin", content, save=False)  # error: TXL301
            scenario.save()
        """,
    "a row updated with the name its field file is then saved under": """
        def rename_then_store(pk, name, content):
            Scenario.objects.filter(pk=pk).update(context_path=name)
            scenario = Scenario.objects.get(pk=pk)
            scenario.upload.save(name, content, save=False)  # error: TXL301
            scenario.save()
        """,
    "% and .format paths carry the row id": """
        def render(name, body):
            scenario = Scenario.objects.create(context_path=name)
            with open("/srv/%s.txt" % scenario.pk, "w") as handle:  # error: TXL301
                handle.write(body)
        """,
}

LOOK_ALIKES = {
    # A file no row points at is left to storage cleanup: maintainers do not count it as broken data.
    "an orphan upload: a file written, then its row fails": """
        def import_scenario(name, data):
            path = f"/srv/scenarios/{name}.json"
            with open(path, "wb") as handle:
                handle.write(data)
            Scenario.objects.create(context_path=path)
        """,
    "an orphan object: stored, then its row fails": """
        def upload(name, data):
            key = f"scenarios/{name}"
            s3.put_object(Bucket="assets", Key=key, Body=data)
            return Scenario.objects.create(context_path=key)
        """,
    "an orphan storage file: saved, then its row fails": """
        def attach(name, upload):
            stored = default_storage.save(f"uploads/{name}", upload)
            return Scenario.objects.create(context_path=stored)
        """,
    "an orphan copy: copied into place, then its row fails": """
        def publish(source, name):
            target = ROOT / name
            shutil.copy(source, target)
            Scenario.objects.create(context_path=str(target))
        """,
    "a field file saved without its row, then the row fails": """
        def replace_upload(pk, name, content):
            scenario = Scenario.objects.get(pk=pk)
            scenario.upload.save(name, content, save=False)
            scenario.save()
        """,
    # save=False picks the stored name in the call and sets it on the instance only: a row updated
    # before it (`update_fields`: never an insert) cannot name the file.
    "existing rows updated, then a field file saved without its row and saved after": """
        def update_profile(pk, validated_data):
            upload = validated_data.pop("upload", None)
            fields = validated_data.pop("fields", None) or {}
            scenario = Scenario.objects.get(pk=pk)
            for key, value in fields.items():
                setattr(scenario, key, value)
                scenario.save(update_fields=[key])
            if upload:
                scenario.upload.save(upload.name, upload, save=False)
                scenario.save(update_fields=["upload"])
        """,
    "a file written inside the transaction, before it commits (an orphan if it rolls back)": """
        def create_in_transaction(name, data):
            path = ROOT / name
            with transaction.atomic():
                Scenario.objects.create(context_path=str(path))
                path.write_bytes(data)
        """,
    "SQLAlchemy: a file written before the session commits (an orphan if it rolls back)": """
        from sqlalchemy.orm import Session
        from app.sa_models import Document

        def store(session: Session, data):
            document = Document()
            session.add(document)
            session.flush()
            path = ROOT / f"{document.id}.bin"
            path.write_bytes(data)
            document.path = str(path)
            session.commit()
        """,
    "a rollback leaves the file written first unreferenced": """
        import sqlite3

        def register(name, data):
            conn = sqlite3.connect("app.db")
            path = f"/srv/files/{name}"
            with open(path, "wb") as handle:
                handle.write(data)
            try:
                conn.execute("INSERT INTO files (path) VALUES (?)", (path,))
                conn.commit()
            except Exception:
                conn.rollback()
                raise
        """,
    "a report file unrelated to the rows": """
        def export_audit(entries):
            AuditEntry.objects.create(message="exported")
            with open("/tmp/audit-report.txt", "w") as handle:
                handle.write(str(len(entries)))
        """,
    "cleanup in except that re-raises": """
        def import_scenario(name, data):
            path = ROOT / name
            path.write_bytes(data)
            try:
                Scenario.objects.create(context_path=str(path))
            except Exception:
                path.unlink()
                raise
        """,
    "cleanup in finally": """
        def import_scenario(name, data):
            path = f"/srv/scenarios/{name}"
            with open(path, "wb") as handle:
                handle.write(data)
            saved = False
            try:
                Scenario.objects.create(context_path=path)
                saved = True
            finally:
                if not saved:
                    os.remove(path)
        """,
    "row deleted again when the file write fails": """
        def create_scenario(name, context):
            scenario = Scenario.objects.create(context_path="")
            path = ROOT / f"{scenario.pk}.json"
            try:
                path.write_text(context)
            except OSError:
                scenario.delete()
                raise
        """,
    "file write that rolls back the transaction when it fails": """
        def create_in_transaction(name, context):
            with transaction.atomic():
                scenario = Scenario.objects.create(context_path=name)
                try:
                    (ROOT / f"{scenario.pk}.json").write_text(context)
                except OSError:
                    os.remove(ROOT / f"{scenario.pk}.json")
                    raise
        """,
    "on_commit with a lambda": """
        def create_scenario(name, data):
            path = ROOT / name
            with transaction.atomic():
                Scenario.objects.create(context_path=str(path))
                transaction.on_commit(lambda: path.write_bytes(data))
        """,
    "on_commit with a nested function": """
        def create_scenario(name, data):
            path = ROOT / name
            with transaction.atomic():
                Scenario.objects.create(context_path=str(path))

                def write_file():
                    path.write_bytes(data)

                transaction.on_commit(write_file)
        """,
    "stage_file": """
        def create_scenario(name, data):
            path = ROOT / name
            with atomic():
                Scenario.objects.create(context_path=str(path))
                stage_file(path, data)
        """,
    "the transaction's stage_file": """
        def create_scenario(name, data):
            path = ROOT / name
            with atomic() as tx:
                Scenario.objects.create(context_path=str(path))
                tx.stage_file(path, data)
        """,
    "temporary file moved into place after the commit": """
        def publish(name, data):
            path = ROOT / name
            temporary = path.with_suffix(".partial")
            temporary.write_bytes(data)
            with transaction.atomic():
                Scenario.objects.create(context_path=str(path))
            os.replace(temporary, path)
        """,
    "file deleted after the transaction committed": """
        def remove(pk):
            scenario = Scenario.objects.get(pk=pk)
            with transaction.atomic():
                scenario.delete()
            os.remove(scenario.context_path)
        """,
    "a field file deleted with its row saved at once (save=True)": """
        def discard(pk):
            scenario = Scenario.objects.get(pk=pk)
            scenario.upload.delete()
            scenario.delete()
        """,
    "the files of an object made just before": """
        def create(name):
            scenario = Scenario.objects.create(context_path=name)
            os.remove(scenario.context_path)
            scenario.save()
        """,
    "a notice about the work, written by a helper sending it": """
        def send_removal_notice(scenario):
            Scenario.objects.filter(pk=scenario.pk).update(context_path="removed")


        def remove(pk):
            scenario = Scenario.objects.get(pk=pk)
            os.remove(scenario.context_path)
            send_removal_notice(scenario)
        """,
    "row deleted first, then its file": """
        def discard(pk):
            scenario = Scenario.objects.get(pk=pk)
            scenario.delete()
            scenario.upload.delete(save=False)
        """,
    "scratch directory removed": """
        def rebuild(pk, workdir):
            scenario = Scenario.objects.get(pk=pk)
            scenario.save()
            shutil.rmtree(workdir / str(scenario.pk))
        """,
    "reading a file is not writing one": """
        def load(name):
            path = ROOT / name
            with open(path) as handle:
                Scenario.objects.create(context_path=handle.read())
        """,
}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_orphaning_orders_are_found(name):
    findings_in(POSITIVES[name])


@pytest.mark.parametrize("name", sorted(LOOK_ALIKES))
def test_safe_idioms_are_clean(name):
    findings_in(LOOK_ALIKES[name])


def test_messages_say_which_side_is_orphaned_and_how_to_fix_it():
    (row_first,) = findings_in(POSITIVES["seed 001: create row, write file, update row"])
    assert "row written at line" in row_first.message and "never written" in row_first.message
    assert "txlint.runtime.stage_file(path, data)" in row_first.message
    assert "transaction.on_commit" in row_first.message
    (deleted_first,) = findings_in(POSITIVES["file deleted before the row that points at it"])
    assert "still points at a file that is gone" in deleted_first.message
    (deleted,) = findings_in(POSITIVES["file deleted inside a transaction that can roll back"])
    assert "roll back" in deleted.message and "after the commit" in deleted.message


def test_one_finding_per_function():
    findings_in("""
        def create_scenario(name, context):
            scenario = Scenario.objects.create(context_path="")
            path = ROOT / f"{scenario.pk}.json"
            path.write_text(context)  # error: TXL301
            (ROOT / f"{scenario.pk}.bak").write_text(context)
            scenario.context_path = str(path)
            scenario.save()
        """)


def test_helper_writes_count_where_the_helper_is_called():
    findings_in("""
        def _clear(scenario):
            scenario.context_path = ""
            scenario.save()


        def reset(pk):
            scenario = Scenario.objects.get(pk=pk)
            os.remove(scenario.context_path)  # error: TXL301
            _clear(scenario)
        """)


def test_can_be_ignored_per_file():
    findings = lint_sources(
        {"app/models.py": textwrap.dedent(MODELS),
         "app/services.py": textwrap.dedent(PRELUDE) + textwrap.dedent(POSITIVES["seed 001: create row, write file, update row"])},
        Config(per_file_ignores=(("app/services.py", ("TXL301",)),)))
    assert [finding for finding in findings if finding.code == CODE] == []
