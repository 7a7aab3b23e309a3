"""What a run gives and what it leaves for the next one: a module's outcome, the run's result, and
the state (per file, the call graph, the names each module's check read) a run over changed files
starts from. Plain data, pickled into the cache; uses txlint.findings and, for types, the model."""

from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

from txlint.findings import Finding

if TYPE_CHECKING:
    from txlint.project import CallGraph, ModuleIndex


@dataclass
class ModuleOutcome:
    """What checking one module gave (its TXL000 aside): reused as it is by the next run when the
    file is unchanged and nothing that checking it read has changed."""

    findings: List[Finding] = field(default_factory=list)
    suppressed: List[Finding] = field(default_factory=list)
    suppression_reasons: Dict[Tuple[str, int], str] = field(default_factory=dict)
    function_ranges: Dict[Tuple[str, str], Tuple[int, int]] = field(default_factory=dict)
    internal_errors: List[str] = field(default_factory=list)


@dataclass
class RunResult:
    findings: List[Finding] = field(default_factory=list)
    files: int = 0
    parse_errors: int = 0
    internal_errors: List[str] = field(default_factory=list)
    suppressed: List[Finding] = field(default_factory=list)
    suppression_reasons: Dict[Tuple[str, int], str] = field(default_factory=dict)  # (path, line) -> reason
    hints: List[str] = field(default_factory=list)
    # (path, function qualname) -> (first line, last line), (0, n) for module-level code: for --diff.
    function_ranges: Dict[Tuple[str, str], Tuple[int, int]] = field(default_factory=dict)
    # function qualname -> the project's functions it calls: for --diff, a hazard spans its helpers.
    calls: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    # What the next run over changed files starts from (tracked runs only; never in the run cache).
    state: Optional["ProjectState"] = None


@dataclass
class FileState:
    """One file as a tracked run left it."""

    key: str  # the cache key of its contents
    module: str = ""  # its module name, "" without facts
    index: Optional["ModuleIndex"] = None  # the names it defines, without facts
    parse_error: Optional[Finding] = None
    outcome: Optional[ModuleOutcome] = None  # None when it has no facts or its findings are not reported
    reads: bytes = b""  # the names checking it read (txlint.project.Project.note), packed by NameTable


@dataclass
class ProjectState:
    """A tracked run's files, by path in the run's order, with its call graph and project-wide values."""

    files: Dict[str, FileState]
    graph: "CallGraph"
    globals: Tuple[bool, bool, frozenset]  # txlint.project.Project.globals
    names: List[object] = field(default_factory=list)  # the NameTable the reads are packed with


class NameTable:
    """The names a run read, as numbers: a module's reads are kept as an array of them, which a
    state loads and stores many times faster than sets of strings (and smaller: no name is
    stored twice)."""

    def __init__(self, names: Sequence[object] = ()):
        self.names = list(names)
        self.numbers = {name: number for number, name in enumerate(self.names)}

    def pack(self, reads: Set[object]) -> bytes:
        numbers = self.numbers
        for name in reads:
            if name not in numbers:
                numbers[name] = len(self.names)
                self.names.append(name)
        return array("I", sorted(numbers[name] for name in reads)).tobytes()

    def numbers_of(self, names: Set[object]) -> Set[int]:
        return {self.numbers[name] for name in names if name in self.numbers}

    @staticmethod
    def reads_any(packed: bytes, numbers: Set[int]) -> bool:
        return bool(numbers) and not numbers.isdisjoint(array("I", packed))
