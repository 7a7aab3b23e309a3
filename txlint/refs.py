"""Expressions as refs (see txlint.facts): what `extract` records for every value, call and
target, with `%` and `.format` templates filled in so SQL text and data flow survive."""

import ast
import re
from typing import Dict, List, Optional, Tuple

from txlint.facts import UNKNOWN, Ref


def clear_cache() -> None:
    """Forget the refs of the module extracted last: the cache is keyed by node id."""
    _REF_CACHE.clear()


_MAX_REF_DEPTH = 12
_MAX_REF_HEIGHT = 48
_CONSTANTS = {True: "True", False: "False", None: "None"}


def dotted(node: ast.expr) -> Optional[str]:
    """`a.b.c` as text (None for anything but names and attributes), however long."""
    attributes = []
    while type(node) is ast.Attribute:
        attributes.append(node.attr)
        node = node.value
    if type(node) is not ast.Name:
        return None
    return ".".join([node.id, *reversed(attributes)])


# Refs of the nodes of the module being extracted, by id, with their heights (how many levels of
# refs they hold): a call's ref contains the refs of the calls inside it, which are visited (and
# asked for) first. Cleared for every module.
_REF_CACHE: Dict[int, Tuple[Ref, int]] = {}
# The deepest level (the `depth` of `_build_ref`) that the ref being built reaches so far.
_deepest = 0


def to_ref(node: ast.expr, depth: int = 0) -> Ref:
    """The ref of an expression (see txlint.facts). A cached ref is reused inside another only
    while the whole stays under _MAX_REF_HEIGHT levels: a chain of 200 method calls, each call's
    ref holding the one before, would otherwise nest 400 deep, and every hash of it (each memo
    key) and every reader of it would walk all of it."""
    global _deepest
    cached = _REF_CACHE.get(id(node))
    if cached is not None:
        reach = depth + cached[1]
        if reach <= _MAX_REF_HEIGHT:
            if reach > _deepest:
                _deepest = reach
            return cached[0]
    outer, _deepest = _deepest, depth + 1
    if type(node) is ast.Name and depth <= _MAX_REF_DEPTH:  # _build_ref's first case: most refs are names
        ref = ("name", node.id)
    else:
        ref = _build_ref(node, depth)
    if cached is None:
        _REF_CACHE[id(node)] = (ref, _deepest - depth)
    if outer > _deepest:
        _deepest = outer
    return ref


def _constant_ref(value) -> Ref:
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, bytes):
        return ("str", value.decode("latin-1"))
    if value is None or isinstance(value, bool):
        return ("const", _CONSTANTS[value])
    if isinstance(value, (int, float, complex)):
        return ("const", repr(value))
    return UNKNOWN  # `...`


def _build_ref(node: ast.expr, depth: int) -> Ref:
    if depth > _MAX_REF_DEPTH:
        return UNKNOWN
    depth += 1
    node_type = type(node)
    if node_type is ast.Name:
        return ("name", node.id)
    if node_type is ast.Attribute:
        return ("attr", to_ref(node.value, depth), node.attr)
    if node_type is ast.Call:
        return _call_ref(node, depth)
    if node_type is ast.Constant:
        return _constant_ref(node.value)
    if node_type is ast.JoinedStr:
        parts = []
        for part in node.values:
            if type(part) is ast.Constant:
                parts.append(("str", part.value))
            else:  # the interpolated expression: its names carry data flow (an id into a path)
                parts.append(to_ref(part.value, depth) if type(part) is ast.FormattedValue else UNKNOWN)
        if all(part[0] == "str" for part in parts):
            return ("str", "".join(part[1] for part in parts))
        return ("concat", tuple(parts))
    if node_type is ast.BinOp:
        operator = type(node.op)
        if operator is ast.Add:
            return ("concat", (to_ref(node.left, depth), to_ref(node.right, depth)))
        if operator is ast.Mod:
            left = to_ref(node.left, depth)
            if left[0] in ("str", "concat"):
                right = to_ref(node.right, depth)
                if right[0] == "list":
                    return _filled(left, _PERCENT_FIELD, right[1], {})
                if right[0] == "dict":
                    return _filled(left, _PERCENT_FIELD, (), {key[1]: value for key, value in right[1]
                                                               if key[0] == "str"})
                return _filled(left, _PERCENT_FIELD, (right,), {}, fallback=right)
            if left[0] == "name":
                return left
        if operator is ast.Div:  # Path(...) / "name" is still a path, named after both sides
            return ("div", to_ref(node.left, depth), to_ref(node.right, depth))
        return ("expr", (to_ref(node.left, depth), to_ref(node.right, depth)))
    if node_type is ast.Compare:  # `Order.id == order_id`: no value, but the names flow
        return ("expr", (to_ref(node.left, depth), *(to_ref(right, depth) for right in node.comparators[:4])))
    if node_type is ast.UnaryOp:
        return ("expr", (to_ref(node.operand, depth),))
    if node_type is ast.Await:
        return to_ref(node.value, depth)
    if node_type is ast.Starred:  # `[*rows]`: what it unpacks, as libcst's element value was
        return to_ref(node.value, depth)
    if node_type is ast.Subscript:
        key = node.slice
        simple = type(key) is not ast.Slice and (type(key) is not ast.Tuple or _parenthesised(key))
        return ("sub", to_ref(node.value, depth), to_ref(key, depth) if simple else UNKNOWN)
    if node_type in (ast.List, ast.Tuple, ast.Set):
        return ("list", tuple(to_ref(element, depth) for element in node.elts[:20]))
    if node_type is ast.Dict:
        return ("dict", tuple((to_ref(key, depth), to_ref(value, depth))
                              for key, value in zip(node.keys[:50], node.values[:50]) if key is not None))
    if node_type in (ast.ListComp, ast.SetComp, ast.GeneratorExp):
        return ("list", (to_ref(node.elt, depth),))  # what the comprehension builds
    if node_type is ast.Lambda:
        return ("lambda",)
    if node_type is ast.IfExp:
        return to_ref(node.body, depth)
    if node_type is ast.BoolOp:
        return to_ref(node.values[-1], depth)
    return UNKNOWN


def _parenthesised(key: ast.Tuple) -> bool:
    """`x[(a, b)]` (one index, a tuple: libcst's extractor kept it) rather than `x[a, b]` (several,
    unknown): `ast` has a Tuple for both, which spans the parentheses only when they are there."""
    if not key.elts:
        return True
    first, last = key.elts[0], key.elts[-1]
    return (first.lineno, first.col_offset) != (key.lineno, key.col_offset) and \
        (last.end_lineno, last.end_col_offset) != (key.end_lineno, key.end_col_offset)


def _call_ref(node: ast.Call, depth: int) -> Ref:
    args = [UNKNOWN if type(arg) is ast.Starred else to_ref(arg, depth) for arg in node.args]
    kwargs = []
    for keyword in node.keywords:
        if keyword.arg is None:
            # `**options`: any argument might be in it; its names still flow into the call
            args.append(("expr", (to_ref(keyword.value, depth),)))
        else:
            kwargs.append((keyword.arg, to_ref(keyword.value, depth)))
    args, kwargs = tuple(args), tuple(kwargs)
    func = node.func
    # "...".format(...) keeps the template: its literal part is what matters.
    if type(func) is ast.Attribute and func.attr == "format":
        inner = to_ref(func.value, depth)
        if inner[0] in ("str", "concat"):
            return _filled(inner, _FORMAT_FIELD, args, dict(kwargs))
    return ("call", to_ref(func, depth), args, kwargs)


_PERCENT_FIELD = re.compile(r"%%|%(?:\((?P<key>[^)]*)\))?[-#0 +*]*\d*(?:\.\d+)?[sdirfgeEGxXoca]")
_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{(?P<key>[^{}!:]*)(?:[!:][^{}]*)?\}")


def _filled(template: Ref, field: "re.Pattern", args: tuple, named: dict, fallback: Ref = UNKNOWN) -> Ref:
    """A `%` or `.format` template with its arguments in place, like an f-string: the literal parts
    stay text (for SQL), the arguments stay refs (for constants and data flow)."""
    parts: List[Ref] = []
    position = 0
    for piece in (template[1] if template[0] == "concat" else (template,)):
        if piece[0] != "str":
            parts.append(piece)
            continue
        text, last = piece[1], 0
        for match in field.finditer(text):
            parts.append(("str", text[last:match.start()]))
            last = match.end()
            if match.group(0) in ("%%", "{{", "}}"):
                parts.append(("str", match.group(0)[0]))
                continue
            key = (match.group("key") or "").split(".")[0].split("[")[0]
            if key.isdigit():
                parts.append(args[int(key)] if int(key) < len(args) else fallback)
            elif key:
                parts.append(named.get(key, fallback))
            else:
                parts.append(args[position] if position < len(args) else fallback)
                position += 1
        parts.append(("str", text[last:]))
    merged: List[Ref] = []
    for part in parts:
        if part[0] == "str" and merged and merged[-1][0] == "str":
            merged[-1] = ("str", merged[-1][1] + part[1])
        elif part != ("str", ""):
            merged.append(part)
    if len(merged) == 1 and merged[0][0] == "str":
        return merged[0]
    return ("concat", tuple(merged)) if merged else ("str", "")
