"""[tool.txlint]: keys, types, codes, and where the file is found."""

import pytest

from examples import MULTI_TABLE

from txlint.config import load_config
from txlint.errors import UsageError

CODES = ("TXL000", "TXL101", "TXL102", "TXL103")


def _config(tmp_path, text):
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    return load_config(None, CODES, cwd=tmp_path)


def test_every_contract_key_is_accepted(tmp_path):
    config = _config(tmp_path, """
[tool.txlint]
include = ["**/*.py"]
exclude = ["build/"]
extend-exclude = ["scripts/legacy/"]
select = ["TXL"]
ignore = ["TXL103"]
per-file-ignores = { "scripts/**" = ["TXL102"] }
raw-sql-allowed = ["app/repositories/**"]
repositories = ["app/repositories/**"]
snapshots = ["ScriptVersion", "script_versions"]
materializers = ["app/materializers/**"]
transaction-helpers = ["myapp.db.atomic"]
atomic-requests = true
""")
    assert config.ignore == ("TXL103",)
    assert config.per_file_ignores == (("scripts/**", ("TXL102",)),)
    assert config.atomic_requests is True and config.root == str(tmp_path)


@pytest.mark.parametrize("text, message", [
    ("[tool.txlint]\nselct = ['TXL']\n", "unknown key `selct` in [tool.txlint] (did you mean 'select'?)"),
    ("[tool.txlint]\nselect = 'TXL'\n", "`select` must be a list of strings"),
    ("[tool.txlint]\natomic-requests = 'yes'\n", "`atomic-requests` must be true or false"),
    ("[tool.txlint]\nselect = ['TXL11O']\n", "unknown rule code 'TXL11O'"),
    ("[tool.txlint]\nignore = ['XYZ']\n", "unknown rule code 'XYZ'"),
    ("[tool.txlint]\nper-file-ignores = { 'a/**' = ['TXL777'] }\n", "unknown rule code 'TXL777'"),
    ("[tool.txlint\nselect = []\n", "invalid TOML"),
])
def test_bad_configuration_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(UsageError) as error:
        _config(tmp_path, text)
    assert message in str(error.value)
    assert str(tmp_path / "pyproject.toml") in str(error.value)


def test_nearest_pyproject_upwards(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.txlint]\nignore = ['TXL102']\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert load_config(None, CODES, cwd=nested).ignore == ("TXL102",)


def test_config_file_option(tmp_path):
    other = tmp_path / "txlint.toml"
    other.write_text("[tool.txlint]\nignore = ['TXL103']\n")
    assert load_config(str(other), CODES, cwd=tmp_path).ignore == ("TXL103",)


def test_broken_pyproject_from_the_command_line(txlint, tree):
    root = tree({"pyproject.toml": "[tool.txlint]\nexclude = 3\n", "app.py": MULTI_TABLE})
    code, _, err = txlint("check", cwd=root)
    assert code == 2 and "`exclude` must be a list of strings" in err and "Traceback" not in err


def test_per_file_ignores_apply(txlint, tree):
    root = tree({"pyproject.toml": "[tool.txlint]\nper-file-ignores = { 'scripts/**' = ['TXL1'] }\n",
                 "scripts/once.py": MULTI_TABLE, "app/main.py": MULTI_TABLE})
    _, out, _ = txlint("check", cwd=root)
    assert "app/main.py" in out and "scripts/once.py" not in out


@pytest.mark.parametrize("files, args, message", [
    ({"pyproject.toml": "[tool.txlint]\nexlude = ['build/']\n"}, [],
     "unknown key `exlude` in [tool.txlint] (did you mean 'exclude'?)"),
    ({"pyproject.toml": "[tool.txlint]\nselect = ['TXL101'\n"}, [], "invalid TOML"),
    ({"pyproject.toml": "[tool.txlint]\nignore = [101]\n"}, [], "`ignore` must be a list of strings"),
    ({"pyproject.toml": "[tool.txlint]\nper-file-ignores = ['scripts/**']\n"}, [],
     "`per-file-ignores` must be a table"),
    ({"pyproject.toml": "[tool.txlint]\nper-file-ignores = { 'a/**' = 'TXL101' }\n"}, [], "must be a list of strings"),
    ({"pyproject.toml": "[tool]\ntxlint = 3\n"}, [], "[tool.txlint] must be a table"),
    ({"pyproject.toml": "[tool.txlint]\nselect = ['TXL99']\n"}, [], "unknown rule code 'TXL99'"),
    ({"pyproject.toml": "[tool.txlint]\nper-file-ignores = { 'a/**' = ['TXL777'] }\n"}, [],
     "unknown rule code 'TXL777'"),
    ({"pyproject.toml": b"[tool.txlint]\nignore = ['\xff']\n"}, [], "pyproject.toml"),
    ({}, ["--select", "TXL11O"], "--select: unknown rule code 'TXL11O'"),
    ({}, ["--ignore", "E501"], "--ignore: unknown rule code 'E501'"),
    ({}, ["--config", "missing.toml"], "--config: no such file: missing.toml"),
    ({"txlint.toml": "selct = ['TXL']\n"}, ["--config", "txlint.toml"], "(did you mean 'select'?)"),
])
def test_configuration_errors_exit_2_with_one_line(txlint, tree, files, args, message):
    root = tree({"app/services.py": MULTI_TABLE, **files})
    code, out, err = txlint("check", *args, cwd=root)
    assert code == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("txlint: error: "), err
    assert message in err


def test_unknown_code_suggests_the_closest(tmp_path):
    with pytest.raises(UsageError) as error:
        _config(tmp_path, "[tool.txlint]\nignore = ['TXL1O2']\n")
    assert "did you mean 'TXL102'?" in str(error.value)


def test_codes_are_prefixes_and_case_insensitive(tmp_path):
    config = _config(tmp_path, "[tool.txlint]\nselect = ['txl1']\nignore = ['TXL10']\n")
    assert config.select == ("TXL1",) and config.ignore == ("TXL10",)


def test_dedicated_config_file_at_top_level(tmp_path, txlint, tree):
    root = tree({"lint.toml": "ignore = ['TXL101']\n", "app/services.py": MULTI_TABLE})
    assert load_config(str(root / "lint.toml"), CODES, cwd=root).ignore == ("TXL101",)
    assert txlint("check", "--config", "lint.toml", cwd=root)[0] == 0
    assert txlint("check", cwd=root)[0] == 1


def test_without_a_pyproject_the_defaults_apply(tmp_path):
    config = load_config(None, CODES, cwd=tmp_path)
    assert config.select == ("TXL",) and config.ignore == () and config.root == str(tmp_path.resolve())


def test_a_pyproject_without_the_table_is_the_defaults(tmp_path):
    config = _config(tmp_path, "[project]\nname = 'shop'\n")
    assert config.select == ("TXL",) and config.root == str(tmp_path)


def test_configured_select_and_ignore_from_the_command_line(txlint, tree):
    root = tree({"pyproject.toml": "[tool.txlint]\nignore = ['TXL101']\n", "app/services.py": MULTI_TABLE})
    assert txlint("check", cwd=root)[0] == 0
    # --ignore adds to the configured ignores; --select replaces the configured selection.
    root = tree({"pyproject.toml": "[tool.txlint]\nselect = ['TXL102']\n"})
    assert txlint("check", cwd=root)[0] == 0
    assert txlint("check", "--select", "TXL1", cwd=root)[0] == 1
    assert txlint("check", "--select", "TXL1", "--ignore", "TXL101", cwd=root)[0] == 0
