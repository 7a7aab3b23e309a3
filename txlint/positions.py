"""Source positions for a few chosen nodes, in one code-generation walk.

libcst's PositionProvider records a range for every node of the module, which costs about as
much as the parse itself. txlint only needs positions for the nodes that can become findings,
so this walk updates a line/column counter and records ranges for those nodes alone.
"""

import re
from dataclasses import dataclass, field
from typing import Dict, List, Set, Tuple

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
