"""A fast pre-order walk over a libcst tree.

libcst's visitor protocol rebuilds every node on the way back up, which costs about as much as
the parse itself. txlint never changes the tree, so this walker reads the fields that can hold
code (skipping whitespace, punctuation and comments) and dispatches on the node type.
"""

import dataclasses
from typing import Callable, Dict, Tuple

import libcst as cst

_NOT_CODE = {
    "whitespace", "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after_decorators", "header",
    "footer", "newline", "indent", "trailing_whitespace", "equal", "colon", "dot", "star", "operator",
    "asynchronous", "lbracket", "rbracket", "lbrace", "rbrace", "default_newline", "default_indent",
    "encoding", "has_trailing_newline", "prefix", "quote", "value_quote", "start", "end", "string_quote",
}
_LEAVES = frozenset((cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Pass, cst.Break,
                     cst.Continue, cst.Ellipsis, cst.ImportStar))
_FIELDS: Dict[type, Tuple[str, ...]] = {}
# isinstance() against libcst's abstract base classes is slow; the answer per type is cached.
_IS_NODE: Dict[type, bool] = {}


def _is_node(value) -> bool:
    value_type = type(value)
    known = _IS_NODE.get(value_type)
    if known is None:
        known = _IS_NODE[value_type] = issubclass(value_type, cst.CSTNode)
    return known


def code_fields(node_type: type) -> Tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = tuple(
            f.name for f in dataclasses.fields(node_type)
            if not f.name.startswith("whitespace") and f.name not in _NOT_CODE
        )
        _FIELDS[node_type] = fields
    return fields


class Walker:
    """Subclasses define `visit_<NodeType>(node)`; a handler walks the children it wants itself."""

    def __init__(self):
        self._handlers: Dict[type, Callable] = {}

    def walk(self, node) -> None:
        node_type = type(node)
        if node is None or node_type in _LEAVES:
            return
        handler = self._handlers.get(node_type, False)
        if handler is False:
            handler = getattr(self, f"visit_{node_type.__name__}", None)
            self._handlers[node_type] = handler
        if handler is not None:
            handler(node)
        else:
            self.walk_children(node)

    def walk_children(self, node) -> None:
        for name in code_fields(type(node)):
            value = getattr(node, name)
            if type(value) in (tuple, list):
                for item in value:
                    if _is_node(item):
                        self.walk(item)
            elif _is_node(value):
                self.walk(value)

    def walk_all(self, nodes) -> None:
        for node in nodes:
            self.walk(node)
