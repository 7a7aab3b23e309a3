"""Files parsed in several processes (txlint.parsing.parse_all): this process parses the smallest
files itself, the workers the largest, and the facts are those one process gives."""

import gc
import os

import pytest

from txlint import check_workers, linter, parsing
from txlint.config import Config
from txlint.linter import Linter, keep_last_run_to_exit
from txlint.rules import all_rules
from txlint.source import SourceFile

pytestmark = pytest.mark.skipif(check_workers._fork_context() is None, reason="needs fork")


def _sources(count: int):
    """Modules of growing size: module i has i + 1 functions."""
    sources = []
    for index in range(count):
        body = "".join(f"def f{number}(a, b):\n    a.save()\n    b.save()\n\n\n" for number in range(index + 1))
        sources.append(SourceFile(f"app/m{index}.py", f"app.m{index}", False, body.encode()))
    return sources


def test_this_process_parses_the_smallest_files_and_the_facts_are_those_of_one_process(monkeypatch):
    parent, parsed_here = os.getpid(), []
    parse_here = parsing._parsed_here

    def recorded(source, cache):
        if os.getpid() == parent:
            parsed_here.append(source.shown)
        return parse_here(source, cache)

    monkeypatch.setattr(parsing, "_parsed_here", recorded)
    sources = _sources(30)
    in_parallel = parsing.parse_all(sources, jobs=2, cache=None)
    assert in_parallel == parsing.parse_all(sources, jobs=1, cache=None)
    assert [result.path for result in in_parallel] == [source.shown for source in sources]
    assert parsed_here and "app/m29.py" not in parsed_here  # the largest goes to the worker first
    smallest_left = sorted(parsed_here, key=lambda path: int(path[len("app/m"):-len(".py")]))
    assert smallest_left[0] == "app/m0.py"


def test_a_process_that_exits_at_once_keeps_the_last_run_alone(monkeypatch):
    monkeypatch.setattr(linter, "_last_run_kept", None)
    keep_last_run_to_exit()
    checker = Linter(Config(root="."), all_rules())
    try:
        first = checker.run(parsing.parse_all(_sources(2), jobs=1, cache=None))
        kept_first = linter._last_run_kept[0]
        second = checker.run(parsing.parse_all(_sources(3), jobs=1, cache=None))
        project, results = linter._last_run_kept
    finally:
        gc.unfreeze()
    assert (first.files, second.files) == (2, 3)
    assert project is not kept_first and [result.path for result in results] == ["app/m0.py", "app/m1.py", "app/m2.py"]
