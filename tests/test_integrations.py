"""CI output formats, baselines, changed-code gating, and the flake8 plugin and pre-commit hook
run with the real tools."""

import json
import os
import shutil
import subprocess
import sys
from xml.etree import ElementTree

import pytest

from examples import MULTI_TABLE
from helpers import REPOSITORY, run_txlint

SARIF_SCHEMA = REPOSITORY.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
SUPPRESSED = MULTI_TABLE.replace("    Invoice.objects.create(order=order)",
                                 "    Invoice.objects.create(order=order)  # txlint: ignore[TXL101] -- caller is atomic")


def _two_findings(tree):
    return tree({"app/services.py": MULTI_TABLE, "app/other.py": SUPPRESSED.replace("place_order", "other_order")})


def test_github_annotations(txlint, tree):
    root = _two_findings(tree)
    code, out, _ = txlint("check", "--format", "github", cwd=root)
    assert code == 1
    (line,) = out.splitlines()
    assert line.startswith("::error file=app/services.py,line=14,col=5,endLine=14,endColumn=40,"
                           "title=TXL101 multi-table-write::writes to Order")
    assert "\n" not in line and "%0A" not in line


def test_github_escaping():
    from txlint.engine import RunResult
    from txlint.findings import Finding
    from txlint.reporters import ReportOptions, render

    finding = Finding("TXL101", "multi-table-write", "a,b:c.py", 1, 1, 1, 2, "f", "100% wrong\nsecond line")
    out = render("github", RunResult(findings=[finding], files=1), ReportOptions())
    assert out == "::error file=a%2Cb%3Ac.py,line=1,col=1,endLine=1,endColumn=2,title=TXL101 multi-table-write" \
                  "::100%25 wrong%0Asecond line\n"


def test_sarif_is_valid_and_marks_suppressions(txlint, tree):
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.is_file():
        pytest.fail(f"the SARIF 2.1.0 schema is missing: expected it at {SARIF_SCHEMA} (shared/schemas)")
    root = _two_findings(tree)
    code, out, _ = txlint("check", "--format", "sarif", cwd=root)
    document = json.loads(out)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(document)
    run = document["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= {"TXL101", "TXL102", "TXL301"}
    assert all(rule["helpUri"] and rule["help"]["text"] for rule in run["tool"]["driver"]["rules"])
    live = [r for r in run["results"] if "suppressions" not in r]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(live) == 1 and len(suppressed) == 1
    assert suppressed[0]["suppressions"] == [{"kind": "inSource", "status": "accepted",
                                              "justification": "caller is atomic"}]
    region = live[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 14, "startColumn": 5, "endLine": 14, "endColumn": 40}
    # Fingerprints are stable across unrelated edits that move the line.
    (root / "app" / "services.py").write_text("# a new comment\n\n" + MULTI_TABLE)
    moved = json.loads(txlint("check", "--format", "sarif", cwd=root)[1])["runs"][0]["results"]
    moved_live = [r for r in moved if "suppressions" not in r]
    assert moved_live[0]["partialFingerprints"] == live[0]["partialFingerprints"]
    assert moved_live[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 16


def test_junit_and_gitlab(txlint, tree):
    root = _two_findings(tree)
    junit = ElementTree.fromstring(txlint("check", "--format", "junit", cwd=root)[1])
    assert junit.get("failures") == "1"
    assert junit.find("testsuite/testcase/failure").get("type") == "TXL101"
    gitlab = json.loads(txlint("check", "--format", "gitlab", cwd=root)[1])
    assert gitlab[0]["location"] == {"path": "app/services.py", "lines": {"begin": 14, "end": 14}}
    assert gitlab[0]["check_name"] == "TXL101 multi-table-write" and len(gitlab[0]["fingerprint"]) == 32


def test_baseline_survives_edits_and_catches_new_findings(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE})
    code, _, err = txlint("check", "--write-baseline", "baseline.json", cwd=root)
    assert code == 0 and "wrote 1 finding" in err
    assert txlint("check", "--baseline", "baseline.json", cwd=root)[0] == 0
    # Edited above and around the finding, and reformatted: still the same finding.
    edited = ("import logging\n\nlog = logging.getLogger(__name__)\n\n\n" + MULTI_TABLE).replace(
        "    Invoice.objects.create(order=order)",
        "    log.info('placing')\n    Invoice.objects.create(\n        order=order,\n    )")
    (root / "app" / "services.py").write_text(edited)
    code, out, _ = txlint("check", "--baseline", "baseline.json", cwd=root)
    assert code == 0, out
    # A second finding of the same kind, with the same statement, in the same function is new.
    loop = "\n\ndef backfill():\n    for order in Order.objects.all():\n        order.save()\n"
    (root / "app" / "services.py").write_text(edited + loop)
    txlint("check", "--write-baseline", "baseline.json", cwd=root)
    (root / "app" / "services.py").write_text(edited + loop + "    for order in Order.objects.all():\n        order.save()\n")
    code, out, _ = txlint("check", "--baseline", "baseline.json", cwd=root)
    assert code == 1 and out.count("TXL102") == 1 and ":30:9: TXL102" in out, out
    # Fixed findings are reported and --write-baseline shrinks the file.
    (root / "app" / "services.py").write_text("x = 1\n")
    code, _, err = txlint("check", "--baseline", "baseline.json", cwd=root)
    assert code == 0 and "2 baselined findings are fixed" in err
    txlint("check", "--write-baseline", "baseline.json", cwd=root)
    assert json.loads((root / "baseline.json").read_text())["entries"] == []


def test_bad_baseline_is_a_usage_error(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE, "broken.json": "{not json"})
    for name in ("missing.json", "broken.json"):
        code, _, err = txlint("check", "--baseline", name, cwd=root)
        assert code == 2 and "Traceback" not in err and "--baseline" in err


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


def test_diff_reports_findings_in_changed_functions(txlint, tree):
    other = MULTI_TABLE.replace("place_order", "refund_order")
    root = tree({"app/services.py": MULTI_TABLE, "app/refunds.py": other})
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "initial")
    assert txlint("check", "--diff", "HEAD", cwd=root)[0] == 0
    # An edit anywhere in the function (not on the reported line) gates the hazard in it.
    (root / "app" / "refunds.py").write_text(other.replace("def refund_order(total):",
                                                           "def refund_order(total):\n    total = int(total)"))
    code, out, _ = txlint("check", "--diff", "HEAD", cwd=root)
    assert code == 1 and "app/refunds.py" in out and "app/services.py" not in out
    (root / "app" / "new.py").write_text(MULTI_TABLE)
    _, out, _ = txlint("check", "--diff", "HEAD", cwd=root)
    assert "app/new.py" in out
    code, _, err = txlint("check", "--diff", "no-such-revision", cwd=root)
    assert code == 2 and "Traceback" not in err


def test_flake8_reports_what_txlint_reports():
    project = REPOSITORY / "fixtures" / "django_shop"
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--select", "TXL", "."], cwd=project,
                            capture_output=True, text=True)
    assert flake8.returncode == 1, flake8.stderr
    from_flake8 = set()
    for line in flake8.stdout.splitlines():
        path, row, column, message = line.split(":", 3)
        from_flake8.add((os.path.normpath(path), int(row), int(column), message.split()[0]))
    _, out, _ = run_txlint("check", "--format", "json", ".", cwd=project)
    from_txlint = {(os.path.normpath(f["path"]), f["line"], f["column"], f["code"]) for f in json.loads(out)["findings"]}
    assert from_flake8 == from_txlint and from_txlint


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_pre_commit_hook_fails_then_passes(tmp_path):
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which("pre-commit")
    assert pre_commit, "pre-commit is not installed"
    source = REPOSITORY
    repository = tmp_path / "hook-source"
    shutil.copytree(source, repository, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "*.egg-info", ".txlint_cache", "__pycache__", "bench"))
    _git(repository, "init", "-q")
    _git(repository, "add", ".")
    _git(repository, "commit", "-qm", "txlint")
    project = tmp_path / "project"
    project.mkdir()
    (project / "services.py").write_text(MULTI_TABLE)
    _git(project, "init", "-q")
    _git(project, "add", "services.py")
    environment = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    failing = subprocess.run([pre_commit, "try-repo", str(repository), "txlint", "--files", "services.py"],
                             cwd=project, capture_output=True, text=True, env=environment)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "TXL101" in failing.stdout
    (project / "services.py").write_text(MULTI_TABLE.replace("def place_order", "@transaction.atomic\ndef place_order")
                                         .replace("from django.db import models", "from django.db import models, transaction"))
    _git(project, "add", "services.py")
    passing = subprocess.run([pre_commit, "try-repo", str(repository), "txlint", "--files", "services.py"],
                             cwd=project, capture_output=True, text=True, env=environment)
    assert passing.returncode == 0, passing.stdout + passing.stderr
