"""Inline suppressions: `# txlint: ignore[TXL101] -- reason`, `# noqa: TXL101` and bare `# noqa`."""

import re
from typing import Dict, Tuple

ALL = "*"
_TXLINT = re.compile(r"#\s*txlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?(?:\s*--\s*(?P<reason>.*))?", re.I)
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)


def _codes(text) -> Tuple[str, ...]:
    if not text:
        return (ALL,)
    return tuple(code.strip().upper() for code in re.split(r"[,\s]+", text) if code.strip())


TXLINT_STYLE = "txlint"
NOQA_STYLE = "noqa"


def parse_suppressions(lines) -> Tuple[Dict[int, Tuple[str, ...]], Dict[int, str], Dict[int, str]]:
    """line number -> suppressed codes, -> the reason given after `--`, -> the comment's style."""
    suppressed: Dict[int, Tuple[str, ...]] = {}
    reasons: Dict[int, str] = {}
    styles: Dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        if "#" not in line:
            continue
        match = _TXLINT.search(line)
        if match:
            suppressed[number] = _codes(match.group("codes"))
            styles[number] = TXLINT_STYLE
            if match.group("reason"):
                reasons[number] = match.group("reason").strip()
            continue
        match = _NOQA.search(line)
        if match:
            suppressed[number] = _codes(match.group("codes"))
            styles[number] = NOQA_STYLE
    return suppressed, reasons, styles


def is_suppressed(code: str, line: int, suppressed: Dict[int, Tuple[str, ...]]) -> bool:
    codes = suppressed.get(line)
    if not codes:
        return False
    return any(entry == ALL or code.startswith(entry) for entry in codes)
