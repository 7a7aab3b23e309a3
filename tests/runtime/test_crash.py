"""A process killed with SIGKILL, on every backend and both staging paths.

Mid-transaction: the database keeps none of the block's rows, and the directory none of its
files; only the named staging path can leave `.txlint-staged-*` files, which sweep_staged_files
deletes. During publishing (after the commit, between naming a staged file and renaming it into
place): the rows are committed, the files published before the kill are in place, and the rest
are missing, each as a `.txlint-staged-*` file or (unnamed and not yet named) nothing at all.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import harnesses
import txlint.runtime._staging as staging
from conftest import backend_params, make_spec
from txlint.runtime import sweep_staged_files

KILL_SCRIPT = textwrap.dedent("""
    import json, os, signal, sys
    sys.path.insert(0, sys.argv[1])
    import harnesses
    import txlint.runtime._staging as staging
    from txlint.runtime import atomic

    spec, directory, staging_path, moment = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    if staging_path == "named":
        staging._O_TMPFILE = 0
    if moment == "publishing":
        replace, replaced = staging.os.replace, []

        def replace_then_die_at_the_second(source, target):
            if replaced:  # the second file has its staged name: die before it is moved into place
                print("publishing", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            replace(source, target)
            replaced.append(target)

        staging.os.replace = replace_then_die_at_the_second
    harness = harnesses.attach(spec)
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        transaction.stage_file(os.path.join(directory, "a.txt"), b"alpha" * 100000)
        with atomic(harness.target()) as inner:
            harness.write(inner, "b")
            inner.stage_file(os.path.join(directory, "b.txt"), b"beta")
        harness.write(transaction, "c")
        transaction.stage_file(os.path.join(directory, "c.txt"), b"gamma")
        if moment == "mid-transaction":
            print("written", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
""")


def _staging_paths():
    named = pytest.param("named", id="named")
    if not staging._O_TMPFILE:
        return [named]
    return [pytest.param("unnamed", id="unnamed"), named]


def _run_and_kill(harness, files, staging_path, moment):
    result = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, os.path.dirname(__file__), json.dumps(harness.spec), str(files),
         staging_path, moment], capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result.stderr
    return result.stdout


def _staged(files):
    return [name for name in os.listdir(files) if name.startswith(staging.STAGED_PREFIX)]


@pytest.mark.parametrize("staging_path", _staging_paths())
@pytest.mark.parametrize("name", backend_params())
def test_sigkill_mid_transaction(name, staging_path, request, tmp_path):
    harness = harnesses.create(make_spec(request, name, str(tmp_path)))
    files = tmp_path / "files"
    files.mkdir()
    try:
        assert _run_and_kill(harness, files, staging_path, "mid-transaction") == "written\n"
        assert harness.committed() == []
        left = sorted(os.listdir(files))
        assert left == sorted(_staged(files))  # never a file at a target's name
        assert len(left) == (3 if staging_path == "named" else 0)
        assert sweep_staged_files(files, older_than=0) == [str(files / name) for name in left]
        assert os.listdir(files) == []
    finally:
        harness.close()


@pytest.mark.parametrize("staging_path", _staging_paths())
@pytest.mark.parametrize("name", backend_params())
def test_sigkill_while_publishing_after_the_commit(name, staging_path, request, tmp_path):
    harness = harnesses.create(make_spec(request, name, str(tmp_path)))
    files = tmp_path / "files"
    files.mkdir()
    try:
        assert _run_and_kill(harness, files, staging_path, "publishing") == "publishing\n"
        assert harness.committed() == ["a", "b", "c"]
        assert (files / "a.txt").read_bytes() == b"alpha" * 100000
        assert not (files / "b.txt").exists() and not (files / "c.txt").exists()
        # b.txt was named for its rename; c.txt, still unnamed, went with the process.
        staged = sorted(_staged(files))
        assert len(staged) == (2 if staging_path == "named" else 1)
        assert sweep_staged_files(files, older_than=0) == [str(files / name) for name in staged]
        assert os.listdir(files) == ["a.txt"]
    finally:
        harness.close()
