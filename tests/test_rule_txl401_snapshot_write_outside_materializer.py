"""TXL401 snapshot-write-outside-materializer: writes to configured snapshots, and the places allowed to.

Each case is a small project; the TXL401 findings must be exactly the lines marked `# error: TXL401`.
"""

import textwrap

import pytest

from txlint.config import Config
from txlint.linter import lint_sources

CODE = "TXL401"


def expect_annotated(sources, **settings):
    sources = {path: textwrap.dedent(text) for path, text in sources.items()}
    config = Config(**{key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()})
    findings = [finding for finding in lint_sources(sources, config) if finding.code == CODE]
    expected = sorted((path, number) for path, text in sources.items()
                      for number, line in enumerate(text.splitlines(), start=1) if f"# error: {CODE}" in line)
    assert sorted((finding.path, finding.line) for finding in findings) == expected
    return findings


DJANGO = {
    "scripts/models.py": """
        from django.db import models


        class ScriptVersion(models.Model):
            body = models.TextField()


        class Summary(models.Model):
            total = models.IntegerField()

            class Meta:
                db_table = "script_summary"


        class ScriptCommand(models.Model):
            payload = models.TextField()
        """,
    "scripts/views.py": """
        from django.db import connection

        from scripts.models import ScriptCommand, ScriptVersion, Summary
        from txlint.runtime import materializer


        def edit(version_id, body):
            ScriptCommand.objects.create(payload=body)
            ScriptVersion.objects.filter(pk=version_id).update(body=body)  # error: TXL401
            Summary.objects.create(total=1)  # error: TXL401
            with connection.cursor() as cursor:
                cursor.execute("UPDATE scripts_scriptversion SET body = ''")  # error: TXL401
                cursor.execute("INSERT INTO script_summary (total) VALUES (0)")  # error: TXL401
                cursor.execute("SELECT * FROM scripts_scriptversion")


        def read(version_id):
            return ScriptVersion.objects.get(pk=version_id), Summary.objects.count()


        @materializer
        def rebuild(version_id, body):
            ScriptVersion.objects.filter(pk=version_id).update(body=body)
            _store_summary()


        def _store_summary():
            Summary.objects.create(total=2)


        def rebuild_in_block(version_id, body):
            with materializer():
                ScriptVersion.objects.filter(pk=version_id).update(body=body)
            ScriptVersion.objects.filter(pk=version_id).delete()  # error: TXL401
        """,
    "scripts/materializers/versions.py": """
        from scripts.models import ScriptVersion


        def rebuild_all():
            ScriptVersion.objects.all().delete()
            ScriptVersion.objects.bulk_create([ScriptVersion(body="")])
        """,
}


@pytest.mark.parametrize("snapshots", [
    ["ScriptVersion", "Summary"],
    ["scripts_scriptversion", "script_summary"],  # tables: the default app_model name and Meta.db_table
    ["ScriptVersion", "script_summary"],
])
def test_django_models_and_tables(snapshots):
    expect_annotated(DJANGO, snapshots=snapshots, materializers=["scripts/materializers/"])


def test_off_unless_snapshots_is_configured():
    sources = {path: textwrap.dedent(text) for path, text in DJANGO.items()}
    for config in (Config(), Config(materializers=("scripts/materializers/",))):
        assert [finding for finding in lint_sources(sources, config) if finding.code == CODE] == []


def test_materializer_modules_come_from_configuration():
    sources = dict(DJANGO)
    sources["scripts/materializers/versions.py"] = sources["scripts/materializers/versions.py"].replace(
        "ScriptVersion.objects.all().delete()", "ScriptVersion.objects.all().delete()  # error: TXL401").replace(
        'ScriptVersion.objects.bulk_create([ScriptVersion(body="")])',
        'ScriptVersion.objects.bulk_create([ScriptVersion(body="")])  # error: TXL401')
    expect_annotated(sources, snapshots=["ScriptVersion", "Summary"])


def test_sqlalchemy_class_and_table_names():
    sources = {"app/db.py": """
        from sqlalchemy import create_engine, insert, text, update
        from sqlalchemy.orm import DeclarativeBase, Session

        engine = create_engine("sqlite://")


        class Base(DeclarativeBase):
            pass


        class ScriptVersion(Base):
            __tablename__ = "script_versions"


        def save(session: Session, body):
            session.add(ScriptVersion(body=body))  # error: TXL401
            session.execute(update(ScriptVersion).values(body=body))  # error: TXL401
            session.execute(text("DELETE FROM script_versions"))  # error: TXL401
            session.execute(text("SELECT * FROM script_versions"))
            session.commit()
        """}
    expect_annotated(sources, snapshots=["ScriptVersion"])
    expect_annotated(sources, snapshots=["script_versions"])


def test_peewee_and_tortoise_models():
    expect_annotated({
        "app/blog.py": """
            from peewee import Model, SqliteDatabase, TextField

            db = SqliteDatabase("app.db")


            class Digest(Model):
                body = TextField()

                class Meta:
                    database = db
                    table_name = "daily_digest"


            def write_digest(body):
                Digest.create(body=body)  # error: TXL401
                return Digest.select().count()
            """,
        "app/teams.py": """
            from tortoise import fields
            from tortoise.models import Model


            class Standing(Model):
                points = fields.IntField()

                class Meta:
                    table = "standings"


            async def award(points):
                await Standing.create(points=points)  # error: TXL401
                return await Standing.filter(points=points).first()
            """,
    }, snapshots=["daily_digest", "Standing"])


def test_message_says_where_snapshots_may_be_written():
    (finding, *_) = expect_annotated(DJANGO, snapshots=["ScriptVersion", "Summary"],
                                     materializers=["scripts/materializers/"])
    assert "ScriptVersion" in finding.message
    assert "scripts/materializers/" in finding.message and "txlint.runtime.materializer" in finding.message
