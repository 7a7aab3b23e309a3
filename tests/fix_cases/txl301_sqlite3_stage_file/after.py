import sqlite3
from pathlib import Path
from txlint.runtime import atomic, stage_file


def save_upload(database, path: Path, data):
    conn = sqlite3.connect(database)
    with atomic(conn):
        conn.execute("INSERT INTO uploads (path) VALUES (?)", (str(path),))
        stage_file(path, data)
    conn.close()
