"""Files that cannot be decoded or parsed become TXL000 findings; the run goes on."""

import json

import pytest

from examples import MULTI_TABLE


def _findings(txlint, root):
    code, out, err = txlint("check", "--format", "json", cwd=root)
    assert "Traceback" not in err
    return code, json.loads(out)


def test_broken_files_are_reported_and_others_still_checked(txlint, tree):
    root = tree({
        "app/syntax.py": "def broken(:\n    pass\n",
        "app/latin1.py": b"# caf\xe9\nname = 'caf\xe9'\n",
        "app/nul.py": b"x = 1\n\x00\n",
        "app/py2.py": "print 'hello'\n",
        "app/empty.py": "",
        "app/good.py": MULTI_TABLE,
    })
    code, document = _findings(txlint, root)
    assert code == 1
    by_path = {finding["path"]: finding for finding in document["findings"]}
    assert {path for path, f in by_path.items() if f["code"] == "TXL000"} == {
        "app/syntax.py", "app/latin1.py", "app/nul.py", "app/py2.py"}
    assert by_path["app/good.py"]["code"] == "TXL101"
    assert by_path["app/syntax.py"]["line"] == 1 and "cannot parse" in by_path["app/syntax.py"]["message"]
    # Line 2: Python reads past undecodable bytes in a comment and stops at the string.
    assert by_path["app/latin1.py"]["line"] == 2 and "utf-8" in by_path["app/latin1.py"]["message"]
    assert by_path["app/nul.py"]["line"] == 2 and "NUL" in by_path["app/nul.py"]["message"]
    assert document["summary"]["parse_errors"] == 4 and document["summary"]["files"] == 6


def test_coding_cookie_is_respected(txlint, tree):
    root = tree({"app/latin1.py": b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n"})
    code, document = _findings(txlint, root)
    assert code == 0 and document["findings"] == []


def test_large_generated_file(txlint, tree):
    lines = [f"VALUE_{index} = {{'key': {index}, 'name': 'item {index}'}}" for index in range(100000)]
    source = "\n".join(lines) + "\n"
    assert len(source) > 5_000_000
    root = tree({"app/generated.py": source, "app/good.py": MULTI_TABLE})
    code, document = _findings(txlint, root)
    assert code == 1 and [f["path"] for f in document["findings"]] == ["app/good.py"]


def test_parse_errors_can_be_ignored(txlint, tree):
    root = tree({"app/syntax.py": "def broken(:\n"})
    assert txlint("check", "--ignore", "TXL000", cwd=root)[0] == 0


def _txl000(source, path="app/broken.py"):
    from txlint.linter import lint_source

    findings = lint_source(source, path)
    assert [finding.code for finding in findings] == ["TXL000"], findings
    return findings[0]


def test_syntax_error_gives_the_parsers_message_and_position():
    finding = _txl000("x = 1\nif x == 1\n    pass\n")
    assert (finding.line, finding.path, finding.name) == (2, "app/broken.py", "parse-error")
    assert finding.column == 10  # where the colon is missing
    assert "expected ':'" in finding.message or "invalid syntax" in finding.message


def test_python_2_code():
    finding = _txl000("def main():\n    print 'hello'\n")
    assert finding.line == 2 and "Missing parentheses in call to 'print'" in finding.message
    assert _txl000("exec 'x = 1'\n").line == 1
    assert _txl000("except_value = 0777\n").line == 1


def test_latin1_without_cookie_names_the_byte_and_position():
    finding = _txl000(b"x = 1\nname = 'caf\xe9'\n")
    assert (finding.line, finding.column) == (2, 12)
    assert "cannot decode as utf-8" in finding.message and "0xe9" in finding.message


def test_unknown_coding_cookie():
    assert "unknown encoding 'klingon'" in _txl000(b"# coding: klingon\nx = 1\n").message


def test_nul_bytes():
    finding = _txl000(b"x = 1\ny = 2\x00\n")
    assert finding.line == 2 and "NUL" in finding.message


@pytest.mark.parametrize("source", ["", "\n", "# only a comment\n", b"\xef\xbb\xbfx = 1\n", "x = 1\r\ny = 2\r\n",
                                    "x = 1", "\ufeff", b""])
def test_unusual_but_valid_files_are_fine(source):
    from txlint.linter import lint_source

    assert lint_source(source, "app/ok.py") == []


def test_a_broken_file_does_not_hide_findings_in_the_others():
    from txlint.linter import lint_sources

    findings = lint_sources({"app/a.py": "def broken(:\n", "app/b.py": MULTI_TABLE, "app/c.py": b"\x00"})
    assert sorted((f.path, f.code) for f in findings) == [
        ("app/a.py", "TXL000"), ("app/b.py", "TXL101"), ("app/c.py", "TXL000")]


def test_parse_errors_in_text_output(txlint, tree):
    root = tree({"app/syntax.py": "def broken(:\n    pass\n", "app/good.py": MULTI_TABLE})
    code, out, err = txlint("check", cwd=root)
    assert code == 1 and "Traceback" not in err
    lines = out.splitlines()
    assert lines[0] == "app/good.py:14:5: TXL101 " + lines[0].split(" TXL101 ", 1)[1]
    assert lines[1].startswith("app/syntax.py:1:12: TXL000 cannot parse: ")
    assert lines[-1] == "2 findings in 2 files checked (1 could not be parsed)"


def test_an_unreadable_file_is_a_finding(txlint, tree):
    root = tree({"app/good.py": MULTI_TABLE})
    (root / "app" / "dangling.py").symlink_to(root / "app" / "deleted.py")
    code, document = _findings(txlint, root)
    assert code == 1
    by_path = {f["path"]: f for f in document["findings"]}
    assert set(by_path) == {"app/dangling.py", "app/good.py"}
    assert by_path["app/dangling.py"]["code"] == "TXL000" and "cannot read" in by_path["app/dangling.py"]["message"]


@pytest.mark.parametrize("source", [
    "def broken(:\n    pass\n",
    "x = 1\nif x == 1\n    pass\n",
    "def main():\n    print 'hello'\n",
    "value = 0777\n",
    "class A:\n    def f(self):\n        return [1, 2\n\nx = 1\n",
    "def f():\n\treturn 1\n        return 2\n",
])
def test_message_and_position_are_pythons_own(source):
    try:
        compile(source, "app/broken.py", "exec")
    except SyntaxError as error:
        expected = error
    else:
        pytest.fail("the example must not compile")
    finding = _txl000(source)
    assert (finding.line, finding.column) == (expected.lineno, max(expected.offset or 1, 1))
    assert finding.message == f"cannot parse: {expected.msg}"
