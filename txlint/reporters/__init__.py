"""Output formats. A reporter turns a run's result into text; the registry maps --format names to them."""

from typing import Callable, Dict

from txlint.engine import RunResult

Reporter = Callable[[RunResult, "ReportOptions"], str]


class ReportOptions:
    def __init__(self, color: bool = False, rules=()):
        self.color = color
        self.rules = {rule.code: rule for rule in rules}


def _registry() -> Dict[str, Reporter]:
    from txlint.reporters import github, gitlab, json_format, junit, sarif, text

    return {"text": text.render, "json": json_format.render, "github": github.render, "sarif": sarif.render,
            "junit": junit.render, "gitlab": gitlab.render}


def reporter_names():
    return tuple(_registry())


def render(name: str, result: RunResult, options: ReportOptions) -> str:
    return _registry()[name](result, options)
