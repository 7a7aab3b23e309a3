import sqlite3


def transfer(db_path, amount, source, target):
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", (amount, source))
    conn.commit()
    conn.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, target))
    conn.commit()
