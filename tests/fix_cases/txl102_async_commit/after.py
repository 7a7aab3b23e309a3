import aiosqlite


async def import_bookmarks(urls):
    async with aiosqlite.connect("app.db") as db:
        for url in urls:
            await db.execute("INSERT INTO bookmarks (url) VALUES (?)", (url,))
        await db.commit()
