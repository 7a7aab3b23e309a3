"""SQLAlchemy 2.x (ORM and Core, sync and asyncio), SQLModel and Flask-SQLAlchemy.

Sessions and connections autobegin: writes are atomic up to the next commit (the implicit
regime), unless the engine is configured with isolation_level="AUTOCOMMIT".
"""

from typing import Optional

from txlint.dataflow import SETS_ATTRIBUTE, called_name
from txlint.frameworks import Knowledge
from txlint.values import AUTOCOMMIT, IMPLICIT, CallView, Outcome, Value, effect, first_model, write_effect

LIBRARY = "sqlalchemy"

_SESSION_CLASSES = {
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
    "sqlmodel.ext.asyncio.session.AsyncSession",
}
_SESSION_FACTORIES = {
    "sqlalchemy.orm.sessionmaker",
    "sqlalchemy.orm.session.sessionmaker",
    "sqlalchemy.orm.scoped_session",
    "sqlalchemy.orm.scoping.scoped_session",
    "sqlalchemy.ext.asyncio.async_sessionmaker",
    "sqlalchemy.ext.asyncio.async_scoped_session",
}
_ENGINE_FACTORIES = {
    "sqlalchemy.create_engine",
    "sqlalchemy.engine.create_engine",
    "sqlalchemy.future.create_engine",
    "sqlalchemy.ext.asyncio.create_async_engine",
    "sqlalchemy.engine_from_config",
    "sqlmodel.create_engine",
}
_DML = {"insert", "update", "delete"}
_DML_MODULES = {
    "sqlalchemy",
    "sqlalchemy.sql",
    "sqlalchemy.sql.expression",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.postgresql.dml",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.mysql",
    "sqlmodel",
}
_TEXT = {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlmodel.text", "sqlalchemy.DDL",
         "sqlalchemy.schema.DDL"}
_TABLE_CLASSES = {"sqlalchemy.Table", "sqlalchemy.schema.Table", "sqlalchemy.table", "sqlalchemy.sql.table",
                  "sqlalchemy.sql.expression.table"}
_FLASK_DB = {"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy"}
_DECLARATIVE = {"sqlalchemy.orm.declarative_base", "sqlalchemy.ext.declarative.declarative_base"}

_SESSION_WRITES = {"add", "add_all", "delete", "delete_all", "merge", "merge_all", "bulk_save_objects",
                   "bulk_insert_mappings", "bulk_update_mappings"}
_EXECUTES = {"execute", "scalar", "scalars", "exec", "exec_driver_sql"}
_STATEMENT_CHAIN = {"values", "where", "filter", "filter_by", "returning", "on_conflict_do_update",
                    "on_conflict_do_nothing", "on_duplicate_key_update", "execution_options", "prefix_with",
                    "inline", "from_select", "ordered_values", "with_dialect_options", "bindparams", "columns"}
_COLUMNS = {"Column", "mapped_column"}
_RELATIONSHIPS = {"relationship", "relation", "dynamic_loader"}
# Methods of a relationship's collection (a list, a set, a dynamic or write-only collection) that
# change which rows belong to it: the INSERT or DELETE of the link is flushed with the session.
_COLLECTION_WRITES = {"append", "extend", "remove", "add", "discard", "clear", "insert", "pop"}
_COLLECTION_REMOVALS = {"remove", "discard", "clear", "pop"}
_QUERY_CHAIN = {"filter", "filter_by", "join", "outerjoin", "order_by", "limit", "offset", "options", "with_for_update",
                "where", "execution_options", "select_from", "group_by", "having", "distinct", "populate_existing"}


def _session(regime: str = IMPLICIT) -> Value:
    return Value("handle", name="session", library=LIBRARY, regime=regime)


def _statement_from(target: Optional[Value], sql: str = "") -> Value:
    table = ""
    if target is not None:
        table = target.table or target.name.rsplit(".", 1)[-1]
    if target is not None and target.kind == "model":
        return Value("statement", name=target.name, library=LIBRARY, table=target.table, flags=("model",))
    return Value("statement", library=LIBRARY, table=table, sql=sql)


class SQLAlchemyKnowledge(Knowledge):
    library = LIBRARY
    autocommit_regime = "AUTOCOMMIT engine"
    transaction_fix = ("run {what} in one `with session.begin():` block (or `with engine.begin() as conn:`)")
    commit_replacements = {"session": "flush"}
    roots = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
    model_bases = ("sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta",
                   "sqlalchemy.orm.decl_api.DeclarativeBase", "sqlmodel.SQLModel", "sqlmodel.main.SQLModel")

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        if qname in _SESSION_CLASSES:
            return Outcome(value=_session(self._regime_of(call.value(0, "bind"))))
        if qname in _SESSION_FACTORIES:
            return Outcome(value=Value("handle", name="sessionmaker", library=LIBRARY,
                                       regime=self._regime_of(call.value(0, "bind"))))
        if qname in _ENGINE_FACTORIES:
            autocommit = call.string(99, "isolation_level") == "AUTOCOMMIT"
            return Outcome(value=Value("handle", name="engine", library=LIBRARY, regime=AUTOCOMMIT if autocommit else IMPLICIT))
        module, _, function = qname.rpartition(".")
        if function in _DML and module in _DML_MODULES:
            return Outcome(value=_statement_from(call.value(0, "table")))
        if qname in _TEXT:
            return Outcome(value=Value("statement", library=LIBRARY, sql=call.string(0) or "", flags=("text",)))
        if qname in _TABLE_CLASSES:
            return Outcome(value=Value("model", name=call.string(0) or "", library=LIBRARY, table=call.string(0) or ""))
        if qname in _FLASK_DB:
            return Outcome(value=Value("handle", name="flask_db", library=LIBRARY))
        if qname in _DECLARATIVE or qname == "sqlalchemy.orm.registry.generate_base":
            return Outcome(value=Value("modelbase", library=LIBRARY))
        return None

    @staticmethod
    def _regime_of(bind: Optional[Value]) -> str:
        return bind.regime if bind is not None and bind.library == LIBRARY and bind.regime else IMPLICIT

    def attribute(self, value: Value, name: str) -> Optional[Value]:
        if value.kind == "handle" and value.name == "flask_db":
            if name == "session":
                return Value("handle", name="sessionmaker", library=LIBRARY, regime=IMPLICIT)
            if name == "Model":
                return Value("modelbase", library=LIBRARY)
            if name == "engine":
                return Value("handle", name="engine", library=LIBRARY, regime=IMPLICIT)
            if name in _DML or name == "text":
                return Value("qname", name=f"sqlalchemy.{name}")
        if value.kind == "model" and value.library == LIBRARY:
            if name == "__table__":
                return value
            if name == "query":  # Flask-SQLAlchemy's Model.query
                return Value("handle", name="query", library=LIBRARY, table=value.table, flags=(value.name,))
        return None

    def declares_model(self, attributes) -> bool:
        table = attributes.get("__tablename__")
        return table is not None and table[0] == "str" and any(
            ref[0] == "call" and called_name(ref[1]) in _COLUMNS for ref in attributes.values())

    def field(self, instance: Value, name: str, field_type: str) -> Optional[Value]:
        if field_type in _RELATIONSHIPS:
            return Value("handle", name="collection", library=LIBRARY,
                         table=f"{instance.name.rsplit('.', 1)[-1]}.{name}")
        return None

    def call_value(self, value: Value, call: CallView) -> Optional[Outcome]:
        if value.kind == "handle" and value.name == "sessionmaker":
            return Outcome(value=_session(value.regime))
        return None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.kind == "instance" and value.library == LIBRARY and name == SETS_ATTRIBUTE:
            # `cert.resolved = True` on a loaded object: the session flushes an UPDATE of its row
            # with the next flush or commit (the unit of work tracks every change to it).
            return write_effect(LIBRARY, value, IMPLICIT, how="orm", sets_attribute=True)
        if value.kind == "model" and value.library == LIBRARY and name in _DML:
            return Outcome(value=_statement_from(value))  # table.insert() / M.__table__.insert()
        if value.kind == "statement" and value.library == LIBRARY:
            return Outcome(value=value) if name in _STATEMENT_CHAIN else None
        if value.kind != "handle" or value.library != LIBRARY:
            return None
        role = value.name
        if role == "sessionmaker":
            if name in ("begin",):
                return Outcome(value=Value("scope", name="sessionmaker.begin", library=LIBRARY, regime=value.regime))
            if name in ("remove", "configure", "close_all"):
                return None
            return self.method(_session(value.regime), name, call)  # scoped_session proxies the session API
        if role == "engine":
            if name == "connect":
                return Outcome(value=Value("handle", name="connection", library=LIBRARY, regime=value.regime))
            if name == "begin":
                return Outcome(value=Value("scope", name="engine.begin", library=LIBRARY, regime=value.regime))
            if name == "execution_options":
                autocommit = call.string(99, "isolation_level") == "AUTOCOMMIT"
                return Outcome(value=Value("handle", name="engine", library=LIBRARY,
                                           regime=AUTOCOMMIT if autocommit else value.regime))
            if name == "raw_connection":
                return Outcome(value=Value("handle", name="connection", library="dbapi", regime=IMPLICIT))
            return None
        if role in ("session", "connection"):
            return self._session_method(value, name, call)
        if role == "collection":
            # `dashboard.slices.append(chart)`: the link row is written when the session flushes.
            if name not in _COLLECTION_WRITES:
                return None
            return write_effect(LIBRARY, value, IMPLICIT, how="orm", removes=name in _COLLECTION_REMOVALS)
        if role == "query":
            if name in _QUERY_CHAIN:
                return Outcome(value=value)
            if name in ("update", "delete"):
                model = Value("model", name=value.flags[0] if value.flags else value.table, library=LIBRARY,
                              table=value.table)
                return write_effect(LIBRARY, model, value.regime or IMPLICIT, how="orm")
            if name in ("first", "one", "one_or_none", "get", "scalar"):
                return Outcome(value=Value("instance", name=value.flags[0] if value.flags else "", library=LIBRARY,
                                           table=value.table), effect=None)
        return None

    statement_runners = ("execute", "scalar", "scalars", "exec")

    def run_statement(self, statement: Value, name: str, call: CallView) -> Optional[Outcome]:
        """A `text()` or DML statement executed through a session or connection txlint could not resolve
        (a project's own session factory): the write is known, its transaction regime is not."""
        if statement.library != LIBRARY:
            return None
        if statement.has("text"):
            return effect("sql", LIBRARY, "", how="raw", sql=statement.sql) if statement.sql else None
        if statement.table or statement.name:
            target = Value("model", name=statement.name, library=LIBRARY, table=statement.table) \
                if statement.has("model") else statement
            return write_effect(LIBRARY, target, "", how="core")
        return None

    def _session_method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        regime = value.regime or IMPLICIT
        if name in _SESSION_WRITES:
            target = first_model(call.value(0))
            return write_effect(LIBRARY, target, regime, how="orm",
                                bulk=name in ("add_all", "bulk_save_objects", "bulk_insert_mappings",
                                              "bulk_update_mappings", "delete_all", "merge_all"),
                                saves_argument=name in ("add", "merge", "delete"))
        if name in _EXECUTES:
            if name == "exec_driver_sql":
                return effect("sql", LIBRARY, regime, how="raw", sql=call.string(0) or "")
            statement = call.value(0, "statement")
            if statement is not None and statement.kind == "statement":
                if statement.has("text"):
                    return effect("sql", LIBRARY, regime, how="raw", sql=statement.sql)
                if statement.table or statement.name:
                    return write_effect(LIBRARY, statement if not statement.has("model") else
                                        Value("model", name=statement.name, library=LIBRARY, table=statement.table),
                                        regime, how="core")
            if statement is not None and statement.kind == "string":
                return effect("sql", LIBRARY, regime, how="raw", sql=statement.sql)
            return effect("read", LIBRARY, regime)
        if name == "commit":
            return effect("commit", LIBRARY, regime)
        if name in ("rollback", "close"):
            return effect("rollback", LIBRARY, regime)
        if name in ("begin", "begin_nested"):
            return Outcome(value=Value("scope", name=f"{value.name}.{name}", library=LIBRARY, regime=regime))
        if name == "query":
            model = call.value(0)
            if model is not None and model.kind == "model":
                return Outcome(value=Value("handle", name="query", library=LIBRARY, table=model.table,
                                           regime=regime, flags=(model.name,)))
            return None
        if name == "get":
            model = call.value(0)
            if model is not None and model.kind == "model":
                return Outcome(value=Value("instance", name=model.name, library=LIBRARY, table=model.table))
        if name == "connection":
            return Outcome(value=Value("handle", name="connection", library=LIBRARY, regime=regime))
        return None

    def enter(self, value: Value) -> Optional[Value]:
        if value.kind == "scope" and value.name == "engine.begin":
            return Value("handle", name="connection", library=LIBRARY, regime=value.regime)
        if value.kind == "scope" and value.name == "sessionmaker.begin":
            return _session(value.regime)
        return None

    def opens_transaction(self, value: Value, as_decorator: bool) -> bool:
        # Under AUTOCOMMIT, begin() blocks are not atomic (the driver commits every statement).
        return value.kind == "scope" and value.library == LIBRARY and value.regime != AUTOCOMMIT and not as_decorator

    def model_table(self, class_name, module, attributes) -> str:
        ref = attributes.get("__tablename__")
        if ref is not None and ref[0] == "str":
            return ref[1]
        return class_name.lower()

    def accepts_model(self, base_qname: str, attributes) -> bool:
        # A SQLModel class is a table only with `table=True`; otherwise it is a pydantic schema.
        if base_qname.startswith("sqlmodel."):
            ref = attributes.get("keyword:table")
            return ref is not None and ref == ("const", "True")
        return True
