"""The JSON object of the contract: version, findings, summary."""

import json

from txlint import __version__
from txlint.run_state import RunResult
from txlint.reporters.escape import encodable


def _finding(finding) -> dict:
    return {key: encodable(value) if isinstance(value, str) else value for key, value in finding.as_dict().items()}


def render(result: RunResult, options) -> str:
    document = {
        "version": __version__,
        "findings": [_finding(finding) for finding in result.findings],
        "summary": {"files": result.files, "findings": len(result.findings), "parse_errors": result.parse_errors},
    }
    return json.dumps(document, indent=2) + "\n"
