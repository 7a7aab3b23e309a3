import sqlite3
from pathlib import Path


def save_upload(database, path: Path, data):
    conn = sqlite3.connect(database)
    conn.execute("INSERT INTO uploads (path) VALUES (?)", (str(path),))
    conn.commit()
    path.write_bytes(data)
    conn.close()
