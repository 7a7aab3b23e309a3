"""Files that cannot be decoded or parsed become TXL000 findings; the run goes on."""

import json

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
    assert by_path["app/latin1.py"]["line"] == 1 and "utf-8" in by_path["app/latin1.py"]["message"]
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
