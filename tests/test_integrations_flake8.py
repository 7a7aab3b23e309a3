"""The flake8 plugin, run with the real flake8: the same findings at the same positions as
`txlint check` on the same files, with the same configuration; an editor's unsaved buffer."""

import json
import os
import subprocess
import sys

import pytest

from examples import CLEAN, MULTI_TABLE
from helpers import REPOSITORY, run_txlint

FIXTURES = sorted(path for path in (REPOSITORY / "fixtures").iterdir() if path.is_dir())


def _flake8(*args, cwd, stdin=None):
    completed = subprocess.run([sys.executable, "-m", "flake8", "--select", "TXL", *args], cwd=cwd,
                               capture_output=True, text=True, input=stdin)
    assert "Traceback" not in completed.stderr, completed.stderr
    found = set()
    for line in completed.stdout.splitlines():
        path, row, column, message = line.split(":", 3)
        found.add((os.path.normpath(path), int(row), int(column), message.split()[0]))
    return completed.returncode, found


def _txlint(*paths, cwd):
    code, out, err = run_txlint("check", "--format", "json", *paths, cwd=cwd)
    assert code in (0, 1), err
    return {(os.path.normpath(f["path"]), f["line"], f["column"], f["code"]) for f in json.loads(out)["findings"]}


@pytest.mark.parametrize("project", FIXTURES, ids=lambda path: path.name)
@pytest.mark.parametrize("jobs", ["1", "4"])
def test_flake8_reports_what_txlint_reports_on_the_fixtures(project, jobs):
    code, from_flake8 = _flake8("--jobs", jobs, ".", cwd=project)
    from_txlint = _txlint(".", cwd=project)
    assert from_flake8 == from_txlint
    assert code == (1 if from_txlint else 0)


def test_flake8_on_all_fixtures_from_the_repository_root():
    _, from_flake8 = _flake8("fixtures", cwd=REPOSITORY)
    from_txlint = _txlint("fixtures", cwd=REPOSITORY)
    assert from_flake8 == from_txlint and len(from_txlint) > 10


def test_flake8_reads_the_same_configuration(tree):
    helper = "from django.db import models\n\n\ndef backfill(rows):\n    for row in rows:\n        row.save()\n"
    root = tree({"app/services.py": MULTI_TABLE, "app/jobs.py": helper, "scripts/fix.py": MULTI_TABLE,
                 "pyproject.toml": '[tool.txlint]\nexclude = ["scripts/"]\nignore = ["TXL102"]\n'})
    _, from_flake8 = _flake8(".", cwd=root)
    assert from_flake8 == _txlint(".", cwd=root) == {("app/services.py", 14, 5, "TXL101")}
    (root / "pyproject.toml").write_text('[tool.txlint]\nexclude = "scripts/"\n')
    completed = subprocess.run([sys.executable, "-m", "flake8", "--select", "TXL", "."], cwd=root,
                               capture_output=True, text=True)
    assert "Traceback" not in completed.stderr
    assert "TXL000 txlint cannot run:" in completed.stdout and "exclude" in completed.stdout


def test_flake8_on_some_files_analyses_those_files(tree):
    """As `txlint check a.py b.py`: a helper in a file flake8 was not given is not seen."""
    helper = "from app.models import Invoice\n\n\ndef make_invoice(order):\n    Invoice.objects.create(order=order)\n"
    caller = MULTI_TABLE.replace("    Invoice.objects.create(order=order)\n",
                                 "    make_invoice(order)\n").replace(
        "from django.db import models\n", "from django.db import models\n\nfrom app.helpers import make_invoice\n")
    root = tree({"app/__init__.py": "", "app/helpers.py": helper, "app/models.py": MULTI_TABLE,
                 "app/services.py": caller})
    for paths in (["app"], ["app/services.py"], ["app/services.py", "app/helpers.py"]):
        _, from_flake8 = _flake8(*paths, cwd=root)
        assert from_flake8 == _txlint(*paths, cwd=root), paths


def test_an_editor_buffer_is_checked_within_its_project(tree):
    """`flake8 --stdin-display-name FILE -`: the unsaved text, with the project's other files."""
    helper = ("from django.db import models\n\nfrom app.models import Invoice\n\n\n"
              "def make_invoice(order):\n    Invoice.objects.create(order=order)\n")
    caller = CLEAN.replace("@transaction.atomic\n", "").replace(
        "    return Order.objects.create(total=total)\n",
        "    order = Order.objects.create(total=total)\n    make_invoice(order)\n    return order\n").replace(
        "from django.db import models, transaction\n",
        "from django.db import models, transaction\n\nfrom app.helpers import make_invoice\n")
    root = tree({"pyproject.toml": "[tool.txlint]\n", "app/__init__.py": "", "app/helpers.py": helper,
                 "app/models.py": MULTI_TABLE, "app/services.py": CLEAN})
    # On disk the file is clean; the buffer calls a helper in another file: found through the project.
    code, found = _flake8("--stdin-display-name", "app/services.py", "-", cwd=root, stdin=caller)
    assert code == 1 and {(path, code) for path, _, _, code in found} == {("app/services.py", "TXL101")}
    (root / "app" / "services.py").write_text(caller)
    assert found == _txlint(".", cwd=root) - {f for f in _txlint(".", cwd=root) if f[0] != "app/services.py"}
    # The buffer fixed (atomic again) before it is saved: nothing to report.
    fixed = caller.replace("def place_order", "@transaction.atomic\ndef place_order")
    code, found = _flake8("--stdin-display-name", "app/services.py", "-", cwd=root, stdin=fixed)
    assert code == 0 and not found
    # An absolute display name, from another working directory; a file the configuration excludes.
    code, found = _flake8("--stdin-display-name", str(root / "app" / "services.py"), "-", cwd=root.parent,
                          stdin=caller)
    assert code == 1 and len(found) == 1
    (root / "pyproject.toml").write_text('[tool.txlint]\nexclude = ["app/services.py"]\n')
    assert _flake8("--stdin-display-name", "app/services.py", "-", cwd=root, stdin=caller) == (0, set())


def test_flake8_without_txl_selected_does_not_analyse(tree):
    root = tree({"app/services.py": MULTI_TABLE})
    completed = subprocess.run([sys.executable, "-m", "flake8", "--select", "E9", "."], cwd=root,
                               capture_output=True, text=True)
    assert completed.returncode == 0 and not completed.stdout
    assert not (root / ".txlint_cache").exists()


def test_the_plugin_is_registered_with_flake8():
    completed = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True)
    assert "txlint: " in completed.stdout
