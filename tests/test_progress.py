"""A first run over a large project shows what it is doing on a terminal, and nothing elsewhere."""

import os
import pty
import subprocess
import sys

from helpers import write_tree

FILES = {f"app/module_{number:03}.py": f"VALUE = {number}\n" for number in range(250)}


def _run_with_stderr(root, stderr):
    return subprocess.run([sys.executable, "-m", "txlint", "check", "--jobs", "2", "."], cwd=root,
                          stdout=subprocess.PIPE, stderr=stderr, env={**os.environ, "NO_COLOR": "1"}, timeout=120)


def test_progress_is_shown_on_a_terminal_and_erased(tmp_path):
    root = write_tree(tmp_path, FILES)
    controller, terminal = pty.openpty()
    try:
        completed = _run_with_stderr(root, terminal)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end is closed: all is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert completed.returncode == 0
    text = shown.decode()
    assert "txlint: parsed 250/250 files" in text
    assert "resolving the project" in text
    assert text.endswith("\r\x1b[K")  # the line is erased: the report is what stays
    assert completed.stdout.decode().strip() == "0 findings in 250 files checked"


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    root = write_tree(tmp_path, FILES)
    completed = _run_with_stderr(root, subprocess.PIPE)
    assert completed.returncode == 0 and completed.stderr == b""


def test_no_progress_for_a_small_run(tmp_path):
    root = write_tree(tmp_path, dict(list(FILES.items())[:20]))
    controller, terminal = pty.openpty()
    completed = _run_with_stderr(root, terminal)
    os.close(terminal)
    os.set_blocking(controller, False)
    try:
        shown = os.read(controller, 65536)
    except OSError:
        shown = b""
    os.close(controller)
    assert completed.returncode == 0 and b"parsed" not in shown
