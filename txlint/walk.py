"""A fast pre-order walk over a Python syntax tree (`ast`) that dispatches on the node type.

`ast.NodeVisitor` looks up the handler by name for every node and visits every field, the
expression contexts and operators included. This walker caches the handler and the fields that
can hold code per node type, skips the leaves, and lets a handler walk the children it wants
itself, in the order it wants.
"""

import ast
from typing import Callable, Dict, Tuple

# Nodes with no code below them (or none that extraction looks at).
_LEAVES = frozenset((ast.Name, ast.Constant, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal,
                     ast.Load, ast.Store, ast.Del))
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def code_fields(node_type: type) -> Tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = _FIELDS[node_type] = tuple(name for name in node_type._fields
                                            if name not in ("ctx", "op", "type_comment"))
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
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        self.walk(item)
            elif isinstance(value, ast.AST):
                self.walk(value)

    def walk_all(self, nodes) -> None:
        for node in nodes:
            self.walk(node)
