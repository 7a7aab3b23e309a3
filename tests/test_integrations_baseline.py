"""Baselines: today's findings recorded, only new ones reported, robust to edits around them."""

import json

from examples import MULTI_TABLE

LOOP = """

def backfill():
    for order in Order.objects.all():
        order.save()
"""


def _entries(root, name="baseline.json"):
    return json.loads((root / name).read_text())["entries"]


def test_baseline_survives_edits_above_and_around_the_findings(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE + LOOP})
    code, _, err = txlint("check", "--write-baseline", "baseline.json", cwd=root)
    assert code == 0 and "wrote 2 findings" in err
    assert {entry["code"] for entry in _entries(root)} == {"TXL101", "TXL102"}
    assert txlint("check", "--baseline", "baseline.json", cwd=root)[0] == 0
    # Lines added above, code added around the reported calls, the calls reformatted over several
    # lines with a trailing comma, a comment on the reported line, the assigned name changed.
    edited = ("import logging\n\nlog = logging.getLogger(__name__)\n\n\n" + MULTI_TABLE + LOOP).replace(
        "    Invoice.objects.create(order=order)",
        "    log.info('placing')\n    Invoice.objects.create(\n        order=order,\n    )  # the invoice\n"
        "    log.info('placed')",
    ).replace("        order.save()", "        log.debug(order)\n        order.save(  )  # per row")
    (root / "app" / "services.py").write_text(edited)
    code, out, err = txlint("check", "--baseline", "baseline.json", cwd=root)
    assert code == 0, out + err
    assert "fixed" not in err


def test_a_new_finding_beside_a_baselined_one_is_reported(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE + LOOP})
    txlint("check", "--write-baseline", "baseline.json", cwd=root)
    # A second loop in the same function is the same unit of work: TXL102 reports a function once,
    # so its baselined finding still covers it.
    second = LOOP.replace("        order.save()\n", "        order.save()\n    for order in Order.objects.all():\n"
                                                   "        order.save()\n")
    (root / "app" / "services.py").write_text(MULTI_TABLE + second)
    code, out, err = txlint("check", "--baseline", "baseline.json", cwd=root)
    assert code == 0 and "TXL102" not in out, out
    assert "txlint: 2 findings in the baseline baseline.json not reported\n" in err  # said, not silently hidden
    # A new function with the same hazard elsewhere in the file: new.
    source = MULTI_TABLE + LOOP + LOOP.replace("backfill", "backfill_again")
    (root / "app" / "services.py").write_text(source)
    code, out, _ = txlint("check", "--baseline", "baseline.json", cwd=root)
    assert code == 1 and out.count("TXL102") == 1 and f":{_last_save(source)}:9: TXL102" in out, out


def _last_save(source: str) -> int:
    return max(number for number, line in enumerate(source.splitlines(), 1) if "order.save()" in line)


def test_fixed_findings_are_reported_and_the_baseline_shrinks(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE + LOOP, "app/other.py": MULTI_TABLE})
    txlint("check", "--write-baseline", "baseline.json", cwd=root)
    assert len(_entries(root)) == 3
    (root / "app" / "services.py").write_text(MULTI_TABLE)
    code, _, err = txlint("check", "--baseline", "baseline.json", cwd=root)
    assert code == 0 and "1 baselined finding is fixed" in err and "--write-baseline baseline.json" in err
    txlint("check", "--write-baseline", "baseline.json", cwd=root)
    assert len(_entries(root)) == 2


def test_a_partial_run_keeps_other_files_entries(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE, "app/other.py": MULTI_TABLE})
    txlint("check", "--write-baseline", "baseline.json", cwd=root)
    code, _, err = txlint("check", "--baseline", "baseline.json", "app/other.py", cwd=root)
    assert code == 0 and "fixed" not in err  # app/services.py was not checked: nothing is "fixed"
    txlint("check", "--write-baseline", "baseline.json", "app/other.py", cwd=root)
    assert sorted(entry["path"] for entry in _entries(root)) == ["app/other.py", "app/services.py"]
    (root / "app" / "services.py").unlink()  # a deleted file's entries go
    txlint("check", "--write-baseline", "baseline.json", "app/other.py", cwd=root)
    assert [entry["path"] for entry in _entries(root)] == ["app/other.py"]


def test_the_baseline_matches_from_another_directory(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE})
    txlint("check", "--write-baseline", "baseline.json", cwd=root)
    assert _entries(root)[0]["path"] == "app/services.py"
    code, out, err = txlint("check", "--baseline", "../baseline.json", ".", cwd=root / "app")
    assert code == 0 and "fixed" not in err, out + err


def test_bad_baseline_is_a_usage_error(txlint, tree):
    root = tree({"app/services.py": MULTI_TABLE, "broken.json": "{not json", "other.json": '{"entries": []}'})
    for name in ("missing.json", "broken.json", "other.json"):
        code, out, err = txlint("check", "--baseline", name, cwd=root)
        assert code == 2 and "Traceback" not in err and "--baseline" in err and not out
