import os
import sqlite3
from txlint.runtime import atomic, on_commit
from functools import partial


def forget_upload(database, path):
	conn = sqlite3.connect(database, isolation_level=None)  # every statement commits alone
	with atomic(conn):
		on_commit(partial(os.remove, path))
		conn.execute("DELETE FROM uploads WHERE path = ?", (path,))
	conn.close()
