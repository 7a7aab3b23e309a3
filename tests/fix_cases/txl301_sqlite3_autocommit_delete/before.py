import os
import sqlite3


def forget_upload(database, path):
	conn = sqlite3.connect(database, isolation_level=None)  # every statement commits alone
	os.remove(path)
	conn.execute("DELETE FROM uploads WHERE path = ?", (path,))
	conn.close()
