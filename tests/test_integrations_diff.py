"""`--diff REV`: findings in the functions a change touched, and along their call chains."""

import os
import subprocess

from examples import MULTI_TABLE

HELPERS = '''\
from django.db import models, transaction


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


def record(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
    return order


@transaction.atomic
def place_order(total):
    return record(total)


def unrelated():
    return 1
'''


def _git(root, *args):
    environment = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=environment)


def _repository(tree, files):
    root = tree(files)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "initial")
    return root


def test_an_edit_anywhere_in_the_function_gates_its_hazard(txlint, tree):
    other = MULTI_TABLE.replace("place_order", "refund_order")
    root = _repository(tree, {"app/services.py": MULTI_TABLE, "app/refunds.py": other})
    assert txlint("check", "--diff", "HEAD", cwd=root)[0] == 0
    (root / "app" / "refunds.py").write_text(other.replace("def refund_order(total):",
                                                           "def refund_order(total):\n    total = int(total)"))
    code, out, _ = txlint("check", "--diff", "HEAD", cwd=root)
    assert code == 1 and "app/refunds.py:15:5: TXL101" in out and "app/services.py" not in out, out
    # Without --diff both are reported.
    assert txlint("check", cwd=root)[1].count("TXL101") == 2


def test_an_edit_to_a_caller_gates_the_helper_it_calls(txlint, tree):
    # record() writes two tables outside a transaction, but its only caller is atomic: no finding.
    root = _repository(tree, {"app/services.py": HELPERS})
    assert txlint("check", cwd=root)[0] == 0
    # Removing the caller's decorator (a deleted line) makes record() a finding, though record()
    # itself did not change.
    (root / "app" / "services.py").write_text(HELPERS.replace("@transaction.atomic\n", ""))
    code, out, _ = txlint("check", "--diff", "HEAD", cwd=root)
    assert code == 1 and "app/services.py:14:5: TXL101" in out, out


def test_an_edit_to_a_helper_gates_its_callers(txlint, tree):
    before = MULTI_TABLE.replace("    Invoice.objects.create(order=order)\n", "    make_invoice(order)\n") + (
        "\n\ndef make_invoice(order):\n    return order\n\n\ndef unrelated():\n    return 1\n")
    root = _repository(tree, {"app/services.py": before})
    assert txlint("check", cwd=root)[0] == 0
    # The helper starts writing a second table: its caller's hazard is new, though only the
    # helper changed.
    after = before.replace("def make_invoice(order):\n    return order\n",
                           "def make_invoice(order):\n    return Invoice.objects.create(order=order)\n")
    (root / "app" / "services.py").write_text(after)
    code, out, _ = txlint("check", "--diff", "HEAD", cwd=root)
    assert code == 1 and "app/services.py:14:5: TXL101" in out, out
    # With that committed, an edit to an unrelated function gates nothing.
    _git(root, "commit", "-qam", "helper")
    (root / "app" / "services.py").write_text(after.replace("return 1", "return 2"))
    assert txlint("check", cwd=root)[0] == 1
    assert txlint("check", "--diff", "HEAD", cwd=root)[0] == 0


def test_module_level_code_counts_by_line_and_new_files_count_whole(txlint, tree):
    script = ("from django.db import models\n\n\nclass Order(models.Model):\n    total = models.IntegerField()\n\n\n"
              "for order in Order.objects.all():\n    order.total = order.total * 100\n    order.save()\n")
    root = _repository(tree, {"script.py": script})
    (root / "script.py").write_text("import os\n" + script)  # the edit is not on the finding's lines
    assert txlint("check", "--diff", "HEAD", cwd=root)[0] == 0
    (root / "script.py").write_text(script.replace("order.save()", "order.save()  # every row"))
    assert txlint("check", "--diff", "HEAD", cwd=root)[0] == 1
    (root / "new.py").write_text(MULTI_TABLE)
    _, out, _ = txlint("check", "--diff", "HEAD", cwd=root)
    assert "new.py" in out


def test_diff_with_a_baseline_and_in_a_subdirectory(txlint, tree):
    root = _repository(tree, {"pkg/app/services.py": MULTI_TABLE, "pkg/app/other.py": MULTI_TABLE})
    txlint("check", "--write-baseline", "baseline.json", cwd=root / "pkg")
    (root / "pkg" / "app" / "other.py").write_text(MULTI_TABLE.replace("    return order", "    return None"))
    code, out, err = txlint("check", "--diff", "HEAD", cwd=root / "pkg")
    assert code == 1 and "app/other.py" in out and "app/services.py" not in out, out
    code, out, err = txlint("check", "--diff", "HEAD", "--baseline", "baseline.json", cwd=root / "pkg")
    assert code == 0 and "fixed" not in err, out + err


def test_a_bad_revision_or_no_repository_is_a_usage_error(txlint, tree):
    root = _repository(tree, {"app/services.py": MULTI_TABLE})
    code, out, err = txlint("check", "--diff", "no-such-revision", cwd=root)
    assert code == 2 and "Traceback" not in err and "--diff" in err and not out
    outside = tree({"elsewhere/x.py": "x = 1\n"}) / "elsewhere"
    _git(root, "rm", "-rq", "--cached", ".")
    os.rename(root / ".git", root / "not-git")
    code, _, err = txlint("check", "--diff", "HEAD", cwd=outside)
    assert code == 2 and "Traceback" not in err
