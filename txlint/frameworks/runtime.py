"""txlint.runtime: the sanctioned helpers the rules point to."""

from typing import Optional

from txlint.frameworks import Knowledge
from txlint.values import CallView, Outcome, Value, effect

LIBRARY = "txlint.runtime"

_ATOMIC = {"txlint.runtime.atomic"}
_MATERIALIZER = {"txlint.runtime.materializer"}
_STAGE = {"txlint.runtime.stage_file"}
# A backfill's writer: the runner calls it inside each batch's `atomic` transaction, and the
# decorator refuses a call from anywhere else.
_BATCH_WRITER = {"txlint.runtime.backfill.batch_writer", "txlint.runtime.backfill._declare.batch_writer"}


class RuntimeKnowledge(Knowledge):
    library = LIBRARY
    roots = ("txlint",)

    def qname_value(self, qname: str) -> Optional[Value]:
        if qname in _ATOMIC:
            return Value("scope", name="atomic", library=LIBRARY)
        if qname in _MATERIALIZER:
            return Value("scope", name="materializer", library=LIBRARY)
        if qname in _BATCH_WRITER:
            return Value("scope", name="batch_writer", library=LIBRARY)
        return None

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        if qname in _ATOMIC:
            return Outcome(value=Value("scope", name="atomic", library=LIBRARY))
        if qname in _MATERIALIZER:
            return Outcome(value=Value("scope", name="materializer", library=LIBRARY))
        if qname in _STAGE:
            return effect("staged_file", LIBRARY)
        if qname in ("txlint.runtime.on_commit", "txlint.runtime._transaction.on_commit"):
            return effect("after_commit", LIBRARY)
        return None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.library == LIBRARY and value.name == "transaction":
            if name == "stage_file":
                return effect("staged_file", LIBRARY)
            if name == "on_commit":
                return effect("after_commit", LIBRARY)
        return None

    def enter(self, value: Value) -> Optional[Value]:
        if value.kind == "scope" and value.library == LIBRARY and value.name == "atomic":
            return Value("handle", name="transaction", library=LIBRARY)
        return None

    def opens_transaction(self, value: Value, as_decorator: bool) -> bool:
        if value.kind != "scope" or value.library != LIBRARY:
            return False
        return value.name == "atomic" or (value.name == "batch_writer" and as_decorator)
