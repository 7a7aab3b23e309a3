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
