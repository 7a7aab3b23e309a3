"""pandas: `DataFrame.to_sql(name, con)` writes a table (and `if_exists="replace"` drops it first)."""

from typing import Optional

from txlint.frameworks import Knowledge
from txlint.values import CallView, Outcome, Value, write_effect

LIBRARY = "pandas"


class PandasKnowledge(Knowledge):
    library = LIBRARY
    roots = ("pandas",)

    def call_qname(self, qname: str, call: CallView) -> Optional[Outcome]:
        name = qname.rsplit(".", 1)[-1]
        if name == "DataFrame" or name.startswith("read_") or name in ("concat", "merge"):
            return Outcome(value=Value("handle", name="dataframe", library=LIBRARY))
        return None

    def method(self, value: Value, name: str, call: CallView) -> Optional[Outcome]:
        if value.library != LIBRARY or value.name != "dataframe":
            return None
        if name == "to_sql":
            table = call.string(0, "name") or ""
            return write_effect(LIBRARY, Value("string", table=table), "", how="raw", bulk=True)
        return Outcome(value=value) if name in ("copy", "assign", "rename", "drop", "fillna", "astype") else None
