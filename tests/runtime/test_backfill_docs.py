"""docs/backfill.md is a test: seed 003's backfill, as the page writes it (its schema, its module,
its commands), is run on a legacy database with duplicates, invalid rows and a part that cannot
be migrated; the page's sample report is that run's report."""

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys

import pytest

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "backfill.md")

LEGACY = """
INSERT INTO parts VALUES (1, 'u1', 'Critic', 'manager', 'active', NULL, '12', 'protector', '2025-01-01');
INSERT INTO parts VALUES (2, 'u1', 'Exile', 'exile', 'active', 'negative', '7', NULL, '2025-01-02');
INSERT INTO parts VALUES (3, 'u2', 'Manager', 'manager', 'active', NULL, NULL, NULL, '2025-01-03');
INSERT INTO parts VALUES (4, 'u1', NULL, 'manager', 'active', NULL, NULL, NULL, '2025-01-04');
INSERT INTO parts VALUES (5, 'u1', 'Critic', 'manager', 'dormant', NULL, NULL, NULL, '2025-01-05');
INSERT INTO parts_v2 (legacy_id, user_id, name, charge, data) VALUES (NULL, 'u1', 'Firefighter', 'neutral', '{}');
INSERT INTO sessions VALUES (1, 'u1', '2025-10-01T10:00', '2025-10-01T11:00', 'first', NULL, 60);
INSERT INTO sessions VALUES (2, 'u1', '2025-10-01T10:00', NULL, 'the same session again', 'therapy', 60);
INSERT INTO sessions VALUES (3, 'u2', NULL, NULL, 'never started', NULL, NULL);
INSERT INTO sessions VALUES (4, 'u2', '2025-10-02T09:00', NULL, NULL, 'check-in', 15);
INSERT INTO part_relationships VALUES (1, 'u1', 'polarized', '[1, 2]');
INSERT INTO part_relationships VALUES (2, 'u1', 'polarized', '[2, 1]');
INSERT INTO part_relationships VALUES (3, 'u1', 'allied', '[1, 4]');
INSERT INTO part_relationships VALUES (4, 'u2', 'friends', '[3, 3]');
"""


def _blocks(language):
    text = open(DOC, encoding="utf-8").read()
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "scripts").mkdir()
    (schema,) = _blocks("sql")
    module = next(block for block in _blocks("python") if "Seed 003" in block)
    (tmp_path / "scripts" / "backfill_prd_schema.py").write_text(module)
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as setup:
        setup.executescript(schema + LEGACY)
    return tmp_path


def _rows(project, statement):
    with sqlite3.connect(project / "app.db") as reader:
        return reader.execute(statement).fetchall()


def _run(project, command):
    """One of the page's commands, with this Python; the report it wrote."""
    arguments = shlex.split(command.split("#")[0])
    assert arguments[:3] == ["python", "-m", "txlint.runtime.backfill"], command
    result = subprocess.run([sys.executable, *arguments[1:]], cwd=project, capture_output=True, text=True,
                            env={**os.environ, "APP_DATABASE": str(project / "app.db")}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _report(output):
    (path,) = re.findall(r"^report: (.*)$", output, re.M)
    return json.loads(open(path).read())


def test_seed_003_backfill_as_the_docs_write_it(project):
    run_commands, rollback_commands = [block.strip().splitlines() for block in _blocks("sh")[1:]]
    dry = _report(_run(project, run_commands[0]))
    assert dry["mode"] == "dry-run" and dry["written"] == 3
    assert _rows(project, "SELECT COUNT(*) FROM parts_v2") == [(1,)]  # the dry run wrote nothing

    parts = _report(_run(project, run_commands[1]))
    sample = json.loads(_blocks("json")[0])
    varying = ("run_id", "started_at", "finished_at", "timings")
    assert {field: value for field, value in parts.items() if field not in varying} == {
        field: value for field, value in sample.items() if field not in varying}  # the page's sample is this run's
    assert sample.keys() == parts.keys()
    sessions = _report(_run(project, run_commands[2]))
    assert (sessions["written"], sessions["duplicates"], sessions["invalid"]["reasons"]) == (
        2, 1, {"a session needs a user and a start time": 1})
    relationships = _report(_run(project, run_commands[3]))
    assert relationships["written"] == 1 and relationships["duplicates"] == 1
    assert relationships["invalid"]["reasons"] == {
        "a related part was not migrated": 1, "unknown relationship type friends": 1}
    assert _rows(project, "SELECT a.legacy_id, b.legacy_id, r.type FROM part_relationships_v2 r "
                          "JOIN parts_v2 a ON a.id = r.part_a_id JOIN parts_v2 b ON b.id = r.part_b_id") == [
        (1, 2, "conflicts")]
    assert _rows(project, "SELECT legacy_id, charge FROM parts_v2 ORDER BY id") == [
        (None, "neutral"), (1, "neutral"), (2, "negative"), (3, "neutral")]

    again = _report(_run(project, run_commands[1] + " --restart"))
    assert again["written"] == 0 and again["duplicates"] == 4  # a re-run writes nothing

    for command, report in zip(rollback_commands, (relationships, parts)):
        _run(project, command.replace("RUN_ID", report["run_id"]))
    assert _rows(project, "SELECT COUNT(*) FROM part_relationships_v2") == [(0,)]
    assert _rows(project, "SELECT legacy_id, name FROM parts_v2") == [(None, "Firefighter")]  # as before
    assert len(_rows(project, "SELECT * FROM sessions_v2")) == 2  # not rolled back
