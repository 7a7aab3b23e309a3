"""Modules checked in several processes (txlint.check_workers) give what one process gives, and a
worker that dies or fails loses no module."""

import os
import time

import pytest

from txlint import check_workers
from txlint.check_workers import SharedWork, check_in_processes

pytestmark = pytest.mark.skipif(check_workers._fork_context() is None, reason="needs fork")


def test_every_module_is_checked_once_and_some_in_a_worker():
    parent = os.getpid()

    def check(index):
        time.sleep(0.005)  # long enough for the worker to start before the parent has taken them all
        return index * index, os.getpid() != parent

    results = check_in_processes(check, 40, jobs=2)
    assert sorted(results) == list(range(40))
    assert all(square == index * index for index, (square, _) in results.items())
    in_worker = sum(elsewhere for _, elsewhere in results.values())
    assert 0 < in_worker < 40  # the parent checks modules too


def test_a_worker_does_not_wait_for_the_parent_to_read_its_outcomes():
    """Outcomes larger than a pipe holds, while the parent checks a slow module of its own: the
    worker goes on checking (it sends them when no module is left) and checks all the others."""
    parent = os.getpid()

    def check(index):
        if os.getpid() == parent:
            time.sleep(0.5)
            return b""
        time.sleep(0.002)
        return b"x" * 100_000

    results = check_in_processes(check, 40, jobs=2)
    assert sorted(results) == list(range(40))
    assert sum(len(outcome) > 0 for outcome in results.values()) == 39


def test_one_process_or_a_few_modules_check_in_order_here():
    parent = os.getpid()
    seen = []

    def check(index):
        seen.append(index)
        return os.getpid()

    assert check_in_processes(check, 3, jobs=2) == {0: parent, 1: parent, 2: parent}
    assert check_in_processes(check, 5, jobs=1) == dict.fromkeys(range(5), parent)
    assert seen == [0, 1, 2, 0, 1, 2, 3, 4]


def test_a_worker_that_dies_leaves_its_modules_to_the_parent():
    parent = os.getpid()

    def check(index):
        if os.getpid() != parent:
            os._exit(1)  # as a worker killed for its memory would
        return index + 100

    assert check_in_processes(check, 12, jobs=3) == {index: index + 100 for index in range(12)}


def test_a_check_that_raises_in_a_worker_raises_in_the_parent_as_in_one_process():
    def check(index):
        if index == 7:
            raise RuntimeError("a bug in a rule's check")
        return index

    with pytest.raises(RuntimeError, match="a bug"):
        check_in_processes(check, 10, jobs=2)


class _Parts:
    """Shared work whose parts say where they were done; `joined` is what this process put together."""

    def __init__(self, fail_in_worker: bool = False):
        self.parent, self.fail_in_worker, self.joined = os.getpid(), fail_in_worker, None

    def part(self, number, parts):
        if self.fail_in_worker and os.getpid() != self.parent:
            raise RuntimeError("a bug in the shared work")
        return number, parts, os.getpid() == self.parent

    def join(self, parts):
        self.joined = tuple(parts)

    def check(self, index):
        time.sleep(0.005)
        return self.joined, os.getpid() != self.parent


def test_shared_work_is_done_in_parts_and_put_together_in_every_process_before_a_check():
    work = _Parts()
    results = check_in_processes(work.check, 40, jobs=2, shared=SharedWork(work.part, work.join))
    everything = ((0, 2, False), (1, 2, True))  # the worker's part first, the parent's last
    assert {joined for joined, _ in results.values()} == {everything}
    assert 0 < sum(elsewhere for _, elsewhere in results.values()) < 40


def test_a_part_that_fails_in_a_worker_is_done_by_the_parent():
    work = _Parts(fail_in_worker=True)
    results = check_in_processes(work.check, 12, jobs=2, shared=SharedWork(work.part, work.join))
    assert results == dict.fromkeys(range(12), (((0, 2, True), (1, 2, True)), False))


def test_without_workers_the_shared_work_is_one_part():
    work = _Parts()
    results = check_in_processes(work.check, 3, jobs=2, shared=SharedWork(work.part, work.join))
    assert results == dict.fromkeys(range(3), (((0, 1, True),), False))


def _shop(tmp_path):
    """A package of twelve views, each writing an order and (through a helper) its invoice."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(
        "from django.db import models\n\n\nclass Order(models.Model):\n    total = models.IntegerField()\n\n\n"
        "class Invoice(models.Model):\n    order = models.ForeignKey(Order, on_delete=models.CASCADE)\n")
    for number in range(12):
        (tmp_path / "shop" / f"views{number}.py").write_text(
            "from shop.models import Invoice, Order\n\n\n"
            f"def bill{number}(order):\n    Invoice.objects.create(order=order)\n\n\n"
            f"def settle{number}():\n    order = Order.objects.create(total=1)\n    bill{number}(order)\n")
    return sorted(tmp_path.rglob("*.py"))


def test_the_call_graph_put_together_from_parts_is_the_one_built_whole(tmp_path):
    from txlint.config import Config
    from txlint.discovery import display_path, module_name
    from txlint.parsing import facts_from_file
    from txlint.project import Project
    from txlint.source import load_source

    files = _shop(tmp_path)
    config = Config(root=str(tmp_path))

    def project():
        sources = [load_source(path, (display_path(path), *module_name(path, str(tmp_path)))) for path in files]
        return Project([facts_from_file(source).facts for source in sources], config)

    whole = project().call_graph()
    in_parts = project()
    in_parts.join_call_graph([in_parts.call_graph_part(number, 3) for number in range(3)])
    assert in_parts.call_graph() == whole and any(whole.calls.values())
    assert in_parts.callers() == project().callers()


def test_a_failure_building_a_part_of_the_call_graph_is_an_internal_error(tmp_path, monkeypatch):
    from txlint.config import Config
    from txlint.engine import check_files
    from txlint.linter import Linter
    from txlint.project import Project
    from txlint.rules import all_rules

    def fail(project, number, parts):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(Project, "call_graph_part", fail)
    run = check_files(_shop(tmp_path), Linter(Config(root=str(tmp_path)), all_rules()), jobs=2)
    assert run.findings == [] and len(run.internal_errors) == 1
    assert "internal error while resolving the project: RecursionError" in run.internal_errors[0]


def test_a_project_checked_in_two_processes_has_the_findings_of_one(tmp_path):
    from txlint.config import Config
    from txlint.engine import check_files
    from txlint.linter import Linter
    from txlint.rules import all_rules

    files = _shop(tmp_path)  # (an untracked run: the call graph is built in the two processes too)
    config = Config(root=str(tmp_path))
    one = check_files(files, Linter(config, all_rules()), jobs=1)
    two = check_files(files, Linter(config, all_rules()), jobs=2)
    assert len(one.findings) == 12 and {finding.code for finding in one.findings} == {"TXL101"}
    assert two.findings == one.findings and two.function_ranges == one.function_ranges
