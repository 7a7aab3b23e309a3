"""What one write's call says of itself: the keys it finds its rows by, whether it only deletes,
the object it writes, the names it is given, whether it is a log entry, a message or a lookup's
side effect. `txlint.evidence` links two writes from these.

What it may use: an effect's call (its ref) and the effect's own fields; no project model.
"""

import re
from typing import TYPE_CHECKING, FrozenSet, Iterable, Set

from txlint.dataflow import INSERTED_KEY, SETS_ATTRIBUTE, called_name, names_in, names_passed_whole
from txlint.facts import Ref

if TYPE_CHECKING:
    from txlint.project import Effect

_DELETES = {"delete", "adelete", "delete_many", "delete_all", "remove", "aremove", "clear", "aclear",
            "delete_instance", "truncate"}
_DELETE_SQL = ("DELETE", "TRUNCATE", "DROP")
IDENTITY = re.compile(r"(^|_)(id|ids|pk|pks|key|uuid)$")
_LOG_TABLE = re.compile(r"(log|logs|logentry|logentries|audit|auditentry|auditentries|history|historyentry)$|"
                        r"^historical|activitylog|actionlog|auditlog|^changes?$")  # weblate's Change: its history
_THRESHOLD_LOOKUPS = ("__lt", "__lte", "__gt", "__gte", "__range", "__in", "__contains", "__startswith")
_UPDATES = {"update", "aupdate", "bulk_update", "abulk_update", "update_many", SETS_ATTRIBUTE}


def removes_a_row_by_its_key(effect: "Effect") -> bool:
    """Does the delete remove a row named by its own key or instance (`order.delete()`,
    `session.delete(order)`, `filter(pk=order_id)`, `where(Order.id == order_id)`), rather than the
    rows that point at one (`filter(order__event=event)`)? Raw SQL and helpers' deletes: as far as
    txlint can tell, yes."""
    if effect.spec.how == "raw" or effect.via:
        return True
    call = effect.site.ref
    func = call[1]
    if func[0] == "attr" and func[1][0] == "name" and func[2] in _DELETES:
        return True  # `order.delete()`, `session.delete(order)`
    while isinstance(call, tuple) and call and call[0] == "call":
        if any(key in _OWN_KEYS for key, _ in call[3] if key):
            return True
        if any(_compares_own_key(argument) for argument in call[2]):
            return True
        func = call[1]
        call = func[1] if func[0] == "attr" else None
    return False


_OWN_KEYS = {"pk", "id", "pk__in", "id__in", "pk__exact", "id__exact"}


def _compares_own_key(ref: Ref) -> bool:
    """`Order.id == order_id` in a `where(...)`: a column named id or pk of a class."""
    if not isinstance(ref, tuple) or not ref:
        return False
    if ref[0] == "call":  # `delete(Order)` itself, or `and_(...)` around the comparisons
        return any(_compares_own_key(argument) for argument in ref[2])
    return ref[0] == "expr" and any(
        part[0] == "attr" and part[2] in ("id", "pk") and part[1][0] == "name" for part in ref[1]
        if isinstance(part, tuple) and part)


def handles_failure_of(handler_write: "Effect", work: "Effect") -> bool:
    """Is the write in an `except` handler of the `try` whose body made the other one (a failed
    check-in recorded after the block that would have made it raised)?"""
    in_body = {block for block, part in work.site.context.trys if part == "body"}
    return any(part == "except" and block in in_body for block, part in handler_write.site.context.trys)


def deleted_in_handler(effects: Iterable["Effect"], blocks: Set[int], names: FrozenSet[str]) -> bool:
    """Does an `except` handler of one of these `try` blocks delete the row of one of these variables?"""
    return any(effect.kind == "write" and is_delete(effect) and _deleted_names(effect) & names and
               any(part == "except" and block in blocks for block, part in effect.site.context.trys)
               for effect in effects)


def _deleted_names(effect: "Effect") -> FrozenSet[str]:
    """The variables whose rows a delete removes: `theme` in `theme.delete()`, `session.delete(theme)`
    and `delete_theme(theme)`."""
    owner = effect.receiver if not effect.via else method_owner(effect)
    return whole_arguments(effect) | ({owner} if owner and "." not in owner else set())


def new_row_given(effect: "Effect") -> FrozenSet[str]:
    """The variable (or attribute of `self`) holding the unsaved instance a call inserts, given by
    keyword (`page` in treebeard's `parent.add_child(instance=page)`)."""
    if effect.via or not effect.spec.new_row_keyword:
        return frozenset()
    given = dict(effect.site.ref[3]).get(effect.spec.new_row_keyword)
    paths: Set[str] = set()
    if given is not None and given[0] in ("name", "attr"):
        names_in(given, paths, paths=True)
    return frozenset(path for path in paths if is_object_path(path) and path != "self")


def site_receiver(effect: "Effect") -> str:
    """The variable whose method the write's call is (`response` in `response.save()`, also when
    the write is made inside that method)."""
    func = effect.site.ref[1]
    return func[1][1] if func[0] == "attr" and func[1][0] == "name" else ""


def method_owner(effect: "Effect") -> str:
    """The variable whose method a helper's write was reached through (`user` in `user.add_to_group(g)`)."""
    func = effect.site.ref[1]
    return func[1][1] if effect.via and func[0] == "attr" and func[1][0] == "name" else ""


def equality_keys(call: Ref) -> FrozenSet[str]:
    """The variables a query chain looks rows up by equality (`filter(action=action)`, not
    `filter(created__lt=cutoff)`): the rows of one thing, not those past a threshold."""
    keys: Set[str] = set()
    while isinstance(call, tuple) and call and call[0] == "call":
        keys.update(value[1] for key, value in call[3]
                    if key and not key.endswith(_THRESHOLD_LOOKUPS) and value[0] == "name")
        func = call[1]
        call = func[1] if func[0] == "attr" else None
    return frozenset(keys)


def fetches(effect: "Effect") -> bool:
    """A write made inside a helper called to get something (`get_translation(...)`,
    `find_user(...)`): what it returns was looked up, not made by that write."""
    return bool(effect.via) and called_name(effect.site.ref[1]).lstrip("_").startswith(_FETCH_VERBS)


_FETCH_VERBS = ("get", "find", "fetch", "load", "lookup", "read")


def written_looking_up(effect: "Effect") -> bool:
    """A write made inside a helper called to look something up, however deep down the helpers
    (`get_raw_connection()` calling `get_oauth2_access_token()`, which stores a refreshed token):
    what a lookup keeps on its way, no half of the work that asked for it."""
    return any(_names_a_lookup(helper.rsplit(".", 1)[-1]) for helper in effect.helpers)


def _names_a_lookup(name: str) -> bool:
    name = name.lstrip("_")
    return any(name == verb or name.startswith(f"{verb}_") for verb in _FETCH_VERBS)


def sends_a_message(effect: "Effect") -> bool:
    """A write made by a helper called to send a mail or a notice (`mail(...)`, `invite.send()`,
    `notify_user(...)`), or made inside one however it was reached (`_order_placed_email(...)`
    calling `mail(...)`, which queues the outbox row)."""
    if not effect.via:
        return False
    # (a signal's `send()` names no message: its receivers' names say what they do)
    return (not effect.by_receiver and called_name(effect.site.ref[1]).lstrip("_").startswith(_MESSAGE_VERBS)) or \
        effect.via.rsplit(".", 1)[-1].lstrip("_").startswith(_MESSAGE_VERBS)


_MESSAGE_VERBS = ("send", "mail", "email", "notify")


def object_written(effect: "Effect") -> str:
    """The variable whose row a write saves: `ra` in `ra.save()`, and in `ra.validated_save()` when
    that method saves `self`."""
    if not effect.via:
        # `ra.save()`; not `ra.lines.create()`, which writes other rows through ra's relation
        return effect.receiver if "." not in effect.receiver else ""
    func = effect.site.ref[1]
    if effect.receiver == "self" and func[0] == "attr" and func[1][0] == "name":
        return func[1][1]
    return ""


def objects_named(effect: "Effect") -> FrozenSet[str]:
    """The variables a write's call uses, or uses the attributes of (`Invoice(order_id=order.id)`,
    `order.lines.create()`), and the attributes of `self` it uses (`Invoice(order=self.order)`)."""
    names: Set[str] = set()
    names_in(effect.site.ref, names)
    paths: Set[str] = set()
    names_in(effect.site.ref, paths, paths=True)
    return frozenset(names | {path for path in paths if is_object_path(path) and "." in path})


def is_object_path(text: str) -> bool:
    """A variable (`order`) or an attribute of `self` (`self.order`): what a write can save whole."""
    root, _, attribute = text.partition(".")
    return bool(root) and (not attribute or (root == "self" and "." not in attribute and attribute.isidentifier()))


def object_path(ref: Ref) -> str:
    """The object path (see is_object_path) an expression names: `order`, `self.order`; "" for
    anything else (a call, a subscript, `a.b`)."""
    if ref[0] == "name":
        return ref[1]
    if ref[0] == "attr" and ref[1] == ("name", "self"):
        return f"self.{ref[2]}"
    return ""


def argument_names(effect: "Effect") -> FrozenSet[str]:
    """Every variable a write's call is built from (its arguments, its query chain, a DB-API call's
    parameters), except those it only finds its rows by: a key (`filter(pk=job.pk)`,
    `where(Job.id == job_id)`) is no amount written, and two writes that share one are updates that
    share a key."""
    names: Set[str] = set()
    _names_outside_keys(effect.site.ref, names)
    return frozenset(name for name in names if "." not in name and name != INSERTED_KEY)


def _names_outside_keys(ref: Ref, into: Set[str]) -> None:
    """`names_in(ref, paths=True)`, leaving out the values of a call chain's key lookups."""
    if not isinstance(ref, tuple) or not ref:
        return
    if ref[0] == "attr" and isinstance(ref[1], tuple) and ref[1] and ref[1][0] == "call":
        _names_outside_keys(ref[1], into)  # the query chain the method is called on
    elif ref[0] == "call":
        _names_outside_keys(ref[1], into)
        for argument in ref[2]:
            if not _compares_own_key(argument):
                _names_outside_keys(argument, into)
        for keyword, argument in ref[3]:
            if not (keyword and keyword.split("__", 1)[0] in _KEY_FIELDS):
                _names_outside_keys(argument, into)
    else:
        names_in(ref, into, paths=True)  # operands too: `Customer.points + total`


_KEY_FIELDS = {"pk", "id"}


def attributes_written(effect: "Effect") -> FrozenSet[str]:
    """The attributes of a variable a write stores as they are (`update(poster_name=user.username)`:
    `user.username`), not its keys."""
    return frozenset(f"{value[1][1]}.{value[2]}" for _, value in effect.site.ref[3]
                     if value[0] == "attr" and value[1][0] == "name" and not IDENTITY.search(value[2]))


def whole_arguments(effect: "Effect") -> FrozenSet[str]:
    """The variables a write's call is given whole (`Post(topic=topic)`, `session.add(topic)`)."""
    return names_passed_whole(effect.site.ref)


def is_log(effect: "Effect") -> bool:
    """A write to a log of what happened (an audit entry, an activity log, a history record)."""
    return any(_LOG_TABLE.search(name) for name in _names_of(effect))


def is_delete(effect: "Effect") -> bool:
    """Does the write only delete rows (as far as its call shows)?"""
    if effect.spec.how == "raw":
        return effect.spec.sql.lstrip().upper().startswith(_DELETE_SQL)
    if effect.via or effect.spec.removes:
        return effect.spec.removes  # a helper's write says so itself (`self.groups.remove(group)` inside it)
    func = effect.site.ref[1]
    if func[0] == "attr" and func[2] in _DELETES:
        return True
    # `session.execute(delete(Model).where(...))`, `conn.execute(table.delete())`
    statement = effect.site.ref[2][0] if effect.site.ref[2] else None
    return effect.spec.how == "core" and statement is not None and statement[0] == "call" and \
        _chain_start_name(statement) == "delete"


def _chain_start_name(ref: Ref) -> str:
    """The name a call's chain starts from: `delete` in `delete(M).where(...)`, `table.delete()`."""
    while ref[0] == "call":
        func = ref[1]
        if func[0] == "name":
            return func[1]
        if func[0] != "attr":
            return ""
        if func[1][0] != "call":
            return func[2]
        ref = func[1]
    return ""


def makes_rows(effect: "Effect") -> bool:
    """Can the write insert (or save) rows? Only an update or delete seen in the call says no."""
    if effect.spec.how == "raw":
        return not effect.spec.sql.lstrip().upper().startswith(("UPDATE", *_DELETE_SQL))
    if effect.via:
        return True
    func = effect.site.ref[1]
    return not (func[0] == "attr" and (func[2] in _DELETES or func[2] in _UPDATES))


def updates_existing_rows(effect: "Effect") -> bool:
    """Does the write only change rows that exist already? An update or delete seen in the call,
    or Django's `save(update_fields=...)`, which updates the instance's row and never inserts one
    (it raises for an instance that is not in the database)."""
    func = effect.site.ref[1]
    if not effect.via and effect.spec.library == "django" and func[0] == "attr" and \
            func[2] in ("save", "asave") and any(key == "update_fields" for key, _ in effect.site.ref[3]):
        return True
    return not makes_rows(effect)


def only_deletes(effects: Iterable["Effect"]) -> bool:
    return all(is_delete(effect) for effect in effects)


def _names_of(effect: "Effect") -> FrozenSet[str]:
    return frozenset(name.lower() for name in (effect.spec.table, *effect.spec.aliases) if name not in ("", "?"))
