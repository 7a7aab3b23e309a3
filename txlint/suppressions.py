"""Inline suppressions: `# txlint: ignore[TXL101] -- reason`, `# noqa: TXL101` and bare `# noqa`."""

import re
import tokenize
from typing import Dict, Optional, Tuple

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
    mentions = [number for number, line in enumerate(lines, start=1)
                if "#" in line and (_TXLINT.search(line) or _concerns_txlint(_NOQA.search(line)))]
    if not mentions:
        return suppressed, reasons, styles
    # Only for files that mention a suppression (the tokenizer is not free), and only as far as
    # the last mention: `# noqa` is mostly on imports at the top of a file.
    comments = _comments(lines, mentions[-1])
    for number in mentions:
        line = comments.get(number, "") if comments is not None else lines[number - 1]
        match = _TXLINT.search(line)
        if match:
            suppressed[number] = _codes(match.group("codes"))
            styles[number] = TXLINT_STYLE
            if match.group("reason"):
                reasons[number] = match.group("reason").strip()
            continue
        match = _NOQA.search(line)
        if _concerns_txlint(match):
            suppressed[number] = _codes(match.group("codes"))
            styles[number] = NOQA_STYLE
    return suppressed, reasons, styles


def _concerns_txlint(noqa: Optional["re.Match[str]"]) -> bool:
    """A bare `# noqa`, or one naming a TXL code; `# noqa: E501` is another tool's business (and
    large projects have thousands: the tokenizer that tells comments from strings is not free)."""
    return noqa is not None and (not noqa.group("codes") or "TXL" in noqa.group("codes").upper())


def _comments(lines, last: int) -> Optional[Dict[int, str]]:
    """line -> its comment, up to line `last`, so that `# noqa` inside a string or docstring is not
    a suppression (None when the lines do not tokenize)."""
    found: Dict[int, str] = {}
    readline = iter(line + "\n" for line in lines).__next__
    try:
        for token in tokenize.generate_tokens(readline):
            if token.start[0] > last:
                break
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError, StopIteration):
        return None  # then the lines are read as they are
    return found


def is_suppressed(code: str, line: int, suppressed: Dict[int, Tuple[str, ...]]) -> bool:
    codes = suppressed.get(line)
    if not codes:
        return False
    return any(entry == ALL or code.startswith(entry) for entry in codes)


def without_code(line: str, code: str) -> Optional[str]:
    """`line` (with its line break) with `code` taken out of its suppression comment, and the
    comment removed when it suppresses nothing else; a line left empty is removed. `code` is
    ALL for a bare `# txlint: ignore`. None: the line has no such suppression."""
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    for pattern, style in ((_TXLINT, TXLINT_STYLE), (_NOQA, NOQA_STYLE)):
        match = pattern.search(body)
        if match is None or (style == NOQA_STYLE and not _concerns_txlint(match)):
            continue
        codes = _codes(match.group("codes"))
        kept = [] if code == ALL else [entry for entry in codes if entry != code.upper()]
        if len(kept) == len(codes):
            return None
        before, after = body[:match.start()].rstrip(" \t"), body[match.end():]
        if kept and style == TXLINT_STYLE:
            reason = f" -- {match.group('reason').strip()}" if match.group("reason") else ""
            comment = f"# txlint: ignore[{', '.join(kept)}]{reason}"
        elif kept:
            comment = f"# noqa: {', '.join(kept)}"
        else:
            comment = after.strip()
            after = ""
        text = f"{before}  {comment}{after}" if before and comment else before or comment
        return text + ending if text.strip() else ""
    return None
