"""Which project a named path belongs to, what it analyses and what it reports: the configuration
is found from the files (not the working directory), a git work tree bounds a project without
one, nested [tool.txlint] directories are projects of their own, the home and temporary
directories are never walked whole, and module names outside packages come from the root."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from examples import MODELS, MULTI_TABLE, VIEW
from helpers import run_txlint


def _findings(out: str):
    return [(finding["path"], finding["line"], finding["code"], finding["function"])
            for finding in json.loads(out)["findings"]]


def test_a_named_file_is_checked_within_its_project(tree):
    root = tree({"app/models.py": MODELS, "app/views.py": VIEW})
    whole = run_txlint("check", "--format", "json", ".", cwd=root)
    named = run_txlint("check", "--format", "json", "app/views.py", cwd=root)
    assert whole[0] == named[0] == 1
    assert _findings(named[1]) == _findings(whole[1]) == [("app/views.py", 6, "TXL101", "app.views.place_order")]
    assert json.loads(named[1])["summary"]["files"] == 1  # analysed two, reported one


def test_the_configuration_is_found_from_the_files_not_the_working_directory(tree):
    root = tree({"repo/pyproject.toml": '[tool.txlint]\nignore = ["TXL101"]\n', "repo/app/models.py": MODELS,
                 "repo/app/views.py": VIEW})
    code, out, err = run_txlint("check", "repo/", cwd=root)
    assert code == 0, out + err
    code, out, _ = run_txlint("check", "--show-settings", "repo/app/views.py", cwd=root)
    assert code == 0
    assert f"project root: {root / 'repo'}" in out
    assert f"configuration: {root / 'repo' / 'pyproject.toml'}" in out
    assert "ignore = ('TXL101',)" in out


def test_a_pyproject_without_a_txlint_table_does_not_make_a_project(tree):
    root = tree({"pyproject.toml": '[tool.txlint]\nignore = ["TXL102"]\n',
                 "app/pyproject.toml": '[tool.black]\nline-length = 100\n', "app/models.py": MODELS,
                 "app/views.py": VIEW})
    code, out, _ = run_txlint("check", "--show-settings", "app/views.py", cwd=root)
    assert code == 0 and f"project root: {root}\n" in out


def test_without_configuration_the_git_work_tree_is_the_project(tree):
    root = tree({"repo/app/models.py": MODELS, "repo/app/views.py": VIEW})
    subprocess.run(["git", "init", "-q", str(root / "repo")], check=True)
    code, out, err = run_txlint("check", "--format", "json", "views.py", cwd=root / "repo" / "app")
    assert code == 1, err
    assert _findings(out) == [("views.py", 6, "TXL101", "app.views.place_order")]


def test_a_nested_project_is_checked_with_its_own_configuration(tree):
    root = tree({"pyproject.toml": "[tool.txlint]\n", "app/models.py": MODELS, "app/views.py": VIEW,
                 "service/pyproject.toml": '[tool.txlint]\nignore = ["TXL101"]\n',
                 "service/app/models.py": MODELS, "service/app/views.py": VIEW})
    code, out, _ = run_txlint("check", "--format", "json", ".", cwd=root)
    assert code == 1
    assert _findings(out) == [("app/views.py", 6, "TXL101", "app.views.place_order")]
    code, out, _ = run_txlint("check", "--show-files", ".", cwd=root)
    assert out.splitlines() == ["app/models.py", "app/views.py", "service/app/models.py", "service/app/views.py"]
    code, out, _ = run_txlint("check", "--show-settings", ".", cwd=root)
    assert out.count("project root:") == 2


def test_show_files_marks_what_is_analysed_but_not_reported(tree):
    root = tree({"pyproject.toml": "[tool.txlint]\n", "app/models.py": MODELS, "app/views.py": VIEW})
    code, out, _ = run_txlint("check", "--show-files", "app/views.py", cwd=root)
    assert code == 0
    assert out.splitlines() == ["app/models.py  (analysed, not reported)", "app/views.py"]


@pytest.mark.parametrize("layout", ["namespace", "src"])
def test_folders_without_init_resolve_by_their_path_from_the_root(tree, layout):
    prefix = "src/" if layout == "src" else ""
    root = tree({"pyproject.toml": "[tool.txlint]\n", f"{prefix}app/models.py": MODELS, f"{prefix}app/views.py": VIEW})
    code, out, err = run_txlint("check", "--format", "json", cwd=root)
    assert code == 1, err
    assert _findings(out) == [(f"{prefix}app/views.py", 6, "TXL101", "app.views.place_order")]


def test_a_script_imports_its_neighbour(tree):
    helpers = MODELS + "\n\ndef place(total):\n    order = Order.objects.create(total=total)\n" \
                       "    Invoice.objects.create(order=order)\n"
    job = "from django.db import transaction\n\nimport helpers\n\n\n@transaction.atomic\ndef main():\n" \
          "    helpers.place(1)\n"
    root = tree({"pyproject.toml": "[tool.txlint]\n", "scripts/helpers.py": helpers, "scripts/job.py": job})
    # helpers.place is only ever called inside main's transaction, which txlint sees only if
    # `import helpers` in scripts/job.py is scripts/helpers.py.
    code, out, err = run_txlint("check", cwd=root)
    assert code == 0, out + err


def test_a_file_in_the_temporary_directory_is_a_project_of_its_own(tmp_path):
    """An editor buffer in the system's temporary directory: the directory is not walked, and
    nothing is written there."""
    directory = Path(tempfile.gettempdir())
    name = f"txlint-buffer-{os.getpid()}.py"
    path = directory / name
    path.write_text(MULTI_TABLE)
    cache_before = (directory / ".txlint_cache").exists()
    try:
        code, out, _ = run_txlint("check", "--show-files", name, cwd=directory)
        assert code == 0 and out.splitlines() == [name]
        code, out, err = run_txlint("check", name, cwd=directory)
        assert code == 1 and f"{name}:14:5: TXL101" in out, err
        assert (directory / ".txlint_cache").exists() == cache_before  # no cache written there
    finally:
        path.unlink()


def test_a_missing_path_is_a_usage_error(tree):
    root = tree({"app/models.py": MODELS})
    code, out, err = run_txlint("check", "nowhere.py", cwd=root)
    assert code == 2 and err.strip() == "txlint: error: no such file or directory: nowhere.py"


def test_nothing_to_check_is_said(tree):
    root = tree({"pyproject.toml": "[tool.txlint]\n", "notes.txt": "no python here\n"})
    code, out, err = run_txlint("check", cwd=root)
    assert code == 0
    assert err.strip() == "txlint: warning: no Python files found in the paths given; nothing was checked"


def test_a_nested_project_named_both_whole_and_by_one_file_is_reported_once_and_whole(tree):
    root = tree({"pyproject.toml": "[tool.txlint]\n", "app/models.py": MODELS,
                 "service/pyproject.toml": "[tool.txlint]\n", "service/app/models.py": MODELS,
                 "service/app/views.py": VIEW, "service/app/other.py": VIEW})
    code, out, _ = run_txlint("check", "--format", "json", "service/app/views.py", ".", cwd=root)
    assert code == 1
    assert _findings(out) == [("service/app/other.py", 6, "TXL101", "app.other.place_order"),
                              ("service/app/views.py", 6, "TXL101", "app.views.place_order")]


def test_an_unsaved_buffer_in_the_temporary_directory_is_a_project_of_its_own(monkeypatch):
    from txlint.session import Options, check_buffer

    name = os.path.join(tempfile.gettempdir(), f"txlint-unsaved-{os.getpid()}.py")
    walked = []
    import txlint.projects

    real_discover = txlint.projects.discover
    monkeypatch.setattr(txlint.projects, "discover", lambda paths, *rest, **keywords: walked.append(paths) or
                        real_discover(paths, *rest, **keywords))
    result = check_buffer(name, MULTI_TABLE, Options(use_cache=False))
    assert [(finding.line, finding.code) for finding in result.findings] == [(14, "TXL101")]
    assert walked == []  # the temporary directory was not walked
    missing_folder = os.path.join(tempfile.gettempdir(), f"txlint-no-such-folder-{os.getpid()}", "new.py")
    assert [finding.code for finding in check_buffer(missing_folder, MULTI_TABLE, Options()).findings] == ["TXL101"]


def test_files_outside_the_working_directory_are_shown_relative_to_it(tree):
    root = tree({"pyproject.toml": "[tool.txlint]\n", "app/models.py": MODELS, "app/views.py": VIEW,
                 "other/readme.txt": ""})
    code, out, _ = run_txlint("check", "--format", "json", "../app", cwd=root / "other")
    assert code == 1
    assert _findings(out) == [("../app/views.py", 6, "TXL101", "app.views.place_order")]
    code, out, _ = run_txlint("check", "--show-files", "../app/views.py", cwd=root / "other")
    assert out.splitlines() == ["../app/models.py  (analysed, not reported)", "../app/views.py"]


def test_a_package_module_imports_absolutely_even_beside_a_namesake(tree):
    """Only folders that are not packages are looked in for a neighbour: in a regular package,
    `from sqlalchemy import text` is the library, not the package's own sqlalchemy.py."""
    root = tree({"pyproject.toml": "[tool.txlint]\n", "pkg/__init__.py": "",
                 "pkg/sqlalchemy.py": "from sqlalchemy import select\n\n\ndef helper():\n    return select\n",
                 "pkg/jobs.py": 'from sqlalchemy import text\n\n\ndef purge(session):\n'
                                '    session.execute(text("DELETE FROM audit_log"))\n    session.commit()\n'})
    code, out, err = run_txlint("check", "--format", "json", cwd=root)
    assert code == 1, err
    assert _findings(out) == [("pkg/jobs.py", 5, "TXL201", "pkg.jobs.purge")]
