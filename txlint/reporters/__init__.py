"""Output formats. A reporter turns a run's result into text; the registry maps --format names to them."""

from importlib import import_module
from typing import Callable

from txlint.engine import RunResult

Reporter = Callable[[RunResult, "ReportOptions"], str]


class ReportOptions:
    def __init__(self, color: bool = False, rules=()):
        self.color = color
        self.rules = {rule.code: rule for rule in rules}


# --format name -> the module that renders it (imported when chosen: junit alone pulls in an XML library)
_MODULES = {"text": "text", "json": "json_format", "github": "github", "sarif": "sarif", "junit": "junit",
            "gitlab": "gitlab"}
FORMATS = tuple(_MODULES)


def render(name: str, result: RunResult, options: ReportOptions) -> str:
    module = import_module(f"{__name__}.{_MODULES[name]}")
    return module.render(result, options)
