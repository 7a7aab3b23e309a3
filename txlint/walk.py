"""A fast pre-order walk over a Python syntax tree (`ast`) that dispatches on the node type.

`ast.NodeVisitor` looks up the handler by name for every node and visits every field, the
expression contexts and operators included. This walker caches the handler and the fields that
can hold code per node type, skips the leaves, and lets a handler walk the children it wants
itself, in the order it wants.

The walk keeps its own stack, not Python's: whatever `ast.parse` accepts (an `elif` chain of
300 branches, 500 nested `not`) is walked to the bottom, where a recursive walk would hit the
recursion limit. A handler is a generator that yields the nodes to walk, each walked completely
before the handler resumes, so it can do work after its children (pop what it pushed).
"""

import ast
from typing import Callable, Dict, Iterable, Iterator, List, Tuple

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
    """Subclasses define `visit_<NodeType>(node)`: a plain function for a node whose children are
    not walked, or a generator yielding the children (and any other nodes) to walk, in order."""

    def __init__(self):
        self._handlers: Dict[type, Callable] = {}

    def walk(self, node) -> None:
        self.walk_all((node,))

    def walk_all(self, nodes: Iterable) -> None:
        """Walk each node (None and non-code items are skipped) and everything below it."""
        handlers = self._handlers
        pending: List[Iterator] = [iter(nodes)]
        while pending:
            for node in pending[-1]:
                node_type = type(node)
                if node_type in _LEAVES or not isinstance(node, ast.AST):
                    continue
                handler = handlers.get(node_type, False)
                if handler is False:
                    handler = handlers[node_type] = getattr(self, f"visit_{node_type.__name__}", None)
                below = children(node) if handler is None else handler(node)
                if below is not None:
                    pending.append(iter(below))
                    break  # walk what is below this node before the rest of its siblings
            else:
                pending.pop()


def children(node: ast.AST) -> List:
    """The nodes in a node's code fields, in order (items that are not nodes are skipped by the walk)."""
    found: List = []
    for name in code_fields(type(node)):
        value = getattr(node, name, None)
        if type(value) is list:
            found.extend(value)
        elif value is not None:
            found.append(value)
    return found
