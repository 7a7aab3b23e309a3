"""The text and JSON reporters: the contract's shapes, and colour only on a terminal without NO_COLOR."""

import json
import os
import re
import subprocess
import sys

import pytest

from examples import CLEAN, MULTI_TABLE

from txlint import __version__
from txlint.run_state import RunResult
from txlint.findings import Finding
from txlint.reporters import ReportOptions, render

FINDING = Finding("TXL101", "multi-table-write", "app/services.py", 14, 5, 16, 6, "app.services.place_order",
                  "writes to Order and Invoice commit separately")
PARSE_ERROR = Finding("TXL000", "parse-error", "app/broken.py", 3, 12, 3, 12, "", "cannot parse: invalid syntax")
ESCAPE = "\033["
TEXT_LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<column>\d+): (?P<code>TXL\d{3}) (?P<message>.+)$")


def _text(result, color=False):
    return render("text", result, ReportOptions(color=color))


def test_text_lines_and_summary():
    result = RunResult(findings=[PARSE_ERROR, FINDING], files=7, parse_errors=1)
    lines = _text(result).splitlines()
    assert lines == [
        "app/broken.py:3:12: TXL000 cannot parse: invalid syntax",
        "app/services.py:14:5: TXL101 writes to Order and Invoice commit separately",
        "2 findings in 7 files checked (1 could not be parsed)",
    ]
    assert all(TEXT_LINE.match(line) for line in lines[:-1])


@pytest.mark.parametrize("findings, files, summary", [
    ([], 0, "0 findings in 0 files checked"),
    ([], 1, "0 findings in 1 file checked"),
    ([FINDING], 1, "1 finding in 1 file checked"),
    ([FINDING, FINDING], 2, "2 findings in 2 files checked"),
])
def test_text_summary_counts(findings, files, summary):
    assert _text(RunResult(findings=list(findings), files=files)).splitlines()[-1] == summary


def test_text_colour_only_when_asked():
    result = RunResult(findings=[FINDING], files=1)
    plain, coloured = _text(result), _text(result, color=True)
    assert ESCAPE not in plain
    assert ESCAPE in coloured
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain


def test_json_is_exactly_the_contract():
    result = RunResult(findings=[PARSE_ERROR, FINDING], files=7, parse_errors=1)
    document = json.loads(render("json", result, ReportOptions()))
    assert list(document) == ["version", "findings", "summary"]
    assert document["version"] == __version__
    assert document["summary"] == {"files": 7, "findings": 2, "parse_errors": 1}
    keys = ["code", "name", "path", "line", "column", "end_line", "end_column", "function", "message"]
    for finding in document["findings"]:
        assert list(finding) == keys
        assert all(isinstance(finding[key], int) for key in ("line", "column", "end_line", "end_column"))
        assert all(isinstance(finding[key], str) for key in ("code", "name", "path", "function", "message"))
    assert document["findings"][1] == {
        "code": "TXL101", "name": "multi-table-write", "path": "app/services.py", "line": 14, "column": 5,
        "end_line": 16, "end_column": 6, "function": "app.services.place_order",
        "message": "writes to Order and Invoice commit separately"}


def test_json_never_colours():
    result = RunResult(findings=[FINDING], files=1)
    assert ESCAPE not in render("json", result, ReportOptions(color=True))


def test_json_of_a_clean_run(txlint, tree):
    root = tree({"app/services.py": CLEAN})
    code, out, _ = txlint("check", "--format", "json", cwd=root)
    assert code == 0
    assert json.loads(out) == {"version": __version__, "findings": [],
                               "summary": {"files": 1, "findings": 0, "parse_errors": 0}}


def test_json_paths_are_relative_with_slashes(txlint, tree):
    root = tree({"app/deep/er/services.py": MULTI_TABLE})
    code, out, _ = txlint("check", "--format", "json", str(root / "app"), cwd=root)
    assert code == 1
    assert [f["path"] for f in json.loads(out)["findings"]] == ["app/deep/er/services.py"]


def _on_a_terminal(args, cwd, env):
    """Run txlint with its stdout on a pseudo-terminal; returns (exit code, output)."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "txlint", *args], cwd=cwd, env=env, stdout=follower,
                                   stderr=subprocess.PIPE)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed when the process exits (EIO on Linux)
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    finally:
        os.close(leader)
    return process.returncode, b"".join(chunks).decode()


def _environment(**changes):
    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    environment.update(changes)
    return environment


def test_colour_on_a_terminal(tree):
    root = tree({"app/services.py": MULTI_TABLE})
    code, out = _on_a_terminal(["check", "--no-cache"], root, _environment())
    assert code == 1
    assert ESCAPE in out and "TXL101" in out


def test_no_colour_on_a_terminal_with_no_color(tree):
    root = tree({"app/services.py": MULTI_TABLE})
    code, out = _on_a_terminal(["check", "--no-cache"], root, _environment(NO_COLOR="1"))
    assert code == 1
    assert "TXL101" in out and ESCAPE not in out


def test_no_colour_when_piped(tree):
    root = tree({"app/services.py": MULTI_TABLE})
    completed = subprocess.run([sys.executable, "-m", "txlint", "check", "--no-cache"], cwd=root, env=_environment(),
                               capture_output=True, text=True)
    assert completed.returncode == 1
    assert "TXL101" in completed.stdout and ESCAPE not in completed.stdout
