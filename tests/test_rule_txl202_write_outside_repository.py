"""TXL202 write-outside-repository: every database write outside the repository modules, once configured.

Each case is a small project; the TXL202 findings must be exactly the lines marked `# error: TXL202`.
"""

import json
import textwrap

from helpers import run_txlint, write_tree
from txlint.config import Config
from txlint.linter import lint_sources

CODE = "TXL202"
GATES = {"repositories": ["app/repositories/**"], "materializers": ["app/materializers/**"],
         "snapshots": ["ScriptVersion"]}
PROJECT = {
    "app/models.py": """
        from django.db import models


        class Script(models.Model):
            title = models.CharField(max_length=100)


        class ScriptVersion(models.Model):
            script = models.ForeignKey(Script, on_delete=models.CASCADE)
            body = models.TextField()
        """,
    "app/repositories/scripts.py": """
        from django.db import connection, transaction

        from app.models import Script


        @transaction.atomic
        def rename(script_id, title):
            Script.objects.filter(pk=script_id).update(title=title)
            connection.cursor().execute("UPDATE app_script SET title = %s", [title])
        """,
    "app/materializers/versions.py": """
        from app.models import Script, ScriptVersion


        def rebuild(script_id, body):
            ScriptVersion.objects.create(script_id=script_id, body=body)
            Script.objects.filter(pk=script_id).update(title="rebuilt")  # error: TXL202
        """,
    "app/views.py": """
        from django.db import connection

        from app.models import Script, ScriptVersion
        from app.repositories.scripts import rename


        def _touch(script_id):
            Script.objects.filter(pk=script_id).update(title="touched")  # error: TXL202


        def edit(script_id, title):
            rename(script_id, title)


        def touch(script_id):
            _touch(script_id)


        def create(title):
            script = Script(title=title)
            script.save()  # error: TXL202
            connection.cursor().execute("DELETE FROM app_scriptversion")  # error: TXL202
            return script


        def show(script_id):
            return Script.objects.get(pk=script_id), ScriptVersion.objects.filter(script_id=script_id).count()
        """,
    "app/migrations/0002_titles.py": """
        from django.db import migrations


        def forwards(apps, schema_editor):
            Script = apps.get_model("app", "Script")
            Script.objects.update(title="x")


        class Migration(migrations.Migration):
            operations = [migrations.RunPython(forwards)]
        """,
}


def lint(sources, **settings):
    sources = {path: textwrap.dedent(text) for path, text in sources.items()}
    config = Config(**{key: tuple(value) if isinstance(value, list) else value for key, value in settings.items()})
    return [finding for finding in lint_sources(sources, config) if finding.code == CODE]


def annotated(sources):
    return sorted((path, number) for path, text in sources.items()
                  for number, line in enumerate(textwrap.dedent(text).splitlines(), start=1)
                  if f"# error: {CODE}" in line)


def test_writes_outside_the_repositories_are_found():
    found = lint(PROJECT, **GATES)
    assert sorted((finding.path, finding.line) for finding in found) == annotated(PROJECT)


def test_off_unless_repositories_is_configured():
    assert lint(PROJECT) == []
    assert lint(PROJECT, snapshots=["ScriptVersion"], materializers=["app/materializers/**"]) == []


def test_message_names_the_repository_modules():
    found = lint(PROJECT, **GATES)
    assert all("app/repositories/**" in finding.message for finding in found)
    assert any(finding.message.startswith("writes Script outside the repository modules") for finding in found)


def test_materializers_may_write_snapshots_only():
    sources = {"app/models.py": PROJECT["app/models.py"],
               "app/materializers/versions.py": PROJECT["app/materializers/versions.py"]}
    found = lint(sources, **GATES)
    assert [finding.line for finding in found] == [7]
    # Without the snapshot configured, a materializer module is just another module.
    found = lint(sources, repositories=GATES["repositories"], materializers=GATES["materializers"])
    assert [finding.line for finding in found] == [6, 7]


def test_sqlalchemy_and_raw_writes():
    sources = {
        "app/db.py": """
            from sqlalchemy import create_engine, text
            from sqlalchemy.orm import DeclarativeBase, sessionmaker

            engine = create_engine("sqlite://")
            SessionLocal = sessionmaker(engine)


            class Base(DeclarativeBase):
                pass


            class Order(Base):
                __tablename__ = "orders"


            def place(total):
                with SessionLocal.begin() as session:
                    session.add(Order(total=total))  # error: TXL202
                    session.execute(text("UPDATE orders SET total = 0"))  # error: TXL202


            def totals():
                with SessionLocal() as session:
                    return session.execute(text("SELECT sum(total) FROM orders")).scalar_one()
            """,
    }
    found = lint(sources, repositories=["app/repositories/"])
    assert sorted((finding.path, finding.line) for finding in found) == annotated(sources)


def test_repository_patterns_are_relative_to_the_configuration_root(tmp_path):
    root = tmp_path / "service"
    write_tree(root, {
        "pyproject.toml": '[tool.txlint]\nrepositories = ["app/repositories/**"]\n',
        **{path: text for path, text in PROJECT.items() if not path.startswith("app/migrations")},
        **{f"{package}/__init__.py": "" for package in ("app", "app/repositories", "app/materializers")},
    })
    code, out, err = run_txlint("check", "--no-cache", "--format", "json", "--select", CODE, "--config",
                                str(root / "pyproject.toml"), "service", cwd=tmp_path)
    assert code == 1, err
    paths = {finding["path"] for finding in json.loads(out)["findings"]}
    assert paths == {"service/app/views.py", "service/app/materializers/versions.py"}
