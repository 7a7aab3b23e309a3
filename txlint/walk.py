"""A fast pre-order walk over a Python syntax tree (`ast`) that dispatches on the node type.

`ast.NodeVisitor` looks up the handler by name for every node and visits every field, the
expression contexts and operators included. This walker caches the handler and the fields that
can hold code per node type, skips the leaves, and lets a handler walk the children it wants
itself, in the order it wants.

The walk keeps its own stack, not Python's: whatever `ast.parse` accepts (an `elif` chain of
300 branches, 500 nested `not`) is walked to the bottom, where a recursive walk would hit the
recursion limit. A handler is a generator that yields the nodes to walk, each walked completely
before the handler resumes, so it can do work after its children (pop what it pushed). It may
yield a list of nodes: they are walked in order before it resumes, which costs one resumption
instead of one per node (`yield node.body`, not `yield from node.body`).
"""

import ast
from typing import Dict, Iterable, List, Tuple

# Nodes with no code below them (or none that extraction looks at).
_LEAVES = frozenset((ast.Name, ast.Constant, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal,
                     ast.Load, ast.Store, ast.Del))
_FIELDS: Dict[type, Tuple[str, ...]] = {}
_SKIP = object()
_GENERATOR = type((lambda: (yield))())


def code_fields(node_type: type) -> Tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = _FIELDS[node_type] = tuple(name for name in node_type._fields
                                            if name not in ("ctx", "op", "type_comment"))
    return fields


_REVERSED_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _reversed_fields(node_type: type) -> Tuple[str, ...]:
    fields = _REVERSED_FIELDS.get(node_type)
    if fields is None:
        fields = _REVERSED_FIELDS[node_type] = code_fields(node_type)[::-1]
    return fields


class Walker:
    """Subclasses define `visit_<NodeType>(node)`: a plain function for a node whose children are
    not walked, or a generator yielding the children (and any other nodes), or lists of them, to
    walk, in order; any other node's code fields are all walked."""

    def __init_subclass__(cls, **options):
        super().__init_subclass__(**options)
        # Node type -> what to do with a node of it: a handler (the class's function, called with
        # the walker), `children` (walk all its code), or _SKIP (a leaf, or not a node at all:
        # None for `**mapping` in a dict, a str in a list). One table per class, not per walker:
        # a walker is made for every file.
        cls._handlers: Dict[type, object] = dict.fromkeys((*_LEAVES, type(None), str), _SKIP)

    def _handler(self, node_type: type) -> object:
        if not issubclass(node_type, ast.AST):
            handler = _SKIP
        else:
            handler = getattr(type(self), f"visit_{node_type.__name__}", None) or children
        self._handlers[node_type] = handler
        return handler

    def walk_all(self, nodes: Iterable) -> None:
        """Walk each node and everything below it."""
        handlers, reversed_fields = self._handlers, _REVERSED_FIELDS
        # Nodes still to walk, the next on top, and the handlers (generators) waiting for the walk
        # of the nodes they yielded to finish.
        pending: List = list(nodes)
        pending.reverse()
        while pending:
            node = pending.pop()
            node_type = type(node)
            if node_type is _GENERATOR:
                below = next(node, _SKIP)
                if below is not _SKIP:
                    pending.append(node)
                    if type(below) is list:
                        pending.extend(reversed(below))
                    else:
                        pending.append(below)
                continue
            handler = handlers.get(node_type) or self._handler(node_type)
            if handler is children:
                fields = reversed_fields.get(node_type)
                if fields is None:
                    fields = _reversed_fields(node_type)
                for name in fields:
                    value = getattr(node, name, None)
                    if type(value) is list:
                        pending.extend(reversed(value))
                    elif value is not None:
                        pending.append(value)
            elif handler is not _SKIP:
                below = handler(self, node)
                if below is not None:
                    pending.append(below)


def children(node: ast.AST) -> List:
    """The values in a node's code fields, in order (the walk skips the ones that are not nodes)."""
    found: List = []
    for name in code_fields(type(node)):
        value = getattr(node, name, None)
        if type(value) is list:
            found.extend(value)
        elif value is not None:
            found.append(value)
    return found
