"""A process killed with SIGKILL mid-transaction, on every backend: the database keeps none of
the block's rows and the directory none of its files, temporary ones included."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import harnesses
from conftest import backend_params, make_spec

KILL_SCRIPT = textwrap.dedent("""
    import json, os, signal, sys
    sys.path.insert(0, sys.argv[1])
    import harnesses
    from txlint.runtime import atomic

    spec, directory = json.loads(sys.argv[2]), sys.argv[3]
    harness = harnesses.attach(spec)
    with atomic(harness.target()) as transaction:
        harness.write(transaction, "a")
        transaction.stage_file(os.path.join(directory, "a.txt"), b"alpha" * 100000)
        with atomic(harness.target()) as inner:
            harness.write(inner, "b")
            inner.stage_file(os.path.join(directory, "b.txt"), b"beta")
        harness.write(transaction, "c")
        print("written", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.parametrize("name", backend_params())
def test_sigkill_mid_transaction(name, request, tmp_path):
    harness = harnesses.create(make_spec(request, name, str(tmp_path)))
    files = tmp_path / "files"
    files.mkdir()
    try:
        result = subprocess.run(
            [sys.executable, "-c", KILL_SCRIPT, os.path.dirname(__file__), json.dumps(harness.spec), str(files)],
            capture_output=True, text=True, timeout=60)
        assert result.returncode == -signal.SIGKILL, result.stderr
        assert result.stdout == "written\n"
        assert harness.committed() == []
        assert os.listdir(files) == []
    finally:
        harness.close()

