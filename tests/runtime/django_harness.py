"""Django, configured once per test session with a SQLite file and (when available) PostgreSQL."""

import os
import sqlite3
import tempfile
import uuid

from harnesses import Harness

_configured = {}


def _setup(postgres_dsn):
    if _configured:
        return _configured
    import django
    from django.conf import settings

    directory = tempfile.mkdtemp(prefix="txlint-django-")
    databases = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(directory, "db.sqlite3")}}
    if postgres_dsn:
        options = dict(part.split("=", 1) for part in postgres_dsn.split())
        databases["pg"] = {"ENGINE": "django.db.backends.postgresql", "NAME": options["dbname"],
                           "USER": options["user"], "HOST": options["host"], "PORT": options["port"]}
    settings.configure(DATABASES=databases, INSTALLED_APPS=["django.contrib.contenttypes"], USE_TZ=True)
    django.setup()
    from django.db import connections, models

    class Item(models.Model):
        value = models.CharField(max_length=100)

        class Meta:
            app_label = "contenttypes"
            db_table = "txlint_items"

    for alias in databases:
        with connections[alias].schema_editor() as editor:
            editor.create_model(Item)
    _configured.update(model=Item, databases=databases, dsn=postgres_dsn)
    return _configured


class DjangoHarness(Harness):
    def __init__(self, alias, postgres_dsn=None):
        setup = _setup(postgres_dsn)
        self.alias = alias
        self.model = setup["model"]
        self.settings = setup["databases"][alias]
        self.dsn = setup["dsn"]
        self.name = f"django({alias})"
        self.marker = uuid.uuid4().hex[:8]  # rows of this test only
        self.model.objects.using(alias).all().delete()

    def target(self):
        return None if self.alias == "default" else self.alias

    def write(self, transaction, value):
        self.model.objects.using(self.alias).create(value=value)

    def committed(self):
        if self.alias == "default":
            reader = sqlite3.connect(self.settings["NAME"])
            try:
                return sorted(row[0] for row in reader.execute("SELECT value FROM txlint_items"))
            finally:
                reader.close()
        import psycopg2

        reader = psycopg2.connect(self.dsn)
        try:
            cursor = reader.cursor()
            cursor.execute("SELECT value FROM txlint_items")
            return sorted(row[0] for row in cursor.fetchall())
        finally:
            reader.close()
