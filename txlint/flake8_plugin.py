"""flake8 plugin: txlint's findings as flake8 diagnostics (for editors that run flake8).

txlint's analysis is whole-program (a helper in one file changes findings in another), while
flake8 hands a plugin one file at a time. So the plugin analyses, once per process, the files
flake8 was asked to check — through txlint's cache, so workers share the work — and reports the
findings that fall in the file at hand. The configuration is the same `[tool.txlint]`.
"""

from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from txlint import __version__

_Diagnostic = Tuple[int, int, str, type]


class Plugin:
    name = "txlint"
    version = __version__

    _paths: List[str] = ["."]
    _findings: Optional[Dict[str, list]] = None  # resolved path -> findings, once per process

    def __init__(self, tree, filename: str):
        self.filename = filename

    @classmethod
    def parse_options(cls, options) -> None:
        cls._paths = list(getattr(options, "filenames", None) or ["."])
        cls._findings = None

    @classmethod
    def _project_findings(cls) -> Dict[str, list]:
        if cls._findings is None:
            from txlint.cache import Cache
            from txlint.config import load_config
            from txlint.discovery import discover
            from txlint.engine import Linter, check_files
            from txlint.rules import all_rules

            rules = all_rules()
            config = load_config(None, tuple(rule.code for rule in rules))
            files = discover(cls._paths, config)
            result = check_files(files, Linter(config, rules), jobs=1, cache=Cache(config.root))
            by_file: Dict[str, list] = {}
            for finding in result.findings:
                by_file.setdefault(str(Path(finding.path).resolve()), []).append(finding)
            cls._findings = by_file
        return cls._findings

    def run(self) -> Iterator[_Diagnostic]:
        for finding in self._project_findings().get(str(Path(self.filename).resolve()), ()):
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
