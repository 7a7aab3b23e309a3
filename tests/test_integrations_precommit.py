"""The pre-commit hook, run with the real pre-commit: installed from this repository (through
pip, from a local clone, so nothing comes from GitHub), it blocks a commit that stages a
finding, lets the fixed file through, and honours the configured excludes (--force-exclude)."""

import os
import shutil
import subprocess
import sys

import pytest

from examples import MODELS, MULTI_TABLE, VIEW
from helpers import REPOSITORY

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")

_IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
             "GIT_COMMITTER_EMAIL": "t@example.com"}
FIXED = MULTI_TABLE.replace("def place_order", "@transaction.atomic\ndef place_order").replace(
    "from django.db import models", "from django.db import models, transaction")


def _run(*args, cwd, env):
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=env)


def _git(*args, cwd, env):
    completed = _run("git", *args, cwd=cwd, env=env)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory):
    """This repository's committed state plus the working tree, as a local git repository."""
    environment = {**os.environ, **_IDENTITY}
    repository = tmp_path_factory.mktemp("hook") / "txlint"
    shutil.copytree(REPOSITORY, repository, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", ".txlint_cache", "__pycache__", "bench", ".hypothesis",
        ".pytest_cache"))
    _git("init", "-q", cwd=repository, env=environment)
    _git("add", ".", cwd=repository, env=environment)
    _git("commit", "-qm", "txlint", cwd=repository, env=environment)
    revision = _git("rev-parse", "HEAD", cwd=repository, env=environment).strip()
    return repository, revision


def test_pre_commit_blocks_a_staged_finding_and_passes_once_fixed(hook_repository, tmp_path):
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which("pre-commit")
    assert pre_commit, "pre-commit is not installed (it is in the `test` extra)"
    repository, revision = hook_repository
    environment = {**os.environ, **_IDENTITY, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    project = tmp_path / "project"
    (project / "legacy").mkdir(parents=True)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repository}\n    rev: {revision}\n    hooks:\n      - id: txlint\n")
    (project / "pyproject.toml").write_text('[tool.txlint]\nexclude = ["legacy/"]\n')
    (project / "services.py").write_text(MULTI_TABLE)
    (project / "legacy" / "old.py").write_text(MULTI_TABLE)
    _git("init", "-q", cwd=project, env=environment)
    _git("add", ".pre-commit-config.yaml", "pyproject.toml", cwd=project, env=environment)
    _git("commit", "-qm", "set-up", "--no-verify", cwd=project, env=environment)
    installed = _run(pre_commit, "install", cwd=project, env=environment)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # A staged file that the configuration excludes: pre-commit passes it by name, and
    # --force-exclude keeps it excluded.
    _git("add", "legacy/old.py", cwd=project, env=environment)
    commit = _run("git", "commit", "-m", "legacy", cwd=project, env=environment)
    assert commit.returncode == 0, commit.stdout + commit.stderr

    # A staged finding blocks the commit.
    _git("add", "services.py", cwd=project, env=environment)
    commit = _run("git", "commit", "-m", "services", cwd=project, env=environment)
    assert commit.returncode != 0, commit.stdout + commit.stderr
    assert "services.py:14:5: TXL101" in commit.stdout + commit.stderr
    assert "legacy/old.py" not in commit.stdout + commit.stderr

    # Fixed and staged again, the commit goes through.
    (project / "services.py").write_text(FIXED)
    _git("add", "services.py", cwd=project, env=environment)
    commit = _run("git", "commit", "-m", "services", cwd=project, env=environment)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert "services.py" in _git("ls-files", cwd=project, env=environment)

    # `pre-commit try-repo` (what a contributor runs before publishing the hook) agrees.
    (project / "services.py").write_text(MULTI_TABLE)
    _git("add", "services.py", cwd=project, env=environment)
    tried = _run(pre_commit, "try-repo", str(repository), "txlint", cwd=project, env=environment)
    assert tried.returncode == 1 and "TXL101" in tried.stdout, tried.stdout + tried.stderr


FIXED_VIEW = VIEW.replace("from app.models", "from django.db import transaction\n\nfrom app.models").replace(
    "def place_order", "@transaction.atomic\ndef place_order")


def _hooked_project(tmp_path, hook_repository, environment):
    """A git repository using the hook, with its models committed and nothing else staged."""
    pre_commit = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which("pre-commit")
    assert pre_commit, "pre-commit is not installed (it is in the `test` extra)"
    repository, revision = hook_repository
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {repository}\n    rev: {revision}\n    hooks:\n      - id: txlint\n")
    (project / "app" / "models.py").write_text(MODELS)
    _git("init", "-q", cwd=project, env=environment)
    _git("add", ".", cwd=project, env=environment)
    _git("commit", "-qm", "models", "--no-verify", cwd=project, env=environment)
    installed = _run(pre_commit, "install", cwd=project, env=environment)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return project, pre_commit


def test_one_staged_view_is_checked_against_the_models_it_imports(hook_repository, tmp_path):
    """The new user's first commit: only the edited view is staged, its models are not, and the
    hook still sees the two tables (the project is analysed, the staged file reported)."""
    environment = {**os.environ, **_IDENTITY, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    project, _ = _hooked_project(tmp_path, hook_repository, environment)
    (project / "app" / "views.py").write_text(VIEW)
    _git("add", "app/views.py", cwd=project, env=environment)
    commit = _run("git", "commit", "-m", "view", cwd=project, env=environment)
    output = commit.stdout + commit.stderr
    assert commit.returncode != 0, output
    assert "app/views.py:6:5: TXL101 writes to Order (line 5) and Invoice (line 6)" in output

    (project / "app" / "views.py").write_text(FIXED_VIEW)
    _git("add", "app/views.py", cwd=project, env=environment)
    commit = _run("git", "commit", "-m", "view", cwd=project, env=environment)
    assert commit.returncode == 0, commit.stdout + commit.stderr


def test_all_files_in_chunks_find_what_one_run_finds(hook_repository, tmp_path):
    """pre-commit splits a long list of files into chunks, each a run of its own: each still
    analyses the whole project, so a hazard across files is found whatever the chunk."""
    environment = {**os.environ, **_IDENTITY, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    project, pre_commit = _hooked_project(tmp_path, hook_repository, environment)
    generated = project / "app" / "generated"
    generated.mkdir()
    for number in range(3000):
        (generated / f"module_with_a_long_name_{number:04}.py").write_text(f"VALUE = {number}\n")
    (project / "app" / "views.py").write_text(VIEW)
    _git("add", ".", cwd=project, env=environment)
    run = _run(pre_commit, "run", "--all-files", cwd=project, env=environment)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert output.count("app/views.py:6:5: TXL101") == 1, output
    # The chunking really happened: the file names alone are well over one command line's chunk.
    assert sum(len(f"app/generated/{path.name} ") for path in generated.iterdir()) > 128 * 1024 / 2
