"""GitLab Code Quality report (a JSON list, shown in merge requests)."""

import json

from txlint.fingerprint import unique_fingerprints


def render(result, options) -> str:
    issues = [{
        "description": f"{finding.code} {finding.message}",
        "check_name": f"{finding.code} {finding.name}",
        "fingerprint": print_,
        "severity": "major",
        "location": {"path": finding.path, "lines": {"begin": finding.line, "end": finding.end_line}},
    } for finding, print_ in zip(result.findings, unique_fingerprints(result.findings))]
    return json.dumps(issues, indent=2) + "\n"
