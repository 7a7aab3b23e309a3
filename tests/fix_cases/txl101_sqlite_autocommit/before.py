import sqlite3


def record_sale(path, sku, quantity):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE stock SET quantity = quantity - ? WHERE sku = ?", (quantity, sku))
    conn.execute("INSERT INTO sales (sku, quantity) VALUES (?, ?)", (sku, quantity))
    conn.close()
