"""Strings from the analysed tree (paths, identifiers, SQL text, table names) are data. They are
shown so that they can neither forge output (start a new line, a workflow command, a terminal
escape sequence, reorder what is displayed) nor make a report unencodable (the bytes of a file
name that are not UTF-8, which `os.fsdecode` keeps as lone surrogates)."""

import re

# C0 controls, DEL and C1 controls; the line and paragraph separators; the bidirectional marks,
# embeddings, overrides and isolates ("Trojan Source" reorders text with them); surrogates; the
# noncharacters U+FFFE and U+FFFF, which XML 1.0 forbids.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match) -> str:
    character = match.group()
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that was not UTF-8: shown as that byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` for a line a person reads (text output, stderr, annotations, XML): every character
    that could break the line, control a terminal or reorder the text is written as its escape
    (`\\n`, `\\x1b`, `\\u202e`), an undecodable byte of a file name as `\\xff`."""
    return _UNSAFE.sub(_escape, text)


def encodable(text: str) -> str:
    """`text` for a JSON document: JSON escapes control characters itself, but a lone surrogate
    is not Unicode (strict parsers reject it), so an undecodable byte of a file name is written
    as `\\xff` and any other surrogate as `\\udXXX`."""
    return _SURROGATE.sub(_escape, text)


def path_bytes(path: str) -> bytes:
    """The bytes a file name had on disk (what a URI percent-encodes), from its `os.fsdecode` text."""
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stands for no byte (not from a file name)
        return path.encode("utf-8", "surrogatepass")
