"""GitLab Code Quality report (a JSON list, shown in merge requests)."""

import json

from txlint.fingerprint import unique_fingerprints
from txlint.reporters.escape import encodable


# txlint's own failures are not code-quality issues of the code: they are reported on stderr and by
# the exit status, and the report lists the findings of the files that were checked.
def render(result, options) -> str:
    issues = [{
        "description": f"{finding.code} {encodable(finding.message)}",
        "check_name": f"{finding.code} {finding.name}",
        "fingerprint": print_,
        "severity": "major",
        "location": {"path": encodable(finding.path), "lines": {"begin": finding.line, "end": finding.end_line}},
    } for finding, print_ in zip(result.findings, unique_fingerprints(result.findings))]
    return json.dumps(issues, indent=2) + "\n"
