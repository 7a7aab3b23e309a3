"""Django, configured once per process: the default alias on a SQLite file, `pg` on PostgreSQL."""

import uuid

import harnesses

_configured = {}


def _configure(spec: dict) -> dict:
    """Settings from the first spec this process sees (Django is configured once per process)."""
    if _configured:
        return _configured
    import django
    from django.conf import settings

    databases = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": spec["django_path"]}}
    if spec["dsn"]:
        options = dict(part.split("=", 1) for part in spec["dsn"].split())
        databases["pg"] = {"ENGINE": "django.db.backends.postgresql", "NAME": options["dbname"],
                           "USER": options["user"], "HOST": options["host"], "PORT": options["port"]}
    settings.configure(DATABASES=databases, INSTALLED_APPS=["django.contrib.contenttypes"], USE_TZ=True)
    django.setup()
    _configured.update(databases=databases, dsn=spec["dsn"], path=spec["django_path"])
    return _configured


def _model(table: str):
    from django.db import models

    # `value` is the primary key so that the PostgreSQL table needs no id column; its uniqueness
    # there is the deferred constraint every PostgreSQL harness table has.
    return type(f"Item_{uuid.uuid4().hex[:8]}", (models.Model,), {
        "__module__": __name__,
        "value": models.CharField(max_length=100, primary_key=True),
        "Meta": type("Meta", (), {"app_label": "contenttypes", "db_table": table}),
    })


class DjangoHarness(harnesses.Harness):
    def __init__(self, spec, create):
        configured = _configure(spec)
        super().__init__({**spec, "path": configured["path"], "dsn": configured["dsn"]}, create)
        self.alias = "pg" if self.name == "django-pg" else "default"
        self.model = _model(self.table)
        if create and self.on_postgres:
            harnesses._create_postgres_table(self.spec["dsn"], self.table)
        elif create:
            from django.db import connections

            with connections[self.alias].schema_editor() as editor:
                editor.create_model(self.model)

    def target(self):
        return None if self.alias == "default" else self.alias

    def write(self, transaction, value):
        self.model.objects.using(self.alias).create(value=value)
