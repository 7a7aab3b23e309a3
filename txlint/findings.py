"""What a rule reports."""

from dataclasses import dataclass, field
from typing import Optional, Tuple


@dataclass(frozen=True)
class FixPlan:
    """What a finding's fix does, decided by its rule from the whole project's analysis (a helper's
    transaction is decided where it is called); the rule's `fix` (txlint.fixes) edits the code.

    Plain data, so that it is cached and sent between processes with its finding.
    """

    safe: bool  # keeps the code's behaviour apart from the hazard; unsafe fixes need --unsafe-fixes
    title: str  # what the fix does, said to the user ("decorate place_order with @transaction.atomic")
    action: str  # which of the rule's edits ("decorate", "wrap", "move-commit"...)
    function_line: int = 0  # the line of the reported function's name (0: module-level code)
    lines: Tuple[int, ...] = ()  # 1-based lines of the statements the edit is about, as the action says
    details: Tuple[Tuple[str, str], ...] = ()  # the action's arguments, by name

    def detail(self, name: str, default: str = "") -> str:
        return dict(self.details).get(name, default)


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    path: str  # relative to the working directory, "/"-separated
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int
    function: str  # qualified name of the enclosing function ("module" for module-level code)
    message: str
    statement: str = field(default="", compare=False)  # normalised source of the reported statement (for baselines)
    fix: Optional[FixPlan] = field(default=None, compare=False)  # None: no mechanical fix

    def sort_key(self):
        return (self.path, self.line, self.column, self.code)

    def as_dict(self):
        return {
            "code": self.code,
            "name": self.name,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "function": self.function,
            "message": self.message,
        }
