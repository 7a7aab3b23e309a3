"""CI output formats: GitHub workflow commands, SARIF 2.1.0 (validated against the official
schema), JUnit XML and GitLab Code Quality."""

import json
from xml.etree import ElementTree

import jsonschema

from examples import MULTI_TABLE

SUPPRESSED = MULTI_TABLE.replace(
    "    Invoice.objects.create(order=order)",
    "    Invoice.objects.create(order=order)  # txlint: ignore[TXL101] -- the caller is atomic")
# The same hazard twice in one function: two findings with the same statement.
TWICE = MULTI_TABLE + """

def backfill():
    for order in Order.objects.all():
        order.save()
    for order in Order.objects.all():
        order.save()
"""


def _project(tree):
    return tree({"app/services.py": MULTI_TABLE, "app/other.py": SUPPRESSED.replace("place_order", "other_order")})


def test_github_annotations(txlint, tree):
    code, out, _ = txlint("check", "--format", "github", cwd=_project(tree))
    assert code == 1
    (line,) = out.splitlines()
    assert line.startswith("::error file=app/services.py,line=14,col=5,endLine=14,endColumn=40,"
                           "title=TXL101 multi-table-write::writes to Order")


def test_github_escaping():
    from txlint.run_state import RunResult
    from txlint.findings import Finding
    from txlint.reporters import ReportOptions, render

    finding = Finding("TXL101", "multi-table-write", "a,b:c%.py", 1, 1, 1, 2, "f", "100% wrong\r\nsecond: a, b")
    out = render("github", RunResult(findings=[finding], files=1), ReportOptions())
    assert out == ("::error file=a%2Cb%3Ac%25.py,line=1,col=1,endLine=1,endColumn=2,title=TXL101 multi-table-write"
                   "::100%25 wrong%0D%0Asecond: a, b\n")


def test_sarif_is_valid_with_catalogue_locations_and_suppressions(txlint, tree, sarif_schema):
    root = _project(tree)
    _, out, _ = txlint("check", "--format", "sarif", cwd=root)
    document = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules][:4] == ["TXL000", "TXL001", "TXL002", "TXL101"]
    for rule in rules:
        assert rule["name"] and "helpUri" not in rule  # no published page to link to yet
        assert "## Why is this bad?" in rule["help"]["text"] or rule["id"] == "TXL000"
    live = [r for r in run["results"] if "suppressions" not in r]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(live) == 1 and len(suppressed) == 1
    assert suppressed[0]["suppressions"] == [{"kind": "inSource", "status": "accepted",
                                              "justification": "the caller is atomic"}]
    assert live[0]["ruleId"] == "TXL101" and rules[live[0]["ruleIndex"]]["id"] == "TXL101"
    location = live[0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "app/services.py"
    assert location["physicalLocation"]["region"] == {"startLine": 14, "startColumn": 5, "endLine": 14,
                                                      "endColumn": 40}
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "app.services.place_order"
    # Fingerprints are stable when unrelated edits move the line.
    (root / "app" / "services.py").write_text("# a new comment\n\nimport os\n" + MULTI_TABLE)
    moved = json.loads(txlint("check", "--format", "sarif", cwd=root)[1])["runs"][0]["results"]
    moved_live = [r for r in moved if "suppressions" not in r]
    assert moved_live[0]["partialFingerprints"] == live[0]["partialFingerprints"]
    assert moved_live[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 17


def test_sarif_with_no_findings_and_odd_paths_is_valid(txlint, tree, sarif_schema):
    root = tree({"clean.py": "x = 1\n", "with space/mod.py": MULTI_TABLE})
    document = json.loads(txlint("check", "--format", "sarif", "clean.py", cwd=root)[1])
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    assert document["runs"][0]["results"] == []
    document = json.loads(txlint("check", "--format", "sarif", cwd=root)[1])
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "with%20space/mod.py"


def test_fingerprints_are_unique_per_occurrence(txlint, tree):
    root = tree({"app/services.py": TWICE})
    sarif = json.loads(txlint("check", "--format", "sarif", cwd=root)[1])["runs"][0]["results"]
    gitlab = json.loads(txlint("check", "--format", "gitlab", cwd=root)[1])
    assert len(sarif) == len(gitlab) >= 2
    assert len({r["partialFingerprints"]["txlint/v1"] for r in sarif}) == len(sarif)
    assert len({issue["fingerprint"] for issue in gitlab}) == len(gitlab)


def test_junit(txlint, tree):
    code, out, _ = txlint("check", "--format", "junit", cwd=_project(tree))
    assert code == 1
    suites = ElementTree.fromstring(out)
    assert suites.tag == "testsuites" and suites.get("failures") == "1"
    (suite,) = suites.findall("testsuite")
    assert suite.get("name") == "app/services.py"
    failure = suite.find("testcase/failure")
    assert failure.get("type") == "TXL101" and failure.get("message").startswith("app/services.py:14:5: writes to")
    clean = ElementTree.fromstring(txlint("check", "--format", "junit", "app/other.py", cwd=_project(tree))[1])
    assert clean.get("failures") == "0"


def test_gitlab_code_quality(txlint, tree):
    code, out, _ = txlint("check", "--format", "gitlab", cwd=_project(tree))
    assert code == 1
    (issue,) = json.loads(out)
    assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
    assert issue["check_name"] == "TXL101 multi-table-write" and issue["severity"] in ("major", "critical")
    assert issue["location"] == {"path": "app/services.py", "lines": {"begin": 14, "end": 14}}
    assert issue["description"].startswith("TXL101 writes to Order")
