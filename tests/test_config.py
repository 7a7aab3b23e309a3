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
