"""Bad configuration, ignore files and baselines: a one-line error (exit 2), or tolerated as git
tolerates a .gitignore line it cannot use, and never a traceback."""

import json
import os

import pytest

from examples import CLEAN, MULTI_TABLE
from helpers import run_txlint, write_tree

# Some runs below would block forever on a FIFO if txlint opened it: they must end long before this.
NO_HANG = 60


def _error_line(code, out, err):
    """The one line a usage or configuration error prints, checked to be exactly that."""
    assert code == 2, out + err
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _project(tmp_path, pyproject, files=None):
    return write_tree(tmp_path, {"pyproject.toml": pyproject, "app/services.py": MULTI_TABLE, **(files or {})})


# --- .gitignore lines git tolerates -------------------------------------------------------------

# Lines pathspec cannot compile (it refuses the first four, `re` the range), and one it compiles
# only with a FutureWarning from `re`.
UNUSABLE_GITIGNORE_LINES = ["!", "foo\\", "**\\/x", "x/**\\", "[z-a]", "[[:alpha:]]*.tmp"]


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """The run on the project below with only its usable .gitignore lines."""
    root = _gitignored_project(tmp_path_factory.mktemp("reference"), "")
    return run_txlint("check", ".", cwd=root)


def _gitignored_project(root, unusable_line):
    return write_tree(root, {
        "pyproject.toml": "[tool.txlint]\n",
        ".gitignore": f"{unusable_line}\ngenerated/\n",
        "app/.gitignore": f"legacy.py\n{unusable_line}\n",
        "app/services.py": MULTI_TABLE,
        "app/legacy.py": MULTI_TABLE,
        "generated/models.py": MULTI_TABLE,
    })


@pytest.mark.parametrize("unusable_line", UNUSABLE_GITIGNORE_LINES)
def test_a_gitignore_line_git_cannot_use_is_skipped_and_the_others_apply(tmp_path, reference_run, unusable_line):
    code, out, err = run_txlint("check", ".", cwd=_gitignored_project(tmp_path, unusable_line))
    assert (code, out, err) == reference_run
    assert code == 1 and "app/services.py" in out
    assert "legacy.py" not in out and "generated/" not in out


# --- patterns in [tool.txlint] -----------------------------------------------------------------

@pytest.mark.parametrize("key, pattern, reason", [
    *((key, "[z-a]", "bad character range z-a")
      for key in ("include", "exclude", "extend-exclude", "raw-sql-allowed", "repositories", "materializers")),
    # pathspec's own words for what it refuses vary between its versions.
    ("exclude", "!", ""),
    ("exclude", "scripts\\", ""),
])
def test_an_invalid_pattern_in_the_configuration_is_an_error(tmp_path, key, pattern, reason):
    root = _project(tmp_path, f"[tool.txlint]\n{key} = ['app/', '{pattern}']\n")
    line = _error_line(*run_txlint("check", ".", cwd=root))
    prefix = f"pyproject.toml: `{key}` has an invalid pattern {pattern!r}: "
    assert prefix + reason in line and not line.endswith(prefix)


def test_an_invalid_per_file_ignores_pattern_is_an_error(tmp_path):
    root = _project(tmp_path, "[tool.txlint]\nper-file-ignores = { 'app/**' = ['TXL102'], '[z-a]' = ['TXL101'] }\n")
    line = _error_line(*run_txlint("check", ".", cwd=root))
    assert "pyproject.toml: `per-file-ignores` has an invalid pattern '[z-a]': bad character range z-a" in line


def test_a_pattern_re_warns_about_is_accepted_without_the_warning(tmp_path):
    root = _project(tmp_path, "[tool.txlint]\nexclude = ['[[:alpha:]]*.tmp']\n"
                              "per-file-ignores = { 'app/[[:alpha:]]*.py' = ['TXL102'] }\n"
                              "raw-sql-allowed = ['[a&&b]/']\n")
    code, out, err = run_txlint("check", ".", cwd=root)
    assert code == 1 and "app/services.py" in out
    assert "Warning" not in err and "Traceback" not in err


@pytest.mark.parametrize("table, message", [
    ("per-file-ignores = { 'app/**' = 'TXL101' }", "`per-file-ignores.app/**` must be a list of strings"),
    ("per-file-ignores = { 'app/**' = [101] }", "`per-file-ignores.app/**` must be a list of strings"),
    ("per-file-ignores = 5", "`per-file-ignores` must be a table of pattern = [codes]"),
    ("exclude = " + "[" * 40 + "]" * 40, "`exclude` must be a list of strings"),
    ("include = [{ a = 1 }]", "`include` must be a list of strings"),
])
def test_a_value_of_the_wrong_type_is_an_error(tmp_path, table, message):
    root = _project(tmp_path, f"[tool.txlint]\n{table}\n")
    assert message in _error_line(*run_txlint("check", ".", cwd=root))


# --- the TOML document -------------------------------------------------------------------------

@pytest.mark.parametrize("document", ["tool = 5\n", "tool = 'x'\n", "tool = [1]\n", "[tool.black]\nline-length = 99\n"])
def test_a_pyproject_whose_tool_is_not_a_table_has_no_txlint_configuration(tmp_path, document):
    root = _project(tmp_path, document)
    code, out, err = run_txlint("check", ".", cwd=root)
    assert code == 1 and "app/services.py" in out, out + err
    assert "Traceback" not in err


@pytest.mark.parametrize("document", ["[tool]\ntxlint = 5\n", "[tool]\ntxlint = []\n", "[tool]\ntxlint = 'x'\n"])
def test_a_txlint_entry_that_is_not_a_table_is_an_error(tmp_path, document):
    root = _project(tmp_path, document)
    assert "pyproject.toml: [tool.txlint] must be a table" in _error_line(*run_txlint("check", ".", cwd=root))


@pytest.mark.parametrize("document, message", [
    ("tool = 5\n", "unknown key `tool` in [tool.txlint]"),
    ("[tool]\ntxlint = 5\n", "[tool.txlint] must be a table"),
    ("ignore = ['TXL101']\ntool = 'x'\n", "unknown key `tool` in [tool.txlint]"),
])
def test_a_config_file_with_a_malformed_tool_entry_is_an_error(tmp_path, document, message):
    root = _project(tmp_path, "[tool.txlint]\n", {"lint.toml": document})
    line = _error_line(*run_txlint("check", "--config", "lint.toml", ".", cwd=root))
    assert "lint.toml" in line and message in line


# Short ids: pytest puts the test's id in the environment (PYTEST_CURRENT_TEST) of every process
# the test starts, and one of 200,000 characters is more than an environment entry may hold.
@pytest.mark.parametrize("value", ["[" * 100_000 + "]" * 100_000, "{ b = " * 100_000 + "1" + " }" * 100_000],
                         ids=["arrays", "inline-tables"])
def test_toml_nested_too_deeply_is_an_error(tmp_path, value):
    root = _project(tmp_path, f"[tool.txlint]\nignore = []\n[other]\na = {value}\n")
    line = _error_line(*run_txlint("check", ".", cwd=root))
    assert "pyproject.toml: invalid TOML: nested too deeply" in line


def test_toml_that_is_not_utf8_is_an_error(tmp_path):
    root = _project(tmp_path, b"[tool.txlint]\n# caf\xe9\nignore = []\n")
    assert "pyproject.toml: not UTF-8" in _error_line(*run_txlint("check", ".", cwd=root))


def test_invalid_toml_is_one_line(tmp_path):
    root = _project(tmp_path, "[tool.txlint]\nignore = [\n")
    assert "pyproject.toml: invalid TOML: " in _error_line(*run_txlint("check", ".", cwd=root))


def test_a_byte_order_mark_is_tolerated(tmp_path):
    root = _project(tmp_path, "\ufeff[tool.txlint]\nignore = ['TXL101']\n".encode("utf-8"))
    code, out, err = run_txlint("check", ".", cwd=root)
    assert (code, out.count("TXL101")) == (0, 0), out + err


def test_a_directory_named_pyproject_toml_is_not_a_configuration(tmp_path):
    root = write_tree(tmp_path, {"pyproject.toml/README": "not a file\n", "app/services.py": MULTI_TABLE})
    code, out, err = run_txlint("check", "app", cwd=root)
    assert code == 1 and "app/services.py" in out, out + err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_a_fifo_named_pyproject_toml_does_not_block_the_run(tmp_path):
    root = write_tree(tmp_path, {"app/services.py": MULTI_TABLE})
    os.mkfifo(root / "pyproject.toml")
    code, out, err = run_txlint("check", "app", cwd=root, timeout=NO_HANG)
    assert code == 1 and "app/services.py" in out, out + err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
@pytest.mark.parametrize("option", ["--config", "--baseline"])
def test_a_fifo_named_as_an_input_file_is_an_error_not_a_hang(tmp_path, option):
    root = _project(tmp_path, "[tool.txlint]\n")
    os.mkfifo(root / "input")
    line = _error_line(*run_txlint("check", option, "input", ".", cwd=root, timeout=NO_HANG))
    assert "input" in line and "not a regular file" in line


def test_a_directory_named_as_the_baseline_is_an_error(tmp_path):
    root = _project(tmp_path, "[tool.txlint]\n", {"baseline.json/README": "not a file\n"})
    line = _error_line(*run_txlint("check", "--baseline", "baseline.json", ".", cwd=root))
    assert "--baseline: cannot read baseline.json: " in line


# --- baselines ---------------------------------------------------------------------------------

def _baseline_project(tmp_path, baseline_text):
    return _project(tmp_path, "[tool.txlint]\n", {"app/clean.py": CLEAN, "baseline.json": baseline_text})


def _baseline_with(entry):
    return json.dumps({"txlint_baseline": 1, "entries": [entry]})


GOOD_ENTRY = {"path": "app/services.py", "code": "TXL101", "function": "app.services.place_order",
              "statement": "0", "count": 1}


MALFORMED_ENTRY = "has a malformed entry 1: "


@pytest.mark.parametrize("text, message", [
    (_baseline_with({**GOOD_ENTRY, "count": 1e400}).replace("Infinity", "1e400"),
     MALFORMED_ENTRY + "`count` must be a positive integer, got inf"),
    (_baseline_with({**GOOD_ENTRY, "count": float("nan")}), MALFORMED_ENTRY + "`count` must be a positive integer"),
    (_baseline_with({**GOOD_ENTRY, "count": -1}), MALFORMED_ENTRY + "`count` must be a positive integer, got -1"),
    (_baseline_with({**GOOD_ENTRY, "count": 0}), MALFORMED_ENTRY + "`count` must be a positive integer"),
    (_baseline_with({**GOOD_ENTRY, "count": True}), MALFORMED_ENTRY + "`count` must be a positive integer"),
    (_baseline_with({**GOOD_ENTRY, "count": "3"}), MALFORMED_ENTRY + "`count` must be a positive integer"),
    (_baseline_with({**GOOD_ENTRY, "count": 1.0}), MALFORMED_ENTRY + "`count` must be a positive integer"),
    (_baseline_with({**GOOD_ENTRY, "path": 5}), MALFORMED_ENTRY + "`path` must be a string, got 5"),
    (_baseline_with({**GOOD_ENTRY, "code": None}), MALFORMED_ENTRY + "`code` must be a string"),
    (_baseline_with({**GOOD_ENTRY, "function": ["f"]}), MALFORMED_ENTRY + "`function` must be a string"),
    (_baseline_with({key: value for key, value in GOOD_ENTRY.items() if key != "statement"}),
     MALFORMED_ENTRY + "no `statement`"),
    (_baseline_with(5), MALFORMED_ENTRY + "not an object"),
    (_baseline_with("app/services.py"), MALFORMED_ENTRY + "not an object"),
    (json.dumps({"txlint_baseline": 1, "entries": {"path": "a"}}),
     "is not a txlint baseline file: `entries` must be a list"),
    (json.dumps({"txlint_baseline": 1}), "is not a txlint baseline file: `entries` must be a list"),
])
def test_a_malformed_baseline_is_an_error(tmp_path, text, message):
    root = _baseline_project(tmp_path, text)
    line = _error_line(*run_txlint("check", "--baseline", "baseline.json", ".", cwd=root))
    assert f"--baseline: baseline.json {message}" in line


@pytest.mark.parametrize("text", [
    '{"txlint_baseline": 1, "entries": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"txlint_baseline": 1, "entries": [' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "]}",
], ids=["arrays", "objects"])
def test_a_baseline_nested_too_deeply_is_an_error(tmp_path, text):
    root = _baseline_project(tmp_path, text)
    line = _error_line(*run_txlint("check", "--baseline", "baseline.json", ".", cwd=root))
    assert "--baseline: cannot read baseline.json: nested too deeply" in line


@pytest.mark.parametrize("text", ['{"txlint_baseline": true, "entries": []}', '{"txlint_baseline": 1.0}', "[1]"])
def test_a_file_that_is_not_a_baseline_is_an_error(tmp_path, text):
    root = _baseline_project(tmp_path, text)
    line = _error_line(*run_txlint("check", "--baseline", "baseline.json", ".", cwd=root))
    assert "--baseline: baseline.json is not a txlint baseline file" in line


def test_a_huge_count_is_accepted(tmp_path):
    root = _project(tmp_path, "[tool.txlint]\n")
    assert run_txlint("check", "--write-baseline", "baseline.json", ".", cwd=root)[0] == 0
    document = json.loads((root / "baseline.json").read_text())
    document["entries"][0]["count"] = 10 ** 30
    (root / "baseline.json").write_text(json.dumps(document))
    code, out, err = run_txlint("check", "--baseline", "baseline.json", ".", cwd=root)
    assert code == 0 and "Traceback" not in err, out + err


def test_writing_over_a_malformed_baseline_names_the_option_used(tmp_path):
    root = _baseline_project(tmp_path, _baseline_with({**GOOD_ENTRY, "count": -1}))
    line = _error_line(*run_txlint("check", "--write-baseline", "baseline.json", ".", cwd=root))
    assert line.startswith("txlint: error: --write-baseline: baseline.json has a malformed entry")
