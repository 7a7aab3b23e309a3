"""encode/databases and Prisma Client Python: autocommit per query; raw SQL entry points."""

from typing import Optional

from txlint.frameworks import Knowledge
from txlint.values import AUTOCOMMIT, CallView, Outcome, Value, effect

LIBRARY = "databases"

_DATABASES_EXECUTES = {"execute", "execute_many", "fetch_all", "fetch_one", "fetch_val"}
_PRISMA_RAW = {"execute_raw", "query_raw", "query_first"}


class DatabasesKnowledge(Knowledge):
    library = LIBRARY
    roots = ("databases", "prisma")

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        if qname in ("databases.Database", "databases.core.Database"):
            return Outcome(value=Value("handle", name="database", library=LIBRARY, regime=AUTOCOMMIT))
        if qname in ("prisma.Prisma", "prisma.client.Prisma"):
            return Outcome(value=Value("handle", name="prisma", library=LIBRARY, regime=AUTOCOMMIT))
        return None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.library != LIBRARY or value.kind != "handle":
            return None
        if value.name == "database":
            if name in _DATABASES_EXECUTES:
                return effect("sql", LIBRARY, AUTOCOMMIT, how="raw", sql=call.string(0, "query") or "",
                              bulk=name == "execute_many")
            if name == "transaction":
                return Outcome(value=Value("scope", name="transaction", library=LIBRARY))
        if value.name == "prisma" and name in _PRISMA_RAW:
            return effect("sql", LIBRARY, AUTOCOMMIT, how="raw", sql=call.string(0, "query") or "")
        return None

    def opens_transaction(self, value: Value, as_decorator: bool) -> bool:
        return value.kind == "scope" and value.library == LIBRARY
