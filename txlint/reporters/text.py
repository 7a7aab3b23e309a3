"""`path:line:col: CODE message`, then a summary line; colour only on a terminal."""

from txlint.run_state import RunResult
from txlint.reporters.escape import visible

_BOLD, _RED, _CYAN, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[0m"


def render(result: RunResult, options) -> str:
    lines = []
    for finding in result.findings:
        location = f"{visible(finding.path)}:{finding.line}:{finding.column}:"
        code = finding.code
        if options.color:
            location, code = f"{_BOLD}{location}{_RESET}", f"{_RED}{code}{_RESET}"
        lines.append(f"{location} {code} {visible(finding.message)}")
    count = len(result.findings)
    noun = "finding" if count == 1 else "findings"
    summary = f"{count} {noun} in {result.files} file{'s' if result.files != 1 else ''} checked"
    if result.parse_errors:
        summary += f" ({result.parse_errors} could not be parsed)"
    if result.suppressed:
        summary += f", {len(result.suppressed)} suppressed"
    lines.append(f"{_CYAN}{summary}{_RESET}" if options.color else summary)
    return "\n".join(lines) + "\n"
