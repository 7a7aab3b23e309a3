"""Keys as JSON text: how a checkpoint's last key and a ledger's row keys are stored.

A key is a JSON scalar (str, int, float, bool, None), a datetime, date, UUID or Decimal, or a
tuple of those (a composite key). JSON has no tuple, datetime or UUID, so those are tagged;
decoding gives back the same value, so a resumed run compares keys of the same types.
"""

import datetime
import decimal
import json
import uuid
from typing import Any

_TAGS = {
    "datetime": (datetime.datetime, datetime.datetime.isoformat, datetime.datetime.fromisoformat),
    "date": (datetime.date, datetime.date.isoformat, datetime.date.fromisoformat),
    "uuid": (uuid.UUID, str, uuid.UUID),
    "decimal": (decimal.Decimal, str, decimal.Decimal),
}


class KeyTypeError(TypeError):
    """A key or column value that cannot be stored in a checkpoint or a ledger."""


def _tagged(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    if isinstance(value, (tuple, list)):
        return {"tuple": [_tagged(part) for part in value]}
    for tag, (kind, encode, _) in _TAGS.items():  # datetime before date: a datetime is a date
        if isinstance(value, kind):
            return {tag: encode(value)}
    raise KeyTypeError(
        f"a backfill key must be a str, int, float, bool, None, datetime, date, UUID, Decimal or a tuple "
        f"of them, not {type(value).__name__}")


def _untagged(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, content),) = value.items()
    if tag == "tuple":
        return tuple(_untagged(part) for part in content)
    return _TAGS[tag][2](content)


def encode_key(value: Any) -> str:
    return json.dumps(_tagged(value), separators=(",", ":"))


def decode_key(text: str) -> Any:
    return _untagged(json.loads(text))


def plain(value: Any) -> Any:
    """A key as the JSON report shows it: tuples as lists, other types as their text."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, (tuple, list)):
        return [plain(part) for part in value]
    return str(value)
