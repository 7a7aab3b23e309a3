"""The command line of fixes: --show-fixes prints a diff and writes nothing, --fix writes the safe
fixes, --unsafe-fixes adds the rest; exit codes stay the contract's; a file changed since it was
checked is not touched."""

import os

from txlint.linter import lint_source
from txlint.fixes.files import fix_files, stamps

ORDERS = '''\
from django.db import models


class Order(models.Model):
    total = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


def place_order(total):
    order = Order.objects.create(total=total)
    Invoice.objects.create(order=order)
    return order
'''

JOBS = '''\
import sqlite3


def backfill_prices(db_path, prices):
    conn = sqlite3.connect(db_path)
    for sku, price in prices.items():
        conn.execute("UPDATE stock SET price = ? WHERE sku = ?", (price, sku))
        conn.commit()
'''

PROJECT = {"pyproject.toml": '[tool.txlint]\nignore = ["TXL201"]\n', "app/__init__.py": "",
           "app/orders.py": ORDERS, "app/jobs.py": JOBS}


def test_show_fixes_prints_the_diff_and_writes_nothing(tree, txlint):
    root = tree(PROJECT)
    code, out, err = txlint("check", "--show-fixes", "--no-cache", ".", cwd=root)
    assert code == 1
    assert out.startswith("--- a/app/orders.py\n+++ b/app/orders.py\n")
    assert "-from django.db import models\n+from django.db import models, transaction\n" in out
    assert "+@transaction.atomic\n def place_order(total):\n" in out
    assert "conn.commit()" not in out  # unsafe: not without --unsafe-fixes
    assert "txlint: would fix 1 finding (1 safe, 0 unsafe) in 1 file; 1 more with --unsafe-fixes" in err
    assert (root / "app/orders.py").read_text() == ORDERS and (root / "app/jobs.py").read_text() == JOBS


def test_show_fixes_with_unsafe_fixes_shows_them_too(tree, txlint):
    root = tree(PROJECT)
    code, out, err = txlint("check", "--show-fixes", "--unsafe-fixes", "--no-cache", ".", cwd=root)
    assert code == 1
    assert "-        conn.commit()\n+    conn.commit()\n" in out
    assert "would fix 2 findings (1 safe, 1 unsafe) in 2 files" in err


def test_fix_writes_the_safe_fixes_and_reports_what_remains(tree, txlint):
    root = tree(PROJECT)
    code, out, err = txlint("check", "--fix", "--no-cache", ".", cwd=root)
    assert code == 1, err  # the unsafe one remains
    assert "app/jobs.py:8:9: TXL102" in out and "orders.py" not in out
    assert "txlint: fixed 1 finding (1 safe, 0 unsafe) in 1 file; 1 more with --unsafe-fixes" in err
    assert "@transaction.atomic\ndef place_order" in (root / "app/orders.py").read_text()
    assert (root / "app/jobs.py").read_text() == JOBS


def test_fix_with_unsafe_fixes_leaves_no_finding_and_exits_0(tree, txlint):
    root = tree(PROJECT)
    code, out, err = txlint("check", "--fix", "--unsafe-fixes", "--no-cache", ".", cwd=root)
    assert code == 0, out + err
    assert "fixed 2 findings (1 safe, 1 unsafe) in 2 files" in err
    assert (root / "app/jobs.py").read_text().endswith("(price, sku))\n    conn.commit()\n")
    again = txlint("check", "--fix", "--unsafe-fixes", "--no-cache", ".", cwd=root)
    assert again[0] == 0 and "fixed 0 findings" in again[2]


def test_fix_only_what_is_reported(tree, txlint):
    root = tree(PROJECT)
    code, _, err = txlint("check", "--fix", "--unsafe-fixes", "--no-cache", "app/jobs.py", cwd=root)
    assert code == 0, err
    assert (root / "app/orders.py").read_text() == ORDERS
    assert (root / "app/jobs.py").read_text() != JOBS


def test_fix_keeps_crlf_and_the_coding_cookie(tree, txlint):
    source = "# -*- coding: latin-1 -*-\n# Caf\xe9\n" + ORDERS
    root = tree({"pyproject.toml": "[tool.txlint]\n",
                 "app/orders.py": source.replace("\n", "\r\n").encode("latin-1")})
    code, _, err = txlint("check", "--fix", "--no-cache", ".", cwd=root)
    assert code == 0, err
    fixed = (root / "app/orders.py").read_bytes()
    assert fixed.startswith("# -*- coding: latin-1 -*-\r\n# Caf\xe9\r\n".encode("latin-1"))
    assert b"\r\n@transaction.atomic\r\ndef place_order(total):\r\n" in fixed
    assert b"\n" not in fixed.replace(b"\r\n", b"")


def test_fix_flags_that_do_not_go_together(tree, txlint):
    root = tree(PROJECT)
    for args, message in ((["--unsafe-fixes"], "--unsafe-fixes goes with --fix or --show-fixes"),
                          (["--fix", "--show-fixes"], "choose one"),
                          (["--fix", "--write-baseline", "b.json"], "--write-baseline records the findings")):
        code, out, err = txlint("check", *args, ".", cwd=root)
        assert code == 2 and message in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_a_file_changed_since_it_was_checked_is_not_touched(tree, monkeypatch):
    root = tree(PROJECT)
    monkeypatch.chdir(root)
    checked = stamps(["app/orders.py"])
    findings = lint_source(ORDERS, "app/orders.py")
    assert [finding.code for finding in findings] == ["TXL101"]
    with open("app/orders.py", "a", encoding="utf-8") as handle:
        handle.write("# edited in the editor meanwhile\n")
    edited = (root / "app/orders.py").read_bytes()
    run = fix_files(findings, checked, unsafe=True, write=True)
    assert run.applied == [] and run.files == []
    assert run.warnings == ["app/orders.py changed since it was checked; not fixed (run txlint again)"]
    assert (root / "app/orders.py").read_bytes() == edited


def test_a_fixed_file_keeps_its_permissions(tree, monkeypatch):
    root = tree(PROJECT)
    monkeypatch.chdir(root)
    os.chmod("app/orders.py", 0o640)
    run = fix_files(lint_source(ORDERS, "app/orders.py"), stamps(["app/orders.py"]), unsafe=False, write=True)
    assert [fix.code for fix in run.applied] == ["TXL101"]
    assert os.stat("app/orders.py").st_mode & 0o777 == 0o640
    assert not [name for name in os.listdir("app") if name.startswith(".txlint-fix-")]


def test_a_symbolic_link_is_not_fixed_through(tree, monkeypatch):
    root = tree(PROJECT)
    monkeypatch.chdir(root)
    os.rename("app/orders.py", "orders_target.py")
    os.symlink(os.path.abspath("orders_target.py"), "app/orders.py")
    run = fix_files(lint_source(ORDERS, "app/orders.py"), stamps(["app/orders.py"]), unsafe=True, write=True)
    assert run.applied == []
    assert run.warnings == ["app/orders.py is a symbolic link; not fixed (fix the file it points to)"]
    assert os.path.islink("app/orders.py") and (root / "orders_target.py").read_text() == ORDERS
