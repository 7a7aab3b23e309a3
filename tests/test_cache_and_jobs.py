"""Findings are the same with and without the cache, warm or cold, for any number of processes."""

import json
import shutil

from helpers import REPOSITORY, run_txlint


def _findings(cwd, *args):
    code, out, err = run_txlint("check", "--format", "json", "--exit-zero", *args, cwd=cwd)
    assert code == 0, err
    return json.loads(out)["findings"]


def test_fixtures_same_findings_every_way(tmp_path):
    project = tmp_path / "fixtures"
    shutil.copytree(REPOSITORY / "fixtures", project)
    reference = _findings(project, ".", "--no-cache", "--jobs", "1")
    assert reference
    assert _findings(project, ".", "--no-cache", "--jobs", "3") == reference
    cold = _findings(project, ".", "--jobs", "2")
    # Each fixture is a project of its own, with its own cache.
    assert all((fixture / ".txlint_cache").is_dir() for fixture in project.iterdir() if fixture.is_dir())
    warm = _findings(project, ".", "--jobs", "2")
    assert cold == reference and warm == reference
    # An edit is seen through the cache.
    services = project / "django_shop" / "shop" / "services.py"
    services.write_text(services.read_text().replace(
        "@transaction.atomic\ndef place_order_atomically", "def place_order_atomically"))
    edited_cached = _findings(project, ".", "--jobs", "2")
    assert edited_cached == _findings(project, ".", "--no-cache", "--jobs", "1")
    assert edited_cached != reference


def test_a_corrupt_cache_entry_is_ignored(tmp_path):
    project = tmp_path / "fixtures"
    shutil.copytree(REPOSITORY / "fixtures" / "django_shop", project)
    reference = _findings(project, ".", "--no-cache")
    _findings(project, ".")
    for entry in (project / ".txlint_cache").rglob("*"):
        if entry.is_file() and entry.name != ".gitignore":
            entry.write_bytes(b"not a pickle")
    assert _findings(project, ".") == reference
