"""Output the analysed code cannot forge: a file name, an identifier, a table name or SQL text from
the tree is data in every format. It never starts a line of its own (a GitHub workflow command),
never reaches a terminal as a control sequence, never makes a report unparsable or unencodable,
and txlint's own failures are reported in one format, on stderr and in the reports that have a
place for them."""

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_to_bytes
from xml.etree import ElementTree

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from examples import MULTI_TABLE

from txlint.run_state import RunResult
from txlint.errors import InternalErrorMessage
from txlint.findings import Finding
from txlint.reporters import ReportOptions, render, stderr_line, write_output
from txlint.reporters.escape import encodable, visible

# A file name holding a line break, a workflow command, a terminal escape, a right-to-left
# override, a C0 control and a byte that is not UTF-8 (Linux file names can hold any byte but
# "/" and NUL).
EVIL_NAME = b"app/evil\n::error file=forged.py,line=1::name\x1b[31m\xe2\x80\xae\x01\xff.py"
# How a person sees it: every one of those as its escape.
EVIL_SHOWN = "app/evil\\n::error file=forged.py,line=1::name\\x1b[31m\\u202e\\x01\\xff.py"
# A model's db_table, SQL text with a quoted identifier, and a helper named with non-ASCII letters.
SOURCE = '''\
import sqlite3

from django.db import connection, models


class Order(models.Model):
    total = models.IntegerField()

    class Meta:
        db_table = "orders\\n::error file=forged.py,line=1::db_table\\x1b[31m\\u202e\\x07"


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


def place_order(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
    return order


def raw_write(order_id):
    with connection.cursor() as cursor:
        cursor.execute('INSERT INTO "payments\\n::error file=forged.py::sql\\x1b[2J\\u2028\\x85" VALUES (%s)', [order_id])
        cursor.execute("UPDATE orders SET payment_id = %s WHERE id = %s", [cursor.lastrowid, order_id])


def sauvegardé(conn, row):
    conn.execute("INSERT INTO items VALUES (?)", (row,))
    conn.commit()


def backfill(rows):
    conn = sqlite3.connect("app.db")
    for row in rows:
        sauvegardé(conn, row)
        conn.execute("UPDATE items SET seen = 1 WHERE id = ?", (row,))
'''
FINDINGS_PER_FILE = 7
# The SQL identifier as every line-oriented format shows it.
SQL_SHOWN = "payments\\n::error file=forged.py::sql\\x1b[2J\\u2028\\x85"

# A rule that fails on every function of the file with the hostile name, with an exception whose
# message holds a line break and a workflow command of its own.
BROKEN_RULE_RUNNER = """
import sys

import txlint.rules
from txlint.cli import main
from txlint.rule import Rule

real = txlint.rules.all_rules


def broken(context):
    if context.unit.qualname.endswith(".backfill") and "evil" in context.unit.qualname:
        raise RuntimeError("cannot check " + context.unit.qualname + "\\n::error file=forged.py::from the exception")
    return ()


txlint.rules.all_rules = lambda: (*real(), Rule("TXL199", "broken-rule", "breaks", "docs", check=broken))
sys.exit(main(sys.argv[1:]))
"""
STRICT_ASCII = {"PYTHONIOENCODING": "ascii:strict", "LC_ALL": "C"}
# What no line-oriented output may hold raw: controls but the line feed ending each line, the
# line and paragraph separators, bidirectional controls, surrogates.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                    "\ud800-\udfff\ufffe\uffff]")


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    with open(os.path.join(os.fsencode(root), EVIL_NAME), "wb") as evil:
        evil.write(SOURCE.encode("utf-8"))
    (root / "app" / "views.py").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "run.py").write_text(BROKEN_RULE_RUNNER, encoding="utf-8")
    return root


def _run(root: Path, *args, env=None, broken_rule=False):
    """txlint check in `root`; returns (exit code, stdout bytes, stderr text)."""
    command = [str(root.parent / "run.py")] if broken_rule else ["-m", "txlint"]
    completed = subprocess.run([sys.executable, *command, "check", "--no-cache", *args], cwd=root,
                               capture_output=True, env={**os.environ, "NO_COLOR": "1", **(env or {})}, timeout=120)
    stderr = completed.stderr.decode("utf-8")
    assert "Traceback" not in stderr
    return completed.returncode, completed.stdout, stderr


def _lines(out: bytes, encoding: str):
    text = out.decode(encoding)
    assert text.endswith("\n") and not UNSAFE.search(text)
    return text.splitlines()


def _strings(value):
    """Every string in a parsed JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("env", [None, STRICT_ASCII], ids=["utf-8", "strict-ascii"])
def test_text_shows_the_trees_control_characters_as_escapes(project, env):
    code, out, _ = _run(project, env=env)
    assert code == 1
    lines = _lines(out, "ascii" if env else "utf-8")
    assert len(lines) == 2 * FINDINGS_PER_FILE + 1 and lines[-1] == f"{2 * FINDINGS_PER_FILE} findings in 2 files checked"
    evil = [line for line in lines if line.startswith(EVIL_SHOWN + ":")]
    assert len(evil) == FINDINGS_PER_FILE
    assert any(line.startswith("app/views.py:25:9: TXL201 raw SQL INSERT of `" + SQL_SHOWN + "`") for line in lines)
    helper = "sauvegard\\xe9()" if env else "sauvegardé()"
    assert any(line.startswith("app/views.py:37:9: TXL102 ") and helper in line for line in lines)


@pytest.mark.parametrize("env", [None, STRICT_ASCII], ids=["utf-8", "strict-ascii"])
def test_github_prints_exactly_one_workflow_command_per_finding(project, env):
    code, out, _ = _run(project, "--format", "github", env=env)
    assert code == 1
    lines = _lines(out, "ascii" if env else "utf-8")
    assert len(lines) == 2 * FINDINGS_PER_FILE and all(line.startswith("::error file=") for line in lines)
    # The properties end at the first "::" (":" and "," in them are escaped), so the file is the one
    # with the hostile name, written as GitHub decodes it back: %0A for the line break it holds.
    files = [line[len("::error file="):line.index(",line=")] for line in lines]
    evil_property = EVIL_SHOWN.replace("\\n", "%0A").replace(":", "%3A").replace(",", "%2C")
    assert files.count(evil_property) == FINDINGS_PER_FILE and files.count("app/views.py") == FINDINGS_PER_FILE
    assert all("::" not in line[len("::error "):line.index("::", len("::error "))] for line in lines)
    assert any(SQL_SHOWN.replace("\\n", "%0A") in line for line in lines)


@pytest.mark.parametrize("env", [None, STRICT_ASCII], ids=["utf-8", "strict-ascii"])
def test_junit_is_well_formed_xml(project, env):
    code, out, _ = _run(project, "--format", "junit", env=env)
    assert code == 1
    suites = ElementTree.fromstring(out)
    assert suites.get("failures") == str(2 * FINDINGS_PER_FILE) and suites.get("errors") == "0"
    names = [suite.get("name") for suite in suites.findall("testsuite")]
    assert sorted(names) == sorted(["app/views.py", EVIL_SHOWN])
    messages = [failure.get("message") for failure in suites.iter("failure")]
    assert any(SQL_SHOWN in message for message in messages)


@pytest.mark.parametrize("env", [None, STRICT_ASCII], ids=["utf-8", "strict-ascii"])
@pytest.mark.parametrize("format_", ["json", "sarif", "gitlab"])
def test_json_reports_are_valid_whatever_the_bytes_of_a_file_name(project, format_, env, request):
    code, out, _ = _run(project, "--format", format_, env=env)
    assert code == 1
    document = json.loads(out.decode("ascii" if env else "utf-8"))
    # Strict JSON parsers reject lone surrogates: none may come from an undecodable file name.
    for string in _strings(document):
        string.encode("utf-8")
    # JSON escapes control characters itself, so the path keeps them; the byte that is not UTF-8 is text.
    readable = EVIL_NAME.decode("utf-8", "surrogateescape").replace("\udcff", "\\xff")
    if format_ == "json":
        paths = [finding["path"] for finding in document["findings"]]
    elif format_ == "gitlab":
        paths = [issue["location"]["path"] for issue in document]
    else:
        jsonschema.Draft4Validator(request.getfixturevalue("sarif_schema")).validate(document)
        (run,) = document["runs"]
        assert run["invocations"] == [{"executionSuccessful": True}]
        uris = [result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for result in run["results"]]
        # RFC 3986: the URI percent-encodes the name's bytes, the undecodable one included.
        assert all(re.fullmatch(r"[A-Za-z0-9%/._~-]+", uri) for uri in uris)
        paths = [unquote_to_bytes(uri).decode("utf-8", "surrogateescape").replace("\udcff", "\\xff") for uri in uris]
    assert sorted(set(paths)) == sorted([readable, "app/views.py"]) and len(paths) == 2 * FINDINGS_PER_FILE


# Under a strict ASCII stdout, the strictest case of all the reports above.
@pytest.mark.parametrize("format_", ["text", "json", "github", "sarif", "junit", "gitlab"])
def test_an_internal_error_is_one_escaped_line_and_every_report_stays_valid(project, format_, request):
    code, out, err = _run(project, "--format", format_, env=STRICT_ASCII, broken_rule=True)
    assert code == 2
    (line,) = _lines(err.encode("utf-8"), "ascii")
    assert line.startswith(f"txlint: internal error while checking {EVIL_SHOWN} with TXL199 broken-rule (in ")
    assert "backfill): RuntimeError: cannot check " in line
    assert line.endswith(".backfill\\n::error file=forged.py::from the exception; please report")
    # The other files are still checked and reported, whatever the format.
    text = out.decode("ascii")
    if format_ == "text":
        assert len(_lines(out, "ascii")) == 2 * FINDINGS_PER_FILE + 1
    elif format_ == "github":
        lines = _lines(out, "ascii")
        assert len(lines) == 2 * FINDINGS_PER_FILE + 1 and all(line.startswith("::error ") for line in lines)
        assert lines[-1].startswith("::error file=app/evil%0A%3A%3Aerror file=forged.py%2Cline=1%3A%3Aname")
        assert ",title=txlint internal error::internal error while checking app/evil%0A" in lines[-1]
    elif format_ == "junit":
        suites = ElementTree.fromstring(out)
        assert suites.get("failures") == str(2 * FINDINGS_PER_FILE) and suites.get("errors") == "1"
        (error,) = suites.iter("error")
        assert error.get("message").startswith(f"internal error while checking {EVIL_SHOWN} with TXL199")
    elif format_ == "sarif":
        document = json.loads(text)
        jsonschema.Draft4Validator(request.getfixturevalue("sarif_schema")).validate(document)
        (invocation,) = document["runs"][0]["invocations"]
        assert invocation["executionSuccessful"] is False
        (notification,) = invocation["toolExecutionNotifications"]
        assert notification["level"] == "error" and notification["associatedRule"] == {"id": "TXL199"}
        assert notification["message"]["text"].startswith("internal error while checking app/evil\n::error")
        uri = notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert unquote_to_bytes(uri) == EVIL_NAME
        assert len(document["runs"][0]["results"]) == 2 * FINDINGS_PER_FILE
    else:
        document = json.loads(text)
        findings = document["findings"] if format_ == "json" else document
        assert len(findings) == 2 * FINDINGS_PER_FILE


def _failing_run(tmp_path, monkeypatch, where):
    """A run over a.py (which fails `where`) and b.py, in-process."""
    import txlint.extract
    import txlint.project
    from txlint.config import Config
    from txlint.linter import Linter
    from txlint.parsing import read_file
    from txlint.rule import Rule
    from txlint.rules import all_rules

    (tmp_path / "a.py").write_text(MULTI_TABLE.replace("place_order", "fragile"), encoding="utf-8")
    (tmp_path / "b.py").write_text(MULTI_TABLE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    rules = list(all_rules())
    if where == "extracting":
        real = txlint.extract.extract

        def fragile(tree, text, *args, **kwargs):
            if "fragile" in text:
                raise ValueError("unexpected node")
            return real(tree, text, *args, **kwargs)

        monkeypatch.setattr(txlint.extract, "extract", fragile)
    elif where == "resolving":
        def unresolvable(*args, **kwargs):
            raise RecursionError("maximum recursion depth exceeded")

        monkeypatch.setattr(txlint.project, "Project", unresolvable)
    else:
        def broken(context):
            if context.unit.qualname == "a.fragile":
                raise KeyError("missing")
            return ()

        rules.append(Rule("TXL199", "broken-rule", "breaks", "docs", check=broken))
    return Linter(Config(root=str(tmp_path)), rules).run([read_file(tmp_path / "a.py"), read_file(tmp_path / "b.py")])


@pytest.mark.parametrize("where, message, path, reported", [
    ("extracting", "internal error while extracting facts from a.py: ValueError: unexpected node; please report",
     "a.py", ["b.py"]),
    ("resolving", "internal error while resolving the project: RecursionError: maximum recursion depth exceeded; "
                  "please report", None, []),
    ("checking", "internal error while checking a.py with TXL199 broken-rule (in a.fragile): KeyError: 'missing'; "
                 "please report", "a.py", ["a.py", "b.py"]),
])
def test_every_internal_error_has_one_format_and_knows_its_file(
        tmp_path, monkeypatch, sarif_schema, where, message, path, reported):
    result = _failing_run(tmp_path, monkeypatch, where)
    assert result.internal_errors == [message]
    (error,) = result.internal_errors
    assert isinstance(error, InternalErrorMessage) and error.path == path
    assert [finding.path for finding in result.findings] == reported
    document = json.loads(render("sarif", result, ReportOptions()))
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    (notification,) = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"] == message
    if path is None:
        assert "locations" not in notification
    else:
        assert notification["locations"] == [
            {"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}}}]
    suites = ElementTree.fromstring(render("junit", result, ReportOptions()))
    (case,) = [case for case in suites.iter("testcase") if case.find("error") is not None]
    assert case.get("classname") == (path or "txlint") and case.find("error").get("message") == message


def test_a_message_that_is_a_plain_string_is_reported_without_a_location(sarif_schema):
    result = RunResult(files=1, internal_errors=["internal error while parsing: a parse worker died; please report"])
    document = json.loads(render("sarif", result, ReportOptions()))
    jsonschema.Draft4Validator(sarif_schema).validate(document)
    assert document["runs"][0]["invocations"] == [{"executionSuccessful": False, "toolExecutionNotifications": [
        {"level": "error", "message": {"text": "internal error while parsing: a parse worker died; please report"}}]}]
    assert render("github", result, ReportOptions()) == (
        "::error title=txlint internal error::internal error while parsing: a parse worker died; please report\n")
    assert ElementTree.fromstring(render("junit", result, ReportOptions())).get("errors") == "1"


@pytest.mark.parametrize("text, shown", [
    ("line\nbreak\r\ttab", "line\\nbreak\\r\\ttab"),
    ("\x00\x07\x1b[2J\x7f", "\\x00\\x07\\x1b[2J\\x7f"),
    ("\x85\x9b", "\\x85\\x9b"),  # C1: NEL and CSI
    ("\u2028\u2029", "\\u2028\\u2029"),
    ("\u202a\u202e\u2066\u2069\u200e\u061c", "\\u202a\\u202e\\u2066\\u2069\\u200e\\u061c"),
    ("name\udcff\udc80", "name\\xff\\x80"),  # bytes os.fsdecode could not decode
    ("\ud800\ufffe", "\\ud800\\ufffe"),
    ("plain, é, 日本, `x` -- 100%", "plain, é, 日本, `x` -- 100%"),
])
def test_visible(text, shown):
    assert visible(text) == shown


def test_encodable_keeps_what_json_escapes_itself():
    assert encodable("a\nb\x1b\u202e\udcffé") == "a\nb\x1b\u202e\\xffé"


@given(st.text())
def test_visible_text_is_one_line_of_unicode_that_xml_can_hold(text):
    shown = visible(text)
    assert len(shown.splitlines()) <= 1 and not UNSAFE.search(shown)
    shown.encode("utf-8")
    element = ElementTree.Element("a", b=shown)
    element.text = shown
    parsed = ElementTree.fromstring(ElementTree.tostring(element, encoding="unicode"))
    assert parsed.text == (shown or None) and parsed.get("b") == shown


@given(st.text(), st.text())
def test_any_finding_is_one_github_workflow_command(path, message):
    finding = Finding("TXL101", "multi-table-write", path, 1, 1, 1, 2, "f", message)
    out = render("github", RunResult(findings=[finding], files=1), ReportOptions())
    (line,) = out.splitlines()
    assert out == line + "\n" and line.startswith("::error file=") and not UNSAFE.search(line)
    properties = line[len("::error "):line.index(",title=")]
    assert "::" not in properties


def test_write_output_escapes_what_the_stream_cannot_encode():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    write_output(stream, "sauvegardé \udcff\n")
    stream.flush()
    assert stream.buffer.getvalue() == b"sauvegard\\xe9 \\udcff\n"


def test_stderr_line_is_one_line():
    stream = io.StringIO()
    stderr_line("txlint: internal error while checking a\n::error::x\x1b[2J.py", stream)
    assert stream.getvalue() == "txlint: internal error while checking a\\n::error::x\\x1b[2J.py\n"
