"""Alembic migrations: `op.execute(sql)`, `op.bulk_insert(table, rows)`, `op.get_bind()`."""

from typing import Optional

from txlint.frameworks import Knowledge
from txlint.values import IMPLICIT, CallView, Outcome, Value, effect, write_effect

LIBRARY = "alembic"


class AlembicKnowledge(Knowledge):
    library = LIBRARY
    roots = ("alembic",)

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        if qname == "alembic.op.execute":
            statement = call.value(0, "sqltext")
            if statement is not None and statement.kind == "statement" and not statement.sql:
                return write_effect(LIBRARY, statement, IMPLICIT, how="core")
            return effect("sql", LIBRARY, IMPLICIT, how="raw", sql=call.string(0, "sqltext") or "")
        if qname == "alembic.op.bulk_insert":
            table = call.value(0, "table")
            return write_effect(LIBRARY, table, IMPLICIT, how="core", bulk=True)
        if qname == "alembic.op.get_bind":
            return Outcome(value=Value("handle", name="connection", library="sqlalchemy", regime=IMPLICIT))
        return None
