"""Tortoise ORM: autocommit; `in_transaction()` and `@atomic()` open transactions.

Bulk writes with batch_size run one transaction per batch, so they are not atomic as a whole.
"""

from typing import Optional

from txlint.frameworks import Knowledge, TransactionIdiom
from txlint.values import AUTOCOMMIT, CallView, Outcome, Value, effect, write_effect

LIBRARY = "tortoise"

_CLASS_WRITES = {"create": False, "get_or_create": False, "update_or_create": True, "bulk_create": False,
                 "bulk_update": False}
_QUERY_CHAIN = {"filter", "exclude", "all", "order_by", "limit", "offset", "select_for_update", "using_db",
                "prefetch_related", "select_related", "annotate", "distinct", "only"}
_GETTERS = {"get", "get_or_none", "first", "last"}
_RAW = {"execute_query", "execute_query_dict", "execute_insert", "execute_many", "execute_script"}


class TortoiseKnowledge(Knowledge):
    library = LIBRARY
    autocommit_regime = "Tortoise autocommit"
    transaction_fix = ("wrap {what} in `async with in_transaction():`")
    transaction_idiom = TransactionIdiom("tortoise.transactions", "in_transaction", "{}()", asynchronous=True)
    roots = ("tortoise",)
    model_bases = ("tortoise.models.Model", "tortoise.Model")

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        if qname in ("tortoise.transactions.in_transaction", "tortoise.transactions.atomic"):
            return Outcome(value=Value("scope", name="in_transaction", library=LIBRARY))
        if qname in ("tortoise.Tortoise.get_connection", "tortoise.connections.get"):
            return Outcome(value=Value("handle", name="client", library=LIBRARY, regime=AUTOCOMMIT))
        return None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.library != LIBRARY:
            return None
        if value.kind == "model":
            if name in _CLASS_WRITES:
                outcome = write_effect(LIBRARY, value, AUTOCOMMIT, atomic_alone=_CLASS_WRITES[name],
                                       bulk=name.startswith("bulk"))
                if name in ("create", "get_or_create", "update_or_create"):
                    return Outcome(value=Value("instance", name=value.name, library=LIBRARY, table=value.table),
                                   effect=outcome.effect)
                return outcome
            if name in _QUERY_CHAIN:
                return Outcome(value=Value("handle", name="query", library=LIBRARY, table=value.table,
                                           flags=(value.name,)))
            if name in _GETTERS:
                return Outcome(value=Value("instance", name=value.name, library=LIBRARY, table=value.table))
            if name == "raw":
                return effect("sql", LIBRARY, AUTOCOMMIT, how="raw", sql=call.string(0) or "")
            return None
        if value.kind == "handle" and value.name == "query":
            if name in _QUERY_CHAIN:
                return Outcome(value=value)
            if name in ("update", "delete"):
                model = Value("model", name=value.flags[0] if value.flags else "", library=LIBRARY, table=value.table)
                return write_effect(LIBRARY, model, AUTOCOMMIT)
            if name in _GETTERS:
                return Outcome(value=Value("instance", name=value.flags[0] if value.flags else "", library=LIBRARY,
                                           table=value.table))
            return None
        if value.kind == "instance" and name in ("save", "delete"):
            return write_effect(LIBRARY, value, AUTOCOMMIT)
        if value.kind == "handle" and value.name == "client" and name in _RAW:
            return effect("sql", LIBRARY, AUTOCOMMIT, how="raw", sql=call.string(0, "query") or "",
                          bulk=name in ("execute_many", "execute_script"))
        return None

    def opens_transaction(self, value: Value, as_decorator: bool) -> bool:
        return value.kind == "scope" and value.library == LIBRARY

    def model_table(self, class_name, module, attributes) -> str:
        ref = attributes.get("Meta.table")
        if ref is not None and ref[0] == "str":
            return ref[1]
        return class_name.lower()
