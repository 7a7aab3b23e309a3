"""Source positions for a few chosen nodes, in one code-generation walk.

libcst's PositionProvider records a range for every node of the module, which costs about as
much as the parse itself. txlint only needs positions for the nodes that can become findings,
so this walk updates a line/column counter and records ranges for those nodes alone.
"""

import ast
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

Range = Tuple[int, int, int, int]  # line, column, end line, end column; 1-based

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass
class _PositionTrackingState(CodegenState):
    wanted: Set[int] = field(default_factory=set)
    ranges: Dict[int, Range] = field(default_factory=dict)
    line: int = 1
    column: int = 0
    starts: List[Tuple[int, int]] = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self._advance(value)

    def _advance(self, value: str) -> None:
        if "\n" not in value and "\r" not in value:
            self.column += len(value)
            return
        segments = _NEWLINE.split(value)
        self.line += len(segments) - 1
        self.column = len(segments[-1])

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self.starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            line, column = self.starts.pop()
            self.ranges[id(node)] = (line, column + 1, self.line, self.column + 1)

    def pop_trailing_newline(self) -> None:
        """Nothing to pop: no tokens are kept."""


def node_ranges(module: cst.Module, nodes) -> Dict[int, Range]:
    """Ranges of the given nodes, keyed by id(node)."""
    wanted = {id(node) for node in nodes}
    if not wanted:
        return {}
    state = _PositionTrackingState(
        default_indent=module.default_indent, default_newline=module.default_newline, wanted=wanted
    )
    module._codegen(state)
    return state.ranges


def _callee_name(node) -> str:
    func = node.func
    if isinstance(func, (ast.Name, cst.Name)):
        return func.id if isinstance(func, ast.Name) else func.value
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return ""


class _Columns:
    """ast counts columns in UTF-8 bytes; findings count characters."""

    def __init__(self, lines: List[str]):
        self.lines = lines

    def char(self, line: int, byte_offset: int) -> int:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return byte_offset + 1
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def _ordered_ast_nodes(tree: ast.AST):
    calls, loops, functions = [], [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            loops.append(((node.lineno, node.col_offset, 0), node))
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for index, _ in enumerate(node.generators):
                loops.append(((node.lineno, node.col_offset, index), node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
    calls.sort(key=lambda n: (n.lineno, n.col_offset, -n.end_lineno, -n.end_col_offset))
    loops.sort(key=lambda item: item[0])
    functions.sort(key=lambda n: (n.lineno, n.col_offset))
    return calls, [node for _, node in loops], functions


def ast_ranges(text: str, lines: List[str], calls, loops, functions) -> Optional[Dict[int, Range]]:
    """Ranges of libcst nodes taken from Python's own parser, matched by source order.

    `calls`, `loops` and `functions` are every such libcst node of the module in source order.
    Returns None when the two trees do not line up (then the caller falls back to node_ranges).
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    ast_calls, ast_loops, ast_functions = _ordered_ast_nodes(tree)
    if len(ast_calls) != len(calls) or len(ast_loops) != len(loops) or len(ast_functions) != len(functions):
        return None
    columns = _Columns(lines)
    ranges: Dict[int, Range] = {}
    for ours, theirs in zip(calls, ast_calls):
        if _callee_name(ours) != _callee_name(theirs):
            return None
        ranges[id(ours)] = (theirs.lineno, columns.char(theirs.lineno, theirs.col_offset),
                            theirs.end_lineno, columns.char(theirs.end_lineno, theirs.end_col_offset))
    for ours, theirs in zip(functions, ast_functions):
        if ours.name.value != theirs.name:
            return None
        ranges[id(ours.name)] = (theirs.lineno, columns.char(theirs.lineno, theirs.col_offset),
                                 theirs.end_lineno, columns.char(theirs.end_lineno, theirs.end_col_offset))
        first = min([theirs.lineno] + [decorator.lineno for decorator in theirs.decorator_list])
        ranges[id(ours)] = (first, 1, theirs.end_lineno, columns.char(theirs.end_lineno, theirs.end_col_offset))
    for ours, theirs in zip(loops, ast_loops):
        ranges[id(ours)] = (theirs.lineno, columns.char(theirs.lineno, theirs.col_offset),
                            theirs.end_lineno, columns.char(theirs.end_lineno, theirs.end_col_offset))
    return ranges
