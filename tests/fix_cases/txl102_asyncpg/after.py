import asyncpg


async def import_users(dsn, emails):
    conn = await asyncpg.connect(dsn)
    async with conn.transaction():
        for email in emails:
            await conn.execute("INSERT INTO users (email) VALUES ($1)", email)
    await conn.close()
