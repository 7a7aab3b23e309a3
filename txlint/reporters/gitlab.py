"""GitLab Code Quality report (a JSON list, shown in merge requests)."""

import json

from txlint.fingerprint import fingerprint


def render(result, options) -> str:
    issues = [{
        "description": f"{finding.code} {finding.message}",
        "check_name": f"{finding.code} {finding.name}",
        "fingerprint": fingerprint(finding),
        "severity": "major",
        "location": {"path": finding.path, "lines": {"begin": finding.line, "end": finding.end_line}},
    } for finding in result.findings]
    return json.dumps(issues, indent=2) + "\n"
