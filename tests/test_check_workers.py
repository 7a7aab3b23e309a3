"""Modules checked in several processes (txlint.check_workers) give what one process gives, and a
worker that dies or fails loses no module."""

import os
import time

import pytest

from txlint import check_workers
from txlint.check_workers import check_in_processes

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


def test_a_project_checked_in_two_processes_has_the_findings_of_one(tmp_path):
    from txlint.config import Config
    from txlint.engine import check_files
    from txlint.linter import Linter
    from txlint.rules import all_rules

    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(
        "from django.db import models\n\n\nclass Order(models.Model):\n    total = models.IntegerField()\n\n\n"
        "class Invoice(models.Model):\n    order = models.ForeignKey(Order, on_delete=models.CASCADE)\n")
    for number in range(12):  # an order and its invoice in each, the invoice written by a helper
        (tmp_path / "shop" / f"views{number}.py").write_text(
            "from shop.models import Invoice, Order\n\n\n"
            f"def bill{number}(order):\n    Invoice.objects.create(order=order)\n\n\n"
            f"def settle{number}():\n    order = Order.objects.create(total=1)\n    bill{number}(order)\n")
    files = sorted(tmp_path.rglob("*.py"))
    config = Config(root=str(tmp_path))
    one = check_files(files, Linter(config, all_rules()), jobs=1)
    two = check_files(files, Linter(config, all_rules()), jobs=2)
    assert len(one.findings) == 12 and {finding.code for finding in one.findings} == {"TXL101"}
    assert two.findings == one.findings and two.function_ranges == one.function_ranges
