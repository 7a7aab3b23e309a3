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
    assert out.splitlines()[-1] == "1 finding in 1 file checked"
    assert "\033[" not in out


def test_clean_exit_0(txlint, tree):
    root = tree({"app/services.py": CLEAN})
    code, out, _ = txlint("check", cwd=root)
    assert code == 0
    assert out.strip() == "0 findings in 1 file checked"


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
        "function": "app.services.place_order", "message": finding["message"],
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
    from txlint.linter import Linter
    from txlint.parsing import read_file
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


BROKEN_RULE_RUNNER = """
import sys

import txlint.rules
from txlint.cli import main
from txlint.rule import Rule

real = txlint.rules.all_rules


def broken(context):
    if context.unit.qualname.startswith("a."):
        raise RuntimeError("boom")
    return ()


txlint.rules.all_rules = lambda: (*real(), Rule("TXL199", "broken-rule", "breaks", "docs", check=broken))
sys.exit(main(sys.argv[1:]))
"""


def test_a_rule_that_raises_is_an_internal_error_end_to_end(tree):
    import subprocess
    import sys

    root = tree({"a.py": MULTI_TABLE, "b.py": MULTI_TABLE, "run.py": BROKEN_RULE_RUNNER})
    completed = subprocess.run([sys.executable, "run.py", "check", "--no-cache", "a.py", "b.py"], cwd=root,
                               capture_output=True, text=True, env={**__import__("os").environ, "NO_COLOR": "1"})
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr == ("txlint: internal error while checking a.py with TXL199 broken-rule (in a.place_order): "
                                "RuntimeError: boom; please report\n")
    # The run went on: every file's findings are still reported.
    assert [line.split(":")[0] for line in completed.stdout.splitlines()[:-1]] == ["a.py", "b.py"]


def test_a_crash_while_reading_a_files_structure_is_an_internal_error(tree, monkeypatch):
    import pytest

    import txlint.extract
    from txlint.config import Config
    from txlint.linter import InternalError, Linter, lint_sources
    from txlint.parsing import read_file
    from txlint.rules import all_rules

    real = txlint.extract.extract

    def fragile(tree_, text, *args, **kwargs):
        if "FRAGILE" in text:
            raise ValueError("unexpected node")
        return real(tree_, text, *args, **kwargs)

    monkeypatch.setattr(txlint.extract, "extract", fragile)
    root = tree({"a.py": "FRAGILE = 1\n", "b.py": MULTI_TABLE})
    monkeypatch.chdir(root)
    result = Linter(Config(root=str(root)), all_rules()).run([read_file(root / "a.py"), read_file(root / "b.py")])
    assert result.internal_errors == [
        "internal error while extracting facts from a.py: ValueError: unexpected node; please report"]
    assert [(f.path, f.code) for f in result.findings] == [("b.py", "TXL101")]
    with pytest.raises(InternalError, match="internal error while extracting facts from a.py"):
        lint_sources({"a.py": "FRAGILE = 1\n", "b.py": MULTI_TABLE})


def test_lint_source_raises_when_a_rule_fails():
    import pytest

    from txlint.linter import InternalError, lint_source
    from txlint.rule import Rule
    from txlint.rules import all_rules

    def broken(context):
        raise KeyError("effects")

    with pytest.raises(InternalError, match="TXL199 broken-rule"):
        lint_source(CLEAN, rules=[*all_rules(), Rule("TXL199", "broken-rule", "breaks", "docs", check=broken)])


def test_explain_an_unknown_code(txlint):
    code, out, err = txlint("explain", "TXL999")
    assert code == 2 and out == ""
    assert err.startswith("txlint: error: unknown rule code 'TXL999'") and "`txlint rules`" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_explain_by_name_and_lower_case(txlint):
    assert txlint("explain", "multi-table-write")[1] == txlint("explain", "txl101")[1] != ""


def test_exit_codes(txlint, tree):
    root = tree({"clean/services.py": CLEAN, "dirty/services.py": MULTI_TABLE, "broken/x.py": "def f(:\n"})
    assert txlint("check", "clean", cwd=root)[0] == 0
    assert txlint("check", "dirty", cwd=root)[0] == 1
    assert txlint("check", "broken", cwd=root)[0] == 1
    assert txlint("check", "--exit-zero", "dirty", "broken", cwd=root)[0] == 0
    assert txlint("check", "--exit-zero", "missing", cwd=root)[0] == 2
    assert txlint("check", "--exit-zero", "--select", "NOPE", cwd=root)[0] == 2
    assert txlint(cwd=root)[0] == 2


def test_version(txlint):
    code, out, _ = txlint("--version")
    assert code == 0 and out.strip() == f"txlint {__version__}"


def test_two_scripts_with_one_module_name_are_checked_each_as_itself(txlint, tree):
    # scripts/a/job.py and scripts/b/job.py are both the script `job`: each is checked with its own
    # functions and lines, not one read through the other.
    writes_two_tables = """\
        from django.db import models


        class Order(models.Model):
            pass


        class Invoice(models.Model):
            order = models.ForeignKey(Order, on_delete=models.CASCADE)


        def run():
            order = Order.objects.create()
            Invoice.objects.create(order=order)
        """
    root = tree({"pyproject.toml": "[tool.txlint]\n", "scripts/a/job.py": writes_two_tables,
                 "scripts/b/job.py": "# one\n# two\n# three\ndef run():\n    print('nothing')\n"})
    for cache in (["--no-cache"], [], []):
        code, out, _ = txlint("check", "--format", "json", *cache, ".", cwd=root)
        findings = json.loads(out)["findings"]
        assert code == 1
        assert [(f["path"], f["line"], f["code"]) for f in findings] == [("scripts/a/job.py", 14, "TXL101")]


def test_a_mistyped_option_gets_the_closest_one(txlint, tree):
    root = tree({"app/models.py": "X = 1\n"})
    code, out, err = txlint("check", "--fromat", "json", ".", cwd=root)
    assert code == 2 and not out
    assert err == "txlint: error: unrecognized arguments: --fromat (did you mean --format?)\n"


def test_a_profiled_check_still_writes_its_profile(tree, tmp_path):
    """`check` ends the process early once its report is out, but not under a profiler, which
    writes what it measured at exit."""
    import subprocess
    import sys

    root = tree({"app/services.py": MULTI_TABLE})
    profile = tmp_path / "check.prof"
    completed = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "txlint", "check", "app"],
                               cwd=root, capture_output=True, text=True)
    assert "TXL101" in completed.stdout, completed.stderr  # (cProfile itself exits 0 whatever we return)
    assert profile.exists() and profile.stat().st_size > 0
