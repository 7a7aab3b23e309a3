"""Files that are not source: a run never hangs, never runs out of memory, never shows a traceback,
decodes as Python does, and fails (exit 2, never a hang) when a parse worker dies."""

import errno
import json
import os
import subprocess
import sys
import textwrap

import pytest

from examples import MULTI_TABLE
from txlint.config import Config
from txlint.discovery import discover
from txlint.linter import lint_source
from txlint.errors import UsageError

TIMEOUT = 120  # seconds: a hang fails the test instead of hanging CI
RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"


def _txlint(*args, cwd, stdin=subprocess.DEVNULL):
    completed = subprocess.run([sys.executable, "-m", "txlint", "check", "--no-cache", *args], cwd=cwd,
                               stdin=stdin, capture_output=True, text=True, timeout=TIMEOUT,
                               env={**os.environ, "NO_COLOR": "1"})
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed.returncode, completed.stdout, completed.stderr


def _by_path(out):
    return {finding["path"]: finding for finding in json.loads(out)["findings"]}


# Reading: only regular files, at most 10 MiB.

def test_a_fifo_in_the_tree_is_skipped_like_git_does(tree):
    root = tree({"app/good.py": MULTI_TABLE})
    os.mkfifo(root / "app" / "x.py")
    code, out, _ = _txlint("--format", "json", "--jobs", "2", ".", cwd=root)
    assert code == 1 and set(_by_path(out)) == {"app/good.py"}
    assert json.loads(out)["summary"]["files"] == 1


@pytest.mark.parametrize("name", ["x.py", "/dev/null"])
def test_a_fifo_or_device_named_is_a_usage_error(tree, name):
    root = tree({"app/good.py": MULTI_TABLE})
    os.mkfifo(root / "x.py")
    code, out, err = _txlint(name, cwd=root)
    assert (code, out) == (2, "")
    assert err == f"txlint: error: not a regular file or directory: {name}\n"


def test_a_link_to_dev_zero_is_a_parse_error_not_a_memory_error(tree):
    root = tree({"app/good.py": MULTI_TABLE})
    (root / "app" / "zero.py").symlink_to("/dev/zero")
    code, out, _ = _txlint("--format", "json", ".", cwd=root)
    found = _by_path(out)
    assert code == 1 and set(found) == {"app/good.py", "app/zero.py"}
    assert found["app/zero.py"]["code"] == "TXL000"
    assert found["app/zero.py"]["message"] == "cannot read: not a regular file (a character device)"


@pytest.mark.skipif(not os.path.exists("/proc/self/fd/0"), reason="needs /proc")
def test_a_link_to_standard_input_on_an_open_pipe_does_not_hang(tree):
    root = tree({"app/good.py": MULTI_TABLE})
    (root / "app" / "stdin.py").symlink_to("/proc/self/fd/0")
    with subprocess.Popen([sys.executable, "-m", "txlint", "check", "--no-cache", "--format", "json", "."],
                          cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        try:  # standard input stays open, with nothing written: reading it would wait forever
            process.wait(timeout=TIMEOUT)
        finally:
            process.kill()
        out = process.stdout.read()
        process.stdin.close()
    found = _by_path(out)
    assert found["app/stdin.py"]["message"] == "cannot read: not a regular file (a FIFO)"
    assert found["app/good.py"]["code"] == "TXL101"


def test_a_file_over_the_size_limit_is_a_parse_error(tree):
    root = tree({"app/good.py": MULTI_TABLE, "app/huge.py": "x = 1\n" * (11 * 1024 * 1024 // 6)})
    code, out, _ = _txlint("--format", "json", ".", cwd=root)
    found = _by_path(out)
    assert code == 1 and found["app/good.py"]["code"] == "TXL101"
    assert found["app/huge.py"]["message"] == "file too large to analyse (11.0 MiB > 10 MiB)"


def test_a_file_that_grows_after_its_size_was_taken_is_read_only_up_to_the_limit(tmp_path, monkeypatch):
    from txlint import source

    path = tmp_path / "growing.py"
    path.write_bytes(b"x = 1\n" * 1000)
    real_fstat = os.fstat

    def fstat_then_grow(descriptor):
        status = real_fstat(descriptor)
        with open(path, "ab") as handle:  # as a log another process appends to would
            handle.write(b"#" * (source.MAX_SOURCE_BYTES + 10))
        return status

    monkeypatch.setattr(os, "fstat", fstat_then_grow)
    data, problem = source.read_source_bytes(path)
    assert data is None and problem.startswith("file too large to analyse (")


def test_a_file_replaced_by_a_fifo_after_discovery_is_not_read(tmp_path, monkeypatch):
    from txlint import source

    path = tmp_path / "swapped.py"
    path.write_text("x = 1\n")
    real_stat = os.stat

    def stat_then_swap(target, *args, **kwargs):
        status = real_stat(target, *args, **kwargs)
        if os.fspath(target) == os.fspath(path):
            os.unlink(path)
            os.mkfifo(path)
        return status

    monkeypatch.setattr(os, "stat", stat_then_swap)
    assert source.read_source_bytes(path) == (None, "cannot read: not a regular file (a FIFO)")


# Paths named on the command line that cannot be read.

def _discover_in(root, names):
    previous = os.getcwd()
    os.chdir(root)
    try:
        return discover(names, Config(root=str(root)))
    finally:
        os.chdir(previous)


def test_an_unreadable_directory_named_is_an_error(tree, monkeypatch):
    root = tree({"secret/a.py": "x = 1\n"})
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(os.fspath(path)) == "secret":
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(UsageError, match=r"^cannot read directory secret: Permission denied$"):
        _discover_in(root, ["secret"])
    assert _discover_in(root, ["."]) == []  # below a directory named, it is skipped as os.walk does


def test_a_file_in_an_unreadable_directory_named_is_an_error(tree, monkeypatch):
    root = tree({"secret/a.py": "x = 1\n"})
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if os.fspath(path) == os.path.join("secret", "a.py"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    with pytest.raises(UsageError, match=r"^cannot read secret/a\.py: Permission denied$"):
        _discover_in(root, [os.path.join("secret", "a.py")])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any directory")
def test_unreadable_paths_named_on_the_command_line(tree):
    root = tree({"secret/a.py": "x = 1\n"})
    os.chmod(root / "secret", 0)
    try:
        assert _txlint("secret", cwd=root)[::2] == (2, "txlint: error: cannot read directory secret: "
                                                       "Permission denied\n")
        assert _txlint("secret/a.py", cwd=root)[::2] == (2, "txlint: error: cannot read secret/a.py: "
                                                            "Permission denied\n")
    finally:
        os.chmod(root / "secret", 0o755)


# A parse worker that dies.

def test_a_killed_parse_worker_fails_the_run_and_never_hangs(tree):
    # poison.py is the largest, so parsed first, by the worker that was given a second file too:
    # that file goes to the worker started in its place.
    root = tree({"app/good.py": MULTI_TABLE, "app/poison.py": "x = 1\n" + "# padding\n" * 1000,
                 "app/other.py": MULTI_TABLE})
    # The extraction is patched in this process only (the tree's code is never run); the forked
    # workers inherit the patch, and the one that parses poison.py dies as the OOM killer does it.
    script = textwrap.dedent("""
        import os, signal, sys
        from txlint import parsing
        from txlint.cli import main

        parse = parsing.facts_from_file

        def killed_on_poison(source):
            if source.shown.endswith("poison.py"):
                os.kill(os.getpid(), signal.SIGKILL)
            return parse(source)

        parsing.facts_from_file = killed_on_poison
        sys.exit(main(["check", "--no-cache", "--jobs", "2", "--format", "json", "."]))
    """)
    completed = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                               timeout=TIMEOUT)
    assert completed.returncode == 2
    assert completed.stderr == ("txlint: internal error while parsing app/poison.py: a parse worker died "
                                "(killed by signal 9, out of memory?)\n")
    found = _by_path(completed.stdout)
    assert found["app/good.py"]["code"] == found["app/other.py"]["code"] == "TXL101"


def test_when_no_worker_can_be_started_the_run_parses_the_files_itself(monkeypatch):
    from multiprocessing.process import BaseProcess

    from txlint import parsing
    from txlint.source import SourceFile

    def no_process(self):
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(BaseProcess, "start", no_process)
    sources = [SourceFile(f"app/m{index}.py", f"app.m{index}", False, f"x{index} = 1\n".encode())
               for index in range(3)]
    results = parsing.parse_all(sources, jobs=2, cache=None)
    assert [sorted(result.facts.functions) for result in results] == [["app.m0"], ["app.m1"], ["app.m2"]]


# Decoding exactly as Python does.

def _python_accepts(data: bytes) -> bool:
    try:
        compile(data, "module.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):  # (3.13.0 raises UnicodeDecodeError for some f-strings)
        return False
    return True


@pytest.mark.parametrize("data", [
    b"# coding: undefined\nx = 1\n",
    b"# coding: punycode\nx = 1\n",
    b"# coding: rot13\nx = 1\n",
    b"# coding: hex\nx = 1\n",
    b"# coding: utf-16\nx = 1\n",
    b"# coding: utf-16\nx = 12\n",
    b"# coding: utf-32\nx = 1\n",
    b"# coding: cp1252\nx = '\x81'\n",
    b"# coding: klingon\nx = 1\n",
    b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",
    b"\xef\xbb\xbf# coding: utf8\nx = 1\n",
    b"\xef\xbb\xbf# coding: utf-8\nx = 1\n",
    b"\xef\xbb\xbf# coding: UTF_8\nx = 1\n",
    b"\xef\xbb\xbf# coding: utf-8-sig\nx = 1\n",
    b"\xef\xbb\xbfx = 1  # caf\xe9\n",
    b"# coding: latin-1\nx = 'caf\xe9'\n",
    b"#!/usr/bin/env python\n# -*- coding: Latin_1 -*-\nx = 'caf\xe9'\n",
    b"\n# coding: latin-1\nx = 'caf\xe9'\n",
    b"x = 1\n# coding: latin-1\ny = 'caf\xe9'\n",  # too late: the first line is code
    b"\n\n# coding: latin-1\nx = 'caf\xe9'\n",  # too late: the third line
    b"x = 1  # coding: latin-1\ny = 'caf\xe9'\n",  # not a comment line
    b"# coding: latin-1\ry = 'caf\xe9'\r",
    b"# coding: utf-7\nx = '+AOk-'\n",
    b"# coding: unicode_escape\nx = 1\n",
    b"# coding: euc-jp\nx = '\xa4\xa2'\n",
    b"x = 1\n# caf\xe9\n",  # Python checks UTF-8 only in strings and names
    b"# coding: utf-8\n# caf\xe9\n",
    b"# coding: utf8\n# caf\xe9\n",  # but a codec other than its own UTF-8 decodes everything
    b"x = 'caf\xe9'\n",
    b"caf\xe9 = 1\n",
    b"x = b'caf\xe9'\n",
    b"x = f'{y}caf\xe9'\n",
    b"x = '''a\nb\xe9'''\n",
    b"x = '\xed\xa0\x80'\n",
    b"# \xed\xa0\x80\n",
])
def test_a_file_is_a_parse_error_exactly_when_python_rejects_it(data):
    findings = lint_source(data, "app/module.py")
    assert [finding.code for finding in findings if finding.code == "TXL000"] == (
        [] if _python_accepts(data) else ["TXL000"]), findings


@pytest.mark.parametrize("data, message, line", [
    (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "cannot decode: encoding problem: iso-8859-1 with BOM", 1),
    (b"\xef\xbb\xbf# coding: utf8\nx = 1\n", "cannot decode: encoding problem: utf8 with BOM", 1),
    (b"\xef\xbb\xbf#!/usr/bin/python\n# coding: latin-1\n", "cannot decode: encoding problem: iso-8859-1 with BOM", 2),
    (b"# coding: utf-16\nx = 1\n", "cannot decode as utf-16: truncated data (byte 0x0a)", 2),  # the last byte
])
def test_a_codec_python_refuses_is_a_parse_error(data, message, line):
    [finding] = lint_source(data, "app/module.py")
    assert (finding.code, finding.message, finding.line) == ("TXL000", message, line)


@pytest.mark.parametrize("codec", ["undefined", "rot13"])
def test_a_codec_python_refuses_gives_pythons_own_reason(codec):
    data = f"# coding: {codec}\nx = 1\n".encode()
    with pytest.raises(SyntaxError) as raised:
        compile(data, "app/module.py", "exec", dont_inherit=True)
    [finding] = lint_source(data, "app/module.py")
    assert finding.message == f"cannot decode as {codec}: {raised.value.msg}"


def test_punycode_is_refused_with_the_codecs_reason():
    [finding] = lint_source(b"# coding: punycode\nx = 1\n", "app/module.py")
    assert finding.message.startswith("cannot decode as punycode: ")
    assert "Invalid extended code point" in finding.message


def test_an_undecodable_byte_is_pointed_at_where_python_stops():
    # The byte in the comment is no error to Python; the one in the string is.
    [finding] = lint_source(b"# caf\xe9\nx = 1\nname = 'caf\xe9'\n", "app/module.py")
    assert (finding.line, finding.column) == (3, 12)
    assert finding.message == "cannot decode as utf-8: invalid continuation byte (byte 0xe9)"


def test_undecodable_bytes_in_comments_leave_suppressions_working():
    source = MULTI_TABLE.replace("\n", "  # txlint: ignore[TXL101] -- caf\udce9\n", 1)
    assert lint_source(source.encode("utf-8", "surrogateescape"), "app/module.py") != []
    findings = lint_source(b"# caf\xe9\n" + MULTI_TABLE.encode(), "app/module.py")
    assert [finding.code for finding in findings] == ["TXL101"]


# Newer syntax says which Python it needs.

NEWER = [
    ("type Vector = list[float]\n", (3, 12), "type aliases"),
    ("def first[T](items: list[T]) -> T:\n    return items[0]\n", (3, 12), "type parameter lists"),
    ("class Box[T]:\n    pass\n", (3, 12), "type parameter lists"),
    ("def first[T = int](items: list[T]) -> T:\n    return items[0]\n", (3, 13), "type parameter defaults"),
    ("row = {'id': 1}\nlabel = f\"{row[\"id\"]}\"\n", (3, 12), "f-strings with nested quotes, backslashes or comments"),
    ("label = f\"{'\\n'.join(['a'])}\"\n", (3, 12), "f-strings with nested quotes, backslashes or comments"),
    ("print(f'{' '.join(cmd)!r} failed '\n      f'with {code}')\n", (3, 12),  # reported at the last line
     "f-strings with nested quotes, backslashes or comments"),
    ("try:\n    pass\nexcept ValueError, TypeError:\n    pass\n", (3, 14),
     "except with several exceptions without parentheses"),
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", (3, 11), "except* for exception groups"),
    ("def f(x):\n    match x:\n        case [a, b]:\n            return a\n", (3, 10), "match statements"),
    ("name = 'x'\ngreeting = t\"hello {name}\"\n", (3, 14), "template strings"),
]


@pytest.mark.parametrize("source, version, feature", NEWER)
def test_newer_syntax_names_the_python_it_needs(source, version, feature):
    if sys.version_info[:2] >= version:
        pytest.skip(f"Python {RUNNING} parses {feature}")
    [finding] = lint_source(source, "app/module.py")
    needed = f"{version[0]}.{version[1]}"
    assert finding.message == (f"cannot parse with Python {RUNNING}: this looks like Python {needed} syntax "
                               f"({feature}); run txlint with Python {needed} or newer")


@pytest.mark.parametrize("source", [
    "try:\n    pass\nexcept ValueError, error:\n    pass\n",  # Python 2, not 3.14
    "label = f\"{}\"\n",
    "label = f'{row[\"id\"]'\n",
    "match x:\n    pass\n",
    "type = 1\ntype + \n",
    "print 'hello'\n",
])
def test_an_error_that_is_not_newer_syntax_keeps_pythons_message(source):
    with pytest.raises(SyntaxError) as raised:
        compile(source, "app/module.py", "exec", dont_inherit=True)
    [finding] = lint_source(source, "app/module.py")
    assert finding.message == f"cannot parse: {raised.value.msg}"
