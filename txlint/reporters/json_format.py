"""The JSON object of the contract: version, findings, summary."""

import json

from txlint import __version__
from txlint.engine import RunResult


def render(result: RunResult, options) -> str:
    document = {
        "version": __version__,
        "findings": [finding.as_dict() for finding in result.findings],
        "summary": {"files": result.files, "findings": len(result.findings), "parse_errors": result.parse_errors},
    }
    return json.dumps(document, indent=2) + "\n"
