"""TXL000 parse-error: a file txlint cannot decode or parse."""

from txlint.rule import Rule

RULE = Rule(
    code="TXL000",
    name="parse-error",
    summary="A file that cannot be decoded or parsed; it is reported and the run continues",
    docs="""\
## What it does
Reports a Python file that txlint cannot read: bytes that are not valid UTF-8 (and no coding
cookie says otherwise), NUL bytes, or a syntax error (including Python 2 code). The message
carries the decoder's or parser's own words and position.

## Why is this bad?
A file txlint cannot parse is a file it cannot check: any write hazard in it goes unseen.

## Example
```text
print "hello"
```

## Use instead
Fix the syntax or the encoding, or exclude the file (`exclude` in `[tool.txlint]`).

## Fix
None: what the file should say is for its author to decide.
""",
)
