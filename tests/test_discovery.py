"""Which files are linted: include/exclude, .gitignore, default excludes, explicit paths."""

from pathlib import Path

from txlint.config import Config
from txlint.discovery import discover

SOURCE = "x = 1\n"


def _found(root: Path, paths=(".",), force_exclude=False, **settings):
    import os

    previous = os.getcwd()
    os.chdir(root)
    try:
        files = discover(list(paths), Config(root=str(root), **settings), force_exclude=force_exclude)
    finally:
        os.chdir(previous)
    return sorted(path.as_posix().lstrip("./") if path.as_posix().startswith("./") else path.as_posix()
                  for path in files)


def test_default_excludes(tree):
    root = tree({name: SOURCE for name in [
        "app/models.py", ".venv/lib/x.py", "venv/x.py", "env/lib/site-packages/pkg/x.py", "build/lib/x.py",
        "dist/x.py", "node_modules/x.py", ".git/hooks/x.py", "__pycache__/x.py", ".tox/py/x.py",
        ".mypy_cache/x.py", ".pytest_cache/x.py", ".ruff_cache/x.py", "app/sub/build/x.py", "lib/site-packages/x.py",
        "shop.egg-info/x.py", "app/tests.py",
        "tests/test_models.py", "app/test_views.py", "app/views_test.py", "conftest.py", "app/tests/helpers.py",
    ]})
    assert _found(root) == ["app/models.py"]


def test_gitignore_is_honoured_including_nested(tree):
    root = tree({".gitignore": "generated/\n*_pb2.py\n", "app/.gitignore": "local_settings.py\n",
                 "app/models.py": SOURCE, "app/local_settings.py": SOURCE, "generated/x.py": SOURCE,
                 "app/api_pb2.py": SOURCE})
    assert _found(root) == ["app/models.py"]


def test_include_exclude_and_extend_exclude(tree):
    root = tree({"app/models.py": SOURCE, "app/legacy/old.py": SOURCE, "scripts/run.py": SOURCE,
                 "tests/test_x.py": SOURCE})
    assert _found(root, include=("app/**/*.py",)) == ["app/legacy/old.py", "app/models.py"]
    assert _found(root, extend_exclude=("app/legacy/",)) == ["app/models.py", "scripts/run.py"]
    # Replacing `exclude` drops the default test exclusion.
    assert "tests/test_x.py" in _found(root, exclude=("scripts/",))


def test_explicit_paths_are_linted_unless_force_exclude(tree):
    root = tree({"tests/test_models.py": SOURCE, "app/models.py": SOURCE})
    assert _found(root, paths=["tests/test_models.py"]) == ["tests/test_models.py"]
    assert _found(root, paths=["tests"]) == ["tests/test_models.py"]
    assert _found(root, paths=["tests/test_models.py"], force_exclude=True) == []
    assert _found(root, paths=["tests"], force_exclude=True) == []


def test_only_python_files(tree):
    root = tree({"app/models.py": SOURCE, "README.md": "# x\n", "app/data.json": "{}"})
    assert _found(root) == ["app/models.py"]


def test_gitignore_negation_and_anchors(tree):
    root = tree({".gitignore": "gen_*.py\n!gen_keep.py\n", "app/.gitignore": "/local.py\n",
                 "app/gen_a.py": SOURCE, "app/gen_keep.py": SOURCE, "app/local.py": SOURCE,
                 "app/sub/local.py": SOURCE, "local.py": SOURCE})
    # `/local.py` in app/.gitignore is anchored at app/: it ignores app/local.py only.
    assert _found(root) == ["app/gen_keep.py", "app/sub/local.py", "local.py"]


def test_explicit_directories_excluded_by_default_are_linted(tree):
    root = tree({".gitignore": "generated/\n", "build/lib/x.py": SOURCE, "build/lib/__pycache__/x.py": SOURCE,
                 "generated/models.py": SOURCE, "generated/.gitignore": "skip.py\n", "generated/skip.py": SOURCE,
                 "tests/test_models.py": SOURCE, "tests/.venv/lib/x.py": SOURCE})
    assert _found(root) == []
    assert _found(root, paths=["build"]) == ["build/lib/x.py"]
    assert _found(root, paths=["generated"]) == ["generated/models.py"]
    # What is excluded inside the named directory stays excluded.
    assert _found(root, paths=["tests"]) == ["tests/test_models.py"]
    for name in ("build", "generated", "tests"):
        assert _found(root, paths=[name], force_exclude=True) == []


def test_a_directory_outside_the_root_is_matched_below_itself(tmp_path):
    # A parent named like a default exclude (a CI workspace under /build/...) must not hide the project.
    project = tmp_path / "build" / "checkout"
    (project / "app").mkdir(parents=True)
    (project / "app" / "models.py").write_text(SOURCE)
    (project / "app" / "test_models.py").write_text(SOURCE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = _found(elsewhere, paths=[str(project)])
    assert found == [(project / "app" / "models.py").as_posix()]


def test_missing_path_is_a_usage_error(tree):
    import pytest

    from txlint.errors import UsageError

    root = tree({"app/models.py": SOURCE})
    with pytest.raises(UsageError, match="no such file or directory: nowhere"):
        _found(root, paths=["nowhere"])


def test_explicit_test_file_from_the_command_line(txlint, tree):
    from examples import MULTI_TABLE

    root = tree({"tests/test_orders.py": MULTI_TABLE, "app/models.py": SOURCE})
    code, out, _ = txlint("check", cwd=root)
    assert code == 0 and out.strip() == "0 findings in 1 file checked"
    code, out, _ = txlint("check", "tests/test_orders.py", cwd=root)
    assert code == 1 and out.startswith("tests/test_orders.py:14:5: TXL101 ")
    code, out, _ = txlint("check", "--force-exclude", "tests/test_orders.py", cwd=root)
    assert code == 0 and out.strip() == "0 findings in 0 files checked"


def test_configured_excludes_from_the_command_line(txlint, tree):
    from examples import MULTI_TABLE

    root = tree({"pyproject.toml": "[tool.txlint]\nextend-exclude = ['app/legacy/']\n",
                 "app/legacy/old.py": MULTI_TABLE, "app/new.py": MULTI_TABLE})
    code, out, _ = txlint("check", cwd=root)
    assert code == 1 and "app/new.py" in out and "app/legacy" not in out
    # Patterns are anchored at the configuration's directory, wherever txlint runs from.
    code, out, _ = txlint("check", ".", cwd=root / "app")
    assert "new.py" in out and "legacy" not in out


def test_links_to_directories_are_not_followed_but_links_to_files_are_linted(tree):
    root = tree({"app/models.py": SOURCE, "elsewhere/pkg/x.py": SOURCE, "shared/helpers.py": SOURCE})
    (root / "app" / "linked_dir").symlink_to(root / "elsewhere" / "pkg", target_is_directory=True)
    (root / "app" / "linked_file.py").symlink_to(root / "shared" / "helpers.py")
    assert _found(root, paths=("app",)) == ["app/linked_file.py", "app/models.py"]


def test_an_unreadable_directory_is_skipped(tree, monkeypatch):
    import os

    root = tree({"app/models.py": SOURCE, "app/private/x.py": SOURCE})
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(path) == "private":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert _found(root) == ["app/models.py"]


def test_include_patterns_that_name_a_directory_take_the_files_below_it(tree):
    from txlint.config import load_config

    root = tree({
        "pyproject.toml": '[tool.txlint]\ninclude = ["*.py", "bin/", "scripts"]\n',
        "app/jobs.py": "", "bin/tool": "", "tools/bin/run": "", "scripts/deploy/go": "", "other/notes": "",
    })
    config = load_config(root / "pyproject.toml", ())
    found = sorted(path.relative_to(root).as_posix() for path in discover([str(root)], config))
    assert found == ["app/jobs.py", "bin/tool", "scripts/deploy/go", "tools/bin/run"]
