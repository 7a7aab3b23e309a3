"""SARIF 2.1.0: the rule catalogue, results with locations and fingerprints, suppressions."""

import json
import re
from urllib.parse import quote

from txlint import __version__
from txlint.fingerprint import unique_fingerprints
from txlint.reporters.escape import encodable, path_bytes

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _rule(rule) -> dict:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _section(rule.docs, "What it does") or rule.summary},
        "help": {"text": rule.docs, "markdown": rule.docs},
        "defaultConfiguration": {"level": "error"},
    }


def _section(docs: str, heading: str) -> str:
    match = re.search(rf"## {re.escape(heading)}\n(.*?)(?=\n## |\Z)", docs, re.S)
    return " ".join(match.group(1).split()) if match else ""


def _artifact(path: str) -> dict:
    # A URI percent-encodes the name's bytes (RFC 3986), so a file name that is not UTF-8 is one too.
    return {"uri": quote(path_bytes(path)), "uriBaseId": "%SRCROOT%"}


def _result(finding, index_of, fingerprint, suppression_reason=None) -> dict:
    result = {
        "ruleId": finding.code,
        **({"ruleIndex": index_of[finding.code]} if finding.code in index_of else {}),
        "level": "error",
        "message": {"text": encodable(finding.message)},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": _artifact(finding.path),
                "region": {"startLine": finding.line, "startColumn": finding.column,
                           "endLine": finding.end_line, "endColumn": finding.end_column},
            },
            **({"logicalLocations": [{"fullyQualifiedName": encodable(finding.function), "kind": "function"}]}
               if finding.function else {}),
        }],
        "partialFingerprints": {"txlint/v1": fingerprint},
    }
    if suppression_reason is not None:
        suppression = {"kind": "inSource", "status": "accepted"}
        if suppression_reason:
            suppression["justification"] = encodable(suppression_reason)
        result["suppressions"] = [suppression]
    return result


def _invocation(internal_errors) -> dict:
    """Whether the run succeeded; each internal error (a file not analysed, or a rule that failed on
    it) as a tool execution notification, at its file when it is one file's."""
    invocation = {"executionSuccessful": not internal_errors}
    notifications = []
    for message in internal_errors:
        notification = {"level": "error", "message": {"text": encodable(message)}}
        path, rule = getattr(message, "path", None), getattr(message, "rule", None)
        if path:
            notification["locations"] = [{"physicalLocation": {"artifactLocation": _artifact(path)}}]
        if rule:
            notification["associatedRule"] = {"id": rule}
        notifications.append(notification)
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


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
            # No helpUri / informationUri: txlint has no published pages yet, and a link to a page
            # that does not exist is worse than none; each rule's `help` carries its whole docs.
            "tool": {"driver": {"name": "txlint", "version": __version__, "semanticVersion": __version__,
                                "rules": [_rule(rule) for rule in rules]}},
            "invocations": [_invocation(result.internal_errors)],
            "originalUriBaseIds": {"%SRCROOT%": {"uri": "./"}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(document, indent=2) + "\n"
