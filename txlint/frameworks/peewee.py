"""peewee: autocommit; `db.atomic()` / `db.transaction()` as context manager and decorator.

Query builders (`M.update(...)`, `M.insert(...)`, `M.delete()`) write only when executed, and
bulk_create/bulk_update with several batches are not atomic.
"""

from typing import Optional

from txlint.frameworks import Knowledge, TransactionIdiom
from txlint.values import AUTOCOMMIT, CallView, Outcome, Value, effect, write_effect

LIBRARY = "peewee"

_IMMEDIATE = {"create": False, "get_or_create": False, "bulk_create": False, "bulk_update": False,
              "set_by_id": False, "delete_by_id": False, "truncate_table": False, "insert_many_execute": False,
              "acreate": False, "aget_or_create": False, "abulk_create": False, "abulk_update": False}
_BUILDERS = {"insert", "insert_many", "insert_from", "replace", "replace_many", "update", "delete"}
_BUILDER_CHAIN = {"where", "on_conflict", "on_conflict_ignore", "on_conflict_replace", "returning", "from_", "limit",
                  "order_by", "as_rowcount"}
_QUERY_CHAIN = {"select", "where", "join", "order_by", "limit", "offset", "switch", "group_by", "having", "distinct",
                "for_update", "objects", "dicts", "namedtuples", "tuples", "filter", "paginate"}
_GETTERS = {"get", "get_or_none", "get_by_id", "first", "aget", "aget_or_none"}
_SCOPES = {"atomic", "transaction", "savepoint", "batch_commit", "aio_atomic"}


class PeeweeKnowledge(Knowledge):
    library = LIBRARY
    autocommit_regime = "peewee autocommit"
    transaction_fix = ("wrap {what} in `with db.atomic():`")
    transaction_idiom = TransactionIdiom("", "", "{}.atomic()", decorator="{}.atomic()")
    roots = ("peewee", "playhouse", "peewee_async")
    model_bases = ("peewee.Model", "playhouse.signals.Model", "playhouse.postgres_ext.Model",
                   "playhouse.sqlite_ext.Model", "playhouse.pwasyncio.AsyncModel", "peewee_async.AioModel")

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        root, _, name = qname.rpartition(".")
        if root.split(".")[0] in self.roots and (name.endswith("Database") or name in ("DatabaseProxy", "Proxy")):
            return Outcome(value=Value("handle", name="database", library=LIBRARY, regime=AUTOCOMMIT))
        return None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.library != LIBRARY:
            return None
        if value.kind == "model":
            if name in _IMMEDIATE:
                return write_effect(LIBRARY, value, AUTOCOMMIT, bulk=name.startswith(("bulk", "abulk")))
            if name in _BUILDERS:
                batch = ("batch",) if name in ("insert_many", "insert_from", "replace_many") else ()
                return Outcome(value=Value("statement", name=value.name, library=LIBRARY, table=value.table,
                                           flags=batch))
            if name in _GETTERS:
                return Outcome(value=Value("instance", name=value.name, library=LIBRARY, table=value.table))
            if name in _QUERY_CHAIN:
                return Outcome(value=Value("handle", name="query", library=LIBRARY, table=value.table,
                                           flags=(value.name,)))
            if name == "raw":
                return effect("sql", LIBRARY, AUTOCOMMIT, how="raw", sql=call.string(0) or "")
            return None
        if value.kind == "handle" and value.name == "query":
            if name in _QUERY_CHAIN:
                return Outcome(value=value)
            if name in _GETTERS:
                return Outcome(value=Value("instance", name=value.flags[0] if value.flags else "", library=LIBRARY,
                                           table=value.table))
            return None
        if value.kind == "statement":
            if name in _BUILDER_CHAIN:
                return Outcome(value=value)
            if name in ("execute", "aexecute"):
                model = Value("model", name=value.name, library=LIBRARY, table=value.table)
                return write_effect(LIBRARY, model, AUTOCOMMIT, bulk=value.has("batch"))
            return None
        if value.kind == "instance":
            if name in ("save", "delete_instance", "asave", "adelete_instance"):
                return write_effect(LIBRARY, value, AUTOCOMMIT)
            return None
        if value.kind == "handle" and value.name == "database":
            if name in _SCOPES:
                return Outcome(value=Value("scope", name=name, library=LIBRARY))
            if name in ("execute_sql", "aexecute_sql"):
                return effect("sql", LIBRARY, AUTOCOMMIT, how="raw", sql=call.string(0, "sql") or "")
            if name == "commit":
                return effect("commit", LIBRARY, AUTOCOMMIT)
            if name == "rollback":
                return effect("rollback", LIBRARY, AUTOCOMMIT)
        if value.kind == "scope" and value.library == LIBRARY and name == "commit":
            return effect("commit", LIBRARY, AUTOCOMMIT)
        return None

    def opens_transaction(self, value: Value, as_decorator: bool) -> bool:
        return value.kind == "scope" and value.library == LIBRARY

    def model_table(self, class_name, module, attributes) -> str:
        ref = attributes.get("Meta.table_name")
        if ref is not None and ref[0] == "str":
            return ref[1]
        return class_name.lower()
