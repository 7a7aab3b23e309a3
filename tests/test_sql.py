"""The SQL classifier: what writes, to which table, and what must not be mistaken for a write."""

import pytest
from hypothesis import given, settings, strategies as st

from txlint.sql import PLACEHOLDER, classify_sql, sql_writes, written_tables


@pytest.mark.parametrize("sql, tables", [
    ("-- c\n/* x */ UPDATE public.t SET a=1", ("public.t",)),
    ("# mysql\nREPLACE INTO `t` VALUES (1)", ("t",)),
    ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", ("t",)),
    ("WITH d AS (DELETE FROM t WHERE a RETURNING *) SELECT count(*) FROM d", ("t",)),
    ("SELECT * INTO newt FROM t", ("newt",)),
    ("UPSERT INTO t VALUES (1)", ("t",)),
    ("COPY t (a,b) FROM STDIN", ("t",)),
    ("BEGIN; UPDATE t SET a=1; COMMIT;", ("t",)),
    ("DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a", ("t1",)),
    ("EXPLAIN ANALYZE DELETE FROM t", ("t",)),
    ("insert into users (name) values (%s)", ("users",)),
    ("INSERT OR IGNORE INTO tags VALUES (?)", ("tags",)),
    ("CREATE TABLE IF NOT EXISTS audit (id int)", ("audit",)),
    ("ALTER TABLE orders ADD COLUMN note text", ("orders",)),
    ('UPDATE "Order Lines" SET qty = 0', ("Order Lines",)),
    (f"UPDATE {PLACEHOLDER} SET done = true", ("?",)),
    ("MERGE INTO stock USING delta ON stock.id = delta.id WHEN MATCHED THEN UPDATE SET n = 1", ("stock",)),
    ("TRUNCATE TABLE sessions", ("sessions",)),
])
def test_writes_and_their_tables(sql, tables):
    assert sql_writes(sql)
    assert written_tables(sql) == tables


@pytest.mark.parametrize("sql", [
    "SELECT * FROM t",
    "SELECT 'insert into x' FROM t",
    "/* UPDATE t SET a = 1 */ SELECT 1",
    "SELECT '--' || name FROM t",
    "COPY t TO STDOUT",
    "SELECT * FROM t FOR UPDATE SKIP LOCKED",
    "SELECT a INTO @v FROM t",
    "EXPLAIN DELETE FROM t",
    "PRAGMA table_info(t)",
    "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT sp1",
    "update the record", "delete this file", "create a user", "insert coin", "Update failed for %s",
    "drop me a line", "", "   ",
])
def test_reads_transaction_control_and_prose_do_not_write(sql):
    assert not sql_writes(sql)


@pytest.mark.parametrize("sql, kinds", [
    ("SELECT * FROM t FOR UPDATE", ["lock"]),
    ("BEGIN; UPDATE t SET a=1; COMMIT;", ["txctl", "write", "txctl"]),
    ("CALL refresh_totals()", ["opaque"]),
    ("PRAGMA foreign_keys = ON", ["opaque"]),
    ("VACUUM", ["maintenance"]),
    ("REFRESH MATERIALIZED VIEW totals", ["maintenance"]),
    ("DROP INDEX idx_orders", ["ddl"]),
    ("SHOW TABLES", ["read"]),
])
def test_statement_kinds(sql, kinds):
    assert [statement.kind for statement in classify_sql(sql)] == kinds


def test_commit_statements_are_marked():
    assert [s.commits for s in classify_sql("UPDATE t SET a = 1; COMMIT")] == [False, True]
    assert not any(s.commits for s in classify_sql("ROLLBACK"))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises(text):
    classify_sql(text)
    written_tables(text)
