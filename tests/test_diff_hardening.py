"""`--diff REV` never fails open: hostile revisions, attributes, configuration and file names."""

import json
import os
import stat
import subprocess

import pytest
from examples import MULTI_TABLE
from test_integrations_diff import _git, _repository

from txlint.errors import UsageError
from txlint.gitdiff import changed_lines

# place_order (lines 12-15) has a TXL101 finding at 14:5; unrelated() starts three lines below it.
NEIGHBOURS = MULTI_TABLE + "\n\ndef unrelated():\n    return 1\n"
FINDING = "app/services.py:14:5: TXL101"
FINDING_AFTER_EDIT = "app/services.py:15:5: TXL101"


def _edit_place_order(root, name="app/services.py", function="place_order"):
    """A line added at the top of the function: its finding moves to line 15."""
    path = root / name
    path.write_text(path.read_text().replace(f"def {function}(total):\n",
                                             f"def {function}(total):\n    total = int(total)\n"))


def _usage_error(result):
    code, out, err = result
    assert code == 2 and not out and "Traceback" not in err, (code, out, err)
    (line,) = err.splitlines()
    assert line.startswith("txlint: error: --diff"), line
    return line


@pytest.mark.parametrize("option", ["--output={target}", "-x", "--no-index", "-p"])
def test_a_revision_that_looks_like_an_option_never_reaches_git(txlint, tree, option):
    root = _repository(tree, {"app/services.py": MULTI_TABLE})
    target = root / "written-by-git"
    _usage_error(txlint("check", f"--diff={option.format(target=target)}", cwd=root))
    assert not target.exists()


def test_an_empty_revision_is_refused(txlint, tree, monkeypatch):
    root = _repository(tree, {"app/services.py": MULTI_TABLE})
    assert "needs a revision" in _usage_error(txlint("check", "--diff", "", cwd=root))
    monkeypatch.chdir(root)
    with pytest.raises(UsageError, match="--diff needs a revision"):
        changed_lines("")


@pytest.mark.parametrize("name, kind", [("HEAD^{tree}", "tree"), ("HEAD:app/services.py", "blob")])
def test_a_tree_or_a_blob_is_not_a_commit(txlint, tree, name, kind):
    root = _repository(tree, {"app/services.py": MULTI_TABLE})
    line = _usage_error(txlint("check", "--diff", name, cwd=root))
    assert f"is a {kind}, not a commit" in line


def test_an_annotated_tag_names_its_commit(txlint, tree):
    root = _repository(tree, {"app/services.py": MULTI_TABLE})
    _git(root, "tag", "-a", "v1", "-m", "release")
    _edit_place_order(root)
    code, out, err = txlint("check", "--diff", "v1", cwd=root)
    assert code == 1 and FINDING_AFTER_EDIT in out, out + err


@pytest.mark.parametrize("attributes", ["*.py -diff\n", "*.py binary\n", "*.py diff=secret\n"])
def test_attributes_that_hide_hunks_do_not_hide_a_change(txlint, tree, attributes):
    root = _repository(tree, {"app/services.py": MULTI_TABLE, ".gitattributes": attributes})
    _git(root, "config", "diff.secret.binary", "true")
    _edit_place_order(root)
    code, out, err = txlint("check", "--diff", "HEAD", cwd=root)
    assert code == 1 and FINDING_AFTER_EDIT in out, out + err


@pytest.mark.parametrize("key, value", [
    ("diff.mnemonicPrefix", "true"), ("diff.noprefix", "true"), ("diff.relative", "true"),
    ("color.ui", "always"), ("color.diff", "always"), ("core.quotePath", "true"),
])
def test_configuration_does_not_change_the_diff_read(txlint, tree, key, value):
    root = _repository(tree, {"pkg/app/services.py": MULTI_TABLE})
    _git(root, "config", key, value)
    _edit_place_order(root, "pkg/app/services.py")
    code, out, err = txlint("check", "--diff", "HEAD", cwd=root / "pkg")
    assert code == 1 and FINDING_AFTER_EDIT in out, out + err


@pytest.mark.parametrize("key, value, env", [
    ("diff.interHunkContext", "10", {}), ("diff.context", "10", {}), ("user.name", "t", {"GIT_DIFF_OPTS": "-u10"}),
])
def test_context_lines_never_count_as_changed(txlint, tree, key, value, env):
    root = _repository(tree, {"app/services.py": NEIGHBOURS})
    _git(root, "config", key, value)
    # Invoice's field (line 9) and unrelated() change; the unchanged place_order between them
    # would count as changed if context lines, or lines fused between two hunks, were read.
    (root / "app" / "services.py").write_text(NEIGHBOURS.replace("return 1", "return 2").replace(
        "on_delete=models.CASCADE)", "on_delete=models.CASCADE)  # kept with its order"))
    code, out, err = txlint("check", "--diff", "HEAD", cwd=root, env=env)
    assert code == 0 and "TXL101" not in out, out + err


def test_no_diff_or_textconv_command_configured_for_the_repository_runs(txlint, tree):
    root = _repository(tree, {"app/services.py": MULTI_TABLE, ".gitattributes": "*.py diff=conv\n"})
    marker = root / "ran"
    script = root / "command.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    _git(root, "config", "diff.external", str(script))
    _git(root, "config", "diff.conv.textconv", str(script))
    _edit_place_order(root)
    code, out, err = txlint("check", "--diff", "HEAD", cwd=root)
    assert code == 1 and FINDING_AFTER_EDIT in out and not marker.exists(), out + err


def test_a_changed_line_that_looks_like_a_file_header_is_content(txlint, tree):
    # The added docstring line is "++ b/app/other.py", so the diff shows "+++ b/app/other.py".
    source = '"""Orders.\n"""\n' + MULTI_TABLE
    root = _repository(tree, {"app/services.py": source})
    (root / "app" / "services.py").write_text(source.replace('"""Orders.\n', '"""Orders.\n++ b/app/other.py\n').replace(
        "def place_order(total):\n", "def place_order(total):\n    total = int(total)\n"))
    code, out, err = txlint("check", "--diff", "HEAD", cwd=root)
    assert code == 1 and "app/services.py:18:5: TXL101" in out, out + err


def _branches(tree):
    """The base line moves on after the feature branched: each edited a different function."""
    other = MULTI_TABLE.replace("place_order", "refund_order")
    root = _repository(tree, {"app/services.py": MULTI_TABLE, "app/refunds.py": other})
    _git(root, "checkout", "-qb", "upstream")
    _edit_place_order(root)
    _git(root, "commit", "-qam", "upstream moves on")
    _git(root, "checkout", "-qb", "feature", "HEAD~1")
    _edit_place_order(root, "app/refunds.py", "refund_order")
    _git(root, "commit", "-qam", "feature")
    return root


@pytest.mark.parametrize("revision", ["upstream...HEAD", "upstream...", "upstream...feature"])
def test_three_dots_are_the_changes_since_the_merge_base(txlint, tree, revision):
    root = _branches(tree)
    code, out, err = txlint("check", "--diff", revision, cwd=root)
    assert code == 1 and "app/refunds.py:15:5: TXL101" in out and "app/services.py" not in out, out + err
    # A plain revision compares with upstream's tip, so upstream's own edit shows too.
    assert "app/services.py" in txlint("check", "--diff", "upstream", cwd=root)[1]
    # Uncommitted edits count as well: the working tree is what is checked.
    (root / "app" / "services.py").write_text(MULTI_TABLE.replace("    return order", "    return None"))
    assert FINDING in txlint("check", "--diff", revision, cwd=root)[1]


def test_a_range_the_working_tree_is_not_the_end_of_is_refused(txlint, tree):
    root = _branches(tree)
    assert "must be HEAD" in _usage_error(txlint("check", "--diff", "HEAD...upstream", cwd=root))
    line = _usage_error(txlint("check", "--diff", "upstream..HEAD", cwd=root))
    assert "upstream...HEAD" in line
    assert "is not a revision" in _usage_error(txlint("check", "--diff=upstream...--output=x", cwd=root))
    assert not (root / "x").exists()


def test_unrelated_histories_have_no_merge_base(txlint, tree):
    root = _repository(tree, {"app/services.py": MULTI_TABLE})
    _git(root, "checkout", "-qb", "mainline")
    _git(root, "checkout", "-q", "--orphan", "other")
    _git(root, "commit", "-qm", "unrelated")
    _git(root, "checkout", "-q", "mainline")
    assert "no common ancestor" in _usage_error(txlint("check", "--diff", "other...HEAD", cwd=root))


def test_a_shallow_clone_is_told_to_fetch_more_history(txlint, tree, tmp_path):
    root = _branches(tree)
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{root}", str(clone))
    line = _usage_error(txlint("check", "--diff", "HEAD~1", cwd=clone))
    assert "HEAD~1 is not a commit in this clone" in line and "fetch more history" in line
    # Both branch tips are here, but not the commit they share.
    line = _usage_error(txlint("check", "--diff", "origin/upstream...HEAD", cwd=clone))
    assert "fetch more history" in line


@pytest.mark.parametrize("name", ["app/my services.py", "app/café.py", 'app/say "hi".py', "app/tab\there.py",
                                  "app/back\\slash.py"])
def test_unusual_file_names(txlint, tree, name):
    root = _repository(tree, {name: MULTI_TABLE, "app/services.py": MULTI_TABLE})
    _edit_place_order(root, name)
    code, out, err = txlint("check", "--format", "json", "--diff", "HEAD", cwd=root)
    found = [(finding["path"], finding["line"]) for finding in json.loads(out)["findings"]]
    assert code == 1 and found == [(name, 15)], out + err


def test_a_name_that_is_not_utf8(tree, monkeypatch):
    tracked, untracked = os.fsdecode(b"app/caf\xe9.py"), os.fsdecode(b"new\xff.py")
    root = _repository(tree, {tracked: MULTI_TABLE})
    _edit_place_order(root, tracked)
    (root / untracked).write_text("x = 1\n")
    monkeypatch.chdir(root)
    assert changed_lines("HEAD") == {tracked: {13}, untracked: None}


def test_git_missing_too_old_or_no_repository(txlint, tree, tmp_path):
    root = _repository(tree, {"app/services.py": MULTI_TABLE})
    assert "needs git" in _usage_error(txlint("check", "--diff", "HEAD", cwd=root, env={"PATH": str(tmp_path)}))
    old = tmp_path / "old-git"
    old.mkdir()
    (old / "git").write_text("#!/bin/sh\necho 'git version 2.20.1'\n")
    (old / "git").chmod(0o755)
    line = _usage_error(txlint("check", "--diff", "HEAD", cwd=root, env={"PATH": f"{old}:{os.environ['PATH']}"}))
    assert "git 2.24 or later" in line and "2.20.1" in line
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.py").write_text("x = 1\n")
    line = _usage_error(txlint("check", "--diff", "HEAD", cwd=outside, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)}))
    assert "not a git repository" in line


def test_git_never_waits_for_input(tree, monkeypatch):
    root = _repository(tree, {"app/services.py": MULTI_TABLE})
    monkeypatch.chdir(root)
    calls = []
    real_run = subprocess.run

    def recording_run(command, **options):
        calls.append(options.get("stdin"))
        return real_run(command, **options)

    monkeypatch.setattr(subprocess, "run", recording_run)
    changed_lines("HEAD")
    assert calls and all(stdin == subprocess.DEVNULL for stdin in calls)
