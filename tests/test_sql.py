"""The SQL classifier: what writes, to which table, and what must not be mistaken for a write.

Each table row is one SQL string and what `classify_sql` finds in it, written as `kind table...`
per statement (`"write t"`, `"read"`, `"txctl commits"`).
"""

import time

import pytest
from hypothesis import given, settings, strategies as st

from txlint.sql import KINDS, PLACEHOLDER, SqlStatement, WRITE_KINDS, classify_sql, sql_writes, written_tables

P = PLACEHOLDER


def summary(sql):
    """`classify_sql(sql)` as short strings: "write public.t", "txctl commits", "read"."""
    return [" ".join([statement.kind, *statement.tables, *(["commits"] if statement.commits else [])])
            for statement in classify_sql(sql)]


# frameworks.md section 5, "Test results vs. off-the-shelf parsers": every row.
REFERENCE_TABLE = [
    ("-- c\n/* x */ UPDATE public.t SET a=1", ["write public.t"]),
    ("# mysql\nREPLACE INTO `t` VALUES (1)", ["write t"]),
    ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", ["write t"]),
    ("WITH d AS (DELETE FROM t WHERE a < 1 RETURNING *) SELECT count(*) FROM d", ["read", "write t"]),
    ("SELECT * INTO newt FROM t", ["write newt"]),
    ("SELECT * FROM t FOR UPDATE SKIP LOCKED", ["lock"]),
    ("UPSERT INTO t VALUES (1)", ["write t"]),
    ("COPY t (a,b) FROM STDIN", ["bulk t"]),
    ("COPY t TO STDOUT", ["read"]),
    ("BEGIN; UPDATE t SET a=1; COMMIT;", ["txctl", "write t", "txctl commits"]),
    ("DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id", ["write t1"]),
    ("EXPLAIN ANALYZE DELETE FROM t", ["read", "write t"]),
    ("SELECT 'insert into x' FROM t", ["read"]),
    ("CALL proc()", ["opaque"]),
]

# One or more rows for every keyword of the kind map, in its order.
KIND_MAP = [
    # write: DML
    ("INSERT INTO t (a, b) VALUES (%s, %s)", ["write t"]),
    ("insert into users (name) values (?)", ["write users"]),
    ("INSERT t VALUES (1)", ["write t"]),
    ("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", ["write kv"]),
    ("INSERT OR IGNORE INTO tags VALUES (?)", ["write tags"]),
    ("INSERT IGNORE INTO tags SET name = %s", ["write tags"]),
    ("INSERT LOW_PRIORITY INTO log VALUES (1)", ["write log"]),
    ("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a", ["write t"]),
    ("INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = a + 1", ["write t"]),
    ("INSERT INTO t (a, b) VALUES %s", ["write t"]),  # psycopg2 execute_values
    ("INSERT INTO t AS o (a) VALUES (1)", ["write t"]),
    ("INSERT INTO t DEFAULT VALUES", ["write t"]),
    ("INSERT INTO archive SELECT * FROM orders", ["write archive"]),
    ("INSERT INTO archive (SELECT * FROM orders)", ["write archive"]),
    ("UPDATE t SET a = 1 WHERE id = %s", ["write t"]),
    ("UPDATE ONLY t SET a = 1", ["write t"]),
    ("UPDATE LOW_PRIORITY IGNORE t SET a = 1", ["write t"]),
    ("UPDATE OR REPLACE t SET a = 1", ["write t"]),
    ("UPDATE t AS o SET a = 1 FROM u WHERE o.id = u.id", ["write t"]),
    ("UPDATE t SET (a, b) = (1, 2)", ["write t"]),
    ("UPDATE t1 JOIN t2 ON t1.a = t2.a SET t1.b = 1", ["write t1"]),
    ("UPDATE t1, t2 SET t1.a = t2.a WHERE t1.id = t2.id", ["write t1"]),
    ("DELETE FROM t WHERE id = %s", ["write t"]),
    ("DELETE FROM sessions", ["write sessions"]),
    ("delete from sessions", ["write sessions"]),
    ("DELETE FROM ONLY t USING u WHERE t.id = u.id", ["write t"]),
    ("DELETE LOW_PRIORITY QUICK IGNORE FROM t WHERE a = 1", ["write t"]),
    ("DELETE FROM t RETURNING *", ["write t"]),
    ("DELETE t1, t2 FROM t1 INNER JOIN t2 ON t1.id = t2.id", ["write t1 t2"]),
    ("DELETE o FROM orders o JOIN users u ON o.uid = u.id", ["write o"]),
    ("MERGE INTO stock s USING delta d ON s.id = d.id WHEN MATCHED THEN UPDATE SET n = d.n", ["write stock"]),
    ("MERGE stock USING delta ON stock.id = delta.id WHEN NOT MATCHED THEN INSERT VALUES (1)", ["write stock"]),
    ("REPLACE INTO t (a) VALUES (1)", ["write t"]),
    ("REPLACE t VALUES (1)", ["write t"]),
    ("UPSERT INTO t (a) VALUES (1)", ["write t"]),
    # write: SELECT ... INTO a table
    ("SELECT a, b INTO TEMP TABLE snap FROM t", ["write snap"]),
    ("SELECT * INTO UNLOGGED copy FROM t", ["write copy"]),
    ("SELECT * INTO #tmp FROM t", ["write #tmp"]),
    ("SELECT a INTO @v FROM t", ["read"]),
    ("SELECT * INTO OUTFILE '/tmp/x.csv' FROM t", ["read"]),
    ("SELECT * INTO DUMPFILE '/tmp/x' FROM t", ["read"]),
    # ddl
    ("CREATE TABLE IF NOT EXISTS audit (id int)", ["ddl audit"]),
    ("CREATE TEMP TABLE scratch (id int)", ["ddl scratch"]),
    ("CREATE UNLOGGED TABLE fast (id int)", ["ddl fast"]),
    ("CREATE OR REPLACE TABLE t (a int)", ["ddl t"]),
    ("CREATE TABLE copy AS SELECT * FROM t", ["ddl copy"]),
    ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx ON t (a)", ["ddl"]),
    ("CREATE INDEX ON t (a)", ["ddl"]),
    ("CREATE OR REPLACE VIEW v AS SELECT 1", ["ddl"]),
    ("CREATE MATERIALIZED VIEW mv AS SELECT 1", ["ddl"]),
    ("CREATE SCHEMA reporting", ["ddl"]),
    ("CREATE EXTENSION IF NOT EXISTS pgcrypto", ["ddl"]),
    ("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", ["ddl"]),
    ("ALTER TABLE orders ADD COLUMN note text", ["ddl orders"]),
    ("ALTER TABLE IF EXISTS ONLY orders DROP COLUMN note", ["ddl orders"]),
    ("ALTER SEQUENCE s RESTART WITH 1", ["ddl"]),
    ("DROP TABLE IF EXISTS a, b CASCADE", ["ddl a b"]),
    ("DROP INDEX idx_orders", ["ddl"]),
    ("DROP VIEW IF EXISTS v", ["ddl"]),
    ("TRUNCATE orders", ["ddl orders"]),
    ("TRUNCATE TABLE ONLY a, b RESTART IDENTITY", ["ddl a b"]),
    ("RENAME TABLE old TO new", ["ddl old"]),
    ("COMMENT ON TABLE t IS 'orders'", ["ddl"]),
    ("GRANT SELECT, INSERT ON t TO bob", ["ddl"]),
    ("GRANT admin TO bob", ["ddl"]),
    ("REVOKE ALL PRIVILEGES ON t FROM bob", ["ddl"]),
    # bulk
    ("COPY t FROM '/data/t.csv' WITH (FORMAT csv)", ["bulk t"]),
    ("COPY public.t (a, b) FROM PROGRAM 'gunzip -c x.gz'", ["bulk public.t"]),
    ("COPY (SELECT * FROM t) TO STDOUT", ["read"]),
    ("LOAD DATA LOCAL INFILE 'f.csv' INTO TABLE t FIELDS TERMINATED BY ','", ["bulk t"]),
    ("BULK INSERT dbo.t FROM 'C:\\data\\t.csv'", ["bulk dbo.t"]),
    # maintenance
    ("VACUUM", ["maintenance"]),
    ("VACUUM FULL ANALYZE orders", ["maintenance"]),
    ("VACUUM (VERBOSE, ANALYZE) orders (a)", ["maintenance"]),
    ("REINDEX TABLE orders", ["maintenance"]),
    ("CLUSTER orders USING orders_pkey", ["maintenance"]),
    ("OPTIMIZE TABLE orders", ["maintenance"]),
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY totals", ["maintenance"]),
    ("ANALYZE", ["maintenance"]),
    ("ANALYZE orders", ["maintenance"]),
    # txctl
    ("BEGIN", ["txctl"]),
    ("BEGIN IMMEDIATE TRANSACTION", ["txctl"]),
    ("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY", ["txctl"]),
    ("START TRANSACTION WITH CONSISTENT SNAPSHOT", ["txctl"]),
    ("COMMIT", ["txctl commits"]),
    ("commit work", ["txctl commits"]),
    ("COMMIT AND NO CHAIN", ["txctl commits"]),
    ("END", ["txctl commits"]),
    ("END TRANSACTION", ["txctl commits"]),
    ("ROLLBACK", ["txctl"]),
    ("ROLLBACK TO SAVEPOINT sp1", ["txctl"]),
    ("ABORT", ["txctl"]),
    ("SAVEPOINT sp1", ["txctl"]),
    ("RELEASE SAVEPOINT sp1", ["txctl"]),
    ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", ["txctl"]),
    ("SET SESSION TRANSACTION READ ONLY", ["txctl"]),
    ("SET autocommit = 0", ["txctl"]),
    ("SET AUTOCOMMIT TO ON", ["txctl"]),
    # opaque
    ("CALL refresh_totals()", ["opaque"]),
    ("EXEC dbo.archive_orders @days = 30", ["opaque"]),
    ("EXECUTE prepared_update(1, 2)", ["opaque"]),
    ("DO $$ BEGIN UPDATE t SET a = 1; END $$", ["opaque"]),
    ("PRAGMA foreign_keys = ON", ["opaque"]),
    ("PRAGMA table_info(t)", ["read"]),
    ("PRAGMA user_version", ["read"]),
    # lock
    ("SELECT * FROM t FOR UPDATE", ["lock"]),
    ("SELECT * FROM t WHERE id = 1 FOR NO KEY UPDATE", ["lock"]),
    ("SELECT * FROM t FOR SHARE NOWAIT", ["lock"]),
    ("SELECT * FROM t LOCK IN SHARE MODE", ["lock"]),
    # read
    ("SELECT * FROM t", ["read"]),
    ("select count(*) from orders where status = 'update'", ["read"]),
    ("(SELECT 1) UNION (SELECT 2)", ["read"]),
    ("VALUES (1), (2)", ["read"]),
    ("TABLE orders", ["read"]),
    ("SHOW TABLES", ["read"]),
    ("DESCRIBE orders", ["read"]),
    ("EXPLAIN SELECT * FROM t", ["read"]),
    ("EXPLAIN DELETE FROM t", ["read"]),
    ("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", ["read", "write t"]),
    ("EXPLAIN ANALYZE VERBOSE INSERT INTO t VALUES (1)", ["read", "write t"]),
    ("EXPLAIN (ANALYZE false) UPDATE t SET a = 1", ["read"]),
    ("EXPLAIN ANALYZE SELECT * FROM t", ["read"]),
]

# Quoted identifiers keep their names (and whatever they hold); literals and comments are masked.
QUOTING_AND_COMMENTS = [
    ('UPDATE "Order Lines" SET qty = 0', ["write Order Lines"]),
    ('INSERT INTO "public"."Orders" VALUES (1)', ["write public.Orders"]),
    ('INSERT INTO "weird;name" VALUES (1)', ["write weird;name"]),
    ('UPDATE "it\'s" SET a = 1', ["write it's"]),
    ("UPDATE `shop`.`order` SET a = 1", ["write shop.order"]),
    ("UPDATE [dbo].[Order Lines] SET a = 1", ["write dbo.Order Lines"]),
    ("SELECT '--' || name FROM t", ["read"]),
    ("SELECT '/*' FROM t; UPDATE t SET a = 1", ["read", "write t"]),
    ("/* UPDATE t SET a = 1 */ SELECT 1", ["read"]),
    ("SELECT 1 -- ; DELETE FROM t", ["read"]),
    ("UPDATE t SET a = 1 -- it's fine\n", ["write t"]),
    ("SELECT 'it''s; DELETE FROM t' FROM t", ["read"]),
    ("SELECT $$; DROP TABLE t; $$", ["read"]),
    ("SELECT $body$ ; DELETE FROM t $body$ FROM t", ["read"]),
    ("SELECT 'unterminated; DELETE FROM t", ["read"]),
    ("/* unterminated UPDATE t SET a = 1", []),
    ("SELECT a #>> '{x}' FROM t", ["read"]),  # `#` mid-line is a PostgreSQL operator
    ("   \n\t UPDATE t SET a = 1", ["write t"]),
    ("\nUPDATE\n  t\nSET\n  a = 1\n", ["write t"]),
    ("uPdAtE t sEt a = 1", ["write t"]),
]

MULTIPLE_STATEMENTS = [
    ("UPDATE a SET x = 1; UPDATE b SET x = 2", ["write a", "write b"]),
    ("BEGIN; INSERT INTO a VALUES (1); DELETE FROM b WHERE id = 1; COMMIT;",
     ["txctl", "write a", "write b", "txctl commits"]),
    ("SELECT 1;;; SELECT 2;", ["read", "read"]),
    ("UPDATE t SET a = 1; ROLLBACK", ["write t", "txctl"]),
    # a trigger body's `;` does not end the CREATE, and its END is not a COMMIT
    ("CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = n + 1; END; COMMIT",
     ["ddl", "txctl commits"]),
    ("CREATE PROCEDURE p() BEGIN IF x THEN UPDATE u SET n = 1; END IF; END; SELECT 1", ["ddl", "read"]),
]

CTES = [
    ("WITH recent AS (SELECT 1) SELECT * FROM recent", ["read"]),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r", ["read"]),
    ("WITH s AS (SELECT 1) UPDATE shop_order SET status = 'closed'", ["write shop_order"]),
    ("WITH a AS (SELECT (1)), b (x) AS NOT MATERIALIZED (SELECT ((2))) DELETE FROM t", ["write t"]),
    ("WITH w AS MATERIALIZED (UPDATE jobs SET s = 1 RETURNING id) SELECT * FROM w", ["read", "write jobs"]),
    ("WITH a AS (INSERT INTO x VALUES (1) RETURNING id), b AS (DELETE FROM y RETURNING id) SELECT 1",
     ["read", "write x", "write y"]),
    ("WITH q AS (SELECT id FROM jobs FOR UPDATE SKIP LOCKED) UPDATE jobs SET taken = true FROM q",
     ["write jobs", "lock"]),
    ("WITH outer_cte AS (WITH inner_cte AS (DELETE FROM t RETURNING *) SELECT * FROM inner_cte) SELECT 1",
     ["read", "write t"]),
    ("WITH x AS (SELECT ')' FROM t) INSERT INTO y SELECT * FROM x", ["write y"]),
    ("WITH x AS (SELECT 1)", ["read"]),  # cut short: nothing but the CTE
    ("(WITH x AS (SELECT 1) SELECT * FROM x)", ["read"]),
]

# f-strings and templates: every unknown part arrives as PLACEHOLDER.
PARTIAL = [
    (f"UPDATE {P} SET done = true", ["write ?"]),
    (f"UPDATE {P} SET {P} WHERE id = %s", ["write ?"]),
    (f"UPDATE orders SET {P}", ["write orders"]),
    (f"UPDATE orders {P}", ["write orders"]),
    (f"DELETE FROM {P} WHERE id = %s", ["write ?"]),
    (f"DELETE FROM {P}", ["write ?"]),
    (f"DELETE FROM orders {P}", ["write orders"]),
    (f"INSERT INTO {P} ({P}) VALUES ({P})", ["write ?"]),
    (f"INSERT INTO orders {P}", ["write orders"]),
    (f"INSERT INTO orders (a, b) VALUES {P}", ["write orders"]),
    (f"INSERT INTO {P}.orders VALUES (1)", ["write ?"]),
    (f"INSERT INTO orders_{P} VALUES (1)", ["write ?"]),
    (f"TRUNCATE {P}", ["ddl ?"]),
    (f"DROP TABLE IF EXISTS {P}", ["ddl ?"]),
    (f"CREATE TABLE {P} (id int)", ["ddl ?"]),
    (f"CREATE TABLE orders {P}", ["ddl orders"]),
    (f"COPY {P} FROM STDIN", ["bulk ?"]),
    (f"MERGE INTO {P} USING d ON 1 = 1", ["write ?"]),
    (f"SELECT * INTO {P} FROM t", ["write ?"]),
    (f"SELECT * FROM {P} WHERE {P} FOR UPDATE", ["lock"]),
    (f"SELECT * FROM t WHERE id IN ({P})", ["read"]),
    (f"WITH x AS ({P}) DELETE FROM t", ["write t"]),
    (f"{P}", ["unknown"]),
    (f"{P} INTO t VALUES (1)", ["unknown"]),
    (f"UPDATE t SET a = 1; {P}", ["write t", "unknown"]),
]

# Log messages and other prose: never a write (mostly "unknown").
PROSE = [
    "hello world", "https://example.com/api/update?delete=1", "update the cache", "update the record",
    "Update failed for %s", "Update user set to active", "update a set of records", "Update the record set",
    "delete this file", "Delete from cache", "delete from the list where possible", "delete files from disk",
    "Deleting user from group", "delete user from group", "create a user", "Create user failed",
    "Create table failed", "Creating index on orders", "insert coin", "insert coin (50p)",
    "Insert into cache failed: %s", "insert new values into the form", "replace foo with bar",
    "Replace the value", "drop me a line", "Drop table failed", "Truncate long message",
    "truncate the log", "merge the branches", "merge into main failed", "copy the file to disk",
    "copy data from s3", "grant access to users", "revoke access from bob", "alter the plan",
    "rename the file to x", "comment on the issue", "load data from file", "with the new version",
    "select into the box from here", "begin processing", "commit changes to git", "rollback failed",
    "call me maybe", "execute the plan", "do something", "set the flag", "explain the error",
    "values differ", "show me", "vacuum the floor", "analyze the data", "cluster nodes failed",
    "refresh the page", "end of file", "release the lock now", "savepoint", "(", ";", "'", "--", "/*",
]


def rows(*tables):
    return [row for table in tables for row in table]


@pytest.mark.parametrize("sql, expected", rows(REFERENCE_TABLE, KIND_MAP, QUOTING_AND_COMMENTS, MULTIPLE_STATEMENTS,
                                               CTES, PARTIAL))
def test_classification(sql, expected):
    assert summary(sql) == expected


@pytest.mark.parametrize("sql", PROSE)
def test_prose_is_never_a_write(sql):
    assert not sql_writes(sql)
    assert written_tables(sql) == ()


@pytest.mark.parametrize("sql", ["update the record", "delete this file", "create a user", "Delete from cache",
                                 "Create user failed", "insert coin", "begin processing", "commit changes"])
def test_prose_that_starts_with_a_keyword_is_unknown(sql):
    assert [statement.kind for statement in classify_sql(sql)] == ["unknown"]


@pytest.mark.parametrize("sql", ["", "   ", "\n\t", "-- only a comment", "/* only */", ";;"])
def test_blank_text_has_no_statements(sql):
    assert classify_sql(sql) == ()


def test_statement_fields():
    assert classify_sql("WITH s AS (SELECT 1) UPDATE shop_order SET a = 1") == (
        SqlStatement("write", "UPDATE", ("shop_order",), False),)
    assert classify_sql("insert into t values (1); commit") == (
        SqlStatement("write", "INSERT", ("t",)), SqlStatement("txctl", "COMMIT", (), True))
    assert [statement.keyword for statement in classify_sql("START TRANSACTION; SELECT 1; END")] == [
        "START", "SELECT", "END"]


def test_every_kind_is_covered():
    covered = {row.split()[0] for _, expected in rows(KIND_MAP, PARTIAL) for row in expected}
    assert covered == set(KINDS)
    assert WRITE_KINDS == {"write", "ddl", "bulk"}


@pytest.mark.parametrize("sql, tables", [
    ("BEGIN; UPDATE a SET x = 1; UPDATE a SET x = 2; DELETE FROM b; COMMIT", ("a", "b")),
    ("WITH d AS (DELETE FROM t RETURNING *) INSERT INTO log SELECT * FROM d", ("log", "t")),
    (f"UPDATE {P} SET a = 1; UPDATE t SET a = 1", ("?", "t")),
    ("SELECT * FROM t FOR UPDATE", ()),
    ("CALL proc()", ()),
])
def test_written_tables(sql, tables):
    assert written_tables(sql) == tables
    assert sql_writes(sql) == bool(tables)


@pytest.mark.parametrize("value", [None, 1, b"UPDATE t SET a = 1"])
def test_non_text_is_not_sql(value):
    assert classify_sql(value) == ()
    assert not sql_writes(value)


SQLISH = st.lists(st.sampled_from(list("()'\";$`[]#-/*,.=_ \n\tab") + [
    "UPDATE ", "DELETE ", "FROM ", "INSERT ", "INTO ", "WITH ", " AS ", "SELECT ", "SET ", "BEGIN ", "END ",
    "CREATE ", "TABLE ", "VALUES ", "EXPLAIN ANALYZE ", "COPY ", "$tag$", "--", "/*", "*/", PLACEHOLDER]),
    max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), SQLISH))
def test_never_raises(text):
    statements = classify_sql(text)
    assert all(statement.kind in KINDS for statement in statements)
    assert isinstance(sql_writes(text), bool)
    assert all(isinstance(table, str) and table for table in written_tables(text))


@pytest.mark.parametrize("text", [
    "UPDATE " + "a " * 5000 + "SET",
    "BEGIN" + " WORK," * 3000 + " x",
    "WITH a AS (" * 2000,
    "DELETE " + "t, " * 3000 + "FROM",
    "INSERT INTO t (" + "(" * 3000,
    "'" * 10001 + '"' * 10001 + "`" * 10001,
    "SELECT " + "$a$" * 5000,
    "VACUUM " + "t " * 5000 + "(",
])
def test_adversarial_text_is_fast(text):
    started = time.perf_counter()
    classify_sql(text)
    assert time.perf_counter() - started < 1.0
