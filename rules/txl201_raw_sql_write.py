"""TXL201 raw-sql-write: SQL text that writes, outside the modules allowed to."""

import re
from typing import TYPE_CHECKING, Iterable

from txlint import sql as sqlkit
from txlint.rule import Report, Rule, RuleContext, report_at

if TYPE_CHECKING:
    from txlint.project import Effect


def enabled_for(context: RuleContext) -> bool:
    """A project without an ORM writes only through SQL: there the rule runs only when selected by name."""
    return context.project.uses_orm or "TXL201" in context.config.select


def check(context: RuleContext) -> Iterable[Report]:
    if not enabled_for(context) or context.is_migration() or context.path_matches(context.config.raw_sql_allowed):
        return
    if not context.config.raw_sql_allowed and _is_data_access_layer(context):
        return  # until the project names its SQL modules, its store or repository modules are the layer
    reported = set()
    for effect in context.effects:
        if effect.kind != "write" or effect.spec.how != "raw" or not effect.spec.sql or not context.direct(effect):
            continue  # no SQL text: a library call such as pandas' to_sql, not SQL the project wrote
        if id(effect.site) in reported:
            continue
        if not context.config.raw_sql_allowed and _only_ddl(effect):
            continue  # schema upkeep (a cleanup dropping archive tables, CREATE EXTENSION): not a data write
        if _INTERPOLATED_TARGET.search(effect.spec.sql):
            continue  # `UPDATE {table} SET ...`: a tool over whatever table it is given, with no model to use
        reported.add(id(effect.site))
        allowed = ", ".join(context.config.raw_sql_allowed)
        where = f"the modules allowed to write SQL ({allowed})" if allowed else "a module listed in `raw-sql-allowed`"
        yield report_at(effect.site, (
            f"{_describe(effect)} outside the modules allowed to write SQL: write it through the model layer, "
            f"or move it into {where}"))


# A write whose target table is interpolated into the SQL text (`f"UPDATE {table} SET ..."`).
_INTERPOLATED_TARGET = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO|MERGE\s+INTO|TRUNCATE(\s+TABLE)?)\s+[\w\"`.\[]*"
    + re.escape(sqlkit.PLACEHOLDER), re.IGNORECASE)


def _is_data_access_layer(context: RuleContext) -> bool:
    """A module named for owning the tables: `sqlalchemy_store`, `repositories`, `dao`, `crud`."""
    parts = context.unit.module.module.lower().split(".")
    return any(part.endswith(_LAYER_WORDS) or part.startswith(_LAYER_WORDS) for part in parts)


_LAYER_WORDS = ("store", "stores", "repository", "repositories", "dao", "crud", "persistence")


def _only_ddl(effect: "Effect") -> bool:
    writes = [statement for statement in sqlkit.classify_sql(effect.spec.sql) if statement.kind in sqlkit.WRITE_KINDS]
    return bool(writes) and all(statement.kind == "ddl" and statement.keyword.upper() != "TRUNCATE"
                                for statement in writes)


def _describe(effect: "Effect") -> str:
    """`raw SQL UPDATE of `orders``, `raw SQL write to `scores``."""
    keyword = next((statement.keyword.upper() for statement in sqlkit.classify_sql(effect.spec.sql)
                    if statement.kind in sqlkit.WRITE_KINDS), "") if effect.spec.sql else ""
    table = effect.spec.table if effect.spec.table not in ("", "?") and sqlkit.PLACEHOLDER not in effect.spec.table \
        else ""
    if keyword:
        return f"raw SQL {keyword} of `{table}`" if table else f"raw SQL {keyword}"
    return f"raw write to `{table}`" if table else "raw SQL write"


RULE = Rule(
    code="TXL201",
    name="raw-sql-write",
    summary="SQL text that writes, executed outside the modules allowed to run raw SQL",
    check=check,
    docs="""\
## What it does
Finds SQL text that writes — INSERT, UPDATE, DELETE, MERGE, REPLACE, UPSERT, `SELECT ... INTO`,
DDL, `COPY ... FROM`, data-modifying CTEs — executed through a raw entry point (DB-API `execute`,
`executemany`, `executescript`, psycopg2 `execute_values`, SQLAlchemy `text()` and
`exec_driver_sql` (also on sessions txlint cannot resolve), Django `connection.cursor()` and
`.raw()`, peewee `execute_sql`, Tortoise `execute_query`/`execute_script`, encode/databases
`execute`, Prisma `execute_raw`, Alembic `op.execute`), outside the modules listed in
`raw-sql-allowed`. DDL alone (a cleanup dropping archive tables, `CREATE EXTENSION`) is schema
upkeep, reported only once `raw-sql-allowed` is configured, and so is SQL in a module named for
owning the tables (`*_store`, `repositories`, `dao`, `crud`, `persistence`), which until then is
taken for the project's data-access layer; a library call that writes without
SQL text (pandas `to_sql`) is not raw SQL. The SQL is followed through concatenation, f-strings, `%` and `.format`
templates and constants; SQL that cannot be resolved is not reported, nor SQL whose table is
interpolated (`f"UPDATE {table} SET ..."`: a tool over whatever table it is given, such as a key
rotation, has no model to write through). Migrations (Django `migrations/`, Alembic `versions/`) are
allowed. A project with no ORM at all writes only through SQL, so there the rule is off unless
`select` names `TXL201` (txlint prints a one-line hint instead).

## Why is this bad?
Raw writes bypass the model layer: its validation, its signals, the repository that is supposed
to own the table. They are invisible to a search for the model's name and are where
half-finished migrations and inconsistent rows come from.

## Example
```python
from django.db import connection, models


class Order(models.Model):
    status = models.CharField(max_length=20)


def close_stale_orders():
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_order SET status = 'closed' WHERE status = 'stale'")
```

## Use instead
```python
from django.db import models


class Order(models.Model):
    status = models.CharField(max_length=20)


def close_stale_orders():
    Order.objects.filter(status="stale").update(status="closed")
```
Or keep the SQL in a module listed in `raw-sql-allowed` (a repository).

## Fix
None: moving the statement into a repository module, or writing it with the ORM, is a design
change, not an edit.
""",
)
