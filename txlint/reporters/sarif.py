"""SARIF 2.1.0: the rule catalogue, results with locations and fingerprints, suppressions."""

import json
import re
from urllib.parse import quote

from txlint import __version__
from txlint.fingerprint import unique_fingerprints

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
HELP_URI = "https://pypi.org/project/txlint/#{code}"


def _rule(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _section(rule.docs, "What it does") or rule.summary},
        "help": {"text": rule.docs, "markdown": rule.docs},
        "helpUri": HELP_URI.format(code=rule.code.lower()),
        "defaultConfiguration": {"level": "error"},
    }


def _section(docs: str, heading: str) -> str:
    match = re.search(rf"## {re.escape(heading)}\n(.*?)(?=\n## |\Z)", docs, re.S)
    return " ".join(match.group(1).split()) if match else ""


def _result(finding, index_of, fingerprint, suppression_reason=None) -> dict:
    result = {
        "ruleId": finding.code,
        **({"ruleIndex": index_of[finding.code]} if finding.code in index_of else {}),
        "level": "error",
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": quote(finding.path), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": finding.line, "startColumn": finding.column,
                           "endLine": finding.end_line, "endColumn": finding.end_column},
            },
            **({"logicalLocations": [{"fullyQualifiedName": finding.function, "kind": "function"}]}
               if finding.function else {}),
        }],
        "partialFingerprints": {"txlint/v1": fingerprint},
    }
    if suppression_reason is not None:
        suppression = {"kind": "inSource", "status": "accepted"}
        if suppression_reason:
            suppression["justification"] = suppression_reason
        result["suppressions"] = [suppression]
    return result


def render(result, options) -> str:
    rules = list(options.rules.values())
    index_of = {rule.code: index for index, rule in enumerate(rules)}
    results = [_result(finding, index_of, print_)
               for finding, print_ in zip(result.findings, unique_fingerprints(result.findings))]
    results += [
        _result(finding, index_of, print_, result.suppression_reasons.get((finding.path, finding.line), ""))
        for finding, print_ in zip(result.suppressed, unique_fingerprints(result.suppressed))
    ]
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "txlint", "version": __version__, "semanticVersion": __version__,
                                "informationUri": "https://pypi.org/project/txlint/",
                                "rules": [_rule(rule) for rule in rules]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "./"}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(document, indent=2) + "\n"
