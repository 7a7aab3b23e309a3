"""The command line: exit codes, formats, usage errors, explain and rules."""

import json

from examples import CLEAN, MULTI_TABLE

from txlint import __version__


def test_findings_exit_1_and_text_format(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE})
    code, out, err = txlint("check", "app", cwd=root)
    assert code == 1, err
    first = out.splitlines()[0]
    assert first.startswith("app/services.py:14:5: TXL101 writes to Order (line 13) and Invoice (line 14)")
    assert out.splitlines()[-1] == "1 finding in 1 file"
    assert "\033[" not in out


def test_clean_exit_0(txlint, tree):
    root = tree({"app/services.py": CLEAN})
    code, out, _ = txlint("check", cwd=root)
    assert code == 0
    assert out.strip() == "0 findings in 1 file"


def test_exit_zero(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE})
    code, out, _ = txlint("check", "--exit-zero", cwd=root)
    assert code == 0 and "TXL101" in out


def test_json_matches_the_contract(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE, "app/other.py": CLEAN})
    code, out, _ = txlint("check", "--format", "json", cwd=root)
    assert code == 1
    document = json.loads(out)
    assert document["version"] == __version__
    assert document["summary"] == {"files": 2, "findings": 1, "parse_errors": 0}
    (finding,) = document["findings"]
    assert finding == {
        "code": "TXL101", "name": "multi-table-write", "path": "app/services.py",
        "line": 14, "column": 5, "end_line": 14, "end_column": 40,
        "function": "services.place_order", "message": finding["message"],
    }
    assert "transaction.atomic" in finding["message"]


def test_paths_are_relative_to_the_working_directory(txlint, tree):
    root = tree({"pkg/app/services.py": MULTI_TABLE})
    _, out, _ = txlint("check", "--format", "json", "app", cwd=root / "pkg")
    assert json.loads(out)["findings"][0]["path"] == "app/services.py"


def test_select_and_ignore_prefixes(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE})
    assert txlint("check", "--ignore", "TXL1", cwd=root)[0] == 0
    assert txlint("check", "--select", "TXL102", cwd=root)[0] == 0
    assert txlint("check", "--select", "TXL101", cwd=root)[0] == 1


def test_usage_errors_are_one_line_without_traceback(txlint, tree):
    root = tree({"app/services.py": CLEAN})
    for args in (["check", "missing/"], ["check", "--select", "TXL9"], ["check", "--format", "xml"],
                 ["check", "--jobs", "0"], ["check", "--config", "nope.toml"], ["frobnicate"]):
        code, out, err = txlint(*args, cwd=root)
        assert code == 2, args
        assert "Traceback" not in err and err.startswith("txlint: error:"), (args, err)
        assert len(err.strip().splitlines()) == 1, (args, err)


def test_missing_path_names_it(txlint, tree):
    root = tree({"app/services.py": CLEAN})
    _, _, err = txlint("check", "nowhere.py", cwd=root)
    assert "nowhere.py" in err


def test_rules_lists_the_catalogue(txlint):
    code, out, _ = txlint("rules")
    assert code == 0
    codes = [line.split()[0] for line in out.splitlines()]
    assert codes == ["TXL000", "TXL001", "TXL002", "TXL101", "TXL102", "TXL103", "TXL201", "TXL202", "TXL301", "TXL401"]
    assert "multi-table-write" in out


def test_explain_prints_the_docs_and_suggests_on_typos(txlint):
    code, out, _ = txlint("explain", "TXL101")
    assert code == 0 and "## Why is this bad?" in out and "## Use instead" in out
    code, _, err = txlint("explain", "TXL10")
    assert code == 2 and "did you mean" in err


def test_internal_error_in_a_rule_is_reported_and_the_run_continues(tree, monkeypatch):
    from txlint.config import Config
    from txlint.engine import Linter, read_file
    from txlint.rule import Rule

    def broken(context):
        raise RuntimeError("boom")

    root = tree({"a.py": MULTI_TABLE, "b.py": MULTI_TABLE})
    monkeypatch.chdir(root)
    from txlint.rules import all_rules

    rules = [*all_rules(), Rule("TXL199", "broken-rule", "breaks", "docs", check=broken)]
    result = Linter(Config(root=str(root)), rules).run([read_file(root / "a.py"), read_file(root / "b.py")])
    assert any("TXL199 broken-rule" in message and "a.py" in message for message in result.internal_errors)
    assert [f.path for f in result.findings] == ["a.py", "b.py"]
