"""Tests of bench/ecosystem/run.py on small synthetic data: nothing is downloaded, txlint is not run."""

import importlib.util
import json
from pathlib import Path

import pytest

# Loaded from its path: the name `run` would otherwise clash with bench/run.py.
_spec = importlib.util.spec_from_file_location("ecosystem_run", Path(__file__).with_name("run.py"))
eco = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eco)

JUDGMENTS_HEADER = "version\tpath\tfunction\tcode\tverdict\treason\n"
HAZARDS_HEADER = "version\tpath\tfunction\tcategory\tline\treason\n"


def finding(code, path, line, function, message="m"):
    return {"code": code, "path": path, "line": line, "function": function, "message": message}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_score_counts_each_finding_by_its_judgment_and_ignores_other_versions(tmp_path):
    judgments = eco.load_judgments(write(tmp_path / "app.tsv", JUDGMENTS_HEADER + (
        "# a comment\n"
        "1.0\tapp/views.py\tapp.views.create\tTXL101\tright\tan order without its audit row\n"
        "1.0\tapp/jobs.py\tapp.jobs.backfill\tTXL102\twrong\tidempotent, re-run on failure\n"
        "0.9\tapp/cli.py\tapp.cli.main\tTXL103\tright\tjudged on the old release\n")))
    findings = [finding("TXL101", "app/views.py", 10, "app.views.create"),
                finding("TXL101", "app/views.py", 12, "app.views.create"),  # same key: judged too
                finding("TXL102", "app/jobs.py", 5, "app.jobs.backfill"),
                finding("TXL103", "app/cli.py", 7, "app.cli.main")]
    figures = eco.score("1.0", findings, judgments, [])
    assert (figures["findings"], figures["right"], figures["wrong"], figures["unjudged"]) == (4, 2, 1, 1)
    assert eco.ratio(figures["right"], figures["right"] + figures["wrong"]) == "0.67"
    assert eco.ratio(0, 0) == "-"


def test_a_hazard_is_found_only_by_a_code_of_its_category_in_its_function(tmp_path):
    hazards = eco.load_hazards(write(tmp_path / "app.tsv", HAZARDS_HEADER + (
        "1.0\tapp/views.py\tapp.views.create\tmulti-table\t10\torder and audit row\n"
        "1.0\tapp/db.py\tapp.db.purge\traw-sql-write\t3\tDELETE through a cursor\n"
        "1.0\tapp/jobs.py\tapp.jobs.backfill\tloop\t20\tcommit per row\n"
        "1.0\tapp/files.py\tapp.files.upload\tfile-and-row\t8\tfile written before the row\n")))
    findings = [finding("TXL101", "app/views.py", 10, "app.views.create"),
                finding("TXL202", "app/db.py", 3, "app.db.purge"),  # either raw-sql code counts
                finding("TXL103", "app/jobs.py", 20, "app.jobs.backfill"),  # wrong category
                finding("TXL301", "app/files.py", 8, "app.files.other")]  # wrong function
    figures = eco.score("1.0", findings, {}, hazards)
    assert (figures["hazards"], figures["found"]) == (4, 2)
    assert figures["by_category"]["multi-table"] == {"hazards": 1, "found": 1}
    assert figures["by_category"]["raw-sql-write"] == {"hazards": 1, "found": 1}
    assert figures["by_category"]["loop"] == {"hazards": 1, "found": 0}
    assert sorted(h["function"] for h in figures["missed"]) == ["app.files.upload", "app.jobs.backfill"]


@pytest.mark.parametrize("header, row, message", [
    (JUDGMENTS_HEADER, "1.0\ta.py\ta.f\tTXL101\tmaybe\twhy\n", "unknown verdict 'maybe'"),
    (JUDGMENTS_HEADER, "1.0\ta.py\ta.f\tTXL101\tright\n", "5 tab-separated columns, expected 6"),
    (JUDGMENTS_HEADER, "1.0\ta.py\ta.f\tTXL101\tright\t \n", "empty reason"),
    (JUDGMENTS_HEADER, "1.0\ta.py\ta.f\tTXL101\tright\twhy\n1.0\ta.py\ta.f\tTXL101\twrong\tno\n",
     "a second judgment of a.py a.f TXL101 at 1.0"),
    (HAZARDS_HEADER, "1.0\ta.py\ta.f\tdeadlock\t3\twhy\n", "unknown category 'deadlock'"),
    (HAZARDS_HEADER, "1.0\ta.py\ta.f\tloop\tthree\twhy\n", "line 'three' is not a line number"),
    (HAZARDS_HEADER, "1.0\ta.py\ta.f\tloop\t3\twhy\n1.0\ta.py\ta.f\tloop\t9\tagain\n",
     "a second loop hazard in a.py a.f at 1.0"),
])
def test_a_malformed_row_is_an_error_naming_file_and_line(tmp_path, header, row, message):
    path = write(tmp_path / "app.tsv", "# comment\n" + header + row)
    load = eco.load_judgments if header == JUDGMENTS_HEADER else eco.load_hazards
    with pytest.raises(eco.TableError) as raised:
        load(path)
    line = 3 if row.count("\n") == 1 else 4
    assert str(raised.value).startswith(f"{path}:{line}: {message}")


def test_a_wrong_header_or_an_unknown_application_is_an_error(tmp_path):
    with pytest.raises(eco.TableError, match=r"app.tsv:1: the header must be"):
        eco.load_judgments(write(tmp_path / "app.tsv", "path\tverdict\n"))
    (tmp_path / "judgments").mkdir()
    (tmp_path / "hazards").mkdir()
    write(tmp_path / "judgments" / "no-such-app.tsv", JUDGMENTS_HEADER)
    with pytest.raises(eco.TableError, match="no application 'no-such-app'"):
        eco.load_tables(tmp_path / "judgments", tmp_path / "hazards")


def test_main_exits_2_with_one_line_on_a_bad_file(tmp_path, capsys):
    (tmp_path / "hazards").mkdir()
    (tmp_path / "judgments").mkdir()
    write(tmp_path / "judgments" / "wagtail.tsv", JUDGMENTS_HEADER + "8.0.1\ta.py\ta.f\tTXL101\tok\twhy\n")
    code = eco.main(["--judgments-dir", str(tmp_path / "judgments"), "--hazards-dir", str(tmp_path / "hazards")])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and "wagtail.tsv:2: unknown verdict 'ok'" in error
    assert eco.main(["--app", "no-such-app"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_the_diff_lists_added_and_removed_findings_with_their_verdicts(tmp_path, capsys):
    previous = [finding("TXL101", "app/views.py", 10, "app.views.create"),
                finding("TXL102", "app/jobs.py", 5, "app.jobs.backfill"),
                finding("TXL102", "app/jobs.py", 5, "app.jobs.backfill")]
    current = [finding("TXL101", "app/views.py", 10, "app.views.create", message="reworded"),
               finding("TXL102", "app/jobs.py", 5, "app.jobs.backfill"),
               finding("TXL103", "app/cli.py", 7, "app.cli.main")]
    added, removed = eco.diff_findings(previous, current)
    assert [f["code"] for f in added] == ["TXL103"]  # a reworded message is not a new finding
    assert [f["code"] for f in removed] == ["TXL102"]  # one of the two identical findings went
    judgments = {("1.0", "app/jobs.py", "app.jobs.backfill", "TXL102"): "wrong"}
    line = eco.format_diff_line("-", removed[0], eco.verdict_of(removed[0], "1.0", judgments))
    assert line == "  - TXL102 app/jobs.py:5 app.jobs.backfill  [judged wrong]"
    assert eco.format_diff_line("+", added[0], None) == "  + TXL103 app/cli.py:7 app.cli.main"


def test_the_snapshot_is_sorted_one_finding_per_line_and_reads_back(tmp_path):
    entry = eco.snapshot_entry("1.0", [
        dict(finding("TXL103", "b.py", 2, "b.g"), name="split-commit", column=1),
        finding("TXL101", "a.py", 9, "a.f")])
    path = tmp_path / "snapshot.json"
    eco.write_snapshot(path, {"zeta": eco.snapshot_entry("2.0", []), "alpha": entry})
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"alpha": entry, "zeta": {"version": "2.0", "findings": []}}
    assert text.splitlines()[2] == "    " + json.dumps(finding("TXL101", "a.py", 9, "a.f")) + ","
    assert "column" not in text and text.index('"alpha"') < text.index('"zeta"')


def test_precision_by_code_counts_every_app_finding_under_its_code():
    judgments = {"shop": {("1.0", "a.py", "a.f", "TXL101"): "right", ("1.0", "a.py", "a.g", "TXL501"): "wrong"},
                 "blog": {("2.0", "b.py", "b.h", "TXL501"): "right"}}
    results = {"shop": {"version": "1.0", "findings": [finding("TXL101", "a.py", 1, "a.f"),
                                                       finding("TXL501", "a.py", 2, "a.g"),
                                                       finding("TXL501", "a.py", 3, "a.unjudged")]},
               "blog": {"version": "2.0", "findings": [finding("TXL501", "b.py", 4, "b.h")]},
               "broken": {"version": "3.0", "error": "download failed"}}
    judgments["broken"] = {}
    totals = eco.precision_by_code(results, judgments)
    assert list(totals) == ["TXL101", "TXL501"]
    assert dict(totals["TXL501"]) == {"findings": 3, "wrong": 1, "unjudged": 1, "right": 1}
    assert dict(totals["TXL101"]) == {"findings": 1, "right": 1}
