"""What a rule reports."""

from dataclasses import dataclass, field


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
