"""The runner's own tables, on the target's database: checkpoints (the last key each backfill
committed), runs (one row per executed run), and the ledger (the rows each run inserted)."""

import datetime
from typing import Any, List, Optional, Tuple

from txlint.runtime.backfill._codec import decode_key, encode_key
from txlint.runtime.backfill._sql import Sql


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class Store:
    def __init__(self, prefix: str):
        self.checkpoints = f"{prefix}_checkpoints"
        self.runs = f"{prefix}_runs"
        self.ledger = f"{prefix}_ledger"

    # -- schema --------------------------------------------------------------------------------
    def create(self, sql: Sql) -> None:
        sql.execute(f"CREATE TABLE IF NOT EXISTS {self.checkpoints} (name VARCHAR(200) PRIMARY KEY, "
                    "last_key TEXT, run_id VARCHAR(64) NOT NULL, updated_at VARCHAR(40) NOT NULL)")
        sql.execute(f"CREATE TABLE IF NOT EXISTS {self.runs} (run_id VARCHAR(64) PRIMARY KEY, "
                    "name VARCHAR(200) NOT NULL, status VARCHAR(20) NOT NULL, start_key TEXT, last_key TEXT, "
                    "ledger INTEGER NOT NULL, written INTEGER NOT NULL, started_at VARCHAR(40) NOT NULL, "
                    "finished_at VARCHAR(40))")
        sql.execute(f"CREATE TABLE IF NOT EXISTS {self.ledger} (run_id VARCHAR(64) NOT NULL, seq INTEGER NOT NULL, "
                    "table_name VARCHAR(200) NOT NULL, row_key TEXT NOT NULL, PRIMARY KEY (run_id, seq))")

    def exists(self, sql: Sql) -> bool:
        """Are the tables there? Asked without creating them (a dry run writes nothing)."""
        if sql.dialect == "sqlite":
            rows = sql.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (self.checkpoints,))[1]
        elif sql.dialect == "postgresql":
            rows = [row for row in sql.query("SELECT to_regclass(?)", (self.checkpoints,))[1] if row[0] is not None]
        else:
            rows = sql.query("SELECT table_name FROM information_schema.tables WHERE table_name = ?",
                             (self.checkpoints.rsplit(".", 1)[-1],))[1]
        return bool(rows)

    # -- checkpoints -----------------------------------------------------------------------------
    def checkpoint(self, sql: Sql, name: str) -> Tuple[bool, Any]:
        """(is there one, the last key committed)."""
        rows = sql.query(f"SELECT last_key FROM {self.checkpoints} WHERE name = ?", (name,))[1]
        if not rows:
            return False, None
        return True, None if rows[0][0] is None else decode_key(rows[0][0])

    def set_checkpoint(self, sql: Sql, name: str, key: Any, run_id: str) -> None:
        text = None if key is None else encode_key(key)
        changed = sql.execute(f"UPDATE {self.checkpoints} SET last_key = ?, run_id = ?, updated_at = ? WHERE name = ?",
                              (text, run_id, now(), name))
        if changed == 0:
            sql.execute(f"INSERT INTO {self.checkpoints} (name, last_key, run_id, updated_at) VALUES (?, ?, ?, ?)",
                        (name, text, run_id, now()))

    def checkpoint_run(self, sql: Sql, name: str) -> Optional[str]:
        rows = sql.query(f"SELECT run_id FROM {self.checkpoints} WHERE name = ?", (name,))[1]
        return rows[0][0] if rows else None

    # -- runs ------------------------------------------------------------------------------------
    def start_run(self, sql: Sql, run_id: str, name: str, start_key: Any, ledger: bool) -> None:
        sql.execute(f"INSERT INTO {self.runs} (run_id, name, status, start_key, ledger, written, started_at) "
                    "VALUES (?, ?, 'running', ?, ?, 0, ?)",
                    (run_id, name, None if start_key is None else encode_key(start_key), int(ledger), now()))

    def progress(self, sql: Sql, run_id: str, last_key: Any, written: int) -> None:
        sql.execute(f"UPDATE {self.runs} SET last_key = ?, written = written + ? WHERE run_id = ?",
                    (encode_key(last_key), written, run_id))

    def finish_run(self, sql: Sql, run_id: str, status: str) -> None:
        sql.execute(f"UPDATE {self.runs} SET status = ?, finished_at = ? WHERE run_id = ?", (status, now(), run_id))

    def run(self, sql: Sql, run_id: str) -> Optional[dict]:
        columns, rows = sql.query(f"SELECT run_id, name, status, start_key, last_key, ledger, written, started_at, "
                                  f"finished_at FROM {self.runs} WHERE run_id = ?", (run_id,))
        if not rows:
            return None
        run = dict(zip(columns, rows[0]))
        for column in ("start_key", "last_key"):
            run[column] = None if run[column] is None else decode_key(run[column])
        return run

    def later_runs(self, sql: Sql, name: str, started_at: str) -> List[str]:
        rows = sql.query(f"SELECT run_id FROM {self.runs} WHERE name = ? AND started_at > ? AND status <> 'rolled back'"
                         " ORDER BY started_at", (name, started_at))[1]
        return [row[0] for row in rows]

    # -- ledger ----------------------------------------------------------------------------------
    def record(self, sql: Sql, run_id: str, first_seq: int, entries: List[tuple]) -> None:
        sql.execute_many(f"INSERT INTO {self.ledger} (run_id, seq, table_name, row_key) VALUES (?, ?, ?, ?)",
                         [(run_id, first_seq + offset, table, encode_key(sorted(key.items())))
                          for offset, (table, key) in enumerate(entries)])

    def last_seq(self, sql: Sql, run_id: str) -> int:
        rows = sql.query(f"SELECT MAX(seq) FROM {self.ledger} WHERE run_id = ?", (run_id,))[1]
        return -1 if rows[0][0] is None else int(rows[0][0])

    def latest_entries(self, sql: Sql, run_id: str, limit: int) -> List[Tuple[int, str, dict]]:
        """The run's last `limit` ledger entries, newest first: (seq, table, {column: value})."""
        rows = sql.query(f"SELECT seq, table_name, row_key FROM {self.ledger} WHERE run_id = ? "
                         f"ORDER BY seq DESC LIMIT {int(limit)}", (run_id,))[1]
        return [(int(seq), table, dict(decode_key(key))) for seq, table, key in rows]

    def count_entries(self, sql: Sql, run_id: str) -> int:
        return int(sql.query(f"SELECT COUNT(*) FROM {self.ledger} WHERE run_id = ?", (run_id,))[1][0][0])

    def forget(self, sql: Sql, run_id: str, seqs: List[int]) -> None:
        sql.execute_many(f"DELETE FROM {self.ledger} WHERE run_id = ? AND seq = ?", [(run_id, seq) for seq in seqs])
